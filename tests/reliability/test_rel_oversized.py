"""Oversized answers are refused while streaming, without reading them into memory.

A raw loopback server sends a 50 MB body (announced with Content-Length, or chunked without
a length, or a small gzip body that inflates to 50 MB). Every driver must refuse it with
``MalformedResponseError``; ``tracemalloc`` shows the peak memory of the call stays far
below the body's size, and the driver keeps working afterwards.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from _rel_support import PROVIDERS, list_once

from cloudkit.connection import Connection, RetryPolicy
from cloudkit.errors import MalformedResponseError, RequestTimeoutError
from cloudkit.providers import get_driver

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MB = 1024 * 1024
BODY_BYTES = 50 * MB
_CHUNK = b" " * MB  # allocated once, before any tracing starts
_GZIP_BOMB = gzip.compress(b" " * BODY_BYTES, compresslevel=9)

#: A small, valid listing per provider (what the server answers to "/ok" paths).
_SMALL: dict[str, bytes] = {
    "digitalocean": b'{"droplets": [], "links": {}, "meta": {"total": 0}}',
    "linode": b'{"data": [], "page": 1, "pages": 1, "results": 0}',
    "hostvirtual": b"[]",
    "nephoscale": b'{"success": true, "response": 200, "subcode": 0, "message": "ok", "data": [],'
                  b' "total_count": 0}',
}


class FloodServer:
    """Answers every request with ``mode``: "length" (Content-Length: 50 MB, then 50 MB),
    "chunked" (50 x 1 MB chunks, no length), "gzip" (a 50 KB gzip body inflating to
    50 MB), "trickle" (one byte every 50 ms: each read is quick, the body never ends) or
    "small" (``small_body``). Counts the bytes it managed to send."""

    def __init__(self, small_body: bytes) -> None:
        self.mode = "length"
        self.small_body = small_body
        self.sent = 0
        self.requests = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        self.requests += 1
        return True

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            while self._read_request(conn):
                mode = self.mode
                if mode == "small":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(self.small_body)).encode() + b"\r\n\r\n" + self.small_body)
                    continue
                if mode == "length":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: " + str(BODY_BYTES).encode() + b"\r\n\r\n")
                    for _ in range(BODY_BYTES // MB):
                        conn.sendall(_CHUNK)
                        self.sent += MB
                elif mode == "chunked":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n")
                    head = b"%x\r\n" % MB
                    for _ in range(BODY_BYTES // MB):
                        conn.sendall(head)
                        conn.sendall(_CHUNK)
                        conn.sendall(b"\r\n")
                        self.sent += MB
                    conn.sendall(b"0\r\n\r\n")
                elif mode == "trickle":  # a slowloris: one byte every 50 ms, never done in time
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                    for _ in range(100_000):
                        if self._stop.is_set():
                            break
                        conn.sendall(b" ")
                        self.sent += 1
                        time.sleep(0.05)
                else:  # gzip
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                                 b"Content-Length: " + str(len(_GZIP_BOMB)).encode() + b"\r\n\r\n" + _GZIP_BOMB)
                    self.sent += len(_GZIP_BOMB)
        except OSError:
            pass  # the client hung up on us: that is the point
        finally:
            conn.close()


@pytest.fixture
def flood() -> Iterator[Any]:
    servers: list[FloodServer] = []

    def make(provider: str) -> FloodServer:
        server = FloodServer(_SMALL[provider])
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _driver(provider: str, url: str) -> Any:
    cls = get_driver(provider)
    args = ("user", "not-a-real-password") if provider == "nephoscale" else ("not-a-real-token-1234",)
    prefix = getattr(cls.connectionCls, "base_path", "") or ""
    return cls(*args, base_url=url + prefix, max_retries=0, timeout=(3, 10))


def _peak_during(call: Any) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        try:
            call()
        except BaseException as exc:  # handed back for the test to check
            return exc, tracemalloc.get_traced_memory()[1]
        return None, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_default_limit_refuses_a_50_mb_body() -> None:
    assert Connection.max_body_bytes < BODY_BYTES
    for provider in PROVIDERS:
        assert get_driver(provider).connectionCls.max_body_bytes < BODY_BYTES


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_announced_oversized_body_is_refused_before_reading(provider: str, flood: Any) -> None:
    server = flood(provider)
    driver = _driver(provider, server.url)
    started = time.monotonic()
    error, peak = _peak_during(lambda: list_once(driver))
    assert isinstance(error, MalformedResponseError), error
    assert "exceeds" in str(error) and "limit" in str(error)
    assert peak < 2 * MB, f"peak {peak} bytes while refusing an announced 50 MB body"
    assert time.monotonic() - started < 10
    # The connection that carried the flood is dropped; the next call works.
    server.mode = "small"
    assert list_once(driver) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_chunked_oversized_body_is_refused_while_streaming(provider: str, flood: Any) -> None:
    server = flood(provider)
    server.mode = "chunked"
    driver = _driver(provider, server.url)
    limit = driver.connection.max_body_bytes
    error, peak = _peak_during(lambda: list_once(driver))
    assert isinstance(error, MalformedResponseError), error
    assert "refused while reading" in str(error)
    # At most the limit plus a read chunk is held; never the 50 MB body.
    assert peak < limit + 4 * MB < BODY_BYTES / 2, f"peak {peak} bytes"
    server.mode = "small"
    assert list_once(driver) == []


@pytest.mark.timeout(60)
def test_memory_stays_bounded_by_a_small_limit(flood: Any) -> None:
    """With a 1 MB limit, refusing 50 MB of chunks costs about 1 MB, never the body."""
    server = flood("linode")
    server.mode = "chunked"
    driver = _driver("linode", server.url)
    driver.connection.max_body_bytes = 1 * MB
    error, peak = _peak_during(lambda: list_once(driver))
    assert isinstance(error, MalformedResponseError)
    assert peak < 4 * MB, f"peak {peak} bytes"
    assert server.sent < BODY_BYTES, "the client must stop reading, not drain the whole body"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", ["digitalocean", "nephoscale"])
def test_gzip_bomb_is_refused_while_inflating(provider: str, flood: Any) -> None:
    server = flood(provider)
    server.mode = "gzip"
    driver = _driver(provider, server.url)
    assert len(_GZIP_BOMB) < MB
    error, peak = _peak_during(lambda: list_once(driver))
    assert isinstance(error, MalformedResponseError), error
    assert peak < driver.connection.max_body_bytes + 8 * MB < BODY_BYTES, f"peak {peak} bytes"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("provider", ["linode", "hostvirtual"])
def test_a_body_that_trickles_in_forever_is_cut_off(provider: str, flood: Any) -> None:
    """Every read gets a byte well within the read timeout, but the answer never completes:
    the call still ends, with RequestTimeoutError, after the read timeout's worth of total
    time per try (twice the read timeout), retries included."""
    server = flood(provider)
    server.mode = "trickle"
    driver = _driver(provider, server.url)
    driver.connection.timeout = (2.0, 0.25)
    driver.connection.retry = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.02, budget=10)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        list_once(driver)
    elapsed = time.monotonic() - started
    assert elapsed < 2 * (2 * 0.25) + 1.5, f"took {elapsed:.2f}s"
    assert server.requests == 2  # a GET: tried again once, then given up
    assert "took longer than" in str(info.value)
