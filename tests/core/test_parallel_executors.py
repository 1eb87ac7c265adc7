"""map_drivers on other executors: a ProcessPoolExecutor and a Dask LocalCluster (2 worker
processes on 127.0.0.1), over 16 accounts on two simulators, one of them with a wrong token."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from cloudkit import CloudkitError, ConfigurationError, InvalidCredsError, NotFoundError, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.parallel import map_drivers
from cloudkit.testing.simulator import Simulator

pytestmark = pytest.mark.integration

ACCOUNTS = 16
WRONG = 5  # the slot whose token the API refuses
SERVERS = {"digitalocean": 30, "linode": 20}


def listing(driver: NodeDriver) -> tuple[str, int, int]:
    """What each worker does: list the account's servers (module-level: it pickles)."""
    nodes = driver.list_nodes()
    return driver.type, len(nodes), os.getpid()


def lookup_missing(driver: NodeDriver) -> str:
    driver.get_node("999999999")
    return "found?"


@pytest.fixture(scope="module")
def sims() -> Iterator[dict[str, Simulator]]:
    with Simulator("digitalocean", boot_seconds=0, nodes=SERVERS["digitalocean"], record_requests=False) as do, \
            Simulator("linode", boot_seconds=0, nodes=SERVERS["linode"], record_requests=False) as lin:
        yield {"digitalocean": do, "linode": lin}


def accounts(sims: dict[str, Simulator]) -> list[NodeDriver]:
    """16 accounts, alternating between the two simulators; slot WRONG has a refused token."""
    drivers = []
    for index in range(ACCOUNTS):
        sim = sims["digitalocean" if index % 2 == 0 else "linode"]
        token = "not-the-token" if index == WRONG else sim.token
        drivers.append(get_driver(sim.provider)(token, base_url=sim.base_url, max_retries=0))
    return drivers


def check(results: list[object], drivers: list[NodeDriver]) -> set[int]:
    assert len(results) == ACCOUNTS
    pids = set()
    for index, (driver, result) in enumerate(zip(drivers, results, strict=True)):
        if index == WRONG:
            assert type(result) is InvalidCredsError, result
            assert result.status == 401 and result.driver == driver.name
            continue
        assert isinstance(result, tuple), result
        provider, count, pid = result
        assert (provider, count) == (driver.type, SERVERS[driver.type])
        pids.add(pid)
    return pids


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    """One LocalCluster for the module: starting one costs seconds."""
    import distributed  # pinned in the test extra: missing, it fails rather than skips
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None) as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        yield client.get_executor()


def test_on_a_process_pool() -> None:
    with Simulator("digitalocean", boot_seconds=0, nodes=SERVERS["digitalocean"]) as do, \
            Simulator("linode", boot_seconds=0, nodes=SERVERS["linode"]) as lin:
        drivers = accounts({"digitalocean": do, "linode": lin})
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = map_drivers(listing, drivers, executor=pool)
            pids = check(results, drivers)
            assert os.getpid() not in pids and 1 <= len(pids) <= 2
            # the pool was not shut down: it takes more work
            assert pool.submit(os.getpid).result(timeout=30) in pids
            bounded = map_drivers(listing, drivers, executor=pool, max_workers=3)
            check(bounded, drivers)


def test_on_a_dask_local_cluster(sims: dict[str, Simulator], dask_executor: Executor) -> None:
    drivers = accounts(sims)
    results = map_drivers(listing, drivers, executor=dask_executor)
    pids = check(results, drivers)
    assert os.getpid() not in pids
    # every call ran, though eight accounts are the same (Dask would merge identical pure calls)
    assert sims["digitalocean"].node_count() == SERVERS["digitalocean"]
    again = map_drivers(listing, drivers, executor=dask_executor, max_workers=4)
    check(again, drivers)
    assert dask_executor.submit(os.getpid).result(timeout=30) in pids  # still running


def test_dask_runs_identical_calls_every_time(sims: dict[str, Simulator], dask_executor: Executor) -> None:
    sim = sims["digitalocean"]
    twins = [get_driver("digitalocean")(sim.token, base_url=sim.base_url) for _ in range(4)]
    errors = map_drivers(lookup_missing, twins, executor=dask_executor)
    assert all(type(e) is NotFoundError and e.status == 404 for e in errors), errors


def local(driver: object) -> object:
    return driver


def test_a_closure_is_refused_before_anything_is_sent() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ConfigurationError, match="module-level function"):
            map_drivers(lambda d: d, [1, 2], executor=pool)
        assert map_drivers(local, [1, 2], executor=pool) == [1, 2]


def test_a_thread_pool_executor_takes_closures_and_is_left_open() -> None:
    seen = []
    lock = threading.Lock()

    def fn(value: int) -> int:
        with lock:
            seen.append(value)
        if value == 2:
            raise KeyError(value)
        return value * 2

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = map_drivers(fn, [1, 2, 3], executor=pool)
        assert results[0] == 2 and isinstance(results[1], KeyError) and results[2] == 6
        assert pool.submit(lambda: 7).result(timeout=10) == 7
    assert sorted(seen) == [1, 2, 3]


def test_the_old_positional_max_workers_still_works_and_bad_executors_are_refused() -> None:
    assert map_drivers(len, ["ab", "c"], 1) == [2, 1]
    with pytest.raises(ConfigurationError, match="Executor"):
        map_drivers(len, ["a"], executor="threads")  # type: ignore[arg-type]  # the wrong type is the test


class Stubborn(Exception):
    """An exception that pickles but cannot unpickle (its constructor wants two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}+{b}")


def raise_stubborn(value: int) -> int:
    if value == 1:
        raise Stubborn("left", "right")
    if value == 2:
        raise KeyError("plain")
    return value


def test_an_exception_that_cannot_travel_comes_back_as_a_description() -> None:
    # spawn: a forked worker would inherit what importing distributed patches (tblib makes
    # every exception unpickle through __new__), and this exception would travel as itself.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = map_drivers(raise_stubborn, [0, 1, 2, 3], executor=pool)
    assert results[0] == 0 and results[3] == 3
    assert type(results[1]) is CloudkitError and "Stubborn: left+right" in str(results[1])
    assert type(results[2]) is KeyError and results[2].args == ("plain",)
