"""What a Ctrl-C leaves behind: the servers a long command made or was working on.

``nodes create --wait``, ``nodes deploy`` and ``run`` tell the :class:`Leftovers` of their
context what exists as they go; when Ctrl-C stops them, :func:`cloudkit.cli.main` prints each
of those servers with its last state (fetched once more where the command made it), so
nothing billable is left behind unknown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver
    from cloudkit.models import Node

__all__ = ["Leftovers"]


@dataclass
class _Entry:
    node: Node
    note: str
    made: bool  # made by this command: fetched again at the end, and how to destroy it is shown


class Leftovers:
    """The servers of one command, as last seen. Thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._creating: str | None = None
        self._lock = threading.Lock()

    def creating(self, name: str) -> None:
        """A create request for a server named ``name`` is about to be sent."""
        with self._lock:
            self._creating = name

    def created(self, node: Node, note: str = "made by this command") -> None:
        """The create request was answered: ``node`` exists."""
        with self._lock:
            self._creating = None
            self._entries[node.id] = _Entry(node, note, True)

    def seen(self, node: Node, note: str | None = None) -> None:
        """``node`` as it was last seen (and what the command is doing there)."""
        with self._lock:
            entry = self._entries.get(node.id)
            if entry is None:
                self._entries[node.id] = _Entry(node, note or "", False)
            else:
                entry.node = node
                entry.note = note if note is not None else entry.note

    def __bool__(self) -> bool:
        return bool(self._entries) or self._creating is not None

    def report(self, stream: IO[str], driver: NodeDriver | None) -> None:
        """Write every server and its last state to ``stream``. The servers this command made
        are fetched once more (a second Ctrl-C skips that)."""
        with self._lock:
            entries = list(self._entries.values())
            creating = self._creating
        if entries:
            stream.write("cloudkit: these servers exist (nothing was destroyed or stopped):\n")
        for entry in entries:
            state = _fresh_state(driver, entry.node) if entry.made else None
            shown = state or f"{entry.node.state.value} (as last seen)"
            line = f"  {entry.node.name} ({entry.node.id}): {shown}"
            if entry.note:
                line += f"; {entry.note}"
            if entry.made and state != "gone":
                line += f"; destroy it with: cloudkit nodes destroy {entry.node.id} --yes"
            stream.write(line + "\n")
        if creating is not None:
            stream.write(f"cloudkit: the create request for {creating!r} was sent or about to be sent and "
                         f"got no answer: if it reached the provider, a server named {creating!r} exists; "
                         f"look with: cloudkit nodes list\n")
        stream.flush()


def _fresh_state(driver: NodeDriver | None, node: Node) -> str | None:
    """The node's state now, "gone", or None when it cannot be asked (or Ctrl-C again)."""
    if driver is None:
        return None
    from cloudkit.errors import CloudkitError, NotFoundError

    try:
        return driver.get_node(node.id).state.value
    except NotFoundError:
        return "gone"
    except (CloudkitError, KeyboardInterrupt):
        return None
