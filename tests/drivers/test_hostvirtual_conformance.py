"""The HostVirtual driver against the shared driver conformance suite.

Two documented HostVirtual behaviours differ from the suite's defaults and are declared
here: an empty server list comes back as HTTP 404 (so a 404 on the listing is an empty
account, not an error), and the listing is a bare JSON array (so ``[]`` is a valid, empty
listing rather than a malformed body). The fixture listing also holds an unmapped status on
purpose (it must read as UNKNOWN).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from drivers._hostvirtual_support import API_KEY, FIXTURES, make_driver

from cloudkit.driver import NodeDriver
from cloudkit.models import NodeAuthSSHKey
from cloudkit.testing.conformance import ERROR_STATUSES, DriverConformance
from cloudkit.testing.fixtures import FixtureSet, Route, mock_routes

FX = FixtureSet(FIXTURES)
PUBKEY = FX.json("GET_server_sshkeys.json")[0]["ssh_key"]


class TestHostVirtualConformance(DriverConformance):
    base_url = "https://vapi.vr.org"
    secrets = (API_KEY,)
    list_nodes_route = ("GET", "/cloud/servers/")
    expected_node_ids: ClassVar[set[str]] = {"412017", "412018", "412019", "409961", "412021", "412022"}
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "web7.cloudkit-test.net", "size": "VR2G", "image": "3102", "location": "33",
        "auth": NodeAuthSSHKey(PUBKEY), "ex_wait_timeout": 0}
    #: The fixture listing holds an unmapped status (MIGRATING) on purpose.
    allow_unknown_states = True
    malformed_bodies: ClassVar[tuple[tuple[bytes, str], ...]] = (
        (b'[{"mbpkgid": "1"', "application/json"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"{}", "application/json"),
        (b'"just a string"', "application/json"),
        (b'[{"fqdn": "no-id.example.com"}]', "application/json"),
    )

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        return make_driver(**kwargs)

    def routes(self) -> list[Route]:
        return [
            FX.route("GET", "/cloud/servers/", "GET_cloud_servers.json"),
            FX.route("GET", "/cloud/server", "GET_cloud_server.json", query={"mbpkgid": "412017"}),
            FX.route("GET", "/cloud/server", "GET_cloud_server_412030_building.json",
                     query={"mbpkgid": "412030"}),
            FX.route("GET", "/cloud/sizes/", "GET_cloud_sizes.json"),
            FX.route("GET", "/cloud/images/", "GET_cloud_images.json"),
            FX.route("GET", "/cloud/locations/", "GET_cloud_locations.json"),
            FX.route("GET", "/server/sshkeys", "GET_server_sshkeys.json"),
            FX.route("POST", "/cloud/buy/", "POST_cloud_buy.json"),
            FX.route("POST", "/cloud/server/build", "POST_cloud_server_build.json"),
            FX.route("POST", "/cloud/server/reboot", "POST_cloud_server_reboot.json"),
            FX.route("POST", "/cloud/server/start", "POST_cloud_server_start.json"),
            FX.route("POST", "/cloud/server/shutdown", "POST_cloud_server_shutdown.json"),
            FX.route("POST", "/cloud/cancel", "POST_cloud_cancel.json"),
            FX.route("POST", "/cloud/unlink", "POST_cloud_unlink.json"),
        ]

    def error_body(self, status: int) -> Any:
        return {"error": {"code": status, "message": f"Failure: status {status}"}}

    @pytest.mark.parametrize("status", sorted(set(ERROR_STATUSES) - {404}))
    def test_error_status_maps_to_cloudkit_error(self, status: int) -> None:
        DriverConformance.test_error_status_maps_to_cloudkit_error(self, status)

    def test_404_on_the_listing_is_an_empty_account(self) -> None:
        route = Route("GET", "/cloud/servers/", self.error_body(404), status=404)
        with mock_routes(self.base_url, [route]):
            assert make_driver().list_nodes() == []
