"""What of a driver or connection travels when it is pickled, and what is made afresh.

A driver crosses a process boundary (``ProcessPoolExecutor``, a Dask worker) as its
configuration: credentials, base URL, timeouts, retry policy, its own plain state. What
belongs to one process (a pooled HTTP session, locks, thread pools) is not sent: locks and
events are replaced by fresh ones on arrival, executors arrive as ``None``, and the attributes
a class names in ``transient_attributes`` arrive empty (a cache dict, list or set as a new
empty one, anything else as ``None``) to be made again on first use, as after construction.
``Connection`` and ``NodeDriver`` use this; a third-party driver inherits it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

__all__ = ["restore_state", "transient_names", "travelling_state"]

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


class _Fresh:
    """Stands, in a pickled state, for an object made anew when the state is restored."""

    __slots__ = ("args", "factory")

    def __init__(self, factory: Callable[..., Any], *args: Any) -> None:
        self.factory = factory
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Fresh, (self.factory, *self.args))

    def make(self) -> Any:
        return self.factory(*self.args)


def _count_args(counter: itertools.count[Any]) -> tuple[Any, ...]:
    # itertools.count's own pickling is deprecated (gone in 3.14); its repr is
    # "count(start)" or "count(start, step)".
    inner = repr(counter)[len("count("):-1]
    return tuple(int(part) if part.strip().lstrip("-").isdigit() else float(part) for part in inner.split(","))


def _travelling(value: Any) -> Any:
    if isinstance(value, _LOCK):
        return _Fresh(threading.Lock)
    if isinstance(value, _RLOCK):
        return _Fresh(threading.RLock)
    if isinstance(value, threading.Condition):
        return _Fresh(threading.Condition)
    if isinstance(value, threading.Event):
        return _Fresh(threading.Event)
    if isinstance(value, threading.Semaphore):
        # same capacity, nothing held
        return _Fresh(type(value), getattr(value, "_initial_value", value._value))
    if isinstance(value, itertools.count):
        return _Fresh(itertools.count, *_count_args(value))
    if isinstance(value, Executor):
        return None
    return value


def transient_names(cls: type) -> frozenset[str]:
    """Every name in a ``transient_attributes`` of ``cls`` or of a class it derives from (a
    subclass adds to its bases' list; it does not replace it)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(klass.__dict__.get("transient_attributes", ()))
    return frozenset(names)


def travelling_state(obj: object) -> dict[str, Any]:
    """``obj.__dict__`` as it travels: process-bound values replaced (see the module doc)."""
    state = {name: _travelling(value) for name, value in vars(obj).items()}
    for name in transient_names(type(obj)):
        if name in state:  # a cache arrives empty (a new dict, list or set), anything else None
            value = state[name]
            state[name] = _Fresh(type(value)) if type(value) in (dict, list, set) else None
    return state


def restore_state(obj: object, state: dict[str, Any]) -> None:
    """Set ``obj``'s attributes from a travelled state, making the fresh objects it names."""
    obj.__dict__.update({name: value.make() if isinstance(value, _Fresh) else value
                         for name, value in state.items()})
