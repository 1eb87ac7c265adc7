"""Every DigitalOcean and Linode answer the simulator gives validates against the provider's spec.

Response schemas are kept closed (``open_responses=False``): the simulator may not invent fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from _sim_support import ED25519, SPECS, Api, filter_header, wait_for

from cloudkit.testing.openapi import OpenAPIValidator
from cloudkit.testing.simulator import Simulator


class Checked(Api):
    """An Api client that validates every answer against the spec and remembers what it saw."""

    def __init__(self, sim: Simulator, validator: OpenAPIValidator) -> None:
        super().__init__(sim)
        self.validator = validator
        self.seen: set[tuple[str, str, int]] = set()
        self.session.hooks["response"].append(self._check)

    def _check(self, resp: requests.Response, *args: object, **kwargs: object) -> None:
        req = resp.request
        problems = self.validator.response_problems(str(req.method), str(req.url), resp.status_code,
                                                    dict(resp.headers), resp.content)
        assert problems == [], f"{req.method} {req.url} -> {resp.status_code}: {problems}"
        self.seen.add((str(req.method), str(req.path_url), resp.status_code))


@pytest.fixture
def do_checked() -> Iterator[Checked]:
    with Simulator("digitalocean", boot_seconds=0.02, action_seconds=0.02) as sim:
        validator = OpenAPIValidator(SPECS / "digitalocean-compute.schema.json", sim.base_url,
                                     open_responses=False)
        yield Checked(sim, validator)
        assert sim.server_errors == []


@pytest.fixture
def linode_checked() -> Iterator[Checked]:
    with Simulator("linode", boot_seconds=0.02, action_seconds=0.02) as sim:
        validator = OpenAPIValidator(SPECS / "linode-compute.schema.json", sim.base_url, open_responses=False)
        yield Checked(sim, validator)
        assert sim.server_errors == []


def test_digitalocean_answers_match_the_spec(do_checked: Checked) -> None:
    api, sim = do_checked, do_checked.sim
    sim.seed_nodes(5, tag="bulk")
    api.json("GET", "/v2/account")
    api.json("GET", "/v2/droplets", params={"per_page": 2, "page": 2})
    api.json("GET", "/v2/droplets", params={"tag_name": "bulk"})
    created = api.json("POST", "/v2/droplets", expect=202,
                       json={"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64",
                             "tags": ["web"], "ipv6": True, "backups": True})["droplet"]
    api.json("POST", "/v2/droplets", expect=202, json={"names": ["m-1", "m-2"], "size": "s-1vcpu-1gb",
                                                        "image": 150000001})
    droplet_id = created["id"]
    wait_for(lambda: api.json("GET", f"/v2/droplets/{droplet_id}")["droplet"]["status"] == "active")
    action = api.json("POST", f"/v2/droplets/{droplet_id}/actions", expect=201, json={"type": "power_off"})
    action_id = action["action"]["id"]
    api.json("GET", f"/v2/actions/{action_id}")
    api.json("GET", f"/v2/droplets/{droplet_id}/actions")
    api.json("GET", f"/v2/droplets/{droplet_id}/actions/{action_id}")
    api.json("GET", "/v2/actions")
    wait_for(lambda: not api.json("GET", f"/v2/droplets/{droplet_id}")["droplet"]["locked"])
    api.json("POST", f"/v2/droplets/{droplet_id}/actions", expect=201,
             json={"type": "resize", "size": "s-2vcpu-4gb", "disk": True})
    api.json("POST", f"/v2/droplets/{droplet_id}/actions", expect=422, json={"type": "power_on"})
    wait_for(lambda: not api.json("GET", f"/v2/droplets/{droplet_id}")["droplet"]["locked"])
    api.json("POST", f"/v2/droplets/{droplet_id}/actions", expect=201, json={"type": "snapshot", "name": "s1"})
    for path in ("/v2/images", "/v2/images?private=true", "/v2/images?type=application",
                 "/v2/images/ubuntu-24-04-x64", "/v2/sizes", "/v2/regions"):
        api.json("GET", path)
    key = api.json("POST", "/v2/account/keys", expect=201, json={"name": "k", "public_key": ED25519})["ssh_key"]
    api.json("GET", "/v2/account/keys")
    api.json("GET", f"/v2/account/keys/{key['fingerprint']}")
    api.json("PUT", f"/v2/account/keys/{key['id']}", json={"name": "k2"})
    api.json("DELETE", f"/v2/account/keys/{key['id']}", expect=204)
    api.json("POST", "/v2/tags", expect=201, json={"name": "blue"})
    resource = {"resources": [{"resource_id": str(droplet_id), "resource_type": "droplet"}]}
    api.json("POST", "/v2/tags/blue/resources", expect=204, json=resource)
    api.json("GET", "/v2/tags")
    api.json("GET", "/v2/tags/blue")
    api.json("DELETE", "/v2/tags/blue/resources", expect=204, json=resource)
    api.json("DELETE", "/v2/tags/blue", expect=204)
    api.json("POST", "/v2/tags", expect=400, json={"name": "not valid"})
    api.json("DELETE", f"/v2/droplets/{droplet_id}", expect=204)
    api.json("GET", f"/v2/droplets/{droplet_id}", expect=404)
    api.json("POST", "/v2/droplets", expect=422, json={"name": "x", "size": "nope", "image": "nope"})
    sim.faults.queue("429", "503", "500")
    for status in (429, 503, 500):
        api.json("GET", "/v2/droplets", expect=status)
    assert Checked(sim, api.validator).call("GET", "/v2/droplets", headers={"Authorization": "Bearer bad"}
                                            ).status_code == 401
    assert {status for _, _, status in api.seen} >= {200, 201, 202, 204, 400, 404, 422, 429, 500, 503}


def test_linode_answers_match_the_spec(linode_checked: Checked) -> None:
    api, sim = linode_checked, linode_checked.sim
    sim.seed_nodes(30, tag="bulk")
    password = "Correct-Horse-9-Battery"
    api.json("GET", "/v4/profile")
    api.json("GET", "/v4/account")
    api.json("GET", "/v4/linode/instances", params={"page": 2, "page_size": 25})
    api.json("GET", "/v4/linode/instances", headers=filter_header({"tags": "bulk", "+order_by": "label"}))
    inst = api.json("POST", "/v4/linode/instances", json={
        "type": "g6-standard-1", "region": "us-east", "image": "linode/debian12", "root_pass": password,
        "label": "web-1", "tags": ["web"], "private_ip": True, "authorized_keys": [ED25519]})
    linode_id = inst["id"]
    api.json("POST", "/v4/linode/instances", json={"type": "g6-nanode-1", "region": "eu-west"})
    wait_for(lambda: api.json("GET", f"/v4/linode/instances/{linode_id}")["status"] == "running")
    api.json("GET", f"/v4/linode/instances/{linode_id}/ips")
    api.json("PUT", f"/v4/linode/instances/{linode_id}", json={"label": "web-2", "tags": ["web", "x-y"]})
    for action, final in (("reboot", "running"), ("shutdown", "offline"), ("boot", "running")):
        api.json("POST", f"/v4/linode/instances/{linode_id}/{action}")
        wait_for(lambda final=final: api.json("GET", f"/v4/linode/instances/{linode_id}")["status"] == final)
    api.json("POST", f"/v4/linode/instances/{linode_id}/boot", expect=400)
    api.json("POST", f"/v4/linode/instances/{linode_id}/resize", json={"type": "g6-standard-2"})
    wait_for(lambda: api.json("GET", f"/v4/linode/instances/{linode_id}")["status"] == "running")
    api.json("POST", f"/v4/linode/instances/{linode_id}/rebuild",
             json={"image": "linode/ubuntu24.04", "root_pass": password})
    for path in ("/v4/linode/types", "/v4/linode/types/g6-standard-2", "/v4/images", "/v4/images/linode/debian12",
                 "/v4/regions", "/v4/regions/us-east"):
        api.json("GET", path)
    key = api.json("POST", "/v4/profile/sshkeys", json={"label": "k", "ssh_key": ED25519})
    api.json("GET", "/v4/profile/sshkeys")
    api.json("GET", f"/v4/profile/sshkeys/{key['id']}")
    api.json("PUT", f"/v4/profile/sshkeys/{key['id']}", json={"label": "k2"})
    api.json("DELETE", f"/v4/profile/sshkeys/{key['id']}")
    api.json("POST", "/v4/tags", json={"label": "blue", "linodes": [linode_id]})
    api.json("GET", "/v4/tags")
    api.json("GET", "/v4/tags/blue")
    api.json("DELETE", "/v4/tags/blue")
    events = api.json("GET", "/v4/account/events", headers=filter_header({"entity.id": linode_id}))["data"]
    api.json("GET", f"/v4/account/events/{events[0]['id']}")
    api.json("DELETE", f"/v4/linode/instances/{linode_id}")
    api.json("GET", f"/v4/linode/instances/{linode_id}", expect=404)
    api.json("POST", "/v4/linode/instances", expect=400, json={"type": "x", "region": "y"})
    sim.faults.queue("429", "502")
    api.json("GET", "/v4/linode/instances", expect=429)
    api.json("GET", "/v4/linode/instances", expect=502)
    assert {status for _, _, status in api.seen} >= {200, 400, 404, 429, 502}


def test_checked_client_catches_a_wrong_body() -> None:
    """The validation above is real: a body off the spec is caught."""
    validator = OpenAPIValidator(SPECS / "digitalocean-compute.schema.json", "http://127.0.0.1:1",
                                 open_responses=False)
    body = json.dumps({"account": {"droplet_limit": "many"}}).encode()
    assert validator.response_problems("GET", "http://127.0.0.1:1/v2/account", 200, {}, body)
