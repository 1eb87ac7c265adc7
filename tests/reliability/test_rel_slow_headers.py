"""Every wait is bounded, headers included (issue 16, item 1).

A server that sends its status line and headers one byte per second, or an endless run of
``HTTP/1.1 100 Continue`` answers, never trips the per-read timeout. The whole exchange is
bounded by ``max_response_seconds`` (default twice the read timeout): with
``timeout=(2, 2), max_retries=0`` every driver's ``list_nodes()`` raises
``RequestTimeoutError`` a few seconds after the 4 s deadline, never later.
"""

from __future__ import annotations

import time

import pytest
from _hostile import PROVIDERS, HostileServer, dribble_headers, endless_continue, make_driver
from _rel_support import list_once

from cloudkit.errors import RequestTimeoutError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

#: Deadline (2 x the 2 s read timeout) plus a generous ceiling for a loaded machine.
CEILING = 4.0 + 8.0


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("behaviour", [dribble_headers, endless_continue], ids=["dribble", "continue"])
def test_slow_headers_end_in_request_timeout(provider: str, behaviour: object) -> None:
    with HostileServer(behaviour) as server:  # type: ignore[arg-type]  # behaviours are plain callables here
        driver = make_driver(provider, server.url)
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            list_once(driver)
        took = time.monotonic() - started
    assert took < CEILING, f"cut off after {took:.1f}s"
    assert info.value.sent is True
    assert "4s" in str(info.value)
    assert len(server.requests) == 1  # max_retries=0: one try


def test_deadline_is_configurable_and_covers_headers() -> None:
    with HostileServer(dribble_headers) as server:
        driver = make_driver("digitalocean", server.url, timeout=(2, 30))
        driver.connection.max_response_seconds = 2.0
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            list_once(driver)
        assert time.monotonic() - started < 2.0 + 8.0  # not the 60 s that 2 x 30 would allow


def test_pooled_connection_still_works_after_a_quick_answer() -> None:
    """The watchdog lets go of a socket whose answer is in: it goes back to the pool and
    serves the next request (no spurious timeouts on a healthy keep-alive connection)."""
    from _hostile import fixed

    with HostileServer(fixed(200, b'{"droplets": [], "links": {}, "meta": {"total": 0}}')) as server:
        driver = make_driver("digitalocean", server.url, timeout=(2, 0.5))
        for _ in range(5):
            assert list_once(driver) == []
            time.sleep(0.3)  # past the 1 s deadline of the first request on this socket
