"""A body the parser cannot take is a MalformedResponseError, never a RecursionError (issue 16,
item 2): 100,000 nested ``[`` (or ``{"a":``) as a 200 answer to every driver's
``list_nodes()``, the same as an error body, and deeply nested or broken XML through
``XmlResponse``. The CLI reports it as a provider error (exit 1), not an internal error.
"""

from __future__ import annotations

import io

import pytest
from _hostile import ENV_OF, PROVIDERS, HostileServer, fixed, make_driver

from cloudkit.cli import main
from cloudkit.errors import MalformedResponseError, ServerError
from cloudkit.response import JsonResponse, XmlResponse

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DEEP_ARRAYS = b"[" * 100_000
DEEP_OBJECTS = b'{"a":' * 100_000
BROKEN = [DEEP_ARRAYS, DEEP_OBJECTS, DEEP_ARRAYS + b"]" * 100_000, b"\xff\xfe{", b'{"droplets": [1, 2'
          ]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("body", BROKEN, ids=["arrays", "objects", "closed", "bytes", "truncated"])
def test_unparsable_200_is_malformed(provider: str, body: bytes) -> None:
    with HostileServer(fixed(200, body)) as server:
        driver = make_driver(provider, server.url)
        with pytest.raises(MalformedResponseError) as info:
            driver.list_nodes()
    assert info.value.status == 200
    assert not isinstance(info.value.__context__, RecursionError)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_deep_error_body_is_still_the_status_error(provider: str) -> None:
    with HostileServer(fixed(500, DEEP_ARRAYS)) as server:
        driver = make_driver(provider, server.url)
        with pytest.raises(ServerError) as info:
            driver.list_nodes()
    assert info.value.status == 500


@pytest.mark.parametrize("body", [b"<a>" * 100_000, b"<a>" * 100_000 + b"</a>" * 99_999, b"<a><b></a>",
                                  b"\x00<?xml"])
def test_unparsable_xml_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        XmlResponse(200, {"Content-Type": "application/xml"}, body)


def test_deep_json_error_helper_returns_none() -> None:
    resp = JsonResponse(204, {}, b"")
    resp.body = DEEP_ARRAYS
    assert resp.json_error_body() is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cli_reports_deep_json_as_an_error_not_a_crash(provider: str, tmp_path: object) -> None:
    with HostileServer(fixed(200, DEEP_ARRAYS)) as server:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--provider", provider, "--base-url", server.url, "nodes", "list"],
                    env={"HOME": str(tmp_path), **ENV_OF[provider]}, stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    assert "internal error" not in err.getvalue()
    assert "Recursion" not in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1
