"""The DigitalOcean driver against the shared driver conformance suite (its storage section
included), with every request it sends checked against DigitalOcean's API description (the
compute and storage cuts merged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from drivers._digitalocean_support import FIXTURES, TOKEN, make_driver
from drivers._storage_support import FIXTURES as STORAGE_FIXTURES
from drivers._storage_support import validator

from cloudkit.driver import NodeDriver
from cloudkit.testing.conformance import DriverConformance
from cloudkit.testing.fixtures import FixtureSet, Route
from cloudkit.testing.openapi import TrafficRecorder, check_requests

FX = FixtureSet(FIXTURES)
SX = FixtureSet(STORAGE_FIXTURES["digitalocean"])
_VOLUME = r"^/v2/volumes/[0-9a-f-]{36}"
_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests"}


class TestDigitalOceanConformance(DriverConformance):
    secrets = (TOKEN,)
    expected_node_ids: ClassVar[set[str]] = {"401001", "401002", "401003", "401004", "401005"}
    list_nodes_pages = 4  # the fixtures' three pages of droplets and the (empty) GPU droplet listing
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "web-3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "location": "nyc3"}
    malformed_bodies: ClassVar[tuple[tuple[bytes, str], ...]] = (
        *DriverConformance.malformed_bodies,
        (b"{}", "application/json"),
        (b'{"droplets": {"id": 1}}', "application/json"),
        (b'{"droplets": [{"name": "no id"}], "meta": {"total": 1}}', "application/json"),
    )

    @pytest.fixture(autouse=True)
    def _requests_checked_against_the_spec(self) -> Iterator[TrafficRecorder]:
        with check_requests(validator("digitalocean")) as traffic:
            yield traffic

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        return make_driver(**kwargs)

    def routes(self) -> list[Route]:
        return [
            FX.route("GET", "/v2/droplets", "GET_v2_droplets_empty.json", query={"type": "gpus"}),
            FX.route("GET", "/v2/droplets", "GET_v2_droplets_page1.json", query={"page": "1"}),
            FX.route("GET", "/v2/droplets", "GET_v2_droplets_page2.json", query={"page": "2"}),
            FX.route("GET", "/v2/droplets", "GET_v2_droplets_page3.json", query={"page": "3"}),
            FX.route("GET", "/v2/droplets/401001", "GET_v2_droplets_401001.json"),
            FX.route("POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_reboot.json", status=201),
            Route("DELETE", "/v2/droplets/401001", status=204),
            FX.route("GET", "/v2/sizes", "GET_v2_sizes.json"),
            FX.route("GET", "/v2/images", "GET_v2_images.json"),
            FX.route("GET", "/v2/regions", "GET_v2_regions.json"),
            FX.route("GET", "/v2/account/keys", "GET_v2_account_keys.json"),
            FX.route("GET", "/v2/account", "GET_v2_account.json"),
            FX.route("POST", "/v2/droplets", "POST_v2_droplets.json", status=202),
        ]

    create_volume_kwargs: ClassVar[dict[str, Any]] = {"size": 100, "name": "data-1", "location": "nyc3"}

    def storage_routes(self) -> list[Route]:
        return [
            SX.route("GET", "/v2/volumes", "GET_v2_volumes.json"),
            SX.route("POST", "/v2/volumes", "POST_v2_volumes.json", status=201),
            SX.route("GET", "/v2/volumes/7724db7c-e098-11e5-b522-000f53304e52", "GET_v2_volumes_attached.json"),
            SX.route("POST", _VOLUME + "/actions$", "POST_v2_volumes_actions_attach.json", status=202),
            SX.route("GET", "/v2/actions/2290030001", "GET_v2_actions_2290030001_completed.json"),
            Route("DELETE", _VOLUME + "$", status=204),
            *self.routes(),
        ]

    def error_body(self, status: int) -> Any:
        return {"id": _CODES.get(status, "server_error"), "message": self.error_message(status)}

    def error_message(self, status: int) -> str | None:
        return f"DigitalOcean says no ({status})"
