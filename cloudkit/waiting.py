"""Waiting on the provider: ``poll_until``, THE wait loop of cloudkit (drivers never sleep on
their own), ``wait_until_running`` on top of it, and refreshing the objects a caller holds with
what the API says now."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from cloudkit.errors import NotFoundError, ValidationError, WaitTimeoutError
from cloudkit.models import Node, NodeState

__all__ = ["Waiting", "refresh_in_place", "refresh_node"]

T = TypeVar("T")


class _Waiting:
    __slots__ = ("done", "ips", "last_state", "node")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.last_state = "not seen yet"
        self.done = False
        self.ips: list[str] | None = None


class Waiting:
    """The waits of ``NodeDriver`` (a mixin: it needs only ``get_node``)."""

    if TYPE_CHECKING:  # pragma: no cover
        def get_node(self, node_id: str) -> Node: ...

    def wait_until_running(
        self,
        nodes: Sequence[Node],
        wait_period: float = 3.0,
        timeout: float = 600.0,
        ssh_interface: str = "public_ips",
        force_ipv4: bool = True,
        ex_list_nodes_kwargs: dict[str, Any] | None = None,
    ) -> list[tuple[Node, list[str]]]:
        """Wait until every node is RUNNING and has an address on ``ssh_interface``.

        Polls only the nodes concerned (``get_node``), starting fast and backing off to
        ``wait_period`` seconds. The given ``Node`` objects are refreshed in place (state,
        addresses, extra) at every poll, so the caller's objects show what the API said last.
        Returns ``[(node, addresses), ...]`` in input order, with the caller's objects.
        Raises ``WaitTimeoutError`` naming the nodes, the unmet condition and their last
        states when ``timeout`` passes, or at once when a node fails (error/terminated).
        """
        if ssh_interface not in ("public_ips", "private_ips"):
            raise ValidationError("ssh_interface must be 'public_ips' or 'private_ips'")
        waiting = [_Waiting(node) for node in nodes]

        def all_running() -> bool:
            for item in waiting:
                if item.done:
                    continue
                try:
                    fresh = self.get_node(item.node.id)
                except NotFoundError:
                    item.last_state = "not found (yet)"
                    continue
                refresh_node(item.node, fresh)
                item.last_state = fresh.state.value
                ips = _addresses(fresh, ssh_interface, force_ipv4)
                if fresh.state == NodeState.RUNNING and ips:
                    item.done, item.ips = True, ips
                elif fresh.state in (NodeState.ERROR, NodeState.TERMINATED):
                    raise self._wait_error(waiting, f"node {fresh.id} entered state {fresh.state.value}")
            return all(item.done for item in waiting)

        def timed_out() -> WaitTimeoutError:
            pending = [i for i in waiting if not i.done]
            unmet = ("state running" if any(i.last_state != "running" for i in pending)
                     else f"an address on {ssh_interface}")
            return self._wait_error(waiting, f"{unmet} not reached within {timeout:g}s")

        self.poll_until(all_running, timeout=timeout, interval=wait_period, what="nodes running",
                        on_timeout=timed_out)
        return [(item.node, item.ips or []) for item in waiting]

    def poll_until(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float,
        interval: float = 3.0,
        what: str = "the condition",
        first_interval: float = 0.25,
        factor: float = 1.6,
        on_timeout: Callable[[], BaseException] | None = None,
    ) -> T:
        """Call ``check()`` until it returns something truthy, and return that: THE wait loop
        of cloudkit (drivers never sleep on their own).

        The first pause is ``first_interval`` seconds (at most ``interval``), each next one
        ``factor`` times longer, up to ``interval``; no pause runs past the deadline. When
        ``timeout`` seconds pass without success, ``on_timeout()`` is raised if given, else
        ``WaitTimeoutError`` naming ``what``. ``check`` may raise to end the wait early.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        delay = max(0.0, min(first_interval, interval))
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if on_timeout is not None:
                    raise on_timeout()
                raise WaitTimeoutError(f"{what} not reached within {timeout:g}s", condition=what)
            time.sleep(min(delay, remaining))
            delay = min(max(0.0, interval), delay * factor)

    def _wait_error(self, waiting: Iterable[_Waiting], condition: str) -> WaitTimeoutError:
        items = list(waiting)
        pending = [i for i in items if not i.done] or items
        states = {i.node.id: i.last_state for i in items}
        names = ", ".join(f"{i.node.name} ({i.node.id}, last state {i.last_state})" for i in pending)
        return WaitTimeoutError(f"waiting for {names}: {condition}", nodes=[i.node for i in items],
                                condition=condition, last_states=states)


def refresh_in_place(held: Any, fresh: Any) -> None:
    """Copy what the API said about a resource (``fresh``: a Node, a StorageVolume, ...) into the
    object of the same class a caller holds; its driver stays, and keys only the caller's
    ``extra`` has (a password returned once by create_node) are kept."""
    if fresh is held:
        return
    for name in type(held).__dataclass_fields__:
        if name not in ("driver", "extra"):
            setattr(held, name, getattr(fresh, name))
    held.extra = {**held.extra, **fresh.extra}


def refresh_node(node: Node, fresh: Node) -> None:
    """Copy what the API said about a node (``fresh``) into the object a caller holds."""
    refresh_in_place(node, fresh)


def _addresses(node: Node, ssh_interface: str, force_ipv4: bool) -> list[str]:
    ips = list(getattr(node, ssh_interface) or [])
    if force_ipv4:
        ips = [ip for ip in ips if ":" not in ip]
    return ips
