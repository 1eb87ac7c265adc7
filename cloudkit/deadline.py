"""A deadline for a whole HTTP exchange, status line and headers included.

The HTTP library only bounds each wait for data (the read timeout): a server that sends
its headers one byte per second, or an endless run of ``100 Continue`` answers, never trips
it. Here each request runs inside a ``Watch``; the connections of the transport's adapter
(``cloudkit.transport.deadline_adapter_class``) attach their socket to the watch of the
thread sending, and one shared watchdog thread shuts that socket down once the deadline
passes. The blocked read then ends at once with a connection error, which the transport
turns into ``RequestTimeoutError`` (``Watch.fired`` tells the two apart).

This module imports no HTTP library: it only watches sockets.

The clock starts when the socket is first attached, i.e. when the request is about to be
sent over an established connection: connecting stays bounded by the connect timeout alone.
"""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["Watch", "current_watch"]

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

    def fire(self) -> None:
        """Shut the watched socket down now (the deadline has passed)."""
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
                        watch.fire()
                self._wake_at = min((d for d, _ in self._due.values()), default=float("inf"))
                wait = None if self._wake_at == float("inf") else max(0.0, self._wake_at - now) + 0.01
                self._cond.wait(wait)


_watchdog = _Watchdog()
