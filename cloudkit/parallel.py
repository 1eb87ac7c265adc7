"""Run one call over many drivers (accounts, providers) at once.

Listing eight accounts one after the other costs eight times the API's round trips; the
calls spend nearly all their time waiting on the network, so threads overlap them well.
``map_drivers`` does that and keeps every account's outcome, good or bad::

    from cloudkit import get_driver, Provider
    from cloudkit.parallel import map_drivers

    cls = get_driver(Provider.DIGITAL_OCEAN)
    drivers = [cls(token) for token in tokens]          # one driver per account
    results = map_drivers(lambda d: d.list_nodes(), drivers)
    for driver, result in zip(drivers, results):
        if isinstance(result, Exception):
            print("failed:", result)                     # e.g. InvalidCredsError for a revoked token
        else:
            print(len(result), "servers")

Results come back in the order of ``drivers``. An exception raised by ``fn`` for one driver
is returned in that driver's place instead of being raised, so one revoked token does not
hide the other accounts' servers; check with ``isinstance(result, Exception)``.
``KeyboardInterrupt`` and other non-``Exception`` errors are not caught.

Each driver keeps its own pooled HTTP session and pages its listings with its own small
thread pool, so the drivers must be distinct objects per account (a driver may be shared
between threads, but one slow account then does not block another anyway). Python's GIL
means the JSON decoding and object building of all accounts still share one core: the
more servers each account has, the more the total approaches the sum of that work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from cloudkit.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_WORKERS", "map_drivers"]

#: Upper bound on threads when ``max_workers`` is not given.
DEFAULT_MAX_WORKERS = 32

D = TypeVar("D")
R = TypeVar("R")


def map_drivers(fn: Callable[[D], R], drivers: Iterable[D], max_workers: int | None = None) -> list[R | Exception]:
    """Call ``fn(driver)`` for every driver concurrently; return the results in order.

    ``max_workers`` threads at most (default: one per driver, up to
    ``DEFAULT_MAX_WORKERS``; 1 runs the calls one after the other on the calling thread).
    Where ``fn`` raises an ``Exception`` for a driver, that exception object is that
    driver's result. See the module docstring for an example.
    """
    items = list(drivers)
    if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int)
                                    or max_workers < 1):
        raise ConfigurationError("max_workers must be a positive integer or None")
    if not items:
        return []
    workers = min(len(items), max_workers if max_workers is not None else DEFAULT_MAX_WORKERS)

    def call(driver: D) -> R | Exception:
        try:
            return fn(driver)
        except Exception as exc:  # returned in the driver's slot, by design
            return exc

    if workers == 1:
        return [call(driver) for driver in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloudkit-map") as pool:
        return list(pool.map(call, items))
