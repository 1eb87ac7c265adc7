"""The simulated HostVirtual vapi v1 over HTTP: key auth, buy/build, power, lifecycle, keys."""

from __future__ import annotations

import json

from _sim_support import ED25519, OTHER_KEY, Api, wait_for

from cloudkit.testing.simulator import Simulator

BUILD = {"fqdn": "web1.example.com", "image": "3101", "location": "310", "ssh_key": ED25519}


def _buy_and_build(api: Api, **fields: object) -> str:
    mbpkgid = str(api.json("POST", "/cloud/buy/", data=json.dumps({"plan": "VR2G"}))["id"])
    job = api.json("POST", "/cloud/server/build", json={"mbpkgid": mbpkgid, **BUILD, **fields})
    assert job["id"].isdigit()
    return mbpkgid


def _server(api: Api, mbpkgid: str) -> dict:
    return api.json("GET", "/cloud/server", params={"mbpkgid": mbpkgid})


def _until(api: Api, mbpkgid: str, status: str) -> None:
    wait_for(lambda: _server(api, mbpkgid)["status"] == status)


def test_key_in_query_string_is_the_only_auth(hv_sim: Simulator, hv_api: Api) -> None:
    for client in (Api(hv_sim, credentials=None), Api(hv_sim, credentials=("wrong", None))):
        resp = client.get("/cloud/images/")
        assert resp.status_code == 401
        assert resp.json() == {"error": {"code": 401, "message": "Unauthorized: invalid API key"}}
    bearer = Api(hv_sim, credentials=None).get("/cloud/images/", headers={"Authorization": f"Bearer {hv_sim.token}"})
    assert bearer.status_code == 401
    assert hv_api.get("/cloud/images/").status_code == 200
    assert hv_sim.credentials == (hv_sim.token, None)
    recorded = hv_sim.requests[-1]
    assert recorded.query["key"] == "<redacted>" and hv_sim.token not in repr(hv_sim.requests)


def test_empty_lists_are_404_unless_configured(hv_api: Api) -> None:
    for path in ("/cloud/servers/", "/cloud/packages"):
        resp = hv_api.get(path)
        assert resp.status_code == 404
        assert resp.json()["error"]["message"] == "Not Found: No Records Found"
    with Simulator("hostvirtual", empty_list_404=False) as sim:
        assert Api(sim).json("GET", "/cloud/servers") == []


def test_buy_build_and_become_running(hv_sim: Simulator, hv_api: Api) -> None:
    mbpkgid = _buy_and_build(hv_api)
    building = _server(hv_api, mbpkgid)
    assert building["status"] == "BUILDING" and building["installed"] == "0" and building["state"] == "DOWN"
    assert building["fqdn"] == "web1.example.com" and building["ip"] == "127.0.0.1"
    assert "location_id" not in building and "plan_id" not in building  # as the recorded get-one reply
    _until(hv_api, mbpkgid, "RUNNING")
    running = hv_api.json("GET", f"/cloud/server/{mbpkgid}")
    assert (running["state"], running["installed"], running["os_id"]) == ("UP", "1", "3101")
    listed = hv_api.json("GET", "/cloud/servers")
    assert listed[0]["mbpkgid"] == mbpkgid and listed[0]["plan_id"] == "201" and listed[0]["location_id"] == "310"
    assert all(isinstance(v, str) for v in listed[0].values() if v is not None)
    assert hv_api.json("GET", f"/cloud/status/{mbpkgid}") == {"status": "RUNNING"}
    jobs = hv_api.json("GET", "/cloud/serverjobs", params={"mbpkgid": mbpkgid})
    assert jobs[0]["command"] == "build" and jobs[0]["status"] == "5"
    job = hv_api.json("GET", "/cloud/serverjob", params={"mbpkgid": mbpkgid, "job_id": jobs[0]["id"]})
    assert job["id"] == jobs[0]["id"]
    package = hv_api.json("GET", f"/cloud/package/{mbpkgid}")
    assert package["package_status"] == "Active" and package["fqdn"] == "web1.example.com"
    assert hv_sim.node_count() == 1


def test_form_bodies_path_ids_and_buy_by_name(hv_sim: Simulator, hv_api: Api) -> None:
    mbpkgid = str(hv_api.json("GET", "/cloud/buy/VR1G")["id"])
    form = {**BUILD, "fqdn": "form.example.com", "password": "Secret-123", "ssh_key": ""}
    hv_api.json("POST", f"/cloud/server/build/{mbpkgid}", data=form)
    assert _server(hv_api, mbpkgid)["fqdn"] == "form.example.com"
    unbuilt = str(hv_api.json("POST", "/cloud/buy", data={"plan": "VR4G"})["id"])
    assert hv_api.get("/cloud/server", params={"mbpkgid": unbuilt}).status_code == 412
    packages = {p["mbpkgid"]: p for p in hv_api.json("GET", "/cloud/packages/")}
    assert packages[unbuilt]["fqdn"] is None and packages[unbuilt]["name"] == "VR4G"
    assert hv_sim.node_count() == 1


def test_buy_build_in_one_call(hv_api: Api) -> None:
    server = hv_api.json("POST", "/cloud/buy_build/", json={"plan": "VR1G", **BUILD})
    assert server["status"] == "PENDING" and server["fqdn"] == BUILD["fqdn"]
    _until(hv_api, server["mbpkgid"], "RUNNING")


def test_validation_is_412(hv_sim: Simulator, hv_api: Api) -> None:
    assert hv_api.post("/cloud/buy/", json={"plan": "VR999"}).status_code == 412
    mbpkgid = str(hv_api.json("POST", "/cloud/buy/", json={"plan": "VR1G"})["id"])
    for fields, fragment in (({"fqdn": "nodots"}, "fully qualified"), ({"fqdn": "bad_.example.com"}, "fully"),
                             ({"image": "1"}, "invalid image"), ({"location": "9"}, "invalid location"),
                             ({"ssh_key": None}, "password, ssh_key"), ({"ssh_key": "garbage"}, "invalid ssh_key")):
        body = {k: v for k, v in {"mbpkgid": mbpkgid, **BUILD, **fields}.items() if v is not None}
        resp = hv_api.post("/cloud/server/build", json=body)
        assert resp.status_code == 412 and fragment in resp.json()["error"]["message"], resp.text
    assert hv_api.post("/cloud/server/build", json={**BUILD, "mbpkgid": "1"}).status_code == 404
    assert hv_api.post("/cloud/server/build", json=BUILD).status_code == 412
    assert hv_sim.node_count() == 0


def test_power_actions_and_lifecycle(hv_sim: Simulator, hv_api: Api) -> None:
    mbpkgid = _buy_and_build(hv_api)
    assert hv_api.post("/cloud/server/reboot", json={"mbpkgid": mbpkgid, "force": 0}).status_code == 412
    _until(hv_api, mbpkgid, "RUNNING")
    assert hv_api.post("/cloud/server/start", json={"mbpkgid": mbpkgid}).status_code == 412
    assert hv_api.json("POST", "/cloud/server/shutdown", json={"mbpkgid": mbpkgid, "force": 0}) == {
        "status": "success"}
    assert _server(hv_api, mbpkgid)["status"] == "STOPPING"
    _until(hv_api, mbpkgid, "STOPPED")
    assert _server(hv_api, mbpkgid)["state"] == "DOWN"
    assert hv_api.json("POST", f"/cloud/server/start/{mbpkgid}")["status"] == "success"
    assert _server(hv_api, mbpkgid)["status"] == "STARTING"
    _until(hv_api, mbpkgid, "RUNNING")
    hv_api.json("POST", "/cloud/server/reboot", data={"mbpkgid": mbpkgid, "force": 1})
    assert _server(hv_api, mbpkgid)["status"] == "REBOOTING"
    _until(hv_api, mbpkgid, "RUNNING")
    assert hv_api.post("/cloud/unlink", json={"mbpkgid": mbpkgid}).status_code == 412
    hv_api.json("POST", "/cloud/server/delete", json={"mbpkgid": mbpkgid})
    terminated = _server(hv_api, mbpkgid)
    assert (terminated["status"], terminated["installed"]) == ("TERMINATED", "0")
    assert hv_api.post("/cloud/server/start", json={"mbpkgid": mbpkgid}).status_code == 412
    hv_api.json("POST", f"/cloud/unlink/{mbpkgid}")
    assert hv_sim.node_count() == 0 and hv_sim.api.package_count() == 1  # type: ignore[attr-defined]
    hv_api.json("POST", "/cloud/cancel", json={"mbpkgid": mbpkgid})
    assert hv_api.get(f"/cloud/package/{mbpkgid}").status_code == 404
    assert hv_api.post("/cloud/cancel", json={"mbpkgid": mbpkgid}).json()["error"]["message"] == "Not Found: mbpkgid"


def test_cancel_removes_a_running_server(hv_sim: Simulator, hv_api: Api) -> None:
    mbpkgid = _buy_and_build(hv_api)
    hv_api.json("POST", f"/cloud/cancel/{mbpkgid}")
    assert hv_sim.node_count() == 0
    assert hv_api.get(f"/cloud/server/{mbpkgid}").status_code == 404


def test_catalog_sizes_images_locations(hv_api: Api) -> None:
    sizes = hv_api.json("GET", "/cloud/sizes/")
    assert {"plan_id", "plan", "ram", "disk", "transfer", "price", "available"} == set(sizes[0])
    assert sizes[0]["ram"].endswith("MB") and sizes[0]["price"].count(".") == 1
    assert hv_api.json("GET", "/cloud/sizes/310") == sizes
    assert hv_api.json("GET", "/cloud/sizes", params={"location": "310"}) == sizes
    assert hv_api.get("/cloud/sizes/999").status_code == 404
    images = hv_api.json("GET", "/cloud/images")
    assert {"id", "os", "description", "type", "subtype", "size", "bits", "tech"} <= set(images[0])
    locations = hv_api.json("GET", "/cloud/locations/")
    assert isinstance(locations, dict) and locations["ORD - Chicago, IL"] == {"name": "ORD - Chicago, IL", "id": "310"}
    assert "MIA2 - Miami FL" in locations  # a name without a comma, as the real catalogue had
    with Simulator("hostvirtual", locations_shape="array") as sim:
        old = Api(sim).json("GET", "/cloud/locations")
        assert isinstance(old, list) and old[0] == {"id": "310", "name": "ORD - Chicago, IL"}


def test_ssh_keys_crud(hv_api: Api) -> None:
    key = hv_api.json("POST", "/server/sshkeys", json={"name": "laptop", "ssh_key": ED25519})
    assert key["id"].isdigit() and key["fingerprint"].count(":") == 15
    assert hv_api.post("/server/sshkeys", json={"name": "x", "ssh_key": "nope"}).status_code == 412
    updated = hv_api.json("PUT", f"/server/sshkeys/{key['id']}", json={"name": "other", "ssh_key": OTHER_KEY})
    assert updated["name"] == "other" and updated["fingerprint"] != key["fingerprint"]
    assert hv_api.json("GET", f"/server/sshkeys/{key['id']}")["ssh_key"] == OTHER_KEY
    assert [k["id"] for k in hv_api.json("GET", "/server/sshkeys")] == [key["id"]]
    hv_api.json("DELETE", f"/server/sshkeys/{key['id']}")
    assert hv_api.get(f"/server/sshkeys/{key['id']}").status_code == 404
    assert hv_api.json("GET", "/server/sshkeys") == []


def test_seeded_servers_have_no_tags(hv_sim: Simulator, hv_api: Api) -> None:
    ids = hv_sim.seed_nodes(5)
    assert [s["mbpkgid"] for s in hv_api.json("GET", "/cloud/servers")] == ids
    try:
        hv_sim.seed_nodes(1, tag="web")
    except ValueError as exc:
        assert "no tags" in str(exc)
    else:
        raise AssertionError("tagging should be refused")
