"""The simulator's HTTP server and its introspection: keep-alive, framing, shutdown, recording."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest
import requests
from _sim_support import Api

from cloudkit.testing.simulator import Simulator
from cloudkit.testing.simulator.base import SimResponse


def _conn(sim: Simulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(sim.host, sim.port, timeout=5)


def test_keep_alive_serves_many_requests_on_one_connection(do_sim: Simulator) -> None:
    conn = _conn(do_sim)
    headers = {"Authorization": f"Bearer {do_sim.token}"}
    conn.request("GET", "/v2/account", headers=headers)
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    for _ in range(3):
        conn.request("GET", "/v2/sizes", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Connection") is None
        resp.read()
    assert conn.sock is sock  # the same socket all along
    conn.close()


def test_http10_and_connection_close_end_the_connection(do_sim: Simulator) -> None:
    raw = socket.create_connection((do_sim.host, do_sim.port), timeout=5)
    raw.sendall(b"GET /v2/account HTTP/1.0\r\nAuthorization: Bearer " + do_sim.token.encode() + b"\r\n\r\n")
    data = b""
    while chunk := raw.recv(65536):
        data += chunk
    raw.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in head
    assert b'"account"' in body
    conn = _conn(do_sim)
    conn.request("GET", "/v2/account", headers={"Authorization": f"Bearer {do_sim.token}", "Connection": "close"})
    assert conn.getresponse().getheader("Connection") == "close"


def test_chunked_request_bodies_and_head(do_sim: Simulator) -> None:
    conn = _conn(do_sim)
    body = iter([b'{"name": "web-1", "size": "s-1vcpu-1gb", ', b'"image": "ubuntu-24-04-x64"}'])
    conn.request("POST", "/v2/droplets", body=body, encode_chunked=True,
                 headers={"Authorization": f"Bearer {do_sim.token}", "Transfer-Encoding": "chunked",
                          "Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 202 and b'"web-1"' in resp.read()
    conn.request("HEAD", "/v2/account", headers={"Authorization": f"Bearer {do_sim.token}"})
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b"" and int(head.getheader("Content-Length")) > 0
    assert do_sim.node_count() == 1


def test_garbage_request_lines_get_400(do_sim: Simulator) -> None:
    raw = socket.create_connection((do_sim.host, do_sim.port), timeout=5)
    raw.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    assert raw.recv(4096).startswith(b"HTTP/1.1 400")
    raw.close()
    raw = socket.create_connection((do_sim.host, do_sim.port), timeout=5)
    raw.sendall(b"GET / HTTP/1.1\r\nbroken header line\r\n\r\n")
    assert raw.recv(4096).startswith(b"HTTP/1.1 400")
    raw.close()


def test_stop_closes_idle_connections_and_is_idempotent() -> None:
    sim = Simulator("digitalocean").start()
    api = Api(sim)
    assert api.get("/v2/account").status_code == 200
    assert sim.running and repr(sim) == f"<Simulator digitalocean {sim.base_url}>"
    sim.stop()
    sim.stop()
    assert not sim.running and "stopped" in repr(sim)
    with pytest.raises(requests.ConnectionError):
        api.get("/v2/account", timeout=2)


def test_concurrent_clients(do_sim: Simulator) -> None:
    do_sim.seed_nodes(300)
    errors: list[str] = []

    def worker() -> None:
        api = Api(do_sim)
        for page in range(1, 6):
            body = api.json("GET", "/v2/droplets", params={"page": page, "per_page": 60})
            if len(body["droplets"]) != 60 or body["meta"]["total"] != 300:
                errors.append(f"page {page}: {len(body['droplets'])}")
        api.close()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert errors == [] and not any(t.is_alive() for t in threads)


def test_construction_errors() -> None:
    with pytest.raises(ValueError, match="no simulator for provider"):
        Simulator("aws")
    with pytest.raises(TypeError, match="unknown option"):
        Simulator("digitalocean", colour="red")
    with pytest.raises(ValueError):
        Simulator("linode", boot_seconds=-1)
    with pytest.raises(ValueError):
        Simulator("linode").seed_nodes(-1)
    with pytest.raises(RuntimeError, match="start the simulator"):
        Simulator("linode").driver()


def test_provider_enum_and_explicit_token() -> None:
    from cloudkit import Provider

    with Simulator(Provider.LINODE, token="my-fixed-token") as sim:
        assert sim.provider == "linode" and sim.token == "my-fixed-token"
        assert Api(sim).get("/v4/profile").status_code == 200
        with pytest.raises(ValueError):
            sim.add_token("x", "admin")


def test_requests_are_recorded_with_secrets_redacted(linode_sim: Simulator, linode_api: Api) -> None:
    linode_api.post("/v4/linode/instances", json={"type": "g6-nanode-1", "region": "us-east",
                                                  "image": "linode/debian12", "root_pass": "Hunter2-Hunter2!"})
    linode_api.get("/v4/linode/instances", params={"page": 1})
    first, second = linode_sim.requests
    assert (first.method, first.path, first.status) == ("POST", "/v4/linode/instances", 200)
    assert first.body["type"] == "g6-nanode-1" and first.body["root_pass"] == "<redacted>"
    assert first.json() is first.body
    assert first.headers["authorization"] == "<redacted>"
    assert second.query == {"page": "1"} and second.body is None
    text = repr(linode_sim.requests)
    assert linode_sim.token not in text and "Hunter2" not in text
    linode_sim.reset_requests()
    assert linode_sim.requests == []


def test_recording_can_be_bounded_or_turned_off() -> None:
    with Simulator("digitalocean", max_recorded=3) as sim:
        api = Api(sim)
        for _ in range(5):
            api.get("/v2/account")
        assert len(sim.requests) == 3 and sim.request_count == 5
    with Simulator("digitalocean", record_requests=False) as sim:
        Api(sim).get("/v2/account")
        assert sim.requests == [] and sim.request_count == 1


def test_form_bodies_are_recorded_as_dicts(nepho_sim: Simulator, nepho_api: Api) -> None:
    nepho_api.post("/key/password/", data={"name": "console", "password": "topsecret1", "key_group": 4})
    recorded = nepho_sim.requests[-1]
    assert recorded.body == {"name": "console", "password": "<redacted>", "key_group": "4"}


def test_node_status_helpers_and_ssh_ports(do_sim: Simulator, do_api: Api) -> None:
    sim = Simulator("digitalocean", ssh_port=2222)
    ids = sim.seed_nodes(2)
    assert sim.ssh_port_for(ids[0]) == 2222
    sim.set_ssh_port(ids[1], 2223)
    assert sim.ssh_port_for(ids[1]) == 2223 and sim.node_ids() == ids
    ids = do_sim.seed_nodes(1)
    do_sim.set_node_status(ids[0], "off")
    assert do_api.json("GET", f"/v2/droplets/{ids[0]}")["droplet"]["status"] == "off"
    assert do_sim.node_status(ids[0]) == "off" and do_sim.node_status("1") is None


def test_a_simulator_bug_is_a_500_and_is_reported() -> None:
    with Simulator("digitalocean") as sim:
        def broken(request: object) -> SimResponse:
            raise KeyError("oops")

        sim.api.get_account = broken  # type: ignore[method-assign]
        resp = Api(sim).get("/v2/account")
        assert resp.status_code == 500 and resp.json()["id"] == "server_error"
        assert len(sim.server_errors) == 1 and "KeyError" in sim.server_errors[0]


def test_nodes_option_seeds_at_construction() -> None:
    with Simulator("linode", nodes=7, node_tag="seeded") as sim:
        assert sim.node_count() == 7
        body = Api(sim).json("GET", "/v4/linode/instances")
        assert body["results"] == 7 and body["data"][0]["tags"] == ["seeded"]
