"""The simulated NephoScale API over HTTP: Basic auth, envelopes, keys, job-based create, power."""

from __future__ import annotations

import pytest
from _sim_support import ED25519, Api, wait_for

from cloudkit.testing.simulator import Simulator


def _keys(api: Api) -> tuple[int, int]:
    server = api.json("POST", "/key/sshrsa/", data={"name": "deploy", "public_key": ED25519, "key_group": 1})
    console = api.json("POST", "/key/password/", data={"name": "console", "password": "s3cret-pw", "key_group": 4})
    return server["data"]["id"], console["data"]["id"]


def _create(api: Api, name: str = "web-1", **fields: object) -> dict:
    server_key, console_key = _keys(api)
    form = {"name": name, "service_type": 3, "image": 301, "zone": 93001, "server_key": server_key,
            "console_key": console_key, **fields}
    return api.json("POST", "/server/cloud/", data=form)


def _servers(api: Api) -> list[dict]:
    return api.json("GET", "/server/cloud/")["data"]


def test_basic_auth_and_error_envelope(nepho_sim: Simulator, nepho_api: Api) -> None:
    user, password = nepho_sim.credentials
    assert user == "simuser" and password == nepho_sim.token
    for creds in (None, (user, "wrong"), ("other", password)):
        resp = Api(nepho_sim, credentials=creds).get("/server/cloud/")
        assert resp.status_code == 401
        body = resp.json()
        assert body["success"] is False and body["response"] == 401 and body["data"] == {}
    assert nepho_api.get("/nothing/").json()["response"] == 404
    recorded = nepho_sim.requests[-1]
    assert recorded.headers["authorization"] == "<redacted>"


def test_catalog_envelopes(nepho_api: Api) -> None:
    zones = nepho_api.json("GET", "/datacenter/zone/")
    assert zones["success"] is True and zones["response"] == 200 and zones["subcode"] == 0
    assert zones["total_count"] == len(zones["data"]) == 3
    assert any(z["activated"] is False for z in zones["data"])
    types = nepho_api.json("GET", "/server/type/cloud/", params={"sort": "ram"})["data"]
    assert [t["ram"] for t in types] == sorted(t["ram"] for t in types)
    assert all(t["billable_type"] == 1 for t in types) and "price" not in types[0]
    assert {t["id"] for t in types} >= {1, 3, 5}  # ids with known prices in cloudkit's pricing table
    assert nepho_api.json("GET", "/server/type/dedicated/")["data"][0]["billable_type"] == 2
    assert nepho_api.json("GET", "/server/type/")["total_count"] == len(types) + 1
    images = nepho_api.json("GET", "/image/server/")["data"]
    assert isinstance(images[0]["id"], int) and images[0]["friendly_name"]
    assert nepho_api.json("GET", f"/image/server/{images[0]['id']}/")["data"][0]["id"] == images[0]["id"]
    # the trailing slash is optional
    assert nepho_api.json("GET", "/image/server")["total_count"] == len(images)


def test_keys_create_list_delete(nepho_api: Api) -> None:
    server_key, console_key = _keys(nepho_api)
    created = nepho_api.json("POST", "/key/sshrsa/", data={"name": "k2", "public_key": ED25519})
    assert created["response"] == 201 and created["data"]["resource_type"] == "/key/sshrsa"
    all_keys = nepho_api.json("GET", "/key/")["data"]
    assert {k["id"] for k in all_keys} == {server_key, console_key, created["data"]["id"]}
    assert all("password" not in k and "public_key" not in k for k in all_keys)
    ssh = nepho_api.json("GET", "/key/sshrsa/")["data"]
    assert ssh[0]["public_key"] == ED25519 and ssh[0]["key_type"] == 2 and ssh[0]["key_group"] == 1
    passwords = nepho_api.json("GET", "/key/password/")["data"]
    assert passwords[0]["password"] == "s3cret-pw" and passwords[0]["key_group"] == 4
    for form in ({"name": "x", "public_key": "nope"}, {"public_key": ED25519}, {"name": "x", "key_group": 9,
                                                                                 "public_key": ED25519}):
        assert nepho_api.post("/key/sshrsa/", data=form).status_code == 400
    deleted = nepho_api.json("DELETE", f"/key/sshrsa/{server_key}/")
    assert deleted["response"] == 202 and deleted["data"]["resource_type"] == "/job"
    assert nepho_api.get(f"/key/sshrsa/{server_key}/").status_code == 404
    assert nepho_api.delete(f"/key/sshrsa/{console_key}/").status_code == 404  # wrong kind
    assert nepho_api.json("GET", f"/key/password/{console_key}/")["data"][0]["name"] == "console"


def test_create_answers_a_job_and_the_server_appears(nepho_sim: Simulator, nepho_api: Api) -> None:
    job = _create(nepho_api, name="web-with-a-long-name", hostname="")
    assert job["response"] == 202 and set(job["data"]) == {"id", "resource_type", "uri"}
    assert job["data"]["uri"].endswith(f"/job/{job['data']['id']}/")
    server = _servers(nepho_api)[0]
    assert server["name"] == "web-with-a-long-name" and server["hostname"] == "web-with-a-long"
    assert server["power_status"] == "unknown" and server["ipaddresses"] == ""
    assert server["service_type"]["id"] == 3 and server["zone"]["id"] == 93001
    wait_for(lambda: _servers(nepho_api)[0]["power_status"] == "on")
    ready = nepho_api.json("GET", f"/server/cloud/{server['id']}/")["data"][0]
    public, private = [a.strip() for a in ready["ipaddresses"].split(",")]
    assert public == "127.0.0.1" and private.startswith("10.")
    assert ready["postinit_state"] == 1
    assert [p["network_domain"]["domain_type"] for p in ready["network_ports"]] == [0, 1]
    assert nepho_api.json("GET", f"/job/{job['data']['id']}/")["data"]["status"] == "finished"
    assert nepho_sim.node_count() == 1


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"name": "1bad"}, "name"), ({"name": "bad name"}, "name"), ({"hostname": "x" * 16}, "hostname"),
    ({"service_type": 999}, "service_type"), ({"service_type": 71}, "service_type"),
    ({"image": "abc"}, "image"), ({"zone": 93003}, "zone"), ({"console_key": None}, "console_key"),
])
def test_create_validation(nepho_sim: Simulator, nepho_api: Api, fields: dict, fragment: str) -> None:
    server_key, console_key = _keys(nepho_api)
    form = {"name": "web-1", "service_type": 3, "image": 301, "zone": 93001, "server_key": server_key,
            "console_key": console_key, **fields}
    resp = nepho_api.post("/server/cloud/", data={k: v for k, v in form.items() if v is not None})
    assert resp.status_code == 400
    assert fragment in resp.json()["message"] and resp.json()["success"] is False
    assert nepho_sim.node_count() == 0


def test_create_with_swapped_key_groups_is_refused(nepho_api: Api) -> None:
    server_key, console_key = _keys(nepho_api)
    form = {"name": "web-1", "service_type": 3, "image": 301, "zone": 93001, "server_key": console_key,
            "console_key": server_key}
    assert "server_key" in nepho_api.post("/server/cloud/", data=form).json()["message"]


def test_power_rename_delete(nepho_sim: Simulator, nepho_api: Api) -> None:
    _create(nepho_api)
    server_id = _servers(nepho_api)[0]["id"]
    assert nepho_api.post(f"/server/cloud/{server_id}/initiator/stop/").status_code == 409  # still provisioning
    wait_for(lambda: nepho_sim.node_status(server_id) == "on")
    stop = nepho_api.json("POST", f"/server/cloud/{server_id}/initiator/stop/")
    assert stop["response"] == 202
    wait_for(lambda: _servers(nepho_api)[0]["power_status"] == "off")
    assert nepho_api.post(f"/server/cloud/{server_id}/initiator/restart/").status_code == 409
    nepho_api.json("POST", f"/server/cloud/{server_id}/initiator/start/")
    wait_for(lambda: _servers(nepho_api)[0]["power_status"] == "on")
    nepho_api.json("POST", f"/server/cloud/{server_id}/initiator/restart/")
    nepho_api.json("PUT", f"/server/cloud/{server_id}/", data={"name": "renamed", "hostname": "renamed"})
    assert _servers(nepho_api)[0]["name"] == "renamed"
    nepho_api.json("POST", f"/server/cloud/{server_id}/", data={"_method": "PUT", "name": "again"})
    assert _servers(nepho_api)[0]["name"] == "again"
    assert nepho_api.put(f"/server/cloud/{server_id}/", data={"name": "9bad"}).status_code == 400
    deleted = nepho_api.json("DELETE", f"/server/cloud/{server_id}/")
    assert deleted["data"]["resource_type"] == "/job"
    assert nepho_api.get(f"/server/cloud/{server_id}/").status_code == 404
    assert nepho_sim.node_count() == 0
    assert nepho_api.json("GET", "/server/")["data"] == []


def test_seeded_servers_are_listed(nepho_sim: Simulator, nepho_api: Api) -> None:
    ids = nepho_sim.seed_nodes(4)
    servers = _servers(nepho_api)
    assert [str(s["id"]) for s in servers] == ids
    assert all(s["power_status"] == "on" and s["ipaddresses"] for s in servers)
    with pytest.raises(ValueError, match="no tags"):
        nepho_sim.seed_nodes(1, tag="web")
