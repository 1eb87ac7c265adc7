"""The HostVirtual API key (a query parameter!) and root passwords never show up in logs,
reprs or error text, also when the real HTTP stack (urllib3) logs request lines at DEBUG."""

from __future__ import annotations

import logging

import pytest
import requests
from drivers._hostvirtual_support import API_KEY, HostVirtualAPI, hostvirtual_api, load, make_driver
from support.loopback import LoopbackServer, Reply

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import CloudkitError, CreateNodeError, InvalidCredsError, OutcomeUnknownError
from cloudkit.models import NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeSize, NodeState

PASSWORD = "Root-Passw0rd-4417-secret"
PUBKEY = load("GET_server_sshkeys.json")[0]["ssh_key"]
NAME = "web7.cloudkit-test.net"


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            lines.append(str(record.exc_info[1]))
    return "\n".join(lines)


def whole_flow(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> list[object]:
    """Run most of the driver against the mock; return every object and error it produced."""
    seen: list[object] = [driver, driver.connection]
    for fixture in ("GET_cloud_servers.json", "GET_cloud_server.json", "GET_cloud_sizes.json",
                    "GET_cloud_images.json", "GET_cloud_locations.json", "GET_server_sshkeys.json",
                    "POST_server_sshkeys.json"):
        api.reply(fixture)
    seen += [*driver.list_nodes(), driver.get_node("412017"), *driver.list_sizes(), *driver.list_images()]
    seen += driver.list_locations() + driver.list_key_pairs()
    seen.append(driver.import_key_pair_from_string("new-laptop", load("POST_server_sshkeys.json")["ssh_key"]))

    size = NodeSize("102", "VR2G", 2048, 40, 2000.0, 0.02, driver)
    image = NodeImage("3102", "Debian 12 x64", driver)
    # A successful create with a password, then one whose build and cancel both fail.
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build.json")
    api.reply("GET_cloud_server_412030_building.json")
    node = driver.create_node(NAME, size, image, "33", NodeAuthPassword(PASSWORD), ex_wait_timeout=0)
    seen.append(node)
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build_412.json")
    api.reply("POST_cloud_cancel_500.json")
    with pytest.raises(CreateNodeError) as info:
        driver.create_node(NAME, size, image, "33", NodeAuthPassword(PASSWORD), ex_wait_timeout=0)
    seen += [info.value, info.value.cause, info.value.cleanup_error]
    # Generated password: it is returned once in extra, and nowhere else.
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build.json")
    api.reply("GET_cloud_server_412030_building.json")
    generated = driver.create_node(NAME, size, image, "33", None, ex_wait_timeout=0)
    seen.append(generated)
    # Actions and errors.
    for fixture in ("POST_cloud_server_shutdown.json", "POST_cloud_cancel.json", "POST_cloud_unlink.json"):
        api.reply(fixture)
    driver.destroy_node(generated.__class__("412030", NAME, NodeState.RUNNING, [], [], driver))
    api.reply("GET_cloud_images_401.json")
    with pytest.raises(InvalidCredsError) as bad:
        driver.list_images()
    seen.append(bad.value)
    api.reply(method="POST", path="/cloud/server/reboot", exception=requests.exceptions.ConnectionError("x"))
    with pytest.raises(OutcomeUnknownError) as dropped:
        driver.reboot_node("412017")
    seen.append(dropped.value)
    seen.append(generated.extra["password"])
    return seen


def test_no_secret_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with hostvirtual_api() as api:
        driver = make_driver()
        seen = whole_flow(api, driver)
        sent = [c.query.get("key") for c in api.calls]
        sent_passwords = [c.body.get("password") for c in api.calls if isinstance(c.body, dict)]
    generated = seen.pop()
    assert isinstance(generated, str)
    # The secrets really were used (so their absence below means something).
    assert sent and set(sent) == {API_KEY}
    assert PASSWORD in sent_passwords and generated in sent_passwords
    logged = everything_logged(caplog)
    assert "cloudkit" in logged or caplog.records  # something was logged at DEBUG
    texts = [logged] + [repr(obj) for obj in seen] + [str(obj) for obj in seen]
    texts += [str(getattr(obj, attr, "")) for obj in seen for attr in ("message", "body", "hint", "url")]
    for text in texts:
        assert API_KEY not in text
        assert PASSWORD not in text
        assert generated not in text


def test_an_api_key_echoed_by_the_provider_is_scrubbed() -> None:
    with hostvirtual_api() as api:
        api.reply(method="GET", path="/cloud/images/", status=401,
                  body={"error": {"code": 401, "message": f"Unauthorized: key {API_KEY} is not valid"}})
        with pytest.raises(InvalidCredsError) as info:
            make_driver().list_images()
    error = info.value
    assert "is not valid" in str(error)
    for text in (str(error), repr(error), error.message, error.body, *map(str, error.args)):
        assert API_KEY not in text


def test_real_http_stack_logs_no_key(caplog: pytest.LogCaptureFixture) -> None:
    """Through urllib3 on loopback: its DEBUG request lines carry the query string."""
    caplog.set_level(logging.DEBUG)
    with LoopbackServer() as server:
        server.script("GET", "/cloud/servers/", Reply(200, load("GET_cloud_servers.json")))
        server.script("POST", "/cloud/buy/", Reply(drop=True))
        server.script("GET", "/cloud/images/", Reply(401, {"error": {"code": 401, "message": "bad key"}}))
        driver = HostVirtualNodeDriver(API_KEY, base_url=server.url, max_retries=0, timeout=5)
        assert len(driver.list_nodes()) == 6
        with pytest.raises(CloudkitError) as dropped:
            driver.create_node(NAME, "VR2G", "3102", "33", NodeAuthSSHKey(PUBKEY))
        with pytest.raises(InvalidCredsError) as refused:
            driver.list_images()
        driver.connection.close()
    assert [s.query.get("key") for s in server.seen] == [[API_KEY]] * 3
    logged = everything_logged(caplog)
    urllib3_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("/cloud/servers/" in line for line in urllib3_lines)  # urllib3's request line was seen
    assert API_KEY not in logged
    for error in (dropped.value, refused.value):
        assert API_KEY not in str(error) and API_KEY not in repr(error)
