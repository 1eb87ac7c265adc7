"""The recorder writes scrubbed cassettes of real HTTP traffic (the simulator stands in for the
providers' APIs), and the replayer serves them back offline, giving the same models."""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cloudkit.driver import NodeDriver
from cloudkit.drivers.linode import base as linode_module  # PAGE_SIZE is read there
from cloudkit.errors import NotFoundError
from cloudkit.models import NodeAuthPassword
from cloudkit.providers import get_driver
from cloudkit.testing.fixtures import mock_routes
from cloudkit.testing.record import (
    REDACTED,
    CassetteMismatchError,
    Scrubber,
    load_cassette,
    record,
    replay,
    routes_from_cassette,
)
from cloudkit.testing.simulator import Simulator

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4brM3lNIB7nKMiFUxd0sFH49rYwWJHJsYxuJcFIQQu ci"
PRIVATE_PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n"
               "-----END OPENSSH PRIVATE KEY-----")
#: Nowhere: a replayed driver points here, so a request that escaped the replayer would fail.
NOWHERE = "http://127.0.0.1:9"


def every_file(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_nothing_secret(folder: Path, *secrets: str) -> None:
    files = every_file(folder)
    assert files
    for secret in secrets:
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        for name, data in files.items():
            for form in forms:
                assert form.encode() not in data, f"{name} holds a secret"
    for name, data in files.items():
        assert b"PRIVATE KEY-----\n" not in data, name
        assert not any(w in data for w in (b"Bearer ey", b"Basic c2")), name


def linode_flow(driver: NodeDriver, password: str) -> dict[str, Any]:
    nodes = driver.list_nodes()
    sizes, images, locations = driver.list_sizes(), driver.list_images(), driver.list_locations()
    node = driver.create_node("rec-web-1", sizes[0], "linode/debian12", locations[0], auth=NodeAuthPassword(password))
    fetched = driver.get_node(node.id)
    pair = driver.import_key_pair_from_string("rec-key", PUBKEY)
    with pytest.raises(NotFoundError):
        driver.get_node("999999")
    return {
        "nodes": [(n.id, n.name, n.state, n.public_ips, n.private_ips, n.tags) for n in nodes],
        "sizes": [(s.id, s.ram, s.disk, s.price) for s in sizes],
        "images": [i.id for i in images],
        "locations": [loc.id for loc in locations],
        "created": (node.id, node.name, node.state, fetched.id, fetched.state),
        "key": (pair.id, pair.name, pair.fingerprint),
    }


@pytest.fixture
def small_linode_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Linode's smallest page, so 60 nodes take three pages (two fetched concurrently)."""
    monkeypatch.setattr(linode_module, "PAGE_SIZE", 25)


def test_linode_flow_is_recorded_scrubbed_and_replayed_offline(tmp_path: Path, small_linode_pages: None) -> None:
    cassette = tmp_path / "linode"
    password = "Rec0rded-Root-Pass-7781"
    with Simulator("linode", boot_seconds=0, action_seconds=0, nodes=60) as sim:
        token = sim.token
        driver = sim.driver()
        before = sim.request_count
        with record(cassette) as recording:  # no secrets given: they are learnt from the traffic
            recorded = linode_flow(driver, password)
        sent = sim.request_count - before
    assert len(recording.exchanges) == sent
    assert len(recorded["nodes"]) == 60
    assert_nothing_secret(cassette, token, password)
    create = json.loads(next(cassette.glob("*_POST_v4_linode_instances.json")).read_text())
    assert create["request_body"]["root_pass"] == REDACTED
    assert create["request_body"]["label"] == "rec-web-1"
    pages = sorted(int(e.query["page"][0]) for e in load_cassette(cassette)
                   if e.method == "GET" and e.path == "/v4/linode/instances")
    assert pages == [1, 2, 3]

    replayed_driver = get_driver("linode")("another-token-entirely", base_url=NOWHERE)
    with replay(cassette) as player:
        replayed = linode_flow(replayed_driver, password)
    assert replayed == recorded
    assert len(player.played) == len(recording.exchanges)


def test_nephoscale_job_then_poll_is_replayed_in_order_with_addresses_scrubbed(tmp_path: Path) -> None:
    cassette = tmp_path / "nephoscale"
    public_ip = "93.184.216.34"
    with Simulator("nephoscale", boot_seconds=0, action_seconds=0, nodes=1, public_ip=public_ip) as sim:
        user, password = sim.credentials
        assert password is not None
        driver = sim.driver()
        size, image, location = driver.list_sizes()[0], driver.list_images()[0], driver.list_locations()[0]

        def flow(d: NodeDriver) -> tuple[Any, ...]:
            node = d.create_node("rec-1", size.id, image.id, location.id, auth=NodeAuthPassword("Neph0-Scale-Pass-55"),
                                 ex_poll_interval=0.01, ex_max_poll_interval=0.02)
            return node.id, node.name, node.state, sorted(node.public_ips + node.private_ips)

        with record(cassette, scrub_ips=True) as recording:
            recorded = flow(driver)
    assert_nothing_secret(cassette, user, password, "Neph0-Scale-Pass-55", public_ip)
    assert len(recording.exchanges) >= 4
    polls = [e for e in load_cassette(cassette) if e.method == "GET"]
    assert len(polls) >= 2 and len({e.describe() for e in polls}) < len(polls)  # the same request, polled

    prefix = get_driver("nephoscale").connectionCls.base_path
    replayed_driver = get_driver("nephoscale")("someone-else", "not-the-password", base_url=NOWHERE + prefix)
    with replay(cassette):
        replayed = flow(replayed_driver)
    assert replayed[:3] == recorded[:3]
    addresses = [ipaddress.ip_address(ip) for ip in replayed[3]]
    assert public_ip not in replayed[3]
    assert all(ip in ipaddress.ip_network("203.0.113.0/24") or ip.is_private for ip in addresses)


@pytest.fixture
def toy_server() -> Iterator[Callable[[dict[tuple[str, str], tuple[int, Any]]], str]]:
    """A loopback server answering fixed JSON bodies (for small recorder tests)."""
    from support.loopback import LoopbackServer, Reply

    servers: list[LoopbackServer] = []

    def start(routes: dict[tuple[str, str], tuple[int, Any]]) -> str:
        server = LoopbackServer().__enter__()
        servers.append(server)
        for (method, path), (status, body) in routes.items():
            server.script(method, path, default=Reply(status, body))
        return server.url

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_replay_names_an_unexpected_request_and_unplayed_exchanges(tmp_path: Path, toy_server: Any) -> None:
    url = toy_server({("GET", "/v1/a"): (200, {"a": 1}), ("GET", "/v1/b"): (200, {"b": 2})})
    with record(tmp_path / "c"):
        session = requests.Session()
        session.get(url + "/v1/a", params={"page": "1", "api_key": "toy-key-123456"}, timeout=5)
        session.get(url + "/v1/b", timeout=5)
    assert b"toy-key-123456" not in b"".join(every_file(tmp_path / "c").values())

    with replay(tmp_path / "c") as player:
        # The key differs and is not compared; the page is.
        assert requests.get(NOWHERE + "/v1/a?page=1&api_key=other", timeout=5).json() == {"a": 1}
        with pytest.raises(CassetteMismatchError) as caught:
            requests.get(NOWHERE + "/v1/c", timeout=5)
        assert requests.get(NOWHERE + "/v1/b", timeout=5).json() == {"b": 2}
    assert "request GET /v1/c is not in cassette" in str(caught.value)
    assert "0002_GET_v1_b.json: GET /v1/b" in str(caught.value)
    assert player.unused == []

    with pytest.raises(CassetteMismatchError, match=r"1 recorded exchange\(s\) .* never replayed: 0002_GET_v1_b.json"):
        with replay(tmp_path / "c"):
            requests.get(NOWHERE + "/v1/a?page=1", timeout=5)
    with replay(tmp_path / "c", allow_unused=True) as player:
        requests.get(NOWHERE + "/v1/a?page=1", timeout=5)
    assert len(player.unused) == 1


def test_cassette_feeds_mock_routes(tmp_path: Path, toy_server: Any) -> None:
    url = toy_server({("GET", "/v1/servers"): (200, {"servers": [{"id": 1}]}),
                      ("DELETE", "/v1/servers/1"): (204, None)})
    with record(tmp_path / "c"):
        requests.get(url + "/v1/servers", params={"page": "2"}, timeout=5)
        requests.delete(url + "/v1/servers/1", timeout=5)
    routes = routes_from_cassette(tmp_path / "c")
    assert [(r.method, r.path, r.query, r.status, r.times) for r in routes] == [
        ("GET", "/v1/servers", {"page": "2"}, 200, 1), ("DELETE", "/v1/servers/1", {}, 204, 1)]
    with mock_routes("https://api.toy.example", routes):
        assert requests.get("https://api.toy.example/v1/servers?page=2", timeout=5).json() == {
            "servers": [{"id": 1}]}


def test_record_refuses_a_folder_that_already_holds_a_cassette(tmp_path: Path, toy_server: Any) -> None:
    url = toy_server({("GET", "/x"): (200, {})})
    with record(tmp_path / "c"):
        requests.get(url + "/x", timeout=5)
    with pytest.raises(FileExistsError, match="already holds"), record(tmp_path / "c"):
        pass
    with record(tmp_path / "c", overwrite=True):
        requests.get(url + "/x", timeout=5)
        requests.get(url + "/x", timeout=5)
    assert len(load_cassette(tmp_path / "c")) == 2


# -- the scrubber ------------------------------------------------------------------------------


def test_scrubber_learns_credentials_from_requests() -> None:
    scrubber = Scrubber()
    basic = base64.b64encode(b"alice-the-user:s3cret-Passw0rd").decode()
    scrubber.learn_request("https://api.example.com/v1/x?api_key=key-abcdef123&page=2",
                           {"Authorization": f"Basic {basic}", "X-Auth-Token": "tok-998877"},
                           b'{"server": {"root_pass": "Root-Pass-4242", "name": "web"}}')
    text = scrubber.text(f"alice-the-user s3cret-Passw0rd {basic} key-abcdef123 tok-998877 Root-Pass-4242 web")
    assert text == " ".join([REDACTED] * 6) + " web"


def test_scrubber_redacts_secret_fields_keys_and_auth_words() -> None:
    scrubber = Scrubber(["tok-1234567"])
    body = {"password": "x1", "root_pass": "x2", "api_key": "x3", "private_key": PRIVATE_PEM, "token": "x4",
            "public_key": PUBKEY, "note": "Bearer abcdefghijklmno and tok-1234567", "is_password_set": True,
            "nested": [{"secret": "x5", "name": "ok"}]}
    out = json.loads(scrubber.body(json.dumps(body).encode(), "application/json"))
    assert out == {"password": REDACTED, "root_pass": REDACTED, "api_key": REDACTED, "private_key": REDACTED,
                   "token": REDACTED, "public_key": PUBKEY, "note": f"Bearer {REDACTED} and {REDACTED}",
                   "is_password_set": True, "nested": [{"secret": REDACTED, "name": "ok"}]}
    xml = scrubber.body(b"<server><name>web</name><password>hunter2</password></server>", "application/xml")
    assert xml == f"<server><name>web</name><password>{REDACTED}</password></server>".encode()
    form = scrubber.body(b"name=web&password=hunter2", "application/x-www-form-urlencoded")
    assert form == f"name=web&password={REDACTED}".encode()
    assert scrubber.text("key: " + PRIVATE_PEM) == f"key: -----{REDACTED} PRIVATE KEY-----"
    assert scrubber.query("https://h/x?key=abc&page=2") == {"key": [REDACTED], "page": ["2"]}


def test_scrubber_replaces_addresses_consistently_and_keeps_their_kind() -> None:
    scrubber = Scrubber(scrub_ips=True)
    text = ("public 93.184.216.34 private 10.1.2.3 again 93.184.216.34 mask 255.255.255.0 local 127.0.0.1 "
            "v6 2a01:4f8:c17:b8f::2 time 10:00:00 doc 203.0.113.9")
    out = scrubber.text(text)
    assert out == ("public 203.0.113.1 private 10.0.0.1 again 203.0.113.1 mask 255.255.255.0 local 127.0.0.1 "
                   "v6 2001:db8::1 time 10:00:00 doc 203.0.113.9")


# -- the command line --------------------------------------------------------------------------


def test_cloudkit_record_command_records_cli_commands_and_replays(tmp_path: Path) -> None:
    import io

    from cloudkit import cli

    with Simulator("digitalocean", boot_seconds=0, nodes=3) as sim:
        env = {"CLOUDKIT_DIGITALOCEAN_TOKEN": sim.token, "HOME": str(tmp_path)}
        common = ["record", "--provider", "digitalocean", "--base-url", sim.base_url]
        out, err = io.StringIO(), io.StringIO()
        status = cli.main([*common, "--out", str(tmp_path / "flow")], env=env, stdout=out, stderr=err)
        assert status == 0, err.getvalue()
        assert "recorded 7 exchange(s)" in out.getvalue()  # droplets listed twice: plain and GPU
        one = [*common, "--out", str(tmp_path / "one"), "--", "-o", "json", "nodes", "list"]
        assert cli.main(one, env=env, stdout=io.StringIO(), stderr=err) == 0, err.getvalue()
        assert cli.main([*common, "--out", str(tmp_path / "one")], env=env, stdout=io.StringIO(), stderr=err) == 2
        assert "already holds" in err.getvalue()
        live = io.StringIO()
        assert cli.main(["-o", "json", "nodes", "list"], env={**env, "CLOUDKIT_BASE_URL": sim.base_url},
                        stdout=live) == 0
    assert_nothing_secret(tmp_path / "flow", sim.token)
    assert_nothing_secret(tmp_path / "one", sim.token)
    flow = load_cassette(tmp_path / "flow")
    assert [e.path for e in flow] == [
        "/v2/account", "/v2/droplets", "/v2/droplets", "/v2/sizes", "/v2/images", "/v2/regions", "/v2/account/keys"]
    assert sorted(e.query.get("type", ["-"])[0] for e in flow[1:3]) == ["-", "gpus"]
    replayed = io.StringIO()
    with replay(tmp_path / "one"):
        assert cli.main(["-o", "json", "nodes", "list"],
                        env={"CLOUDKIT_DIGITALOCEAN_TOKEN": "other-token-000", "CLOUDKIT_PROVIDER": "digitalocean",
                             "CLOUDKIT_BASE_URL": NOWHERE, "HOME": str(tmp_path)}, stdout=replayed) == 0
    assert json.loads(replayed.getvalue()) == json.loads(live.getvalue())
