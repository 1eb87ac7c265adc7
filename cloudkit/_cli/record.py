"""The ``cloudkit record`` command: run cloudkit commands (or a read-only flow) against a provider
and save every HTTP exchange as a scrubbed cassette (:mod:`cloudkit.testing.record`, loaded only
when the command runs).
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any

__all__ = ["CATALOGUE_FLOW", "add_record_parser", "run_record"]

#: The read-only flow ``cloudkit record`` runs when no command is given.
CATALOGUE_FLOW: tuple[tuple[str, ...], ...] = (
    ("accounts", "check"), ("nodes", "list"), ("sizes",), ("images",), ("locations",), ("keys", "list"),
)
_SECRET_ENV = re.compile(r"TOKEN|KEY|PASSWORD|PASSWD|SECRET", re.IGNORECASE)


def add_record_parser(subparsers: Any, main: Callable[..., int]) -> argparse.ArgumentParser:
    """Add ``record`` to an argparse subparsers object (its ``func`` runs the command, each recorded
    step through ``main``, the CLI's entry point: passed in, so this module never imports it)."""
    text = "run cloudkit commands against a provider and save every HTTP exchange as scrubbed fixtures"
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "record", help=text, description=text + ". Without a command after '--', records a read-only "
        "flow: accounts check, nodes list, sizes, images, locations, keys list.")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the cassette (must be empty)")
    parser.add_argument("--scrub-ips", action="store_true", help="replace IP addresses by documentation ones")
    parser.add_argument("--force", action="store_true", help="replace a cassette already in --out")
    parser.add_argument("--provider", metavar="NAME", default=argparse.SUPPRESS,
                        help="provider to record (credentials as for every cloudkit command)")
    parser.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS,
                        help="send the requests here instead (e.g. the simulator)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the cloudkit command to record, after '--' (e.g. -- nodes list)")
    parser.set_defaults(func=functools.partial(_command, main=main))
    return parser


def _command(ctx: Any, *, main: Callable[..., int]) -> int:
    """The ``func`` set by add_record_parser: takes the CLI's context (or bare args)."""
    return run_record(getattr(ctx, "args", ctx), main, env=getattr(ctx, "env", None),
                      stdout=getattr(ctx, "out", None), stderr=getattr(ctx, "err", None))


def run_record(args: argparse.Namespace, main: Callable[..., int], *, env: Mapping[str, str] | None = None,
               stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run ``cloudkit record``: each command (or the read-only flow) through ``main`` (the cloudkit
    CLI) inside :func:`cloudkit.testing.record.record`. Returns the worst exit status of the
    commands; 2 for a usage error."""
    from cloudkit.testing.record import ScrubError, record

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    environ = dict(os.environ if env is None else env)
    command = list(getattr(args, "command", None) or [])
    if command[:1] == ["--"]:
        command = command[1:]
    flow = [tuple(command)] if command else list(CATALOGUE_FLOW)
    prefix: list[str] = []
    if getattr(args, "provider", None):
        prefix += ["--provider", args.provider]
    if getattr(args, "base_url", None):
        prefix += ["--base-url", args.base_url]
    secrets = [value for name, value in environ.items() if name.startswith("CLOUDKIT_") and _SECRET_ENV.search(name)]
    worst = 0
    try:
        with record(args.out, secrets=secrets, scrub_ips=bool(args.scrub_ips),
                    overwrite=bool(getattr(args, "force", False))) as recording:
            for step in flow:
                sink = io.StringIO()
                status = main([*prefix, *step], env=environ, stdout=sink, stderr=err)
                out.write(f"cloudkit {' '.join(step)}: exit status {status}\n")
                worst = max(worst, status)
    except FileExistsError as exc:
        err.write(f"cloudkit record: error: {exc}\n")
        return 2
    except ScrubError as exc:
        err.write(f"cloudkit record: error: {exc}\n")
        return 1
    out.write(f"recorded {len(recording.exchanges)} exchange(s) in {args.out} (tokens, passwords and keys "
              f"scrubbed{'; IP addresses replaced' if args.scrub_ips else ''})\n")
    return worst
