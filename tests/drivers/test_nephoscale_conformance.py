"""The NephoScale driver against the shared driver conformance suite.

The listing route answers once with the account as it was before a create, then with the
new server in it, so the suite's create_node call finds its server by polling as it would
on the real API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from drivers._nephoscale_support import FIXTURES, PASSWORD, RSA_KEY, USER, make_driver, use_prices

from cloudkit.driver import NodeDriver
from cloudkit.models import NodeAuthSSHKey
from cloudkit.testing.conformance import DriverConformance
from cloudkit.testing.fixtures import FixtureSet, Route

FX = FixtureSet(FIXTURES)


class TestNephoscaleConformance(DriverConformance):
    base_url = "https://api.nephoscale.com"
    secrets = (USER, PASSWORD)
    list_nodes_route = ("GET", "/server/cloud/")
    expected_node_ids: ClassVar[set[str]] = {"150211", "150298", "150305"}
    # scratch-9's power_status is "unknown" on purpose.
    allow_unknown_states = True
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "web-7", "size": "46", "image": "411", "location": "88412", "auth": NodeAuthSSHKey(RSA_KEY),
        "ex_poll_interval": 0.01, "ex_max_poll_interval": 0.02, "ex_wait_timeout": 5.0}
    malformed_bodies: ClassVar[tuple[tuple[bytes, str], ...]] = (
        *DriverConformance.malformed_bodies,
        (b'{"success": true, "response": 200, "data": {}}', "application/json"),
        (b'{"success": true, "response": 200}', "application/json"),
        (b'{"success": true, "response": 200, "data": [{"name": "no-id"}]}', "application/json"),
        (b'{"success": true, "response": 200, "data": [{"id": 5, "name": 7}]}', "application/json"),
    )

    @pytest.fixture(autouse=True)
    def _prices(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        yield from use_prices(tmp_path, monkeypatch)

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        return make_driver(**kwargs)

    def routes(self) -> list[Route]:
        return [
            FX.route("GET", "/server/cloud/", "GET_server_cloud.json", times=1),
            FX.route("GET", "/server/cloud/", "GET_server_cloud_after_create.json"),
            FX.route("GET", "/server/cloud/150211/", "GET_server_cloud_ID.json"),
            FX.route("GET", "/server/type/cloud/", "GET_server_type_cloud.json"),
            FX.route("GET", "/image/server/", "GET_image_server.json"),
            FX.route("GET", "/datacenter/zone/", "GET_datacenter_zone.json"),
            FX.route("GET", "/key/sshrsa/", "GET_key_sshrsa.json"),
            FX.route("POST", "/key/password/", "POST_key_password.json"),
            FX.route("POST", "/server/cloud/", "POST_server_cloud.json"),
            FX.route("POST", r"^/server/cloud/\d+/initiator/restart/$",
                     "POST_server_cloud_ID_initiator_restart.json"),
            FX.route("POST", r"^/server/cloud/\d+/initiator/start/$", "POST_server_cloud_ID_initiator_start.json"),
            FX.route("POST", r"^/server/cloud/\d+/initiator/stop/$", "POST_server_cloud_ID_initiator_stop.json"),
            FX.route("DELETE", r"^/server/cloud/\d+/$", "DELETE_server_cloud_ID.json"),
        ]

    def error_body(self, status: int) -> Any:
        return {"success": False, "subcode": 7, "message": f"Failure: status {status}", "data": {},
                "response": status}

    def error_message(self, status: int) -> str | None:
        return f"Failure: status {status}"
