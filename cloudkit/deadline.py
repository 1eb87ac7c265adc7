"""A deadline for a whole HTTP exchange, status line and headers included.

``requests`` and urllib3 only bound each wait for data (the read timeout): a server that
sends its headers one byte per second, or an endless run of ``100 Continue`` answers,
never trips it. Here each request runs inside a ``Watch``; the connection classes of
``DeadlineAdapter`` attach their socket to the watch of the thread sending, and one shared
watchdog thread shuts that socket down once the deadline passes. The blocked read then ends
at once with a connection error, which the connection turns into ``RequestTimeoutError``
(``Watch.fired`` tells the two apart).

The clock starts when the socket is first attached, i.e. when the request is about to be
sent over an established connection: connecting stays bounded by the connect timeout alone.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

__all__ = ["Watch", "current_watch", "deadline_adapter_class"]

_local = threading.local()


class Watch:
    """The deadline of one exchange on the current thread (``with Watch(seconds):``)."""

    __slots__ = ("_prev", "_sock", "deadline", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline: float | None = None
        self.fired = False
        self._sock: socket.socket | None = None
        self._prev: Watch | None = None

    def __enter__(self) -> Watch:
        self._prev = getattr(_local, "watch", None)
        _local.watch = self
        return self

    def __exit__(self, *exc: object) -> None:
        _local.watch = self._prev
        self.release()

    def release(self) -> None:
        """Stop watching the socket (the answer is in): it may go back to the pool."""
        if self._sock is not None:
            _watchdog.forget(self)
            self._sock = None

    def start(self) -> float:
        """Start the clock (once) and return the deadline (``time.monotonic()`` based)."""
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        return self.deadline

    def expired(self) -> bool:
        return self.fired or (self.deadline is not None and time.monotonic() > self.deadline)

    def attach(self, sock: socket.socket | None) -> None:
        """Watch ``sock``: it is shut down when the deadline passes."""
        if sock is None or sock is self._sock:
            return
        self._sock = sock
        _watchdog.watch(self, self.start())

    def _fire(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self.fired = True
        try:
            # The plain socket's shutdown, also for a TLS socket: it wakes a read blocked in
            # another thread (close() would not) and leaves the TLS object alone.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def current_watch() -> Watch | None:
    """The watch of the exchange running on this thread, if any."""
    return getattr(_local, "watch", None)


class _Watchdog:
    """One daemon thread that sleeps until the earliest deadline and fires what is due."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, Watch]] = {}
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")

    def watch(self, watch: Watch, deadline: float) -> None:
        with self._cond:
            self._due[id(watch)] = (deadline, watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cloudkit-deadline", daemon=True)
                self._thread.start()
            if deadline < self._wake_at:
                self._cond.notify()

    def forget(self, watch: Watch) -> None:
        with self._cond:
            self._due.pop(id(watch), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (deadline, watch) in list(self._due.items()):
                    if deadline <= now:
                        del self._due[key]
                        watch._fire()
                self._wake_at = min((d for d, _ in self._due.values()), default=float("inf"))
                wait = None if self._wake_at == float("inf") else max(0.0, self._wake_at - now) + 0.01
                self._cond.wait(wait)


_watchdog = _Watchdog()


def _watched_connection(base: Any) -> Any:
    class Watched(base):  # type: ignore[misc]
        """urllib3's connection that attaches its socket to the thread's watch."""

        def request(self, *args: Any, **kwargs: Any) -> Any:
            watch = current_watch()
            if watch is not None:
                watch.attach(self.sock)
            return super().request(*args, **kwargs)

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            watch = current_watch()
            if watch is not None:
                watch.attach(self.sock)
                if watch.expired():  # the request took the whole deadline to send
                    watch._fire()
            return super().getresponse(*args, **kwargs)

    Watched.__name__ = Watched.__qualname__ = f"Watched{base.__name__}"
    return Watched


def _pool_classes() -> dict[str, Any]:
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class WatchedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = _watched_connection(HTTPConnection)

    class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = _watched_connection(HTTPSConnection)

    return {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


_POOLS: dict[str, Any] | None = None


def _make_adapter_class() -> Any:
    from requests.adapters import HTTPAdapter

    class DeadlineAdapter(HTTPAdapter):
        """requests' adapter whose connections obey the thread's ``Watch``."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _pools()

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if hasattr(manager, "pool_classes_by_scheme"):
                manager.pool_classes_by_scheme = _pools()
            return manager

    return DeadlineAdapter


def _pools() -> dict[str, Any]:
    global _POOLS
    if _POOLS is None:
        _POOLS = _pool_classes()
    return _POOLS


_ADAPTER: Any = None


def deadline_adapter_class() -> Any:
    """requests' ``HTTPAdapter`` subclass whose connections obey the thread's ``Watch``
    (built on first use so that importing this module does not import requests)."""
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = _make_adapter_class()
    return _ADAPTER
