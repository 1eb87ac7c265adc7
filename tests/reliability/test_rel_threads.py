"""One driver shared by 16 threads doing mixed calls for a few seconds on the simulator:
no errors, and no answer handed to the wrong call.

Each thread owns one seeded server and one SSH key of its own. It reads its server by id
and checks the id and name of the answer, lists everything and finds exactly the known
set, reads the catalogue, and stores, reads back and deletes its own key (checking name
and key material). With pooled keep-alive connections shared by all threads, a response
crossing over to another call would show up as a wrong id, name or key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from _rel_support import PROVIDERS, fast_retry, running_sim, sweep_logs

from cloudkit.driver import NodeDriver
from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

THREADS = 16
SECONDS = 2.0
MAX_ROUNDS = 2_000  # per thread: a bound even on a very fast machine

_KEYS = [generate_key_pair("ed25519", comment=f"rel-thread-{i}")[1] for i in range(THREADS)]


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param, nodes=THREADS)


def _worker(driver: NodeDriver, index: int, node_id: str, name: str, all_ids: set[str], sizes: list[str],
            stop_at: float) -> dict[str, int]:
    calls = {"get_node": 0, "list_nodes": 0, "list_sizes": 0, "keys": 0}
    pubkey = _KEYS[index]
    for round_no in range(MAX_ROUNDS):
        if time.monotonic() >= stop_at:
            break
        node = driver.get_node(node_id)
        assert (node.id, node.name) == (node_id, name), f"thread {index} asked for {node_id}, got {node!r}"
        calls["get_node"] += 1
        step = round_no % 4
        if step == 1:
            ids = {n.id for n in driver.list_nodes()}
            assert ids == all_ids, f"thread {index}: listing changed under it: {sorted(ids ^ all_ids)[:5]}"
            calls["list_nodes"] += 1
        elif step == 2:
            assert [s.id for s in driver.list_sizes()] == sizes
            calls["list_sizes"] += 1
        elif step == 3 and round_no % 12 == 3:
            key_name = f"rel-t{index}-r{round_no}"
            pair = driver.import_key_pair_from_string(key_name, pubkey)
            assert pair.name == key_name and pair.public_key.split()[:2] == pubkey.split()[:2], (
                f"thread {index} stored {key_name}, the answer was {pair!r}")
            assert driver.delete_key_pair(pair) is True
            calls["keys"] += 1
    return calls


@pytest.mark.timeout(60)
def test_sixteen_threads_share_one_driver(sim: Simulator) -> None:
    # No retries: any error at all, even one a retry would hide, fails the test.
    driver = fast_retry(sim.driver(timeout=(5.0, 10.0)), max_retries=0)
    nodes = {n.id: n.name for n in driver.list_nodes()}
    assert len(nodes) == THREADS
    sizes = [s.id for s in driver.list_sizes()]
    ids = sorted(nodes)
    stop_at = time.monotonic() + SECONDS
    started = threading.Barrier(THREADS)

    def run(index: int) -> dict[str, int]:
        started.wait(5)
        return _worker(driver, index, ids[index], nodes[ids[index]], set(ids), sizes, stop_at)

    with sweep_logs() as sweep, ThreadPoolExecutor(THREADS, thread_name_prefix="rel-thread") as pool:
        futures = [pool.submit(run, i) for i in range(THREADS)]
        results: list[dict[str, Any]] = [f.result(timeout=SECONDS + 30) for f in futures]
    trouble = [t for r, t in zip(sweep.records, sweep.texts, strict=True) if r.levelno >= logging.WARNING]
    assert trouble == [], f"warnings while sharing the driver: {trouble[:3]}"

    total = sum(sum(r.values()) for r in results)
    assert all(r["get_node"] > 0 for r in results), "every thread got to work"
    assert sum(r["keys"] for r in results) > 0 and sum(r["list_nodes"] for r in results) > 0
    assert total >= THREADS * 3
    assert sim.server_errors == []
    # Every key a thread stored was deleted again: nothing was lost or doubled.
    assert [k for k in driver.list_key_pairs() if k.name.startswith("rel-t")] == []
    assert sim.node_count() == THREADS
