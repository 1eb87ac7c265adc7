"""Progress on stderr while the command waits on long work.

On a terminal one line is redrawn in place with the elapsed time (and a status the caller
supplies); elsewhere (a pipe, a log file) a line is written when the wait starts, every
``interval`` seconds while it lasts, and when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["Progress"]


class Progress:
    """Writes progress to ``stream`` (normally stderr); silent when ``quiet``."""

    def __init__(self, stream: IO[str], *, quiet: bool = False, interval: float = 15.0) -> None:
        self.stream = stream
        self.quiet = quiet
        self.interval = interval
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty()) if callable(isatty) else False
        self._lock = threading.Lock()

    def note(self, message: str) -> None:
        """One line of progress."""
        if not self.quiet:
            with self._lock:
                self.stream.write(message + "\n")
                self.stream.flush()

    @contextmanager
    def waiting(self, label: str, status: Callable[[], str] | None = None) -> Iterator[None]:
        """Show that ``label`` is under way until the block ends (with its duration)."""
        if self.quiet:
            yield
            return
        started = time.monotonic()
        stop = threading.Event()

        def describe() -> str:
            extra = ""
            if status is not None:
                try:
                    extra = status()
                except Exception:  # a status callback must never break the wait
                    extra = ""
            seconds = time.monotonic() - started
            return f"{label} ... {seconds:.0f}s" + (f" ({extra})" if extra else "")

        def tick() -> None:
            period = 0.5 if self.tty else self.interval
            while not stop.wait(period):
                with self._lock:
                    if self.tty:
                        self.stream.write("\r\x1b[K" + describe())
                    else:
                        self.stream.write(describe() + "\n")
                    self.stream.flush()

        with self._lock:
            self.stream.write(f"{label} ..." + ("" if self.tty else "\n"))
            self.stream.flush()
        thread = threading.Thread(target=tick, name="cloudkit-progress", daemon=True)
        thread.start()
        outcome = "failed"
        try:
            yield
            outcome = "done"
        except KeyboardInterrupt:
            outcome = "interrupted"
            raise
        finally:
            stop.set()
            thread.join()
            seconds = time.monotonic() - started
            with self._lock:
                prefix = "\r\x1b[K" if self.tty else ""
                self.stream.write(f"{prefix}{label} ... {outcome} in {seconds:.1f}s\n")
                self.stream.flush()
