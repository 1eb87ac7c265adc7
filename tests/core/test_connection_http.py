"""Connection behaviour against a real HTTP server on 127.0.0.1: retries, timeouts,
concurrent paging, body limits, redaction."""

from __future__ import annotations

import logging
import time

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import BearerTokenConnection, QueryKeyConnection
from cloudkit.errors import (
    InvalidCredsError,
    MalformedResponseError,
    NetworkError,
    OutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)

TOKEN = "tok-SECRET-1234567890"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def conn(server: LoopbackServer, **kw) -> BearerTokenConnection:
    kw.setdefault("retry_budget", 30)
    return BearerTokenConnection(TOKEN, base_url=server.url, **kw)


def test_get_meeting_503_twice_then_200_succeeds(server: LoopbackServer) -> None:
    server.script("GET", "/v2/things", Reply(503, {"message": "busy"}), Reply(503, {"message": "busy"}),
                  default=Reply(200, {"things": [1]}))
    c = conn(server)
    c.retry = type(c.retry)(max_retries=3, backoff_base=0.01, backoff_max=0.05, budget=10)
    assert c.request("/v2/things").object == {"things": [1]}
    assert server.count("GET", "/v2/things") == 3


def test_get_503_forever_raises_server_error_after_retries(server: LoopbackServer) -> None:
    server.script("GET", "/x", default=Reply(503, {"message": "down for maintenance"}))
    c = conn(server)
    c.retry = type(c.retry)(max_retries=2, backoff_base=0.01, backoff_max=0.02, budget=10)
    with pytest.raises(ServerError) as info:
        c.request("/x")
    assert info.value.status == 503
    assert "down for maintenance" in str(info.value)
    assert server.count("GET", "/x") == 3


def test_post_503_is_not_retried(server: LoopbackServer) -> None:
    server.script("POST", "/v2/droplets", default=Reply(503, {"message": "busy"}))
    c = conn(server)
    with pytest.raises(ServerError):
        c.request("/v2/droplets", data={"name": "a"}, method="POST")
    assert server.count("POST", "/v2/droplets") == 1


def test_post_meeting_read_failure_is_not_sent_twice(server: LoopbackServer) -> None:
    server.script("POST", "/v2/droplets", default=Reply(drop=True))
    c = conn(server)
    with pytest.raises(OutcomeUnknownError) as info:
        c.request("/v2/droplets", data={"name": "web-1"}, method="POST",
                  outcome_hint="look for a node named 'web-1'")
    assert server.count("POST", "/v2/droplets") == 1
    assert info.value.sent is True
    assert "web-1" in str(info.value)
    assert "may have been carried out" in str(info.value)


def test_get_meeting_dropped_connection_is_retried(server: LoopbackServer) -> None:
    server.script("GET", "/y", Reply(drop=True), default=Reply(200, {"ok": True}))
    c = conn(server)
    c.retry = type(c.retry)(max_retries=2, backoff_base=0.01, backoff_max=0.02, budget=10)
    assert c.request("/y").object == {"ok": True}
    assert server.count("GET", "/y") == 2


def test_429_retry_after_one_second_waits_about_a_second(server: LoopbackServer) -> None:
    server.script("POST", "/z", Reply(429, {"message": "slow down"}, headers={"Retry-After": "1"}),
                  default=Reply(201, {"made": 1}))
    c = conn(server)
    started = time.monotonic()
    # 429 means the server refused before acting: retried even for POST.
    assert c.request("/z", data={}, method="POST").object == {"made": 1}
    waited = time.monotonic() - started
    assert 0.95 <= waited < 3.0
    assert server.count("POST", "/z") == 2


def test_429_beyond_budget_raises_rate_limit_error_with_retry_after(server: LoopbackServer) -> None:
    server.script("GET", "/r", default=Reply(429, {"message": "API rate limit exceeded."},
                                              headers={"Retry-After": "120"}))
    c = conn(server, retry_budget=5)
    with pytest.raises(RateLimitError) as info:
        c.request("/r")
    assert info.value.retry_after == pytest.approx(120, abs=1)
    assert server.count("GET", "/r") == 1


def test_max_retries_zero_turns_retrying_off(server: LoopbackServer) -> None:
    server.script("GET", "/n", default=Reply(503, {}))
    c = conn(server, max_retries=0)
    with pytest.raises(ServerError):
        c.request("/n")
    assert server.count("GET", "/n") == 1


@pytest.mark.timeout(10)
def test_read_timeout_fires_within_its_bound(server: LoopbackServer) -> None:
    server.script("GET", "/slow", default=Reply(200, {}, delay=3))
    c = conn(server, timeout=(1.0, 0.5), max_retries=0)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        c.request("/slow")
    assert time.monotonic() - started < 2.0
    assert "read timeout" in str(info.value)


def test_connection_refused_is_a_network_error_not_a_requests_exception() -> None:
    c = BearerTokenConnection(TOKEN, base_url="http://127.0.0.1:9", max_retries=1, retry_budget=2)
    c.retry = type(c.retry)(max_retries=1, backoff_base=0.01, backoff_max=0.02, budget=2)
    with pytest.raises(NetworkError) as info:
        c.request("/v2/x", method="POST", data={})
    assert info.value.sent is False
    assert not isinstance(info.value, OutcomeUnknownError)


def test_remaining_pages_are_fetched_concurrently_and_in_order(server: LoopbackServer) -> None:
    pages = 6

    def page_reply(seen):
        page = int(seen.query["page"][0])
        return Reply(200, {"items": [f"p{page}-a", f"p{page}-b"], "pages": pages}, delay=0.3)

    server.route("GET", "/items", page_reply)
    c = conn(server)
    seen_pages: list[int] = []

    def extract(body):
        return body["items"]

    items = c.paginate("/items", extract, lambda body, size: body["pages"], page_size=2)
    assert items == [f"p{p}-{s}" for p in range(1, pages + 1) for s in "ab"]
    assert server.peak_in_flight >= 3  # pages 2..6 overlapped, not one after another
    queried = sorted(int(s.query["page"][0]) for s in server.seen)
    seen_pages.extend(queried)
    assert seen_pages == list(range(1, pages + 1))
    assert all(s.query["per_page"] == ["2"] for s in server.seen)


def test_follow_links_rebases_links_onto_our_host(server: LoopbackServer) -> None:
    server.script("GET", "/list", Reply(200, {"items": [1], "next": "https://elsewhere.example/list?page=2"}),
                  Reply(200, {"items": [2], "next": None}))
    c = conn(server)
    items = c.follow_links("/list", lambda b: b["items"], lambda b: b["next"])
    assert items == [1, 2]
    assert server.seen[1].query == {"page": ["2"]}


def test_bearer_header_and_user_agent_are_sent(server: LoopbackServer) -> None:
    server.script("GET", "/h", default=Reply(200, {}))
    conn(server).request("/h")
    headers = {k.lower(): v for k, v in server.seen[0].headers.items()}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["user-agent"].startswith("cloudkit/")


def test_401_maps_with_message(server: LoopbackServer) -> None:
    server.script("GET", "/a", default=Reply(401, {"id": "unauthorized", "message": "Unable to authenticate you."}))
    with pytest.raises(InvalidCredsError) as info:
        conn(server).request("/a")
    assert info.value.status == 401
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_oversized_body_is_refused(server: LoopbackServer) -> None:
    server.script("GET", "/big", default=Reply(200, "x" * 200_000, headers={"Content-Type": "application/json"}))
    c = conn(server)
    c.max_body_bytes = 50_000
    with pytest.raises(MalformedResponseError, match="limit"):
        c.request("/big")


def test_token_and_query_key_never_logged(server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.script("GET", "/k", Reply(503, {}), default=Reply(200, {}))

    class KeyConn(QueryKeyConnection):
        key_param = "api_key"

    c = KeyConn("QUERYKEY-secret-999", base_url=server.url)
    c.retry = type(c.retry)(max_retries=2, backoff_base=0.01, backoff_max=0.02, budget=5)
    c.request("/k", params={"x": "1"})
    assert server.seen[0].query["api_key"] == ["QUERYKEY-secret-999"]
    conn(server).request("/k")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/k" in text  # the request lines were logged...
    assert "QUERYKEY-secret-999" not in text and TOKEN not in text  # ...without the secrets
    assert "QUERYKEY" not in repr(c)
