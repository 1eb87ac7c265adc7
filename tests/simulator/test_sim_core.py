"""The simulator's shared core: a provider declaring only paths and shapes gets auth, errors,
paging, the server store, seeding and timed changes; a provider written against the first
base (every hook overridden by hand) still runs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests

from cloudkit.testing.simulator import core
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, Route, dumps, int_arg, iso_now, seed_options
from cloudkit.testing.simulator.core import Simulator
from cloudkit.testing.simulator.paging import Page, PageSpec


class _Box:
    def __init__(self, box_id: int, name: str) -> None:
        self.id, self.name, self.state = box_id, name, "starting"


class DeclaredAPI(ProviderAPI):
    """A provider written on the shared core: routes, shapes and nothing else."""

    name = "declared"
    routes = (("GET", r"/boxes", "list_boxes"), ("POST", r"/boxes/(\d+)/stop", "stop_box"))
    auth = "bearer"
    messages: ClassVar[dict[int, str]] = {401: "who are you?"}
    retry_after_style = "whole"
    node_table = "boxes"
    node_id_type = int
    status_field = "state"
    page_spec = PageSpec("size", 2, 3, clamp=False, size_error="size must be 1-3")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boxes: dict[int, _Box] = {}
        self._ids = itertools.count(1)

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        return self.json_response(status, {"problem": message, **extra})

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        return b'{"boxes":[' + items + b'],"pages":' + str(page.pages).encode() + b"}"

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        opts = seed_options(fields, {"state": "on"})

        def make(n: int) -> int:
            box = _Box(next(self._ids), f"{name_prefix}-{n}")
            box.state = opts["state"]
            self.boxes[box.id] = box
            return box.id

        return self.seeding(count, make)

    def list_boxes(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [{"id": b.id, "name": b.name, "state": b.state}
                                         for b in self.boxes.values()])

    def stop_box(self, request: SimRequest, box_id: str) -> SimResponse:
        box = self.found(self.boxes, int(box_id))

        def done() -> None:
            box.state = "off"

        self.after(self.options.action_seconds, done)
        return self.empty(204)


class FirstBaseAPI(ProviderAPI):
    """A provider written against the first base: every hook by hand, its own paging."""

    name = "firstbase"
    routes = (("GET", r"/things", "list_things"),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.things: dict[str, str] = {}

    def authenticate(self, request: SimRequest, route: Route | None) -> str | SimResponse | None:
        key = request.headers.get("x-key")
        if key is None:
            return None
        access = self.tokens.get(key)
        return access if access is not None else self.unauthorized()

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        return SimResponse(status, dumps({"err": message}))

    def unauthorized(self) -> SimResponse:
        return self.error(401, "bad key")

    def throttled(self, retry_after: float) -> SimResponse:
        resp = self.error(429, "slow down")
        resp.headers.append(("Retry-After", "7"))
        return resp

    def common_headers(self) -> list[tuple[str, str]]:
        return [("X-First", "1")]

    def node_count(self) -> int:
        return len(self.things)

    def node_ids(self) -> list[str]:
        return list(self.things)

    def node_status(self, node_id: str) -> str | None:
        return self.things.get(node_id)

    def set_node_status(self, node_id: str, status: str) -> None:
        self.things[node_id] = status

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        for i in range(count):
            self.things[f"{name_prefix}-{i}"] = "up"
        self.changed()
        return list(self.things)

    def list_things(self, request: SimRequest) -> SimResponse:
        page = int_arg(request, "p", 1) or 1
        names = self.listing("all", lambda: sorted(self.things))
        return self.json_response(200, {"things": names[(page - 1) * 2: page * 2], "at": iso_now()})


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(core.PROVIDERS, "declared", (__name__, "DeclaredAPI"))
    monkeypatch.setitem(core.PROVIDERS, "firstbase", (__name__, "FirstBaseAPI"))


@pytest.fixture
def declared(registered: None) -> Iterator[Simulator]:
    with Simulator("declared", nodes=5, action_seconds=0) as sim:
        yield sim
    assert sim.server_errors == []


def test_declared_provider_gets_auth_errors_and_paging(declared: Simulator) -> None:
    url = declared.base_url + "/boxes"
    auth = {"Authorization": f"Bearer {declared.token}"}
    assert requests.get(url, timeout=5).status_code == 401
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json() == {"problem": "who are you?"}
    first = requests.get(url, headers=auth, timeout=5).json()
    assert [b["name"] for b in first["boxes"]] == ["node-1", "node-2"] and first["pages"] == 3
    last = requests.get(url, params={"page": 3}, headers=auth, timeout=5).json()
    assert [b["name"] for b in last["boxes"]] == ["node-5"]
    bad = requests.get(url, params={"size": 9}, headers=auth, timeout=5)
    assert bad.status_code == 400 and bad.json() == {"problem": "size must be 1-3", "field": "size"}


def test_declared_provider_gets_the_store_and_timed_changes(declared: Simulator) -> None:
    assert declared.node_count() == 5
    ids = declared.node_ids()
    assert ids == ["1", "2", "3", "4", "5"] and declared.node_status("1") == "on"
    declared.set_node_status("2", "broken")
    assert declared.node_status("2") == "broken" and declared.node_status("99") is None
    resp = requests.post(f"{declared.base_url}/boxes/1/stop", headers={"Authorization": f"Bearer {declared.token}"},
                         timeout=5)
    assert resp.status_code == 204 and declared.node_status("1") == "off"  # action_seconds=0: at once


def test_declared_provider_gets_throttling_shape(registered: None) -> None:
    with Simulator("declared", faults={"rate_limit_rate": 1.0}) as sim:
        resp = requests.get(sim.base_url + "/boxes", headers={"Authorization": f"Bearer {sim.token}"}, timeout=5)
    assert resp.status_code == 429 and resp.json() == {"problem": "Too many requests"}
    assert resp.headers["Retry-After"].replace(".", "", 1).isdigit()


def test_seed_options_refuse_unknown_fields_and_take_aliases() -> None:
    fields: dict[str, Any] = {"size": "big", "colour": "red"}
    with pytest.raises(TypeError, match="colour"):
        seed_options(fields, {"type": "small"}, {"size": "type"})
    assert seed_options({"size": "big"}, {"type": "small"}, {"size": "type"}) == {"type": "big"}
    assert seed_options({"size": "big", "type": "huge"}, {"type": "small"}, {"size": "type"}) == {"type": "huge"}


def test_provider_on_the_first_base_still_runs(registered: None) -> None:
    with Simulator("firstbase", nodes=3) as sim:
        url = sim.base_url + "/things"
        assert requests.get(url, headers={"X-Key": "wrong"}, timeout=5).json() == {"err": "bad key"}
        resp = requests.get(url, headers={"X-Key": sim.token}, params={"p": 2}, timeout=5)
        assert resp.status_code == 200 and resp.headers["X-First"] == "1"
        assert resp.json()["things"] == ["node-2"]
        assert sim.node_count() == 3 and sim.node_status("node-0") == "up"
        sim.faults.configure(rate_limit_rate=1.0)
        throttled = requests.get(url, headers={"X-Key": sim.token}, timeout=5)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
        assert sim.server_errors == []
