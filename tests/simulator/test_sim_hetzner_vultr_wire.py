"""The Hetzner and Vultr simulators on the wire: rate-limit headers, a 429's headers, the
paging envelopes (Hetzner's meta.pagination, Vultr's cursors) and the server store."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from cloudkit.testing.simulator import Simulator
from cloudkit.testing.simulator.base import keyed_list


def _get(sim: Simulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.base_url + path, params=params, headers={"Authorization": f"Bearer {sim.token}"},
                        timeout=5)


def test_keyed_list_wraps_items_and_keeps_order() -> None:
    assert keyed_list("servers", b'{"id":1},{"id":2}', meta={"a": None}) == (
        b'{"servers":[{"id":1},{"id":2}],"meta":{"a":null}}')
    assert keyed_list("x", b"") == b'{"x":[]}'


def test_hetzner_rate_limit_headers_count_down_and_a_429_has_no_retry_after() -> None:
    with Simulator("hetzner", nodes=1) as sim:
        first, second = _get(sim, "/v1/servers"), _get(sim, "/v1/servers")
        assert first.headers["RateLimit-Limit"] == "3600"
        assert int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
        sim.faults.configure(rate_limit_rate=1.0, retry_after=3)
        throttled = _get(sim, "/v1/servers")
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
    assert throttled.headers["RateLimit-Remaining"] == "0" and throttled.headers["RateLimit-Limit"] == "3600"
    assert throttled.json()["error"]["code"] == "rate_limit_exceeded"


def test_hetzner_pages_with_meta_pagination_and_refuses_bad_sizes() -> None:
    with Simulator("hetzner", nodes=5) as sim:
        page = _get(sim, "/v1/servers", per_page=2, page=3).json()
        bad = _get(sim, "/v1/servers", per_page=51)
        assert [s["name"] for s in page["servers"]] == ["node-5"]
        assert page["meta"]["pagination"] == {"page": 3, "per_page": 2, "previous_page": 2, "next_page": None,
                                              "last_page": 3, "total_entries": 5}
        assert bad.status_code == 400 and bad.json()["error"]["details"]["fields"][0]["name"] == "per_page"
        sim.set_node_status("42000001", "off")
        assert sim.node_status("42000001") == "off" and sim.node_count() == 5
        with pytest.raises(TypeError, match="colour"):
            sim.seed_nodes(1, colour="red")


def test_vultr_cursor_walk_and_429_retry_after() -> None:
    with Simulator("vultr", nodes=5) as sim:
        names, cursor, pages = [], "", 0
        while pages < 5:
            body = _get(sim, "/v2/instances", per_page=2, **({"cursor": cursor} if cursor else {})).json()
            names += [i["label"] for i in body["instances"]]
            assert body["meta"]["total"] == 5
            pages, cursor = pages + 1, body["meta"]["links"]["next"]
            if not cursor:
                break
        assert names == [f"node-{n}" for n in range(1, 6)] and pages == 3
        assert base64.b64decode(body["meta"]["links"]["prev"]) == b"prev__2"
        assert _get(sim, "/v2/instances", cursor="@@").json() == {"error": "Invalid cursor.", "status": 400}
        node = sim.node_ids()[0]
        sim.set_node_status(node, "active/stopped/ok")
        assert sim.node_status(node) == "active/stopped/ok"
        sim.faults.configure(rate_limit_rate=1.0, retry_after=2)
        throttled = _get(sim, "/v2/instances")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert throttled.json() == {"error": "Too many requests", "status": 429}
