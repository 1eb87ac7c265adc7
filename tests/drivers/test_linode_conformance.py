"""The Linode driver against the shared driver conformance suite (its storage section
included), with every request it sends checked against Linode's API description (the compute
and storage cuts merged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from drivers._linode_support import FIXTURES, HOST, TOKEN, make_driver
from drivers._storage_support import FIXTURES as STORAGE_FIXTURES
from drivers._storage_support import fixture, merged_spec

from cloudkit.driver import NodeDriver
from cloudkit.testing.conformance import DriverConformance
from cloudkit.testing.fixtures import FixtureSet, Route
from cloudkit.testing.openapi import OpenAPIValidator, TrafficRecorder, check_requests

FX = FixtureSet(FIXTURES)
SX = FixtureSet(STORAGE_FIXTURES["linode"])


def _finished_events() -> dict[str, Any]:
    """Finished attach and detach events of volumes 880001 and 880002."""
    attach = fixture("linode", "GET_v4_account_events_attach_finished.json")["data"]
    detach = fixture("linode", "GET_v4_account_events_detach_finished.json")["data"]
    events = []
    for offset, volume in enumerate((880001, 880002)):
        for event in (*attach, *detach):
            events.append({**event, "id": event["id"] + 10 * offset,
                           "entity": {**event["entity"], "id": volume, "url": f"/v4/volumes/{volume}"}})
    return {"data": events, "page": 1, "pages": 1, "results": len(events)}


class TestLinodeConformance(DriverConformance):
    base_url = HOST
    secrets = (TOKEN,)
    missing_node_id = "99999999"
    list_nodes_route = ("GET", "/v4/linode/instances")
    expected_node_ids: ClassVar[set[str]] = {"61234501", "61234502", "61234503", "61234504", "61234505"}
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "web-2", "size": "g6-nanode-1", "image": "linode/debian12", "location": "us-east"}
    malformed_bodies: ClassVar[tuple[tuple[bytes, str], ...]] = (
        *DriverConformance.malformed_bodies,
        (b"{}", "application/json"),
        (b'{"data": {"id": 1}, "page": 1, "pages": 1}', "application/json"),
        (b'{"data": [{"label": "no id"}], "page": 1, "pages": 1}', "application/json"),
    )

    @pytest.fixture(autouse=True)
    def _requests_checked_against_the_spec(self) -> Iterator[TrafficRecorder]:
        with check_requests(OpenAPIValidator(merged_spec("linode"), HOST)) as traffic:
            yield traffic

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        return make_driver(**kwargs)

    create_volume_kwargs: ClassVar[dict[str, Any]] = {"size": 100, "name": "data-1", "location": "us-east"}

    def storage_routes(self) -> list[Route]:
        attached = {**fixture("linode", "GET_v4_volumes_880001_attached.json"), "id": 880002}
        return [
            SX.route("GET", "/v4/volumes", "GET_v4_volumes.json"),
            SX.route("POST", "/v4/volumes", "POST_v4_volumes.json"),
            SX.route("GET", "/v4/account/events", "GET_v4_account_events_none.json", times=1),
            Route("GET", "/v4/account/events", _finished_events()),
            SX.route("POST", r"^/v4/volumes/\d+/attach$", "GET_v4_volumes_880001_attached.json"),
            Route("POST", r"^/v4/volumes/\d+/detach$", {}),
            Route("GET", "/v4/volumes/880002", attached),
            SX.route("GET", r"^/v4/volumes/\d+$", "GET_v4_volumes_880001_detached.json"),
            Route("DELETE", r"^/v4/volumes/\d+$", {}),
            *self.routes(),
        ]

    def routes(self) -> list[Route]:
        return [
            FX.route("GET", "/v4/linode/instances", f"GET_v4_linode_instances_page{page}.json",
                     query={"page": str(page)})
            for page in (1, 2, 3)
        ] + [
            FX.route("GET", "/v4/linode/instances/61234501", "GET_v4_linode_instances_61234501.json"),
            FX.route("POST", "/v4/linode/instances", "POST_v4_linode_instances.json"),
            FX.route("GET", "/v4/linode/types", "GET_v4_linode_types.json"),
            FX.route("GET", "/v4/images", "GET_v4_images_page1.json", query={"page": "1"}),
            FX.route("GET", "/v4/images", "GET_v4_images_page2.json", query={"page": "2"}),
            FX.route("GET", "/v4/regions", "GET_v4_regions.json"),
            FX.route("GET", "/v4/profile/sshkeys", "GET_v4_profile_sshkeys.json"),
            FX.route("GET", "/v4/profile", "GET_v4_profile.json"),
            FX.route("POST", r"^/v4/linode/instances/\d+/(reboot|boot|shutdown)$",
                     "POST_v4_linode_instances_61234501_action.json"),
            FX.route("DELETE", r"^/v4/linode/instances/\d+$", "DELETE_v4_linode_instances_61234501.json"),
        ]

    def error_body(self, status: int) -> Any:
        return {"errors": [{"reason": f"Linode says no ({status})"}]}
