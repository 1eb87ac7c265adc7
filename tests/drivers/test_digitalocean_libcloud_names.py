"""DigitalOcean: libcloud's own methods and keywords, each checked against the API description
(request path and body) on fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _digitalocean_support import TOKEN, add, checked, fixture, make_driver

from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.errors import ValidationError
from cloudkit.models import KeyPair

PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvdi48QOJoU/+jtgtIx8/Vp95tbVMwtu3/gbSq3RdlO me@host"


def _action(kind: str) -> dict[str, Any]:
    body = fixture("POST_v2_droplets_actions_reboot.json")
    body["action"]["type"] = kind
    return body


@pytest.mark.parametrize(("call", "body"), [
    (lambda d: d.ex_hard_reboot("401001"), {"type": "power_cycle"}),
    (lambda d: d.ex_power_on_node("401001"), {"type": "power_on"}),
    (lambda d: d.ex_shutdown_node("401001"), {"type": "shutdown"}),
    (lambda d: d.ex_enable_ipv6("401001"), {"type": "enable_ipv6"}),
    (lambda d: d.ex_change_kernel("401001", kernel_id=7515), {"type": "change_kernel", "kernel": 7515}),
])
def test_libcloud_droplet_actions_send_their_documented_body(
        call: Callable[[DigitalOceanNodeDriver], bool], body: dict[str, Any]) -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", _action(body["type"]), status=201)
        assert call(driver) is True
    assert [(c.method, c.path) for c in traffic.calls] == [("POST", "/v2/droplets/401001/actions")]
    assert traffic.calls[0].json() == body


def test_change_kernel_refuses_a_non_numeric_id_before_any_request() -> None:
    with checked() as (_, traffic), pytest.raises(ValidationError, match="kernel_id"):
        make_driver().ex_change_kernel("401001", "latest")
    assert traffic.calls == []


def test_create_node_takes_ex_create_attr_and_ex_ssh_key_ids() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        node = driver.create_node(name="web-3", size="s-1vcpu-1gb", image="ubuntu-24-04-x64", location="nyc3",
                                  ex_create_attr={"backups": True, "ipv6": True, "private_networking": True,
                                                  "tags": ["web"], "ssh_keys": [512001]},
                                  ex_ssh_key_ids=[512002])
    assert traffic.calls[0].json() == {
        "name": "web-3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "region": "nyc3",
        "ssh_keys": [512001, 512002], "tags": ["web"], "ipv6": True, "backups": True, "private_networking": True,
    }
    assert node.id == "401010"


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"ex_create_attr": {"made_up": 1}}, "made_up"),
    ({"ex_create_attr": {"tags": ["a"]}, "ex_tags": ["b"]}, "given twice"),
    ({"ex_create_attr": ["tags"]}, "dict"),
])
def test_bad_ex_create_attr_is_refused_before_any_request(kwargs: dict[str, Any], text: str) -> None:
    with checked() as (_, traffic), pytest.raises(ValidationError, match=text):
        make_driver().create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3", **kwargs)
    assert traffic.calls == []


def test_create_node_has_no_catch_all() -> None:
    with checked() as (_, traffic), pytest.raises(TypeError, match="ex_made_up"):
        make_driver().create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", ex_made_up=1)  # type: ignore[call-arg]
    assert traffic.calls == []


def test_create_key_pair_with_public_key_imports_it() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/account/keys", "POST_v2_account_keys.json", status=201)
        pair = driver.create_key_pair(name="laptop", public_key=PUBLIC)
    assert traffic.calls[0].json() == {"name": "laptop", "public_key": PUBLIC}
    assert pair.private_key is None and pair.id


def test_delete_key_pair_takes_libcloud_key_keyword() -> None:
    driver = make_driver()
    pair = KeyPair("laptop", PUBLIC, None, driver, id="512001")
    with checked() as (mock, traffic):
        add(mock, "DELETE", "/v2/account/keys/512001", status=204)
        assert driver.delete_key_pair(key=pair) is True
    assert [(c.method, c.path) for c in traffic.calls] == [("DELETE", "/v2/account/keys/512001")]
    with pytest.raises(ValidationError, match="not both"):
        driver.delete_key_pair(pair, key=pair)


def test_account_events_and_node_details() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account", "GET_v2_account.json")
        add(mock, "GET", "/v2/actions", "GET_v2_actions.json")
        add(mock, "GET", "/v2/actions/2290020001", "GET_v2_actions_2290020001_completed.json")
        add(mock, "GET", "/v2/droplets/401001", "GET_v2_droplets_401001.json")
        account = driver.ex_account_info()
        events = driver.ex_list_events()
        event = driver.ex_get_event(event_id="2290020001")
        node = driver.ex_get_node_details(node_id="401001")
    assert account == fixture("GET_v2_account.json")["account"]
    assert events == fixture("GET_v2_actions.json")["actions"]
    assert event == fixture("GET_v2_actions_2290020001_completed.json")["action"]
    assert node.id == "401001"
    assert all(c.headers["Authorization"] == f"Bearer {TOKEN}" for c in traffic.calls)
    assert [c.path for c in traffic.calls] == ["/v2/account", "/v2/actions", "/v2/actions/2290020001",
                                               "/v2/droplets/401001"]
