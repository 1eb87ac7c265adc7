"""What every command gets: parsed options, credentials, the driver, output streams.

Both output streams go through :class:`RedactingWriter`, so the credentials in use never
reach the terminal, whatever prints them (an error message, a debug log line, a traceback).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from cloudkit._cli import UsageError
from cloudkit._cli.config import Credentials, choice_from, resolve
from cloudkit._cli.interrupt import Leftovers
from cloudkit._cli.progress import Progress
from cloudkit.redact import redact_text

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver
    from cloudkit.models import Node

__all__ = ["Context", "RedactingWriter"]


class RedactingWriter:
    """A text stream wrapper that replaces known secrets before writing."""

    def __init__(self, stream: IO[str], secrets: list[str]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text, self._secrets))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty()) if callable(isatty) else False


class Context:
    """Per-invocation state shared by the command functions."""

    def __init__(self, args: argparse.Namespace, env: Mapping[str, str], stdout: IO[str], stderr: IO[str],
                 stdin: IO[str]) -> None:
        self.args = args
        self.env = env
        self.secrets: list[str] = []
        # RedactingWriter offers the write/flush/isatty subset of IO[str] that the commands use.
        self.out: IO[str] = RedactingWriter(stdout, self.secrets)  # type: ignore[assignment]
        self.err: IO[str] = RedactingWriter(stderr, self.secrets)  # type: ignore[assignment]
        self.stdin = stdin
        self.output: str = getattr(args, "output", None) or "table"
        self.progress = Progress(self.err)
        #: The servers a long command made or works on, named if Ctrl-C stops it.
        self.leftovers = Leftovers()
        self._credentials: Credentials | None = None
        self._driver: NodeDriver | None = None
        self._built: list[NodeDriver] = []

    @property
    def json(self) -> bool:
        """True for ``--output json``."""
        return self.output == "json"

    def option(self, name: str, default: Any = None) -> Any:
        """A global option (they may be given before or after the subcommand)."""
        value = getattr(self.args, name, None)
        return default if value is None else value

    def credentials(self) -> Credentials:
        """The credentials chosen by options, environment and config file."""
        if self._credentials is None:
            choice = choice_from(self.option("provider"), self.option("account"), self.option("config"),
                                 self.option("base_url"), self.env)
            if choice.provider:  # an unknown name is reported before anything else is checked
                from cloudkit.providers import check_provider

                check_provider(choice.provider)
            self._credentials = resolve(choice, self.env)
            self._remember(self._credentials)
        return self._credentials

    def _remember(self, creds: Credentials) -> None:
        """Add every form of ``creds``' secrets (raw, URL-encoded, base64 Basic) to what the
        output streams and log lines scrub."""
        from cloudkit.scrub import secret_forms

        basic = [(creds.key, creds.secret)] if creds.secret else []
        for form in secret_forms(creds.secrets(), basic):
            if form not in self.secrets:
                self.secrets.append(form)
        self.secrets.sort(key=len, reverse=True)  # longest first: no half-replaced form

    def driver_for(self, creds: Credentials) -> NodeDriver:
        """A driver built from ``creds`` (sends nothing yet)."""
        from cloudkit.providers import get_driver

        self._remember(creds)
        cls = get_driver(creds.provider)
        kwargs: dict[str, Any] = {}
        if creds.base_url:
            kwargs["base_url"] = creds.base_url
        if creds.secret is not None:
            driver = cls(creds.key, creds.secret, **kwargs)
        else:
            driver = cls(creds.key, **kwargs)
        self._built.append(driver)
        return driver

    def driver(self) -> NodeDriver:
        """The driver for this invocation (built once)."""
        if self._driver is None:
            self._driver = self.driver_for(self.credentials())
        return self._driver

    def close(self) -> None:
        """Release the drivers' pooled connections."""
        for driver in self._built:
            driver.connection.close()

    def find_node(self, ref: str, nodes: list[Node] | None = None) -> Node:
        """The node whose id, else whose name, is ``ref``."""
        return self.find_nodes([ref], nodes)[0]

    def find_nodes(self, refs: list[str], nodes: list[Node] | None = None) -> list[Node]:
        """The nodes named by ``refs`` (ids or names), listing the account once."""
        from cloudkit.errors import NotFoundError

        if nodes is None:
            nodes = self.driver().list_nodes()
        found = []
        for ref in refs:
            by_id = [n for n in nodes if n.id == ref]
            matches = by_id or [n for n in nodes if n.name == ref]
            if not matches:
                raise NotFoundError(f"no node with id or name {ref!r}", 404,
                                    driver=self.driver().name)
            if len(matches) > 1:
                ids = ", ".join(n.id for n in matches)
                raise UsageError(f"several nodes are named {ref!r} (ids {ids}): give an id")
            if matches[0] not in found:
                found.append(matches[0])
        return found

    def confirm(self, question: str, what: str) -> bool:
        """Ask ``question`` on the terminal; refuse (UsageError) to ``what`` when there is no
        terminal to ask on."""
        isatty = getattr(self.stdin, "isatty", None)
        if not (callable(isatty) and isatty()):
            raise UsageError(f"refusing to {what} without confirmation (stdin is not a terminal to ask "
                             f"on); pass --yes to go ahead")
        self.err.write(f"{question} Type 'yes' to go ahead: ")
        self.err.flush()
        answer = self.stdin.readline().strip().lower()
        return answer in ("y", "yes")
