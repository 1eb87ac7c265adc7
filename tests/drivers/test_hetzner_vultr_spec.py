"""The Hetzner Cloud and Vultr fixtures, and the requests both drivers send, checked against the
vendors' own OpenAPI descriptions (the cuts in tests/data/specs; see ORIGIN.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudkit.models import NodeAuthSSHKey
from cloudkit.testing.openapi import OpenAPIValidator, check_requests, validate_body
from cloudkit.testing.simulator import simulate

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "specs"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4brM3lNIB7nKMiFUxd0sFH49rYwWJHJsYxuJcFIQQu ci"

#: fixture file → the operation (method, path, status) it answers
HETZNER = {
    "GET_servers_page1.json": ("GET", "/v1/servers?page=1&per_page=2", 200),
    "GET_servers_page2.json": ("GET", "/v1/servers?page=2&per_page=2", 200),
    "GET_servers_label_web.json": ("GET", "/v1/servers?label_selector=web", 200),
    "GET_servers_42000101.json": ("GET", "/v1/servers/42000101", 200),
    "POST_servers.json": ("POST", "/v1/servers", 201),
    "POST_servers_42000101_action.json": ("POST", "/v1/servers/42000101/actions/reboot", 201),
    "POST_servers_42000101_rebuild.json": ("POST", "/v1/servers/42000101/actions/rebuild", 201),
    "DELETE_servers_42000101.json": ("DELETE", "/v1/servers/42000101", 200),
    "GET_actions_7000201.json": ("GET", "/v1/actions/7000201", 200),
    "GET_server_types_page1.json": ("GET", "/v1/server_types?page=1", 200),
    "GET_server_types_page2.json": ("GET", "/v1/server_types?page=2", 200),
    "GET_images.json": ("GET", "/v1/images", 200),
    "GET_locations.json": ("GET", "/v1/locations", 200),
    "GET_datacenters.json": ("GET", "/v1/datacenters", 200),
    "GET_ssh_keys.json": ("GET", "/v1/ssh_keys", 200),
    "POST_ssh_keys.json": ("POST", "/v1/ssh_keys", 201),
    "error_401.json": ("GET", "/v1/servers", 401),
    "error_400_invalid_input.json": ("POST", "/v1/servers", 400),
    "error_409_uniqueness.json": ("POST", "/v1/ssh_keys", 409),
    "error_429.json": ("GET", "/v1/servers", 429),
}
VULTR = {
    "GET_instances_page1.json": ("GET", "/v2/instances", 200),
    "GET_instances_page2.json": ("GET", "/v2/instances?cursor=bmV4dF9f", 200),
    "GET_instances_tag_web.json": ("GET", "/v2/instances?tag=web", 200),
    "GET_instances_6e4f1b2a.json": ("GET", "/v2/instances/6e4f1b2a-3c5d-4e6f-8a9b-0c1d2e3f4a51", 200),
    "POST_instances.json": ("POST", "/v2/instances", 202),
    "POST_instances_6e4f1b2a_reinstall.json": (
        "POST", "/v2/instances/6e4f1b2a-3c5d-4e6f-8a9b-0c1d2e3f4a51/reinstall", 202),
    "GET_plans.json": ("GET", "/v2/plans", 200),
    "GET_os_page1.json": ("GET", "/v2/os", 200),
    "GET_os_page2.json": ("GET", "/v2/os?cursor=bmV4dF9fMjA3Ng==", 200),
    "GET_applications.json": ("GET", "/v2/applications", 200),
    "GET_regions.json": ("GET", "/v2/regions", 200),
    "GET_ssh-keys.json": ("GET", "/v2/ssh-keys", 200),
    "POST_ssh-keys.json": ("POST", "/v2/ssh-keys", 201),
    "GET_account.json": ("GET", "/v2/account", 200),
}
#: Vultr's description declares no error bodies (its 4xx answers have no content): checked by
#: shape in test_vultr_listings.py.
VULTR_UNDESCRIBED = {"error_400.json", "error_401.json", "error_404.json", "error_429.json"}


@pytest.mark.parametrize(("provider", "table"), [("hetzner", HETZNER), ("vultr", VULTR)])
def test_every_fixture_matches_the_description(provider: str, table: dict[str, tuple[str, str, int]]) -> None:
    validator = OpenAPIValidator(SPECS / f"{provider}-compute.schema.json")
    files = {p.name for p in (REPO / "fixtures" / provider).glob("*.json")}
    assert files == set(table) | (VULTR_UNDESCRIBED if provider == "vultr" else set())
    for name, (method, path, status) in table.items():
        validate_body(validator, method, path, status, REPO / "fixtures" / provider / name)


@pytest.mark.parametrize(("provider", "create"), [
    ("hetzner", {"size": "cx22", "image": "debian-12", "location": "fsn1"}),
    ("vultr", {"size": "vc2-1c-1gb", "image": "2136", "location": "ewr"})])
def test_every_request_matches_the_description(provider: str, create: dict[str, str]) -> None:
    with simulate(provider, boot_seconds=0, action_seconds=0, nodes=3, node_tag="web") as cloud:
        driver = cloud.new_driver(page_size=2)
        prefix = driver.connection.base_path
        validator = OpenAPIValidator(SPECS / f"{provider}-compute.schema.json", cloud.base_url + prefix)
        with check_requests(validator, responses_too=True) as traffic:
            driver.list_nodes()
            driver.list_nodes(tag="web")
            driver.list_sizes()
            driver.list_images()
            driver.list_locations()
            node = driver.create_node(name="spec-1", auth=NodeAuthSSHKey(PUBKEY), ex_tags=["web"],
                                      ex_user_data="#cloud-config\n", **create)
            driver.get_node(node.id)
            driver.verify_credentials()
            for action in (driver.reboot_node, driver.stop_node, driver.start_node, driver.destroy_node):
                action(node, ex_force=True)
            driver.delete_key_pair(driver.list_key_pairs()[0])
        assert len(traffic.calls) >= 15 and not traffic.mismatches
