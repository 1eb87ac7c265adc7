"""The redacted request URL is built only when a log line or an error needs it, and is still
redacted wherever it shows up (Response.url, DEBUG log lines, error messages)."""

from __future__ import annotations

import logging
import socket

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit import connection as connection_module
from cloudkit.connection import QueryKeyConnection
from cloudkit.errors import MalformedResponseError, NetworkError
from cloudkit.redact import REDACTED
from cloudkit.response import JsonResponse

SECRET = "QUERYKEY-lazy-secret-4242"


class KeyConn(QueryKeyConnection):
    key_param = "api_key"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def redactions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the connection module redacts, in order."""
    seen: list[str] = []
    real = connection_module.redact_url

    def spy(url: str, *args: object, **kwargs: object) -> str:
        seen.append(url)
        return real(url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connection_module, "redact_url", spy)
    return seen


def test_a_quiet_successful_request_redacts_nothing(server: LoopbackServer, redactions: list[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cloudkit")
    server.script("GET", "/v1/things", default=Reply(200, {"things": [1, 2]}))
    conn = KeyConn(SECRET, base_url=server.url)
    resp = conn.request("/v1/things", params={"page": 2})
    assert resp.object == {"things": [1, 2]}
    assert redactions == []  # nothing logged, no error: no URL was encoded or redacted
    # ...and reading the URL afterwards still gives the redacted text, built once.
    assert resp.url.startswith(server.url + "/v1/things?")
    assert "page=2" in resp.url and f"api_key={REDACTED}" in resp.url and SECRET not in resp.url
    assert resp.url is resp.url
    assert len(redactions) == 1


def test_debug_log_lines_still_carry_the_redacted_url(server: LoopbackServer, redactions: list[str],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudkit")
    server.script("GET", "/v1/things", default=Reply(200, {}))
    KeyConn(SECRET, base_url=server.url).request("/v1/things", params={"x": "1"})
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudkit.connection"]
    assert any("/v1/things?" in line and REDACTED in line for line in lines)
    assert not any(SECRET in line for line in lines)
    assert len(redactions) == 1


def test_errors_built_from_a_lazy_url_are_redacted(server: LoopbackServer) -> None:
    server.script("GET", "/v1/big", default=Reply(200, {"pad": "x" * 5000}))
    conn = KeyConn(SECRET, base_url=server.url, max_retries=0)
    conn.max_body_bytes = 100
    with pytest.raises(MalformedResponseError) as info:
        conn.request("/v1/big")
    assert "/v1/big" in str(info.value) and SECRET not in str(info.value)

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = KeyConn(SECRET, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(NetworkError) as refused:
        dead.request("/v1/things", params={"page": 1})
    shown = f"{refused.value} {refused.value.url} {refused.value!r}"
    assert "/v1/things" in shown and REDACTED in str(refused.value.url) and SECRET not in shown


def test_malformed_body_error_names_the_path_only(server: LoopbackServer) -> None:
    server.script("GET", "/v1/broken", default=Reply(200, b"{not json"))
    conn = KeyConn(SECRET, base_url=server.url)
    with pytest.raises(MalformedResponseError) as info:
        conn.request("/v1/broken", params={"page": 3})
    assert "/v1/broken" in str(info.value) and SECRET not in str(info.value)
    assert "page=3" not in str(info.value)  # the query, which may hold a key, is left out


def test_a_response_takes_text_or_a_function_for_its_url() -> None:
    plain = JsonResponse(200, {}, b"{}", url="https://api.example.test/v1/x")
    assert plain.url == "https://api.example.test/v1/x"
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return "https://api.example.test/v1/y"

    lazy = JsonResponse(200, {}, b"{}", url=make)
    assert calls == []
    assert lazy.url == lazy.url == "https://api.example.test/v1/y"
    assert calls == [1]
    lazy.url = "https://api.example.test/v1/z"
    assert lazy.url == "https://api.example.test/v1/z"
