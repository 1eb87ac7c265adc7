"""Status → exception mapping, provider messages, malformed and hostile bodies."""

from __future__ import annotations

import pytest
import responses

from cloudkit.connection import BearerTokenConnection
from cloudkit.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cloudkit.response import JsonResponse, XmlResponse, parse_retry_after

HOST = "https://api.example.test"


class MessageResponse(JsonResponse):
    def parse_error(self):
        body = self.json_error_body()
        if isinstance(body, dict) and "message" in body:
            return str(body["message"]), body.get("id")
        return self._fallback_message(), None


class Conn(BearerTokenConnection):
    host = "api.example.test"
    responseCls = MessageResponse


@pytest.mark.parametrize(
    ("status", "exc"),
    [(400, ValidationError), (401, InvalidCredsError), (403, ForbiddenError), (404, NotFoundError),
     (409, ConflictError), (422, ValidationError), (429, RateLimitError), (500, ServerError),
     (503, ServerError), (418, ProviderError)],
)
@responses.activate
def test_status_maps_to_exception_with_provider_message(status: int, exc: type) -> None:
    responses.get(f"{HOST}/v1/thing", status=status, json={"id": "some_code", "message": f"provider says {status}"})
    c = Conn("t0k3n-abcdef", max_retries=0)
    with pytest.raises(exc) as info:
        c.request("/v1/thing")
    err = info.value
    assert err.status == status
    assert err.message == f"provider says {status}"
    assert err.code == "some_code"
    assert f"provider says {status}" in str(err)
    assert "provider says" in err.body


@responses.activate
def test_html_page_from_a_proxy_is_malformed_not_a_crash() -> None:
    responses.get(f"{HOST}/v1/x", body="<html><body>Bad gateway</body></html>", content_type="text/html")
    with pytest.raises(MalformedResponseError, match="HTML"):
        Conn("t0k3n-abcdef").request("/v1/x")


@responses.activate
def test_html_error_page_maps_status_with_clear_message() -> None:
    responses.get(f"{HOST}/v1/x", status=502, body="<html>oops</html>", content_type="text/html")
    with pytest.raises(ServerError, match="HTML page"):
        Conn("t0k3n-abcdef", max_retries=0).request("/v1/x")


@responses.activate
def test_truncated_json_is_malformed() -> None:
    responses.get(f"{HOST}/v1/x", body='{"droplets": [{"id": 1', content_type="application/json")
    with pytest.raises(MalformedResponseError, match="not valid JSON"):
        Conn("t0k3n-abcdef").request("/v1/x")


@responses.activate
def test_empty_204_parses_to_none() -> None:
    responses.delete(f"{HOST}/v1/x", status=204)
    assert Conn("t0k3n-abcdef").request("/v1/x", method="DELETE").object is None


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0) == pytest.approx(0.0)


def _xml(body: bytes, status: int = 200) -> XmlResponse:
    return XmlResponse(status, {"Content-Type": "application/xml"}, body)


def test_xml_parses() -> None:
    root = _xml(b"<servers><server id='1'/></servers>").object
    assert root.find("server").get("id") == "1"


def test_xml_entity_expansion_bomb_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""
    with pytest.raises(MalformedResponseError, match="refused"):
        _xml(bomb)


def test_xml_external_entity_is_refused() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>"""
    with pytest.raises(MalformedResponseError, match="refused"):
        _xml(xxe)


def test_broken_xml_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="not valid XML"):
        _xml(b"<servers><server>")


def test_xml_error_body_still_maps_status() -> None:
    with pytest.raises(NotFoundError):
        _xml(b"<error><message>no such server</message></error>", status=404)
