"""``cloudkit new-driver``: the command line of :mod:`cloudkit.scaffold`."""

from __future__ import annotations

import argparse
import sys
from typing import IO, TYPE_CHECKING, Any

from cloudkit.scaffold import AUTH_CHOICES, FORMAT_CHOICES, DriverNames, new_driver

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._cli.context import Context

__all__ = ["add_new_driver_parser", "run_new_driver"]


def add_new_driver_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add ``new-driver`` to an argparse subparsers object (its ``func`` runs the command)."""
    text = "generate a ready driver package for a new provider (code, fixtures, tests, entry point)"
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "new-driver", help=text, description=text + ". Every place to change is marked TODO(author).")
    parser.add_argument("name", help="the provider's name, e.g. acme (package cloudkit-acme)")
    parser.add_argument("--auth", choices=AUTH_CHOICES, default="token",
                        help="token: bearer token (default); basic: user name and password; "
                             "query-key: an API key in the query string")
    parser.add_argument("--format", dest="fmt", choices=FORMAT_CHOICES, default="json",
                        help="the API's body format (default json)")
    parser.add_argument("--path", default=".", metavar="DIR", help="where to create the package (default .)")
    parser.add_argument("--force", action="store_true", help="replace an existing package folder")
    parser.set_defaults(func=_command)
    return parser


def _command(ctx: Context | argparse.Namespace) -> int:
    """The ``func`` set by add_new_driver_parser: takes the CLI's context (or bare args)."""
    args = ctx.args if hasattr(ctx, "args") else ctx
    assert isinstance(args, argparse.Namespace)
    return run_new_driver(args, stdout=getattr(ctx, "out", None), stderr=getattr(ctx, "err", None))


def run_new_driver(args: argparse.Namespace, *, stdout: IO[str] | None = None,
                   stderr: IO[str] | None = None) -> int:
    """Run ``cloudkit new-driver`` for parsed ``args``; 0 on success, 2 for a bad name or folder."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        root = new_driver(args.name, auth=args.auth, fmt=args.fmt, path=args.path,
                          overwrite=bool(getattr(args, "force", False)))
    except (ValueError, FileExistsError) as exc:
        err.write(f"cloudkit new-driver: error: {exc}\n")
        return 2
    names = DriverNames.parse(args.name)
    out.write(
        f"created {root}\n\n"
        "next steps:\n"
        f"  cd {root}\n"
        '  pip install -e ".[test]"\n'
        "  pytest -q                       # green as generated\n"
        '  grep -rn "TODO(author)" .       # every place to change for the real API\n\n'
        f'then get_driver("{names.name}") finds {names.Name}NodeDriver through its entry point.\n')
    return 0
