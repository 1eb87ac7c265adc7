"""Faults on the simulator, for every driver: 5xx bursts, dropped connections, slow answers
past the read timeout, 429 storms with Retry-After and rate-limit headers, broken bodies.

What must hold: idempotent calls succeed once the fault clears within the retry budget;
calls that cannot succeed fail with the right error within their time bound; nothing that
may have been carried out (a POST) is repeated; no call hangs (every test has a timeout).
Waits are shortened with ``fast_retry`` (same rules, 10-50 ms backoff) except where the
test is about the server's own Retry-After / reset headers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from fnmatch import fnmatchcase
from typing import Any

import pytest
from _rel_support import CREATE_PATHS, LIST_PATHS, PROVIDERS, create_kwargs, fast_retry, list_once, running_sim
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import RetryPolicy
from cloudkit.driver import NodeDriver
from cloudkit.errors import (
    MalformedResponseError,
    NetworkError,
    OutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from cloudkit.providers import get_driver
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param, nodes=2)


def _driver(sim: Simulator, max_retries: int = 4, **kwargs: Any) -> NodeDriver:
    kwargs.setdefault("timeout", (2.0, 3.0))
    return fast_retry(sim.driver(**kwargs), max_retries=max_retries)


def _count(sim: Simulator, method: str, glob: str) -> int:
    return sum(1 for r in sim.requests if r.method == method and fnmatchcase(r.path, glob))


def _list_glob(sim: Simulator) -> str:
    return LIST_PATHS[sim.provider]


# -- 5xx -------------------------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_a_5xx_burst_on_reads_is_survived(sim: Simulator, status: str) -> None:
    driver = _driver(sim)
    sim.faults.queue(status, status, status, method="GET", path=_list_glob(sim))
    started = time.monotonic()
    nodes = list_once(driver)
    assert sorted(n.id for n in nodes) == sorted(sim.node_ids())
    assert _count(sim, "GET", _list_glob(sim)) == 4  # three faults, then the answer
    assert sim.faults.applied[status] == 3
    assert time.monotonic() - started < 3.0

    target = sim.node_ids()[0]
    sim.faults.queue(status, status, method="GET")
    assert driver.get_node(target).id == target


@pytest.mark.timeout(20)
def test_a_5xx_that_never_clears_fails_with_server_error_after_the_allowed_tries(sim: Simulator) -> None:
    driver = _driver(sim, max_retries=3)
    sim.faults.add("503", method="GET")
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        list_once(driver)
    assert info.value.status == 503
    assert _count(sim, "GET", "*") == 4  # 1 + max_retries
    assert time.monotonic() - started < 3.0


@pytest.mark.timeout(20)
def test_the_retry_budget_bounds_the_time_spent(sim: Simulator) -> None:
    """Many retries allowed but a 0.5 s budget: the call gives up once the next wait would
    cross it, well before the retries run out."""
    driver = sim.driver(timeout=(2.0, 3.0))
    driver.connection.retry = RetryPolicy(max_retries=100, backoff_base=0.1, backoff_max=0.15, budget=0.5)
    sim.faults.add("502", method="GET")
    started = time.monotonic()
    with pytest.raises(ServerError):
        driver.list_sizes()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"the 0.5 s budget took {elapsed:.2f}s"
    assert 2 <= _count(sim, "GET", "*") < 20


@pytest.mark.timeout(20)
@pytest.mark.parametrize("status", ["500", "503"])
def test_a_5xx_on_create_is_not_repeated(sim: Simulator, status: str) -> None:
    driver = _driver(sim)
    path = CREATE_PATHS[sim.provider]
    sim.faults.queue(status, method="POST", path=path)
    before = sim.node_count()
    with pytest.raises(ServerError) as info:
        driver.create_node(**create_kwargs(sim.provider, "rel-5xx"))
    assert info.value.status == int(status)
    assert _count(sim, "POST", path) == 1, "a create POST must never be sent twice"
    assert sim.node_count() == before


@pytest.mark.timeout(20)
def test_idempotent_deletes_are_retried_through_a_5xx_burst(sim: Simulator) -> None:
    driver = _driver(sim)
    target = sim.node_ids()[0]
    node = driver.get_node(target)
    if sim.provider == "hostvirtual":
        # HostVirtual destroys with POSTs (shutdown, cancel, unlink): a 503 on the cancel is
        # not repeated and says so; the server is still there to try again.
        sim.faults.queue("503", method="POST", path="/cloud/cancel*")
        with pytest.raises(ServerError):
            driver.destroy_node(node)
        assert target in sim.node_ids()
        assert driver.destroy_node(driver.get_node(target)) is True
    else:
        sim.faults.queue("503", "502", method="DELETE")
        assert driver.destroy_node(node) is True
        assert _count(sim, "DELETE", "*") == 3
    deadline = time.monotonic() + 5
    while target in sim.node_ids() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert target not in sim.node_ids()


# -- dropped connections and slow answers ----------------------------------------------------


@pytest.mark.timeout(20)
def test_dropped_connections_on_reads_are_retried(sim: Simulator) -> None:
    driver = _driver(sim)
    sim.faults.queue("drop", "reset", "drop", method="GET")
    assert len(list_once(driver)) == 2
    sim.faults.queue("drop", "incomplete", method="GET")
    assert driver.list_sizes()


@pytest.mark.timeout(20)
def test_dropped_connections_that_never_clear_end_in_network_error(sim: Simulator) -> None:
    driver = _driver(sim, max_retries=2)
    sim.faults.add("drop", method="GET")
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        list_once(driver)
    assert not isinstance(info.value, OutcomeUnknownError)  # a GET: nothing can have happened
    assert _count(sim, "GET", "*") == 3
    assert time.monotonic() - started < 3.0


@pytest.mark.timeout(20)
def test_slow_answers_past_the_read_timeout_are_retried(sim: Simulator) -> None:
    driver = _driver(sim, timeout=(2.0, 0.3))
    sim.faults.queue("slow", "slow", method="GET", seconds=1.5)
    started = time.monotonic()
    assert len(list_once(driver)) == 2
    elapsed = time.monotonic() - started
    assert 0.6 <= elapsed < 3.0, f"two 0.3 s read timeouts then an answer took {elapsed:.2f}s"


@pytest.mark.timeout(20)
def test_a_server_that_never_answers_fails_within_the_time_bound(sim: Simulator) -> None:
    """Bound: (1 + max_retries) x read timeout, plus the short backoffs."""
    driver = _driver(sim, max_retries=2, timeout=(2.0, 0.15))
    sim.faults.add("slow", method="GET", seconds=5.0)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        driver.list_sizes()
    elapsed = time.monotonic() - started
    assert elapsed < 3 * 0.15 + 1.0, f"took {elapsed:.2f}s"
    assert "read timeout" in str(info.value)


# -- 429 storms ------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_a_429_storm_is_waited_out_as_the_server_asks(sim: Simulator) -> None:
    driver = _driver(sim)
    sim.faults.storm(2, retry_after=0.15, method="GET")
    started = time.monotonic()
    assert len(list_once(driver)) == 2
    elapsed = time.monotonic() - started
    assert elapsed >= 0.3, f"Retry-After 0.15 s x 2 was not honoured ({elapsed:.2f}s)"
    assert elapsed < 2.0
    assert sim.faults.applied["429"] == 2


@pytest.mark.timeout(20)
def test_a_429_on_create_is_retried_and_makes_exactly_one_server(sim: Simulator) -> None:
    """429 means "not carried out": even a create is safe to send again."""
    driver = _driver(sim)
    path = CREATE_PATHS[sim.provider]
    sim.faults.storm(2, retry_after=0.05, method="POST", path=path)
    before = sim.node_count()
    node = driver.create_node(**create_kwargs(sim.provider, "rel-429"))
    assert _count(sim, "POST", path) == 3
    assert sim.node_count() == before + 1
    assert node.id in sim.node_ids()


@pytest.mark.timeout(20)
def test_a_429_asking_for_longer_than_the_budget_fails_at_once(sim: Simulator) -> None:
    """Retry-After: 30 with a 5 s budget: no sleeping for 30 s, a RateLimitError now that
    says how long the provider asked to wait."""
    driver = sim.driver(retry_budget=5.0, timeout=(2.0, 3.0))
    sim.faults.storm(50, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        driver.list_locations()
    assert time.monotonic() - started < 4.0  # generous, and still far from the 30 s asked for
    assert info.value.status == 429
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 31
    assert _count(sim, "GET", "*") == 1


@pytest.mark.timeout(20)
def test_a_429_storm_longer_than_the_retries_ends_in_rate_limit_error(sim: Simulator) -> None:
    driver = _driver(sim, max_retries=3)
    sim.faults.storm(100, retry_after=0.05)
    with pytest.raises(RateLimitError) as info:
        driver.list_sizes()
    assert info.value.retry_after is not None
    assert _count(sim, "GET", "*") == 4


# -- rate-limit headers without Retry-After (DigitalOcean, Linode) ----------------------------


@pytest.fixture(scope="module")
def _loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def loopback(_loopback: LoopbackServer) -> LoopbackServer:
    _loopback.replies.clear()
    _loopback.defaults.clear()
    _loopback.seen.clear()
    return _loopback


_LISTINGS = {"digitalocean": ("/v2/regions", {"regions": [], "links": {}, "meta": {"total": 0}}),
             "linode": ("/v4/regions", {"data": [], "page": 1, "pages": 1, "results": 0})}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("provider,header", [("digitalocean", "ratelimit-reset"), ("linode", "X-RateLimit-Reset")])
def test_rate_limit_reset_header_is_honoured(loopback: LoopbackServer, provider: str, header: str) -> None:
    """A 429 that carries only the reset time (epoch seconds): the retry waits until then."""
    path, body = _LISTINGS[provider]
    reset = int(time.time()) + 1
    loopback.script("GET", path, Reply(429, {"message": "slow down", "errors": [{"reason": "slow down"}]},
                                       headers={header: str(reset)}), default=Reply(200, body))
    driver = get_driver(provider)("not-a-real-token-1234", base_url=loopback.url, max_retries=2)
    assert driver.list_locations() == []
    first, second = (s.at for s in loopback.seen if s.path == path)
    waited = second - first
    expected = reset - (time.time() - (time.monotonic() - first))  # what the header asked for, from the 429
    assert waited >= expected - 0.05, f"waited {waited:.2f}s, the reset header asked for {expected:.2f}s"
    assert waited < 2.5


@pytest.mark.timeout(20)
def test_retry_after_as_an_http_date_is_honoured(loopback: LoopbackServer) -> None:
    when = time.time() + 1
    loopback.script("GET", "/v4/regions", Reply(429, {"errors": [{"reason": "slow down"}]},
                                                headers={"Retry-After": formatdate(when, usegmt=True)}),
                    default=Reply(200, _LISTINGS["linode"][1]))
    driver = get_driver("linode")("not-a-real-token-1234", base_url=loopback.url, max_retries=2)
    assert driver.list_locations() == []
    first, second = (s.at for s in loopback.seen if s.path == "/v4/regions")
    expected = int(when) - (time.time() - (time.monotonic() - first))
    assert second - first >= expected - 0.05
    assert second - first < 2.5


# -- broken bodies ---------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_a_proxy_error_page_is_retried_and_a_200_html_page_is_malformed(sim: Simulator) -> None:
    driver = _driver(sim)
    sim.faults.queue("html", method="GET", status=502)
    assert driver.list_sizes()
    sim.faults.queue("html", method="GET", status=200)
    with pytest.raises(MalformedResponseError) as info:
        driver.list_sizes()
    assert "HTML" in str(info.value)


@pytest.mark.timeout(20)
def test_a_truncated_body_is_malformed_not_a_crash(sim: Simulator) -> None:
    driver = _driver(sim)
    sim.faults.queue("truncated", method="GET", path=_list_glob(sim))
    with pytest.raises(MalformedResponseError):
        list_once(driver)
    assert len(list_once(driver)) == 2


# -- a mix of everything ---------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_random_fault_mix_on_reads_is_survived(sim: Simulator) -> None:
    """20% 5xx, 5% drops, 5% short 429s on every read (seeded): 30 mixed reads all succeed."""
    driver = _driver(sim, max_retries=8)
    sim.faults.configure(error_rate=0.2, drop_rate=0.05, rate_limit_rate=0.05, retry_after=0.02, seed=11,
                         method="GET")
    target = sim.node_ids()[1]
    calls = [driver.list_nodes, driver.list_sizes, driver.list_images, driver.list_locations,
             driver.list_key_pairs, lambda: [driver.get_node(target)]]
    for i in range(30):
        result = calls[i % len(calls)]()
        assert isinstance(result, list)
    applied = sum(sim.faults.applied.values())
    assert applied >= 5, f"only {applied} faults fired; the mix did not test much"
    sim.faults.clear()
    assert driver.get_node(target).id == target
