"""Issue 15, items 4 and 5: real-API edges seen in the field, against a server on 127.0.0.1.

Every droplet is listed (GPU droplets come only with ``type=gpus``); a ``locked`` droplet
allows no action; a Linode token without the scopes the driver needs is reported by
``verify_credentials``; a spent rate-limit allowance holds the next request until the window
resets instead of drawing a 429.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit import Node, NodeState, get_driver
from cloudkit.drivers.linode import NEEDED_SCOPES, missing_scopes
from cloudkit.errors import ActionNotAllowedError, ForbiddenError, ValidationError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DROPLET = json.loads((FIXTURES / "digitalocean" / "GET_v2_droplets_401001.json").read_text())["droplet"]
PROFILE = {"username": "alice", "email": "alice@example.com", "timezone": "UTC", "uid": 1}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def droplet(droplet_id: int, size: str = "s-1vcpu-1gb", **fields: Any) -> dict[str, Any]:
    item = copy.deepcopy(DROPLET)
    item.update({"id": droplet_id, "name": f"d-{droplet_id}", "size_slug": size, **fields})
    return item


def listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"droplets": items, "links": {}, "meta": {"total": len(items)}}


# -- every droplet listed ------------------------------------------------------------------------


def _serve_droplets_and_gpus(server: LoopbackServer) -> None:
    def answer(seen: Any) -> Reply:
        kind = seen.query.get("type", [None])[0]
        if kind == "gpus":
            return Reply(200, listing([droplet(900, "gpu-h100x1-80gb")]))
        return Reply(200, listing([droplet(1), droplet(2)]))

    server.route("GET", "/v2/droplets", answer)


def test_list_nodes_returns_gpu_droplets_too(server: LoopbackServer) -> None:
    _serve_droplets_and_gpus(server)
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=0)
    assert sorted(n.id for n in driver.list_nodes()) == ["1", "2", "900"]
    kinds = sorted(s.query.get("type", ["-"])[0] for s in server.seen)
    assert kinds == ["-", "gpus"]


def test_the_two_listings_are_fetched_concurrently(server: LoopbackServer) -> None:
    def answer(seen: Any) -> Reply:
        gpus = seen.query.get("type", [None])[0] == "gpus"
        return Reply(200, listing([droplet(900 if gpus else 1)]), delay=0.4)

    server.route("GET", "/v2/droplets", answer)
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=0)
    assert len(driver.list_nodes()) == 2
    assert server.peak_in_flight == 2


@pytest.mark.parametrize(("ex_type", "expected"), [("droplets", ["1", "2"]), ("gpus", ["900"])])
def test_ex_type_restricts_the_listing(server: LoopbackServer, ex_type: str, expected: list[str]) -> None:
    _serve_droplets_and_gpus(server)
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=0)
    assert sorted(n.id for n in driver.list_nodes(ex_type=ex_type)) == expected
    assert [s.query["type"] for s in server.seen] == [[ex_type]]


def test_ex_type_is_checked_before_any_request(server: LoopbackServer) -> None:
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=0)
    with pytest.raises(ValidationError):
        driver.list_nodes(ex_type="everything")
    with pytest.raises(ValidationError):
        driver.list_nodes(tag="web", ex_type="gpus")
    assert server.seen == []


# -- a locked droplet ------------------------------------------------------------------------


def test_a_locked_droplet_allows_no_action_until_unlocked(server: LoopbackServer) -> None:
    locked = {"value": True}
    server.route("GET", "/v2/droplets/7", lambda seen: Reply(200, {"droplet": droplet(7, locked=locked["value"])}))
    server.route("POST", "/v2/droplets/7/actions", lambda seen: Reply(201, {"action": {
        "id": 11, "status": "in-progress", "type": "reboot", "started_at": "2026-01-01T00:00:00Z",
        "completed_at": None, "resource_id": 7, "resource_type": "droplet", "region_slug": "nyc3"}}))
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=0)
    node = driver.get_node("7")
    assert node.state is NodeState.RUNNING and node.extra["locked"] is True
    assert driver.node_actions(node) == frozenset()
    with pytest.raises(ActionNotAllowedError) as err:
        driver.reboot_node(node)
    assert "allowed in that state: none" in str(err.value)
    assert server.count("POST", "/v2/droplets/7/actions") == 0
    locked["value"] = False  # the running action ended
    assert driver.reboot_node(node, ex_wait=False) is True
    assert server.count("POST", "/v2/droplets/7/actions") == 1
    assert node.extra["locked"] is False  # the object was refreshed by the check


# -- Linode token scopes -----------------------------------------------------------------------


@pytest.mark.parametrize(("header", "missing"), [
    (None, []),
    ("*", []),
    ("linodes:read_write images:read_only account:read_write", []),
    ("linodes:read_write images:read_write account:read_write events:read_only", []),
    ("linodes:read_only images:read_only account:read_write", ["linodes:read_write"]),
    ("domains:read_write", list(NEEDED_SCOPES)),
    ("linodes:read_write,images:read_only", ["account:read_write"]),
])
def test_missing_scopes(header: str | None, missing: list[str]) -> None:
    assert missing_scopes(header, NEEDED_SCOPES) == missing


def test_linode_verify_credentials_reports_a_token_without_the_needed_scopes(server: LoopbackServer) -> None:
    server.route("GET", "/v4/profile",
                 lambda seen: Reply(200, PROFILE, headers={"X-OAuth-Scopes": "linodes:read_only"}))
    driver = get_driver("linode")("tok-scoped", base_url=server.url, max_retries=0)
    with pytest.raises(ForbiddenError) as err:
        driver.verify_credentials()
    text = str(err.value)
    assert "linodes:read_write" in text and "images:read_only" in text and "account:read_write" in text
    assert "tok-scoped" not in text


def test_linode_verify_credentials_passes_a_token_with_every_scope(server: LoopbackServer) -> None:
    server.route("GET", "/v4/profile", lambda seen: Reply(200, PROFILE, headers={"X-OAuth-Scopes": "*"}))
    driver = get_driver("linode")("tok-all", base_url=server.url, max_retries=0)
    assert driver.verify_credentials() is True


# -- a spent rate-limit allowance ------------------------------------------------------------------


def test_a_spent_allowance_holds_the_next_request_until_the_reset(server: LoopbackServer) -> None:
    reset = int(time.time()) + 2  # epoch seconds, as DigitalOcean sends
    calls = {"n": 0}

    def answer(seen: Any) -> Reply:
        calls["n"] += 1
        if calls["n"] > 1 and time.time() < reset:
            return Reply(429, {"id": "too_many_requests", "message": "API rate limit exceeded."})
        return Reply(200, {"droplet": droplet(7)},
                     headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)})

    server.route("GET", "/v2/droplets/7", answer)
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=2, retry_budget=30)
    driver.get_node("7")
    driver.get_node("7")
    statuses = calls["n"]
    assert statuses == 2, "the second request drew a 429 instead of waiting for the reset"
    assert server.seen[1].at - server.seen[0].at >= 0.9


def test_a_reset_beyond_the_retry_budget_is_not_waited_for(server: LoopbackServer) -> None:
    reset = int(time.time()) + 3600
    server.route("GET", "/v2/droplets/7", lambda seen: Reply(
        200, {"droplet": droplet(7)}, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(reset)}))
    driver = get_driver("digitalocean")("tok", base_url=server.url, max_retries=2, retry_budget=5)
    started = time.monotonic()
    driver.get_node("7")
    driver.get_node("7")
    assert time.monotonic() - started < 30  # generous: an hour's wait would never come back
    assert len(server.seen) == 2


def test_the_linode_headers_hold_requests_too(server: LoopbackServer) -> None:
    reset = int(time.time()) + 2
    server.route("GET", "/v4/profile", lambda seen: Reply(
        200, PROFILE, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}))
    driver = get_driver("linode")("tok", base_url=server.url, max_retries=2, retry_budget=30)
    driver.verify_credentials()
    driver.verify_credentials()
    assert server.seen[1].at - server.seen[0].at >= 0.9


def test_node_objects_keep_the_password_create_returned_when_refreshed() -> None:
    from cloudkit.driver import refresh_node

    created = Node("1", "n", NodeState.PENDING, [], [], None, extra={"password": "once-only-Secret1"})
    fresh = Node("1", "n", NodeState.RUNNING, ["203.0.113.5"], [], None, extra={"status": "active"})
    refresh_node(created, fresh)
    assert created.state is NodeState.RUNNING and created.public_ips == ["203.0.113.5"]
    assert created.extra == {"password": "once-only-Secret1", "status": "active"}
