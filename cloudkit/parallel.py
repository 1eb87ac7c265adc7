"""Run one call over many drivers (accounts, providers) at once: on threads, or on any
``concurrent.futures.Executor`` (worker processes, a Dask cluster).

Listing eight accounts one after the other costs eight times the API's round trips; the
calls spend most of their time waiting on the network, so threads overlap them well.
``map_drivers`` does that and keeps every account's outcome, good or bad::

    from cloudkit import get_driver, Provider
    from cloudkit.parallel import map_drivers

    def list_nodes(driver):                              # a module-level function
        return driver.list_nodes()

    cls = get_driver(Provider.DIGITAL_OCEAN)
    drivers = [cls(token) for token in tokens]          # one driver per account
    results = map_drivers(list_nodes, drivers)
    for driver, result in zip(drivers, results):
        if isinstance(result, Exception):
            print("failed:", result)                     # e.g. InvalidCredsError for a revoked token
        else:
            print(len(result), "servers")

Results come back in the order of ``drivers``. An exception raised by ``fn`` for one driver
is returned in that driver's place instead of being raised, so one revoked token does not
hide the other accounts' servers; check with ``isinstance(result, Exception)``.
``KeyboardInterrupt`` and other non-``Exception`` errors are not caught.

Threads (the default) share one core for the JSON decoding and object building of every
account (Python's GIL): the more servers each account has, the more the total approaches
the sum of that work. Give ``executor=`` a ``ProcessPoolExecutor``, or a Dask cluster's
``Client(...).get_executor()``, and each account is listed in a worker process: the driver
and ``fn`` are pickled there (so ``fn`` must be a module-level function, not a lambda or a
local closure; the driver travels with its credentials, see docs/scaling.md) and the result
or exception is pickled back, class and attributes intact. ``map_drivers`` never shuts
down an executor it was given. docs/scaling.md says which to choose when.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from cloudkit.errors import CloudkitError, ConfigurationError
from cloudkit.paging import gc_checkpoint, gc_sheltered

__all__ = ["DEFAULT_MAX_WORKERS", "map_drivers"]

#: Upper bound on threads when ``max_workers`` is not given.
DEFAULT_MAX_WORKERS = 32

D = TypeVar("D")
R = TypeVar("R")


def map_drivers(fn: Callable[[D], R], drivers: Iterable[D], executor: Executor | int | None = None,
                max_workers: int | None = None) -> list[R | Exception]:
    """Call ``fn(driver)`` for every driver concurrently; return the results in order.

    Without ``executor``: ``max_workers`` threads at most (default: one per driver, up to
    ``DEFAULT_MAX_WORKERS``; 1 runs the calls one after the other on the calling thread).
    With ``executor`` (any ``concurrent.futures.Executor``): the calls run there, at most
    ``max_workers`` submitted at a time (default: all); the executor is left running.
    Where ``fn`` raises an ``Exception`` for a driver (or the executor fails to run it),
    that exception object is that driver's result. See the module docstring.
    """
    if isinstance(executor, int) and not isinstance(executor, bool) and max_workers is None:
        # The signature used to be map_drivers(fn, drivers, max_workers): keep that call working.
        executor, max_workers = None, executor
    if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int)
                                    or max_workers < 1):
        raise ConfigurationError("max_workers must be a positive integer or None")
    if executor is not None and not isinstance(executor, Executor):
        raise ConfigurationError(
            f"executor must be a concurrent.futures.Executor, not {type(executor).__name__}")
    items = list(drivers)
    if not items:
        return []
    if executor is not None:
        return _on_executor(executor, fn, items, max_workers or len(items))
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


def _on_executor(executor: Executor, fn: Callable[[D], R], items: list[D], window: int) -> list[R | Exception]:
    """Submit ``_call(fn, driver)`` for each driver, ``window`` at most in flight."""
    if not isinstance(executor, ThreadPoolExecutor):
        try:
            pickle.dumps(fn)
        except Exception as exc:
            raise ConfigurationError(
                f"fn must pickle to run on {type(executor).__name__}: use a module-level function, "
                f"not a lambda or a local closure ({type(exc).__name__}: {exc})") from None
    # A call token unique to each submission: an executor that takes identical calls for
    # one (Dask's default pure=True keys tasks by their arguments) must still run them all;
    # listing an account is not a pure function.
    call_id = os.urandom(8).hex()
    # Sheltered: unpickling thousands of models per result (in the executor's own threads)
    # would otherwise set off repeated full collections over a growing heap, which cost
    # several times the unpickling itself (see ``gc_sheltered``; a checkpoint per result).
    with gc_sheltered():
        return _submit_all(executor, fn, items, window, call_id)


def _submit_all(executor: Executor, fn: Callable[[D], R], items: list[D], window: int,
                call_id: str) -> list[R | Exception]:
    results: list[R | Exception | None] = [None] * len(items)
    slots: dict[Future[R | Exception], int] = {}
    upcoming = iter(enumerate(items))
    try:
        for index, driver in upcoming:
            slots[executor.submit(_call, fn, driver, f"{call_id}-{index}")] = index
            if len(slots) >= window:
                break
        while slots:
            done, _ = wait(slots, return_when=FIRST_COMPLETED)
            for future in done:
                results[slots.pop(future)] = _outcome(future)
                gc_checkpoint()
                for index, driver in upcoming:
                    slots[executor.submit(_call, fn, driver, f"{call_id}-{index}")] = index
                    break
    except BaseException:
        for future in slots:
            future.cancel()
        raise
    return results  # type: ignore[return-value]  # every slot is filled by now


def _outcome(future: Future[R | Exception]) -> R | Exception:
    try:
        return future.result()
    except Exception as exc:  # the executor could not run or return it: the driver's result
        return exc


def _call(fn: Callable[[D], R], driver: D, call_id: str = "") -> R | Exception:
    """What runs on the executor (module-level, so it pickles): ``fn(driver)``, or the
    exception it raised, made safe to send back (see ``_sendable``). ``call_id`` only makes
    each submission distinct."""
    try:
        return fn(driver)
    except Exception as exc:  # returned in the driver's slot, by design
        return _sendable(exc)


def _sendable(exc: Exception) -> Exception:
    """``exc`` if it survives a trip through pickle; else a CloudkitError naming it, so a
    foreign exception with an unusual constructor cannot break the executor's result
    channel. cloudkit's own errors always pickle."""
    if isinstance(exc, CloudkitError):
        return exc
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301  (our own bytes)
    except Exception:
        return CloudkitError(f"{type(exc).__name__}: {exc}"[:500])
    return exc
