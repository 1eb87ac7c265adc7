"""The simulated DigitalOcean v2 API over HTTP: every endpoint, auth, paging, states, validation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from _sim_support import ED25519, OTHER_KEY, Api, wait_for

from cloudkit.sshkeys import fingerprint_md5
from cloudkit.testing.simulator import Simulator

CREATE = {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "region": "nyc3"}


def _create(api: Api, **fields: object) -> dict:
    body = api.json("POST", "/v2/droplets", expect=202, json={**CREATE, **fields})
    return body["droplet"]


def _active(api: Api, droplet_id: int) -> dict:
    return wait_for(lambda: (d := api.json("GET", f"/v2/droplets/{droplet_id}")["droplet"])["status"] == "active"
                    and not d["locked"] and d)


# -- auth --------------------------------------------------------------------------------------------


def test_missing_and_wrong_tokens_get_401_in_do_error_shape(do_sim: Simulator, do_api: Api) -> None:
    anonymous = Api(do_sim, credentials=None)
    wrong = Api(do_sim, credentials=("dop_v1_" + "0" * 64, None))
    for client in (anonymous, wrong):
        resp = client.get("/v2/droplets")
        assert resp.status_code == 401
        assert resp.json()["id"] == "unauthorized"
        assert resp.json()["message"] == "Unable to authenticate you"
    assert do_sim.token.startswith("dop_v1_")
    assert do_api.get("/v2/account").status_code == 200


def test_read_only_and_unscoped_tokens_get_403(do_sim: Simulator) -> None:
    do_sim.add_token("dop_v1_reader", "read")
    do_sim.add_token("dop_v1_nothing", "none")
    reader = Api(do_sim, credentials=("dop_v1_reader", None))
    assert reader.get("/v2/droplets").status_code == 200
    denied = reader.post("/v2/droplets", json=CREATE)
    assert denied.status_code == 403 and denied.json()["id"] == "forbidden"
    assert Api(do_sim, credentials=("dop_v1_nothing", None)).get("/v2/account").status_code == 403
    assert do_sim.node_count() == 0


def test_unknown_path_is_404_and_wrong_method_405(do_api: Api) -> None:
    missing = do_api.get("/v2/volcanoes")
    assert missing.status_code == 404 and missing.json()["id"] == "not_found"
    assert do_api.call("PATCH", "/v2/droplets").status_code == 405


def test_rate_limit_headers_on_every_answer(do_api: Api) -> None:
    first = do_api.get("/v2/account")
    second = do_api.get("/v2/sizes")
    assert first.headers["ratelimit-limit"] == "5000"
    assert int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    assert int(first.headers["ratelimit-reset"]) > 0


# -- droplets ------------------------------------------------------------------------------------------


def test_create_answers_202_new_then_becomes_active_with_addresses(do_sim: Simulator, do_api: Api) -> None:
    resp = do_api.post("/v2/droplets", json={**CREATE, "tags": ["web"], "ipv6": True, "monitoring": True})
    assert resp.status_code == 202
    body = resp.json()
    droplet = body["droplet"]
    assert droplet["status"] == "new" and droplet["networks"] == {"v4": [], "v6": []}
    assert isinstance(droplet["id"], int) and droplet["name"] == "web-1"
    assert droplet["size"]["slug"] == droplet["size_slug"] == "s-1vcpu-1gb"
    assert droplet["image"]["slug"] == "ubuntu-24-04-x64" and droplet["region"]["slug"] == "nyc3"
    assert droplet["tags"] == ["web"] and set(droplet["features"]) >= {"ipv6", "monitoring"}
    action = body["links"]["actions"][0]
    assert action["rel"] == "create" and action["href"].endswith(f"/v2/actions/{action['id']}")
    assert do_api.json("GET", f"/v2/actions/{action['id']}")["action"]["status"] in ("in-progress", "completed")

    active = _active(do_api, droplet["id"])
    v4 = {n["type"]: n for n in active["networks"]["v4"]}
    assert v4["public"]["ip_address"] == "127.0.0.1"
    assert v4["private"]["ip_address"].startswith("10.")
    assert active["networks"]["v6"][0]["ip_address"].startswith("2001:db8:")
    assert active["networks"]["v6"][0]["netmask"] == 64
    assert do_api.json("GET", f"/v2/actions/{action['id']}")["action"]["status"] == "completed"
    assert do_sim.node_count() == 1 and do_sim.node_status(droplet["id"]) == "active"


def test_multi_create_makes_each_name(do_sim: Simulator, do_api: Api) -> None:
    body = do_api.json("POST", "/v2/droplets", expect=202,
                       json={"names": ["a-1", "a-2", "a-3"], "size": "s-1vcpu-1gb", "image": 150000002})
    assert [d["name"] for d in body["droplets"]] == ["a-1", "a-2", "a-3"]
    assert len(body["links"]["actions"]) == 3
    assert do_sim.node_count() == 3


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"name": "bad name"}, "Name is invalid"),
    ({"name": "under_score"}, "Name is invalid"),
    ({"name": "dash-"}, "Name is invalid"),
    ({"size": None}, "Size is required"),
    ({"size": "s-99vcpu"}, "invalid size"),
    ({"image": "no-such-image"}, "invalid image"),
    ({"image": None}, "Image is required"),
    ({"region": "mars1"}, "invalid region"),
    ({"region": "nyc2"}, "not available"),
    ({"ssh_keys": [123]}, "invalid SSH key"),
    ({"tags": ["bad tag"]}, "Tags must be"),
    ({"ipv6": "yes"}, "ipv6 must be a boolean"),
    ({"names": ["a"] * 11, "name": None}, "1 to 10"),
    ({"names": ["a1", "a2"]}, "Specify either"),
])
def test_create_validation_is_422(do_sim: Simulator, do_api: Api, fields: dict, fragment: str) -> None:
    body = {**CREATE, **fields}
    body = {k: v for k, v in body.items() if v is not None or k in ("image",)}
    if fields.get("size", "x") is None:
        body.pop("size", None)
    resp = do_api.post("/v2/droplets", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["id"] == "unprocessable_entity"
    assert fragment in resp.json()["message"]
    assert do_sim.node_count() == 0


def test_droplet_limit_when_configured() -> None:
    with Simulator("digitalocean", droplet_limit=2) as sim:
        api = Api(sim)
        assert api.json("GET", "/v2/account")["account"]["droplet_limit"] == 2
        _create(api)
        body = {k: v for k, v in CREATE.items() if k != "name"}
        refused = api.post("/v2/droplets", json={**body, "names": ["b-1", "b-2"]})
        assert refused.status_code == 422 and "droplet limit" in refused.json()["message"]
        assert sim.node_count() == 1


def test_create_with_unparsable_body_is_400(do_api: Api) -> None:
    resp = do_api.post("/v2/droplets", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["id"] == "bad_request"


def test_create_accepts_region_prefix_key_ids_and_fingerprints(do_api: Api) -> None:
    key = do_api.json("POST", "/v2/account/keys", expect=201, json={"name": "k", "public_key": ED25519})["ssh_key"]
    droplet = _create(do_api, region="ams", ssh_keys=[key["id"], key["fingerprint"]])
    assert droplet["region"]["slug"] == "ams3"


def test_get_and_delete_droplet(do_sim: Simulator, do_api: Api) -> None:
    droplet = _create(do_api)
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["id"] == droplet["id"]
    resp = do_api.delete(f"/v2/droplets/{droplet['id']}")
    assert resp.status_code == 204 and resp.content == b""
    assert do_api.get(f"/v2/droplets/{droplet['id']}").status_code == 404
    assert do_api.delete(f"/v2/droplets/{droplet['id']}").status_code == 404
    assert do_sim.node_count() == 0


def test_list_paging_links_and_meta(do_sim: Simulator, do_api: Api) -> None:
    do_sim.seed_nodes(45)
    first = do_api.json("GET", "/v2/droplets", params={"per_page": 20})
    assert len(first["droplets"]) == 20 and first["meta"]["total"] == 45
    pages = first["links"]["pages"]
    assert set(pages) == {"next", "last"}
    assert parse_qs(urlsplit(pages["last"]).query) == {"page": ["3"], "per_page": ["20"]}
    assert pages["next"].startswith(do_sim.base_url + "/v2/droplets?")
    last = do_api.json("GET", "/v2/droplets", params={"page": 3, "per_page": 20})
    assert len(last["droplets"]) == 5 and set(last["links"]["pages"]) == {"first", "prev"}
    seen = []
    url = "/v2/droplets?per_page=20"
    while url:
        body = do_api.json("GET", url)
        seen += [d["id"] for d in body["droplets"]]
        nxt = body["links"]["pages"].get("next")
        url = nxt[len(do_sim.base_url):] if nxt else None
    assert len(seen) == len(set(seen)) == 45
    default = do_api.json("GET", "/v2/droplets")
    assert len(default["droplets"]) == 20
    capped = do_api.json("GET", "/v2/droplets", params={"per_page": 1000})
    assert len(capped["droplets"]) == 45
    single = do_api.json("GET", "/v2/sizes", params={"per_page": 200})
    assert single["links"] == {"pages": {}}
    assert do_api.get("/v2/droplets", params={"page": 0}).status_code == 400


def test_list_filters_tag_name_and_name(do_sim: Simulator, do_api: Api) -> None:
    tagged = do_sim.seed_nodes(3, tag="web")
    do_sim.seed_nodes(4, name_prefix="db")
    body = do_api.json("GET", "/v2/droplets", params={"tag_name": "web"})
    assert sorted(str(d["id"]) for d in body["droplets"]) == sorted(tagged)
    assert body["meta"]["total"] == 3 and all(d["tags"] == ["web"] for d in body["droplets"])
    assert do_api.json("GET", "/v2/droplets", params={"tag_name": "nope"})["meta"]["total"] == 0
    named = do_api.json("GET", "/v2/droplets", params={"name": "DB-5"})["droplets"]
    assert [d["name"] for d in named] == ["db-5"]
    assert do_api.json("GET", "/v2/droplets", params={"type": "gpus"})["droplets"] == []
    assert do_api.get("/v2/droplets", params={"tag_name": "web", "name": "x"}).status_code == 400


# -- actions ---------------------------------------------------------------------------------------------


def _act(api: Api, droplet_id: int, expect: int = 201, **body: object) -> dict:
    return api.json("POST", f"/v2/droplets/{droplet_id}/actions", expect=expect, json=body)


def test_power_actions_change_state_and_lock_while_running(do_sim: Simulator, do_api: Api) -> None:
    droplet = _create(do_api)
    busy = do_api.post(f"/v2/droplets/{droplet['id']}/actions", json={"type": "reboot"})
    assert busy.status_code == 422 and "pending event" in busy.json()["message"]
    _active(do_api, droplet["id"])

    action = _act(do_api, droplet["id"], type="power_off")["action"]
    assert action["type"] == "power_off" and action["resource_type"] == "droplet"
    assert action["status"] == "in-progress" and action["region_slug"] == "nyc3"
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["locked"] is True
    again = do_api.post(f"/v2/droplets/{droplet['id']}/actions", json={"type": "power_on"})
    assert again.status_code == 422
    wait_for(lambda: do_api.json("GET", f"/v2/actions/{action['id']}")["action"]["status"] == "completed")
    assert do_sim.node_status(droplet["id"]) == "off"

    assert "already powered off" in do_api.post(f"/v2/droplets/{droplet['id']}/actions",
                                                json={"type": "shutdown"}).json()["message"]
    _act(do_api, droplet["id"], type="power_on")
    wait_for(lambda: do_sim.node_status(droplet["id"]) == "active")
    assert "already powered on" in do_api.post(f"/v2/droplets/{droplet['id']}/actions",
                                               json={"type": "power_on"}).json()["message"]
    for kind in ("reboot", "power_cycle", "shutdown"):
        _active(do_api, droplet["id"])
        if kind == "shutdown":
            _act(do_api, droplet["id"], type=kind)
            wait_for(lambda: do_sim.node_status(droplet["id"]) == "off")
        else:
            _act(do_api, droplet["id"], type=kind)
    listed = do_api.json("GET", f"/v2/droplets/{droplet['id']}/actions")["actions"]
    assert [a["type"] for a in listed] == ["create", "power_off", "power_on", "reboot", "power_cycle", "shutdown"]
    one = do_api.json("GET", f"/v2/droplets/{droplet['id']}/actions/{listed[1]['id']}")["action"]
    assert one["id"] == listed[1]["id"]
    assert do_api.json("GET", "/v2/actions")["meta"]["total"] == 6
    assert do_api.get("/v2/actions/1").status_code == 404


def test_resize_needs_power_off_and_changes_size(do_sim: Simulator, do_api: Api) -> None:
    droplet = _create(do_api)
    _active(do_api, droplet["id"])
    refused = do_api.post(f"/v2/droplets/{droplet['id']}/actions", json={"type": "resize", "size": "s-2vcpu-4gb"})
    assert refused.status_code == 422 and "powered off" in refused.json()["message"]
    _act(do_api, droplet["id"], type="power_off")
    wait_for(lambda: not do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["locked"])
    bad = do_api.post(f"/v2/droplets/{droplet['id']}/actions", json={"type": "resize", "size": "huge"})
    assert bad.status_code == 422
    _act(do_api, droplet["id"], type="resize", size="s-2vcpu-4gb", disk=True)
    resized = wait_for(lambda: (d := do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"])["size_slug"]
                       == "s-2vcpu-4gb" and d)
    assert resized["memory"] == 4096 and resized["disk"] == 80 and resized["status"] == "off"
    wait_for(lambda: not do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["locked"])
    shrink = do_api.post(f"/v2/droplets/{droplet['id']}/actions", json={"type": "resize", "size": "s-1vcpu-1gb"})
    assert shrink.status_code == 422 and "shrink" in shrink.json()["message"]


def test_rebuild_rename_snapshot_and_invalid_types(do_sim: Simulator, do_api: Api) -> None:
    droplet = _create(do_api)
    _active(do_api, droplet["id"])
    _act(do_api, droplet["id"], type="rename", name="renamed-1")
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["name"] == "renamed-1"
    assert do_api.post(f"/v2/droplets/{droplet['id']}/actions",
                       json={"type": "rename", "name": "bad name"}).status_code == 422
    _act(do_api, droplet["id"], type="rebuild", image="debian-12-x64")
    rebuilt = wait_for(lambda: (d := _active(do_api, droplet["id"]))["image"]["slug"] == "debian-12-x64" and d)
    assert rebuilt["status"] == "active"
    _act(do_api, droplet["id"], type="snapshot", name="snap-1")
    _active(do_api, droplet["id"])
    private = do_api.json("GET", "/v2/images", params={"private": "true"})["images"]
    assert [i["name"] for i in private] == ["snap-1"] and private[0]["slug"] is None
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["snapshot_ids"] == [private[0]["id"]]
    for body in ({"type": "explode"}, {}, {"type": "rebuild", "image": "nope"}):
        assert do_api.post(f"/v2/droplets/{droplet['id']}/actions", json=body).status_code == 422
    assert do_api.post("/v2/droplets/1/actions", json={"type": "reboot"}).status_code == 404


# -- catalog and account ---------------------------------------------------------------------------------


def test_account_sizes_images_regions(do_api: Api) -> None:
    account = do_api.json("GET", "/v2/account")["account"]
    assert account["status"] == "active" and account["email_verified"] is True
    sizes = do_api.json("GET", "/v2/sizes", params={"per_page": 200})["sizes"]
    small = next(s for s in sizes if s["slug"] == "s-1vcpu-1gb")
    assert small["memory"] == 1024 and small["disk"] == 25 and small["price_hourly"] > 0
    assert any(not s["available"] for s in sizes)
    regions = do_api.json("GET", "/v2/regions", params={"per_page": 200})["regions"]
    assert {"nyc3", "ams3", "lon1"} <= {r["slug"] for r in regions}
    assert next(r for r in regions if r["slug"] == "nyc3")["sizes"]
    distros = do_api.json("GET", "/v2/images", params={"type": "distribution", "per_page": 200})["images"]
    apps = do_api.json("GET", "/v2/images", params={"type": "application"})["images"]
    assert distros and apps and not {i["id"] for i in distros} & {i["id"] for i in apps}
    assert all(i["public"] for i in distros)
    by_slug = do_api.json("GET", "/v2/images/ubuntu-24-04-x64")["image"]
    assert do_api.json("GET", f"/v2/images/{by_slug['id']}")["image"]["slug"] == "ubuntu-24-04-x64"
    assert do_api.get("/v2/images/99").status_code == 404


# -- SSH keys ----------------------------------------------------------------------------------------------


def test_ssh_key_crud_by_id_and_fingerprint(do_api: Api) -> None:
    created = do_api.json("POST", "/v2/account/keys", expect=201, json={"name": "laptop", "public_key": ED25519})
    key = created["ssh_key"]
    assert key["fingerprint"] == fingerprint_md5(ED25519) and isinstance(key["id"], int)
    dup = do_api.post("/v2/account/keys", json={"name": "again", "public_key": ED25519})
    assert dup.status_code == 422 and "already in use" in dup.json()["message"]
    bad = do_api.post("/v2/account/keys", json={"name": "bad", "public_key": "ssh-rsa notbase64!"})
    assert bad.status_code == 422
    assert do_api.post("/v2/account/keys", json={"public_key": OTHER_KEY}).status_code == 422
    assert do_api.json("GET", f"/v2/account/keys/{key['fingerprint']}")["ssh_key"]["id"] == key["id"]
    renamed = do_api.json("PUT", f"/v2/account/keys/{key['id']}", json={"name": "desk"})["ssh_key"]
    assert renamed["name"] == "desk"
    listed = do_api.json("GET", "/v2/account/keys")
    assert listed["meta"]["total"] == 1 and listed["ssh_keys"][0]["name"] == "desk"
    assert do_api.delete(f"/v2/account/keys/{key['fingerprint']}").status_code == 204
    assert do_api.get(f"/v2/account/keys/{key['id']}").status_code == 404


# -- tags --------------------------------------------------------------------------------------------------


def test_tags_create_tag_untag_and_delete(do_sim: Simulator, do_api: Api) -> None:
    droplet = _create(do_api)
    tag = do_api.json("POST", "/v2/tags", expect=201, json={"name": "Web"})["tag"]
    assert tag == {"name": "Web", "resources": tag["resources"]} and tag["resources"]["count"] == 0
    assert do_api.json("POST", "/v2/tags", expect=201, json={"name": "web"})["tag"]["name"] == "Web"
    bad = do_api.post("/v2/tags", json={"name": "bad tag"})
    assert bad.status_code == 400 and set(bad.json()) == {"error", "messages", "root_causes"}
    resource = {"resources": [{"resource_id": str(droplet["id"]), "resource_type": "droplet"}]}
    assert do_api.post("/v2/tags/Web/resources", json=resource).status_code == 204
    info = do_api.json("GET", "/v2/tags/Web")["tag"]["resources"]
    assert info["count"] == 1 and info["droplets"]["count"] == 1
    assert info["droplets"]["last_tagged_uri"].endswith(f"/v2/droplets/{droplet['id']}")
    listed = do_api.json("GET", "/v2/droplets", params={"tag_name": "Web"})["droplets"]
    assert [d["id"] for d in listed] == [droplet["id"]] and listed[0]["tags"] == ["Web"]
    assert do_api.get("/v2/tags/web").status_code == 404  # the first capitalisation is canonical
    missing = {"resources": [{"resource_id": "1", "resource_type": "droplet"}]}
    assert do_api.post("/v2/tags/Web/resources", json=missing).status_code == 404
    assert do_api.delete("/v2/tags/Web/resources", json=resource).status_code == 204
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["tags"] == []
    assert do_api.post("/v2/tags/Web/resources", json=resource).status_code == 204
    assert [t["name"] for t in do_api.json("GET", "/v2/tags")["tags"]] == ["Web"]
    assert do_api.delete("/v2/tags/Web").status_code == 204
    assert do_api.json("GET", f"/v2/droplets/{droplet['id']}")["droplet"]["tags"] == []
    assert do_api.get("/v2/tags/Web").status_code == 404


def test_tags_given_at_create_are_created_on_the_fly(do_api: Api) -> None:
    droplet = _create(do_api, tags=["env:prod", "web"])
    names = {t["name"] for t in do_api.json("GET", "/v2/tags")["tags"]}
    assert names == {"env:prod", "web"}
    assert do_api.json("GET", "/v2/tags/env:prod")["tag"]["resources"]["droplets"]["count"] == 1
    assert droplet["tags"] == ["env:prod", "web"]
