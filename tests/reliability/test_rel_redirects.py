"""A 3xx answer is never a success, and never followed (issue 16, item 3).

An empty ``301``/``302``/``303``/``307``/``308`` (with or without a ``Location``) answering a
listing, a power action or a destroy raises ``RedirectError`` (a ``ProviderError``) with the
status and the target's host, never the target's path or query string; the request was sent
(the server saw it) and nothing was sent to the redirect target. ``destroy_node(node,
ex_force=True)`` raises instead of returning True, and HostVirtual's ``list_nodes()`` raises
instead of returning [].
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from _hostile import ENV_OF, PROVIDERS, HostileServer, a_node, fixed, make_driver
from _rel_support import list_once

from cloudkit.cli import main
from cloudkit.driver import NodeDriver
from cloudkit.errors import ProviderError, RedirectError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CALLS: dict[str, Callable[[NodeDriver], Any]] = {
    "list_nodes": lambda d: list_once(d),
    "destroy_node": lambda d: d.destroy_node(a_node(d), ex_force=True),
    "reboot_node": lambda d: d.reboot_node(a_node(d), ex_force=True),
    "list_sizes": lambda d: d.list_sizes(),
}

TARGET = "https://elsewhere.example.net:8443/login?next=%2Fv2&token=QUERYSECRET"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_redirect_with_target_raises(provider: str, status: int, call: str) -> None:
    with HostileServer(fixed(status, b"", {"Location": TARGET})) as server:
        driver = make_driver(provider, server.url)
        with pytest.raises(RedirectError) as info:
            CALLS[call](driver)
    err = info.value
    assert isinstance(err, ProviderError)
    assert err.status == status
    assert err.location_host == "elsewhere.example.net:8443"
    assert "elsewhere.example.net" in str(err)
    shown = f"{err!s} {err!r} {vars(err)!r}"
    assert "QUERYSECRET" not in shown and "/login" not in shown
    assert server.requests, "the request was sent"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [301, 302, 307])
def test_empty_redirect_without_location_raises(provider: str, status: int) -> None:
    with HostileServer(fixed(status)) as server:
        driver = make_driver(provider, server.url)
        with pytest.raises(RedirectError) as info:
            driver.destroy_node(a_node(driver), ex_force=True)
        assert info.value.status == status
        assert info.value.location_host is None
        with pytest.raises(RedirectError):
            list_once(driver)  # HostVirtual's used to return []
        with pytest.raises(RedirectError):
            driver.reboot_node(a_node(driver), ex_force=True)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_redirect_is_not_retried_nor_followed(provider: str) -> None:
    with HostileServer(fixed(302, b"", {"Location": "/v2/elsewhere"})) as server:
        driver = make_driver(provider, server.url, max_retries=3)
        with pytest.raises(RedirectError):
            list_once(driver)
    assert len(server.requests) == 1
    assert "elsewhere" not in server.requests[0].line


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cli_reports_a_redirect(provider: str, tmp_path: Any) -> None:
    with HostileServer(fixed(302, b"", {"Location": TARGET})) as server:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--provider", provider, "--base-url", server.url, "nodes", "list"],
                    env={"HOME": str(tmp_path), **ENV_OF[provider]}, stdout=out, stderr=err)
    assert code == 1
    assert "HTTP 302" in err.getvalue() and "elsewhere.example.net" in err.getvalue()
    assert "QUERYSECRET" not in err.getvalue() + out.getvalue()
