"""Scenario 5's fleet row: many large accounts on threads, on a ``ProcessPoolExecutor`` and on
a Dask ``LocalCluster``, side by side.

Two jobs per account, each run by every contender:

* ``nodes``: ``list_nodes()``, the whole listing sent back (a worker process pickles every
  node, the parent unpickles it);
* ``summary``: ``list_nodes()`` reduced where it was listed to a count per state (what a
  fleet poller keeps; only a small dict travels back).

The executors are started once and warmed up before timing (a long-running poller's case);
each round uses fresh drivers (cold connection pools), as the fan-out rows do.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

from bench import _clients
from bench._config import Context, log
from bench._report import INFO, Row, median
from bench._sim import SimProcess, start_many
from bench._timing import interleave, per_call_ms

NAME = "fanout"
#: Worker processes for both process-based contenders (the machine has 2 cores).
PROCESSES = 2
#: Threads per Dask worker process: a worker lists this many accounts at once.
DASK_THREADS = 4


def job_nodes(driver: Any) -> Any:
    """Module-level (it must pickle): the whole listing."""
    return driver.list_nodes()


def job_summary(driver: Any) -> dict[str, int]:
    """Module-level (it must pickle): servers per state, counted where they were listed."""
    return dict(Counter(node.state.value for node in driver.list_nodes()))


JOBS: dict[str, Callable[[Any], Any]] = {"nodes": job_nodes, "summary": job_summary}


def dask_missing() -> str | None:
    try:
        import distributed  # noqa: F401  (only asks whether it is installed)
    except ImportError:
        return 'Dask is not installed (pip install ".[dask]")'
    return None


@contextmanager
def executors() -> Iterator[dict[str, Executor | None]]:
    """threads (None), a process pool and, when installed, a Dask LocalCluster."""
    with ExitStack() as stack:
        found: dict[str, Executor | None] = {"threads": None}
        found[f"ProcessPoolExecutor({PROCESSES})"] = stack.enter_context(
            ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("forkserver")))
        if dask_missing() is None:
            import distributed

            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=PROCESSES, threads_per_worker=DASK_THREADS, processes=True, host="127.0.0.1",
                dashboard_address=None, worker_dashboard_address=None, silence_logs=40))
            client = stack.enter_context(distributed.Client(cluster))
            found[f"Dask LocalCluster({PROCESSES}x{DASK_THREADS})"] = client.get_executor()
        yield found


def run(provider: str, ctx: Context) -> list[Row]:
    from cloudkit.parallel import map_drivers

    cfg = ctx.config
    accounts, count, n = cfg.fleet_accounts, cfg.fleet_servers, cfg.fleet_rounds
    latency = cfg.fanout_latency
    log(f"{NAME} fleet {provider}: {accounts} accounts x {count} servers, +{latency * 1000:g} ms, {n} rounds")
    missing = dask_missing()
    if missing is not None:
        print(f"note: the Dask contender of the fleet row is skipped: {missing}")
    sims = start_many([SimProcess(provider, seed=count, latency=latency) for _ in range(accounts)])
    try:
        with executors() as found:
            def contender(job: Callable[[Any], Any], executor: Executor | None) -> Callable[[], Any]:
                return lambda: map_drivers(job, [_clients.cloudkit_driver(s) for s in sims], executor=executor)

            def check(name: str, result: Any) -> None:
                if len(result) != accounts:
                    raise AssertionError(f"{name}: {len(result)} results, not {accounts}")
                for one in result:
                    if isinstance(one, Exception):
                        raise AssertionError(f"{name}: an account failed: {one!r}")
                    total = sum(one.values()) if isinstance(one, dict) else len({node.id for node in one})
                    if total != count:
                        raise AssertionError(f"{name}: an account listed {total} servers, not {count}")

            contenders = {f"{job}|{ex}": contender(fn, executor)
                          for job, fn in JOBS.items() for ex, executor in found.items()}
            samples = interleave(contenders, n, warmup=1, check=check)
    finally:
        for sim in sims:
            sim.stop()
    ms = {name: median(per_call_ms(values)) for name, values in samples.items()}
    rows: list[Row] = []
    for job in JOBS:
        measure = (f"list_nodes, {accounts} accounts x {count} servers, +{latency * 1000:g} ms/request, "
                   f"{'listing sent back' if job == 'nodes' else 'summary per account'}")
        threads = ms[f"{job}|threads"]
        others = {ex: ms[f"{job}|{ex}"] for ex in found if ex != "threads"}
        side = ", ".join(f"{ex} {value:.0f} ms" for ex, value in others.items())
        best = min(others, key=lambda ex: others[ex])
        rows.append(Row(NAME, provider, measure, others[best], "ms", "threads", threads, 0.85, samples=n,
                        note=f"best process-based: {best}; side by side: threads {threads:.0f} ms, {side}"))
        for ex, value in others.items():
            if ex != best:
                rows.append(Row(NAME, provider, measure, value, "ms", "threads", threads, None, verdict=INFO,
                                samples=n, note=ex))
    return rows
