"""The ``cloudkit`` command: manage servers on any supported cloud from the shell.

Run ``cloudkit --help`` (or ``cloudkit COMMAND --help``). Credentials come from one
environment variable per provider, named by its driver's ``credential_names``
(``CLOUDKIT_DIGITALOCEAN_TOKEN``, ``CLOUDKIT_NEPHOSCALE_USER`` + ``CLOUDKIT_NEPHOSCALE_PASSWORD``,
...; see :mod:`cloudkit._cli.config`) or from named accounts in ``~/.config/cloudkit/config.toml``.
``cloudkit demo`` needs neither.

Exit status (one rule, :func:`cloudkit._cli.exit_status`): 0 success; 2 input the user can
fix, refused before the provider is asked (options, arguments, provider name, base URL, config
file, local key or script files); 1 the provider, the network or a remote machine failed or
said no (provider errors, connection failures and timeouts, waits, deployments, SSH); 130
Ctrl-C, after naming the servers the command made or was working on. Errors are one line on stderr; ``--debug``
adds the traceback and DEBUG logging (credentials are redacted from both).

Importing this module is cheap: drivers, requests and paramiko load only when a command
needs them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, NoReturn

from cloudkit._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._cli.context import Context

__all__ = ["build_parser", "main"]

PROG = "cloudkit"


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors reported as one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted before or after the subcommand."""
    from cloudkit.providers import builtin_providers

    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument("--provider", metavar="NAME", default=default,
                       help=f"provider: {', '.join(builtin_providers())} (dummy: in-memory) or "
                            "a plugin's name; credentials from its environment variable "
                            "(env CLOUDKIT_PROVIDER)")
    group.add_argument("--account", metavar="NAME", default=default,
                       help="a named account of the config file (env CLOUDKIT_ACCOUNT)")
    group.add_argument("--config", metavar="PATH", default=default,
                       help="config file (default ~/.config/cloudkit/config.toml; env CLOUDKIT_CONFIG)")
    group.add_argument("--base-url", metavar="URL", default=default,
                       help="send API requests to this URL, e.g. a local simulator (env CLOUDKIT_BASE_URL)")
    group.add_argument("-o", "--output", choices=("table", "json"), default=default,
                       help="table (default) or json (machine-readable, never holds secrets)")
    group.add_argument("--debug", action="store_true", default=default,
                       help="DEBUG logging and tracebacks on stderr (credentials redacted)")


def _seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


def _count(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least 1")
    return int(text)


def _port(text: str) -> int:
    """argparse type: a TCP port."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def _ssh_options(parser: argparse.ArgumentParser, timeout: float, timeout_help: str) -> None:
    parser.add_argument("--ssh-key", metavar="PATH", help="private key to log in with (default: the SSH agent)")
    parser.add_argument("--user", default="root", help="SSH login user (default root)")
    parser.add_argument("--port", type=_port, default=22, help="SSH port (default 22)")
    parser.add_argument("--timeout", type=_seconds, default=timeout, help=timeout_help)
    parser.add_argument("--known-hosts", metavar="PATH",
                        help="known_hosts file to check host keys against instead of ~/.ssh/known_hosts "
                             "(cloudkit's own ~/.config/cloudkit/known_hosts is always checked too)")
    parser.add_argument("--host-key-policy", choices=("accept-new", "strict"), default="accept-new",
                        help="accept-new (default): trust an unknown host on first use and remember it, "
                             "refuse a changed key; strict: refuse unknown hosts too")


def _create_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="name of the new node")
    parser.add_argument("--size", required=True, help="size id (see 'cloudkit sizes')")
    parser.add_argument("--image", required=True, help="image id (see 'cloudkit images')")
    parser.add_argument("--location", help="location id (see 'cloudkit locations')")
    parser.add_argument("--tag", action="append", metavar="TAG", help="tag the node (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cloudkit`` command."""
    from cloudkit._cli import commands as c

    parent = _Parser(add_help=False)
    _global_options(parent, suppress=True)

    parser = _Parser(prog=PROG, description="Manage servers on every supported cloud with one command "
                     "('cloudkit providers' lists them). Try 'cloudkit demo' first: it needs no account.",
                     epilog="Exit status: 0 success; 2 input you can fix (options, arguments, provider, base URL, "
                            "config file, local files); 1 the provider, network or a remote machine "
                            "failed or said no; 130 Ctrl-C.")
    parser.add_argument("--version", action="version", version=f"cloudkit {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def leaf(parent_sub: argparse._SubParsersAction[_Parser], name: str, func: Callable[[Context], int],
             help_text: str) -> _Parser:
        p = parent_sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = leaf(sub, "providers", c.cmd_providers, "what each driver can do (the capability matrix)")
    p.add_argument("--markdown", action="store_true", help="print the matrix as a Markdown table")

    nodes = sub.add_parser("nodes", help="list, show, create, deploy, reboot, start, stop, destroy nodes")
    nsub = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", parser_class=_Parser)
    nsub.required = True
    p = leaf(nsub, "list", c.cmd_nodes_list, "list the account's nodes")
    p.add_argument("--tag", help="only nodes carrying this tag")
    p.add_argument("--all-accounts", action="store_true",
                   help="every account of the config file at once (an ACCOUNT column / 'account' field)")
    p = leaf(nsub, "show", c.cmd_nodes_show, "one node in detail, with the actions its state allows")
    p.add_argument("node", help="node id or name")
    p = leaf(nsub, "create", c.cmd_nodes_create, "create a node")
    _create_options(p)
    p.add_argument("--ssh-key", metavar="PATH", help="install this public key (.pub, or a private key with "
                                                     "its .pub next to it) for root")
    p.add_argument("--wait", action="store_true", help="wait until the node runs with an address")
    p.add_argument("--timeout", type=_seconds, default=600.0, help="seconds --wait waits at most (600)")
    p.add_argument("--show-password", action="store_true",
                   help="print the root password the provider generated (stderr, once)")
    p = leaf(nsub, "deploy", _remote("cmd_nodes_deploy"),
             "create a node, wait for it, push keys and run scripts over SSH")
    _create_options(p)
    _ssh_options(p, 600.0, "seconds the whole deployment may take after creation (600)")
    p.add_argument("--push-key", action="append", metavar="PUBFILE",
                   help="add this public key to the login user's authorized_keys (repeatable)")
    p.add_argument("--script", action="append", metavar="FILE", help="upload and run this script (repeatable)")
    p.add_argument("--run", action="append", metavar="COMMAND", help="run this shell command (repeatable)")
    p.add_argument("--destroy-on-failure", action="store_true", help="destroy the node when a step fails")
    for action in ("reboot", "start", "stop"):
        p = leaf(nsub, action, c.cmd_node_action, f"{action} nodes")
        p.add_argument("nodes", nargs="+", metavar="NODE", help="node ids or names")
        p.add_argument("--force", action="store_true", help="send it even if the node's state does not allow it")
        p.set_defaults(action=action)
    p = leaf(nsub, "destroy", c.cmd_nodes_destroy, "destroy nodes (asks first unless --yes)")
    p.add_argument("nodes", nargs="+", metavar="NODE", help="node ids or names")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--force", action="store_true", help="send it even if the node's state does not allow it")

    for name, func, what in (("sizes", c.cmd_sizes, "machine sizes and prices"),
                             ("images", c.cmd_images, "images a node can be created from ('images create NODE "
                                                      "NAME' makes one of a node)")):
        p = leaf(sub, name, func, what)
        p.add_argument("--location", help="only those offered in this location")
    images = p
    leaf(sub, "locations", c.cmd_locations, "regions / data centres")

    from cloudkit._cli.storage import add_storage_parsers

    add_storage_parsers(sub, images, parent, _Parser, _seconds)

    keys = sub.add_parser("keys", help="SSH keys stored on the account")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION", parser_class=_Parser)
    ksub.required = True
    leaf(ksub, "list", c.cmd_keys_list, "list stored SSH keys")
    p = leaf(ksub, "add", c.cmd_keys_add, "store a public key")
    p.add_argument("name", help="name for the key")
    p.add_argument("public_key", metavar="PUBFILE", help="the public key file (.pub)")
    p = leaf(ksub, "delete", c.cmd_keys_delete, "delete a stored key (asks first unless --yes)")
    p.add_argument("name", help="key name or id")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    p = leaf(sub, "probe", _remote("cmd_probe"), "check that a node answers SSH and the login works")
    p.add_argument("node", help="node id or name")
    _ssh_options(p, 10.0, "seconds to try (10)")

    p = leaf(sub, "run", _remote("cmd_run"), "run a shell command over SSH on several nodes in parallel")
    p.add_argument("command", help="the shell command (quote it)")
    p.add_argument("--nodes", nargs="+", metavar="NODE", help="node ids or names")
    p.add_argument("--tag", help="every node carrying this tag")
    _ssh_options(p, 300.0, "seconds the command may run on each node (300)")
    p.add_argument("--connect-timeout", type=_seconds, default=10.0, help="seconds to connect (10)")
    p.add_argument("--parallel", type=_count, default=16, help="nodes at once (16)")
    p.add_argument("--private", action="store_true", help="connect to private addresses")

    accounts = sub.add_parser("accounts", help="the config file's accounts; check credentials")
    asub = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", parser_class=_Parser)
    asub.required = True
    leaf(asub, "list", c.cmd_accounts_list, "accounts in the config file (no secrets shown)")
    p = leaf(asub, "check", c.cmd_accounts_check,
             "check credentials with one cheap authenticated call (the chosen account, or --all)")
    p.add_argument("--all", action="store_true", help="check every account of the config file")

    from cloudkit._cli.new_driver import add_new_driver_parser
    from cloudkit._cli.record import add_record_parser

    add_new_driver_parser(sub)
    add_record_parser(sub, main)

    p = leaf(sub, "demo", _demo, "see cloudkit work against a local simulator (no account, no network)")
    p.add_argument("--no-ssh", action="store_true", help="skip the SSH deployment steps")
    p.add_argument("--boot-seconds", type=float, default=1.5, help="simulated boot time (1.5)")
    return parser


def _remote(name: str) -> Callable[[Context], int]:
    """A command from the SSH module, imported only when it runs."""

    def run(ctx: Context) -> int:
        from cloudkit._cli import remote

        func: Callable[[Context], int] = getattr(remote, name)
        return func(ctx)

    run.__name__ = name
    return run


def _demo(ctx: Context) -> int:
    from cloudkit._cli.demo import run_demo

    return run_demo(ctx)


# ------------------------------------------------------------------------------ running


class _RedactLogFilter(logging.Filter):
    """Replace the credentials in use inside every log record this command prints."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        from cloudkit.redact import redact_text

        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = redact_text(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _setup_logging(debug: bool, stream: IO[str], secrets: list[str]) -> tuple[logging.Handler, int, int]:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(name)s %(levelname)s %(message)s" if debug else "cloudkit: %(levelname)s: %(message)s"))
    handler.addFilter(_RedactLogFilter(secrets))
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    root = logging.getLogger()
    ck = logging.getLogger("cloudkit")
    saved = (root.level, ck.level)
    root.addHandler(handler)
    if debug:
        ck.setLevel(logging.DEBUG)
        root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    return handler, saved[0], saved[1]


def _one_line(text: str) -> str:
    from cloudkit._cli.output import shown

    return shown(" ".join(str(text).split())) or "(no message)"


def main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None, stdin: IO[str] | None = None) -> int:
    """Run the ``cloudkit`` command; returns the exit status (0, 1 or 2)."""
    import contextlib

    err = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout or sys.stdout), contextlib.redirect_stderr(err):
            args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    from cloudkit._cli import UsageError, exit_status
    from cloudkit._cli.context import Context
    from cloudkit.errors import CloudkitError

    ctx = Context(args, os.environ if env is None else env, stdout or sys.stdout, err, stdin or sys.stdin)
    debug = bool(ctx.option("debug", False))
    handler, root_level, ck_level = _setup_logging(debug, ctx.err, ctx.secrets)
    try:
        return int(args.func(ctx))
    except (UsageError, CloudkitError) as exc:
        _report(ctx, f"{PROG}: error: {_one_line(_describe(ctx, exc))}", debug)
        return exit_status(exc)
    except KeyboardInterrupt as exc:
        ctx.err.write(f"\n{PROG}: interrupted\n")
        if ctx.leftovers:
            ctx.leftovers.report(ctx.err, ctx._driver)
        return exit_status(exc)
    except BrokenPipeError:  # the reader went away (e.g. `cloudkit nodes list | head -1`)
        _silence_stdout(stdout)
        return 1
    except Exception as exc:
        _report(ctx, f"{PROG}: internal error: {type(exc).__name__}: {_one_line(str(exc))}"
                     + ("" if debug else " (run with --debug for the traceback)"), debug)
        return 1
    finally:
        ctx.close()
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
        logging.getLogger("cloudkit").setLevel(ck_level)


def _silence_stdout(stdout: IO[str] | None) -> None:
    """Point the real stdout at /dev/null so the interpreter's final flush does not fail."""
    if stdout is not None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _describe(ctx: Context, exc: BaseException) -> str:
    from cloudkit.errors import ActionNotAllowedError, ForbiddenError, InvalidCredsError

    text = str(exc)
    if isinstance(exc, ActionNotAllowedError):
        text = text.replace("(pass ex_force=True to send it anyway)", "(--force sends it anyway)")
    if isinstance(exc, (InvalidCredsError, ForbiddenError)) and ctx._credentials is not None:
        what = "refused" if isinstance(exc, InvalidCredsError) else "not allowed to do this"
        text += f" (credentials from {ctx._credentials.source} {what})"
    return text


def _report(ctx: Context, line: str, debug: bool) -> None:
    if debug:
        import traceback

        ctx.err.write(traceback.format_exc())
    ctx.err.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
