"""The simulated Linode v4 API over HTTP: every endpoint, auth, paging, X-Filter, states, validation."""

from __future__ import annotations

import pytest
from _sim_support import ED25519, Api, filter_header, wait_for

from cloudkit.testing.simulator import Simulator

PASSWORD = "Correct-Horse-9-Battery"
CREATE = {"type": "g6-standard-1", "region": "us-east", "image": "linode/debian12", "root_pass": PASSWORD}


def _create(api: Api, **fields: object) -> dict:
    return api.json("POST", "/v4/linode/instances", json={**CREATE, **fields})


def _status(api: Api, linode_id: int) -> str:
    return str(api.json("GET", f"/v4/linode/instances/{linode_id}")["status"])


def _until(api: Api, linode_id: int, status: str) -> None:
    wait_for(lambda: _status(api, linode_id) == status)


def test_auth_errors_and_public_endpoints(linode_sim: Simulator, linode_api: Api) -> None:
    anonymous = Api(linode_sim, credentials=None)
    wrong = Api(linode_sim, credentials=("0" * 64, None))
    for client in (anonymous, wrong):
        resp = client.get("/v4/linode/instances")
        assert resp.status_code == 401
        assert resp.json() == {"errors": [{"reason": "Invalid Token"}]}
    # regions and types are public; a bad token is still refused
    assert anonymous.get("/v4/regions").status_code == 200
    assert anonymous.get("/v4/linode/types/g6-nanode-1").status_code == 200
    assert wrong.get("/v4/regions").status_code == 401
    linode_sim.add_token("reader", "read")
    reader = Api(linode_sim, credentials=("reader", None))
    assert reader.get("/v4/profile").status_code == 200
    assert reader.post("/v4/linode/instances", json=CREATE).status_code == 403
    assert linode_api.get("/v4/nothing-here").json() == {"errors": [{"reason": "Not found"}]}
    headers = linode_api.get("/v4/profile").headers
    assert headers["X-RateLimit-Limit"] == "800" and "X-RateLimit-Remaining" in headers


def test_v4beta_prefix_is_served(linode_api: Api) -> None:
    assert linode_api.json("GET", "/v4beta/linode/types")["results"] >= 5


def test_create_is_200_provisioning_with_addresses_then_running(linode_sim: Simulator, linode_api: Api) -> None:
    inst = _create(linode_api, label="web-1", tags=["web"], private_ip=True, authorized_keys=[ED25519])
    assert inst["status"] == "provisioning" and inst["label"] == "web-1"
    assert inst["ipv4"][0] == "127.0.0.1" and inst["ipv4"][1].startswith("192.168.")
    assert inst["ipv6"].startswith("2001:db8:") and inst["ipv6"].endswith("/128")
    assert inst["specs"] == {"disk": 51200, "memory": 2048, "vcpus": 1, "gpus": 0, "transfer": 2000}
    assert inst["tags"] == ["web"] and inst["image"] == "linode/debian12"
    assert "Z" not in inst["created"] and "T" in inst["created"]
    _until(linode_api, inst["id"], "running")
    ips = linode_api.json("GET", f"/v4/linode/instances/{inst['id']}/ips")
    assert [a["address"] for a in ips["ipv4"]["public"]] == ["127.0.0.1"]
    assert ips["ipv4"]["private"][0]["address"] == inst["ipv4"][1]
    assert ips["ipv6"]["slaac"]["address"] == inst["ipv6"].split("/")[0]
    assert linode_sim.node_count() == 1


def test_create_without_image_or_unbooted(linode_api: Api) -> None:
    empty = linode_api.json("POST", "/v4/linode/instances", json={"type": "g6-nanode-1", "region": "eu-west"})
    assert empty["image"] is None and empty["label"].startswith("linode")
    offline = _create(linode_api, label="cold-1", booted=False)
    _until(linode_api, offline["id"], "offline")


@pytest.mark.parametrize(("fields", "field", "fragment"), [
    ({"type": "g9-giant"}, "type", "valid plan type"),
    ({"region": "moon-1"}, "region", "region is not valid"),
    ({"image": "linode/templeos"}, "image", "image is not valid"),
    ({"root_pass": None}, "root_pass", "required"),
    ({"root_pass": "password"}, "root_pass", "strength"),
    ({"root_pass": "abc"}, "root_pass", "7-128"),
    ({"label": "1starts-with-digit"}, "label", "begin with a letter"),
    ({"label": "a--b"}, "label", "begin with a letter"),
    ({"label": "ab"}, "label", "3-64"),
    ({"tags": ["x"]}, "tags", "3-50"),
    ({"authorized_keys": ["not a key"]}, "authorized_keys", "Invalid SSH key"),
    ({"booted": "yes"}, "booted", "boolean"),
])
def test_create_validation_is_400_with_field(linode_sim: Simulator, linode_api: Api, fields: dict, field: str,
                                             fragment: str) -> None:
    body = {k: v for k, v in {**CREATE, **fields}.items() if v is not None}
    resp = linode_api.post("/v4/linode/instances", json=body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["errors"][0]
    assert error["field"] == field and fragment in error["reason"]
    assert linode_sim.node_count() == 0


def test_create_reports_several_errors_and_unique_labels(linode_api: Api) -> None:
    both = linode_api.post("/v4/linode/instances", json={"type": "x", "region": "y"}).json()["errors"]
    assert {e["field"] for e in both} == {"type", "region"}
    _create(linode_api, label="dup-1")
    again = linode_api.post("/v4/linode/instances", json={**CREATE, "label": "dup-1"})
    assert again.status_code == 400 and "unique" in again.json()["errors"][0]["reason"]
    assert linode_api.post("/v4/linode/instances", data=b"[1,2]").status_code == 400


def test_get_update_delete(linode_sim: Simulator, linode_api: Api) -> None:
    inst = _create(linode_api, label="old-name", tags=["a-tag"])
    updated = linode_api.json("PUT", f"/v4/linode/instances/{inst['id']}", json={"label": "new-name",
                                                                                  "tags": ["b-tag", "c-tag"]})
    assert updated["label"] == "new-name" and updated["tags"] == ["b-tag", "c-tag"]
    assert linode_api.put(f"/v4/linode/instances/{inst['id']}", json={"label": "x"}).status_code == 400
    assert linode_api.json("DELETE", f"/v4/linode/instances/{inst['id']}") == {}
    assert linode_api.get(f"/v4/linode/instances/{inst['id']}").status_code == 404
    assert linode_api.delete(f"/v4/linode/instances/{inst['id']}").status_code == 404
    assert linode_sim.node_count() == 0
    # the freed label can be used again
    assert _create(linode_api, label="new-name")["label"] == "new-name"


def test_power_actions_walk_through_states(linode_sim: Simulator, linode_api: Api) -> None:
    inst = _create(linode_api)
    busy = linode_api.post(f"/v4/linode/instances/{inst['id']}/reboot")
    assert busy.status_code == 400 and "busy" in busy.json()["errors"][0]["reason"]
    _until(linode_api, inst["id"], "running")
    already = linode_api.post(f"/v4/linode/instances/{inst['id']}/boot")
    assert already.json() == {"errors": [{"reason": f"Linode {inst['id']} already booted."}]}
    assert linode_api.json("POST", f"/v4/linode/instances/{inst['id']}/shutdown") == {}
    assert _status(linode_api, inst["id"]) == "shutting_down"
    _until(linode_api, inst["id"], "offline")
    assert linode_api.post(f"/v4/linode/instances/{inst['id']}/shutdown").status_code == 400
    assert linode_api.json("POST", f"/v4/linode/instances/{inst['id']}/boot", json={}) == {}
    assert _status(linode_api, inst["id"]) == "booting"
    _until(linode_api, inst["id"], "running")
    assert linode_api.json("POST", f"/v4/linode/instances/{inst['id']}/reboot") == {}
    assert _status(linode_api, inst["id"]) == "rebooting"
    _until(linode_api, inst["id"], "running")
    assert linode_api.post("/v4/linode/instances/1/boot").status_code == 404


def test_resize_and_rebuild(linode_api: Api) -> None:
    inst = _create(linode_api)
    _until(linode_api, inst["id"], "running")
    same = linode_api.post(f"/v4/linode/instances/{inst['id']}/resize", json={"type": "g6-standard-1"})
    assert same.status_code == 400
    assert linode_api.post(f"/v4/linode/instances/{inst['id']}/resize", json={"type": "nope"}).status_code == 400
    assert linode_api.json("POST", f"/v4/linode/instances/{inst['id']}/resize", json={"type": "g6-standard-2"}) == {}
    assert _status(linode_api, inst["id"]) == "migrating"
    _until(linode_api, inst["id"], "running")
    assert linode_api.json("GET", f"/v4/linode/instances/{inst['id']}")["type"] == "g6-standard-2"
    assert linode_api.post(f"/v4/linode/instances/{inst['id']}/rebuild",
                           json={"image": "linode/arch"}).status_code == 400
    rebuilt = linode_api.json("POST", f"/v4/linode/instances/{inst['id']}/rebuild",
                              json={"image": "linode/arch", "root_pass": PASSWORD})
    assert rebuilt["status"] == "rebuilding"
    _until(linode_api, inst["id"], "running")
    assert linode_api.json("GET", f"/v4/linode/instances/{inst['id']}")["image"] == "linode/arch"


def test_paging_envelope_and_limits(linode_sim: Simulator, linode_api: Api) -> None:
    linode_sim.seed_nodes(130)
    first = linode_api.json("GET", "/v4/linode/instances")
    assert (first["page"], first["pages"], first["results"], len(first["data"])) == (1, 2, 130, 100)
    second = linode_api.json("GET", "/v4/linode/instances", params={"page": 2})
    assert len(second["data"]) == 30
    ids = [i["id"] for page in (1, 2, 3, 4, 5, 6)
           for i in linode_api.json("GET", "/v4/linode/instances", params={"page": page, "page_size": 25})["data"]]
    assert len(ids) == len(set(ids)) == 130
    for size in (24, 501, "x"):
        resp = linode_api.get("/v4/linode/instances", params={"page_size": size})
        assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "page_size"


def test_x_filter_on_tags_label_and_operators(linode_sim: Simulator, linode_api: Api) -> None:
    web = linode_sim.seed_nodes(3, tag="web", name_prefix="web")
    linode_sim.seed_nodes(4, name_prefix="db")
    tagged = linode_api.json("GET", "/v4/linode/instances", headers=filter_header({"tags": "web"}))
    assert sorted(str(i["id"]) for i in tagged["data"]) == sorted(web) and tagged["results"] == 3
    label = linode_api.json("GET", "/v4/linode/instances", headers=filter_header({"label": "db-5"}))
    assert [i["label"] for i in label["data"]] == ["db-5"]
    either = {"+or": [{"label": "web-1"}, {"label": {"+contains": "db-"}}]}
    assert linode_api.json("GET", "/v4/linode/instances", headers=filter_header(either))["results"] == 5
    ordered = {"label": {"+contains": "db"}, "+order_by": "label", "+order": "desc"}
    labels = [i["label"] for i in linode_api.json("GET", "/v4/linode/instances",
                                                   headers=filter_header(ordered))["data"]]
    assert labels == ["db-7", "db-6", "db-5", "db-4"]
    both = {"+and": [{"tags": "web"}, {"label": {"+neq": "web-1"}}]}
    assert linode_api.json("GET", "/v4/linode/instances", headers=filter_header(both))["results"] == 2
    by_id = {"id": {"+gte": int(web[1])}}
    assert linode_api.json("GET", "/v4/linode/instances", headers=filter_header(by_id))["results"] == 6
    for bad in ({"colour": "red"}, {"+xor": []}):
        resp = linode_api.get("/v4/linode/instances", headers=filter_header(bad))
        assert resp.status_code == 400
    assert linode_api.get("/v4/linode/instances", headers={"X-Filter": "{oops"}).status_code == 400


def test_catalog_profile_account(linode_api: Api) -> None:
    types = linode_api.json("GET", "/v4/linode/types")["data"]
    nanode = next(t for t in types if t["id"] == "g6-nanode-1")
    assert nanode["price"]["hourly"] > 0 and nanode["memory"] == 1024 and nanode["disk"] == 25600
    assert linode_api.get("/v4/linode/types/g0-none").status_code == 404
    images = linode_api.json("GET", "/v4/images")["data"]
    assert {"linode/debian12", "linode/ubuntu24.04"} <= {i["id"] for i in images}
    assert linode_api.json("GET", "/v4/images/linode/debian12")["label"] == "Debian 12"
    assert linode_api.json("GET", "/v4/images/linode%2Fdebian12")["id"] == "linode/debian12"
    assert linode_api.get("/v4/images/linode/nothing").status_code == 404
    regions = linode_api.json("GET", "/v4/regions")["data"]
    assert {"us-east", "eu-west"} <= {r["id"] for r in regions}
    assert linode_api.json("GET", "/v4/regions/eu-west")["country"] == "gb"
    assert linode_api.json("GET", "/v4/profile")["username"] == "simuser"
    assert linode_api.json("GET", "/v4/account")["email"].endswith("@example.com")


def test_ssh_keys_crud(linode_api: Api) -> None:
    key = linode_api.json("POST", "/v4/profile/sshkeys", json={"label": "laptop", "ssh_key": ED25519})
    assert key["label"] == "laptop" and key["ssh_key"] == ED25519 and isinstance(key["id"], int)
    assert linode_api.post("/v4/profile/sshkeys", json={"label": "x", "ssh_key": "nope"}).status_code == 400
    assert linode_api.json("PUT", f"/v4/profile/sshkeys/{key['id']}", json={"label": "desk"})["label"] == "desk"
    assert linode_api.json("GET", f"/v4/profile/sshkeys/{key['id']}")["label"] == "desk"
    assert linode_api.json("GET", "/v4/profile/sshkeys")["results"] == 1
    assert linode_api.json("DELETE", f"/v4/profile/sshkeys/{key['id']}") == {}
    assert linode_api.get(f"/v4/profile/sshkeys/{key['id']}").status_code == 404


def test_tags_endpoints(linode_api: Api) -> None:
    inst = _create(linode_api, label="tagme")
    assert linode_api.json("POST", "/v4/tags", json={"label": "blue", "linodes": [inst["id"]]}) == {"label": "blue"}
    assert linode_api.post("/v4/tags", json={"label": "no"}).status_code == 400
    assert linode_api.post("/v4/tags", json={"label": "green", "linodes": [1]}).status_code == 400
    assert {"label": "blue"} in linode_api.json("GET", "/v4/tags")["data"]
    tagged = linode_api.json("GET", "/v4/tags/blue")["data"]
    assert tagged[0]["type"] == "linode" and tagged[0]["data"]["id"] == inst["id"]
    assert linode_api.json("GET", f"/v4/linode/instances/{inst['id']}")["tags"] == ["blue"]
    assert linode_api.json("DELETE", "/v4/tags/blue") == {}
    assert linode_api.json("GET", f"/v4/linode/instances/{inst['id']}")["tags"] == []
    assert linode_api.get("/v4/tags/blue").status_code == 404


def test_events_record_jobs(linode_api: Api) -> None:
    inst = _create(linode_api)
    _until(linode_api, inst["id"], "running")
    linode_api.post(f"/v4/linode/instances/{inst['id']}/reboot")
    events = linode_api.json("GET", "/v4/account/events")["data"]
    assert [e["action"] for e in events] == ["linode_reboot", "linode_create"]
    assert events[1]["status"] == "finished" and events[1]["entity"]["id"] == inst["id"]
    wanted = {"entity.id": inst["id"], "action": "linode_reboot"}
    only = linode_api.json("GET", "/v4/account/events", headers=filter_header(wanted))["data"]
    assert len(only) == 1
    wait_for(lambda: linode_api.json("GET", f"/v4/account/events/{only[0]['id']}")["status"] == "finished")
    assert linode_api.get("/v4/account/events/1").status_code == 404
