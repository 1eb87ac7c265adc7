"""NephoScale create_node: keys, the single POST, polling the listing, timeouts, failures."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
import responses
from drivers._nephoscale_support import (
    FAST,
    RSA_KEY,
    add,
    api_fixture,  # noqa: F401  (a fixture)
    calls,
    driver_fixture,  # noqa: F401  (a fixture)
    form,
    load,
    make_driver,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)

from cloudkit.drivers.nephoscale import NephoscaleNodeDriver, NephoscalePasswordKey
from cloudkit.errors import OutcomeUnknownError, ServerError, ValidationError, WaitTimeoutError
from cloudkit.models import KeyPair, NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.sshkeys import generate_key_pair

NEW_KEY = generate_key_pair("ed25519", comment="ci@web-7")[1]


def _password_reply(key_id: int) -> dict[str, Any]:
    body = load("POST_key_password.json")
    body["data"]["id"] = key_id
    body["data"]["uri"] = f"https://api.nephoscale.com/key/password/{key_id}/"
    return dict(body)


def _post_server(api: responses.RequestsMock) -> list[dict[str, str]]:
    return [form(c) for c in api.calls if c.request.method == "POST" and c.request.url.endswith("/server/cloud/")]


def test_create_with_a_new_ssh_key_waits_until_listed_with_addresses(
        api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")           # snapshot
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")           # not listed yet
    add(api, "GET", "/server/cloud/", "GET_server_cloud_creating.json")  # listed, no address
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", "88412", auth=NodeAuthSSHKey(NEW_KEY), **FAST)

    assert (node.id, node.name, node.state) == ("150412", "web-7", NodeState.RUNNING)
    assert node.public_ips == ["198.51.100.77"] and node.private_ips == ["10.140.2.90"]
    assert node.extra["job_id"] == "530114"
    assert "password" not in node.extra
    assert node.size is not None and node.size.id == "46" and node.size.price == 0.10
    assert calls(api) == [
        ("GET", "/server/cloud/"), ("GET", "/key/sshrsa/"), ("POST", "/key/sshrsa/"),
        ("POST", "/key/password/"), ("POST", "/server/cloud/"),
        ("GET", "/server/cloud/"), ("GET", "/server/cloud/"), ("GET", "/server/cloud/")]
    ssh = form(api.calls[2])
    assert ssh == {"name": "cloudkit-web-7", "public_key": NEW_KEY, "key_group": "1"}
    console = form(api.calls[3])
    assert console["name"] == "console-web-7" and console["key_group"] == "4"
    assert len(console["password"]) == 16
    assert _post_server(api) == [{"name": "web-7", "hostname": "web-7", "service_type": "46", "image": "411",
                                  "zone": "88412", "server_key": "91600", "console_key": "91601"}]
    create = api.calls[4].request
    assert create.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "None" not in create.body


def test_create_reuses_an_ssh_key_with_the_same_material(api: responses.RequestsMock,
                                                         driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    other_comment = " ".join(RSA_KEY.split()[:2]) + " someone@else"
    node = driver.create_node("web-7", "46", "411", "88412", auth=NodeAuthSSHKey(other_comment), **FAST)
    assert node.id == "150412"
    assert _post_server(api)[0]["server_key"] == "91502"
    assert ("POST", "/key/sshrsa/") not in calls(api)


def test_create_with_models(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    size = NodeSize("46", "CS2.1", 2048, 75, None, 0.1, driver)
    image = NodeImage("411", "Ubuntu", driver)
    zone = NodeLocation("88412", "SJC-3", "US", driver)
    key = KeyPair("build-key", RSA_KEY, None, driver, id="91502")
    console = NephoscalePasswordKey("91503", "console-build-01", 4, None, driver)
    node = driver.create_node("web-7", size, image, zone, ex_server_key=key, ex_console_key=console, **FAST)
    assert node.id == "150412"
    assert _post_server(api)[0]["server_key"] == "91502"
    assert _post_server(api)[0]["console_key"] == "91503"


def test_create_with_a_password(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/key/password/", body=_password_reply(91610))
    add(api, "POST", "/key/password/", body=_password_reply(91611))
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", auth=NodeAuthPassword("Root-Pass-4711"), **FAST)
    server_key = form(api.calls[1])
    assert server_key == {"name": "server-web-7", "password": "Root-Pass-4711", "key_group": "1"}
    assert form(api.calls[2])["key_group"] == "4"
    sent = _post_server(api)[0]
    assert (sent["server_key"], sent["console_key"]) == ("91610", "91611")
    assert "zone" not in sent  # no location: the field is left out
    assert "password" not in node.extra  # the caller's own password is not echoed


def test_create_without_auth_generates_a_root_password(api: responses.RequestsMock,
                                                       driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/key/password/", body=_password_reply(91610))
    add(api, "POST", "/key/password/", body=_password_reply(91611))
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", "88412", **FAST)
    password = node.extra["password"]
    assert form(api.calls[1])["password"] == password and form(api.calls[1])["key_group"] == "1"
    assert any(c.isupper() for c in password) and any(c.isdigit() for c in password)
    assert password not in repr(node)


def test_create_without_console_key(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key=False, **FAST)
    assert "console_key" not in _post_server(api)[0]


def test_create_derives_a_valid_hostname(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    name = "Build_Server_Number_42"
    listing = load("GET_server_cloud_after_create.json")
    listing["data"][-1]["name"] = name
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", body=listing)
    node = driver.create_node(name, "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert node.name == name
    assert _post_server(api)[0]["hostname"] == "Build-Server-Nu"


def test_create_sends_ips_and_networks(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", ex_hostname="w7",
                       ex_ips=["198.51.100.77", "10.140.2.90"], ex_networks=["7001", "7002"], **FAST)
    sent = _post_server(api)[0]
    assert sent["ips"] == "198.51.100.77,10.140.2.90" and sent["networks"] == "7001,7002"
    assert sent["hostname"] == "w7"


def test_an_older_server_with_the_same_name_is_not_taken(api: responses.RequestsMock,
                                                         driver: NephoscaleNodeDriver) -> None:
    old = copy.deepcopy(load("GET_server_cloud.json")["data"][0])
    old.update(id=150100, name="web-7", hostname="web-7")
    before = load("GET_server_cloud.json")
    before["data"].append(old)
    creating = load("GET_server_cloud.json")
    creating["data"].append(old)
    after = load("GET_server_cloud_after_create.json")
    after["data"].insert(0, old)
    add(api, "GET", "/server/cloud/", body=before)
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", body=creating)
    add(api, "GET", "/server/cloud/", body=after)
    node = driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert node.id == "150412"
    assert len(api.calls) == 4


def test_several_new_servers_prefer_the_hostname_then_the_newest(api: responses.RequestsMock,
                                                                 driver: NephoscaleNodeDriver) -> None:
    after = load("GET_server_cloud_after_create.json")
    twin = copy.deepcopy(after["data"][-1])
    twin.update(id=150413, hostname="elsewhere", create_time="2014-08-02 10:20:00")
    newer = copy.deepcopy(after["data"][-1])
    newer.update(id=150414, create_time="2014-08-02 10:30:00")
    after["data"] += [twin, newer]
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", body=after)
    node = driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert node.id == "150414"


def test_timeout_names_the_job_and_the_name(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    with pytest.raises(WaitTimeoutError) as info:
        driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503",
                           ex_poll_interval=0.01, ex_max_poll_interval=0.02, ex_wait_timeout=0.1)
    error = info.value
    assert "530114" in str(error) and "'web-7'" in str(error)
    assert error.job == "530114"
    assert error.nodes == [] and error.condition == "listed"
    assert len(_post_server(api)) == 1  # never sent twice
    assert len(api.calls) >= 3  # polled more than once


def test_timeout_with_the_server_listed_without_addresses(api: responses.RequestsMock,
                                                          driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_creating.json")
    with pytest.raises(WaitTimeoutError) as info:
        driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503",
                           ex_poll_interval=0.01, ex_max_poll_interval=0.02, ex_wait_timeout=0.1)
    error = info.value
    assert error.job == "530114" and error.condition == "an IP address"
    assert error.node is not None and error.node.id == "150412"
    assert "150412" in str(error) and "530114" in str(error)
    assert error.last_states == {"150412": "stopped"}


def test_listing_errors_while_polling_are_survived(api: responses.RequestsMock,
                                                   driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_503.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_502.html")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert node.id == "150412"


def test_refused_credentials_while_polling_end_the_wait(api: responses.RequestsMock,
                                                        driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", status=401, body="")
    with pytest.raises(WaitTimeoutError, match="530114") as info:
        driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert info.value.job == "530114" and "'web-7'" in str(info.value)


def test_an_unparsable_create_reply_still_polls(api: responses.RequestsMock,
                                                driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/server/cloud/", status=202, body="accepted")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert node.id == "150412" and node.extra["job_id"] is None


def test_a_refused_create_deletes_the_keys_made_for_it(api: responses.RequestsMock,
                                                       driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud_400.json")
    add(api, "DELETE", "/key/password/91601/", "DELETE_key_password_ID.json")
    add(api, "DELETE", "/key/sshrsa/91600/", "DELETE_key_sshrsa_ID.json")
    with pytest.raises(ValidationError, match="service_type") as info:
        driver.create_node("web-7", "46", "411", auth=NodeAuthSSHKey(NEW_KEY), **FAST)
    assert info.value.status == 400 and info.value.code == "1"
    assert calls(api)[-2:] == [("DELETE", "/key/password/91601/"), ("DELETE", "/key/sshrsa/91600/")]


def test_a_failed_key_cleanup_keeps_the_original_error(api: responses.RequestsMock,
                                                       driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud_400.json")
    add(api, "DELETE", "/key/password/91601/", "DELETE_key_password_ID_404.json")
    with pytest.raises(ValidationError, match="service_type"):
        driver.create_node("web-7", "46", "411", ex_server_key="91502", **FAST)


def test_a_refused_console_key_deletes_the_ssh_key_made_before(api: responses.RequestsMock,
                                                               driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    add(api, "POST", "/key/password/", "POST_key_password_400.json")
    add(api, "DELETE", "/key/sshrsa/91600/", "DELETE_key_sshrsa_ID.json")
    with pytest.raises(ValidationError, match="password"):
        driver.create_node("web-7", "46", "411", auth=NodeAuthSSHKey(NEW_KEY), **FAST)
    assert ("POST", "/server/cloud/") not in calls(api)
    assert calls(api)[-1] == ("DELETE", "/key/sshrsa/91600/")


def test_a_dropped_create_is_not_repeated(api: responses.RequestsMock) -> None:
    driver = make_driver(max_retries=3)
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    api.add("POST", "https://api.nephoscale.com/server/cloud/",
            body=requests.exceptions.ConnectionError("connection reset by peer"))
    with pytest.raises(OutcomeUnknownError) as info:
        driver.create_node("web-7", "46", "411", ex_server_key="91502", ex_console_key="91503", **FAST)
    assert "web-7" in str(info.value)
    assert calls(api).count(("POST", "/server/cloud/")) == 1


def test_a_failed_snapshot_creates_nothing(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud_503.json")
    with pytest.raises(ServerError):
        driver.create_node("web-7", "46", "411", auth=NodeAuthSSHKey(NEW_KEY), **FAST)
    assert calls(api) == [("GET", "/server/cloud/")]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("7web", "46", "411"), {}, "server name"),
    (("web 7", "46", "411"), {}, "server name"),
    (("w" * 65, "46", "411"), {}, "server name"),
    (("web-", "46", "411"), {}, "server name"),
    (("web-7", "46", "411"), {"ex_hostname": "web_7"}, "hostname"),
    (("web-7", "46", "411"), {"ex_hostname": "a-very-long-hostname"}, "hostname"),
    (("web-7", "CS2.1", "411"), {}, "size"),
    (("web-7", "46", ""), {}, "image"),
    (("web-7", "46", "411", "SJC-3"), {}, "location"),
    (("web-7", "46", "411"), {"auth": "hunter2"}, "auth"),
    (("web-7", "46", "411"), {"auth": NodeAuthSSHKey("ssh-rsa not-base64!")}, "base64"),
    (("web-7", "46", "411"), {"auth": NodeAuthPassword("")}, "password"),
    (("web-7", "46", "411"), {"auth": NodeAuthPassword("x"), "ex_server_key": "1"}, "either"),
    (("web-7", "46", "411"), {"ex_ips": ["198.51.100.9"]}, "ex_networks"),
    (("web-7", "46", "411"), {"ex_ips": ["not-an-ip"], "ex_networks": ["7001"]}, "not an IP"),
    (("web-7", "46", "411"), {"ex_networks": ["public"]}, "network"),
    (("web-7", "46", "411"), {"ex_wait_timeout": 0}, "ex_wait_timeout"),
    (("web-7", "46", "411"), {"ex_poll_interval": -1}, "ex_poll_interval"),
    (("web-7", "46", "411"), {"ex_server_key": "abc"}, "server key"),
    (("web-7", "46", "411"), {"ex_unknown": 1}, "ex_unknown"),
])
def test_bad_input_is_refused_before_any_request(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                                 args: tuple[Any, ...], kwargs: dict[str, Any],
                                                 message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        driver.create_node(*args, **kwargs)
    assert info.value.status is None
    assert len(api.calls) == 0
