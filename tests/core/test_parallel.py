"""cloudkit.parallel.map_drivers: order, concurrency, per-driver errors, worker limits."""

from __future__ import annotations

import threading

import pytest

from cloudkit import ConfigurationError, InvalidCredsError, get_driver
from cloudkit.parallel import map_drivers


def test_results_come_back_in_input_order() -> None:
    # The later drivers finish first; the results still follow the input.
    gates = [threading.Event() for _ in range(5)]

    def fn(index: int) -> int:
        if index + 1 < len(gates):
            assert gates[index + 1].wait(10), "calls did not run concurrently"
        gates[index].set()
        return index * 10

    assert map_drivers(fn, range(5)) == [0, 10, 20, 30, 40]


def test_calls_run_concurrently() -> None:
    barrier = threading.Barrier(8, timeout=10)

    def fn(driver: object) -> str:
        barrier.wait()  # only returns once all eight calls are in flight together
        return threading.current_thread().name

    names = map_drivers(fn, [object() for _ in range(8)])
    assert len(set(names)) == 8
    assert all(isinstance(n, str) and n.startswith("cloudkit-map") for n in names)


def test_an_exception_is_returned_in_its_drivers_place() -> None:
    def fn(index: int) -> int:
        if index == 1:
            raise InvalidCredsError("token revoked", 401)
        if index == 3:
            raise KeyError("boom")
        return index

    results = map_drivers(fn, [0, 1, 2, 3])
    assert results[0] == 0 and results[2] == 2
    assert isinstance(results[1], InvalidCredsError) and results[1].status == 401
    assert isinstance(results[3], KeyError)


def test_base_exceptions_are_not_swallowed() -> None:
    def fn(index: int) -> int:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        map_drivers(fn, [1, 2])


def test_max_workers_bounds_the_threads() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0
    both_in = threading.Barrier(2, timeout=10)

    def fn(index: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if index < 2:
            both_in.wait()  # the first two run together: two workers are really used
        with lock:
            running -= 1
        return index

    assert map_drivers(fn, range(6), max_workers=2) == list(range(6))
    assert peak == 2


def test_one_worker_runs_on_the_calling_thread_in_order() -> None:
    seen: list[tuple[int, str]] = []

    def fn(index: int) -> int:
        seen.append((index, threading.current_thread().name))
        return -index

    assert map_drivers(fn, iter([3, 1, 2]), max_workers=1) == [-3, -1, -2]
    assert [i for i, _ in seen] == [3, 1, 2]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_empty_input_and_bad_max_workers() -> None:
    assert map_drivers(len, []) == []
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError):
            map_drivers(len, ["a"], max_workers=bad)  # type: ignore[arg-type]


def test_with_real_drivers_over_several_accounts() -> None:
    cls = get_driver("dummy")
    drivers = [cls(f"account-{i}") for i in range(3)]
    for count, driver in enumerate(drivers):
        for n in range(count + 1):
            driver.create_node(f"web-{n}", driver.list_sizes()[0], driver.list_images()[0])
    results = map_drivers(lambda d: d.list_nodes(), drivers)
    assert [len(r) for r in results if isinstance(r, list)] == [1, 2, 3]
    assert all(node.driver is driver for driver, nodes in zip(drivers, results, strict=True)
               for node in nodes)  # type: ignore[union-attr]
