"""Linode create_node: the body sent, auth, generated passwords, validation before sending."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest
import requests
from drivers._linode_support import TOKEN, LinodeAPI, linode_api, make_driver

from cloudkit import NodeState
from cloudkit.drivers.linode import generate_root_password, validate_label
from cloudkit.errors import OutcomeUnknownError, ValidationError
from cloudkit.models import NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOnbu0cXKhhvOTOs2x+EUImpCDp0fldMHtKccc4XQ1R8 ci-deploy"
KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMddV5jHKKse2xk4yf0GWiqOUAGYHbdDKmqxK6HWXtav alice@laptop"


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


def create_ok(api: LinodeAPI) -> None:
    api.add("POST", "/v4/linode/instances", "POST_v4_linode_instances.json")


def test_create_node_with_models_and_ssh_key(api: LinodeAPI, caplog: pytest.LogCaptureFixture) -> None:
    create_ok(api)
    driver = make_driver()
    size = NodeSize("g6-nanode-1", "Nanode 1GB", 1024, 25, 1000, 0.0075, driver)
    image = NodeImage("linode/debian12", "Debian 12", driver)
    location = NodeLocation("us-east", "Newark, NJ", "US", driver)
    node = driver.create_node("web-2", size, image, location, auth=NodeAuthSSHKey(KEY), ex_tags=["prod"])
    body = api.calls[0].json()
    password = body.pop("root_pass")
    assert body == {"label": "web-2", "type": "g6-nanode-1", "region": "us-east", "image": "linode/debian12",
                    "authorized_keys": [KEY], "tags": ["prod"]}
    assert node.extra["password"] == password
    assert len(password) >= 32
    assert (node.id, node.name, node.state) == ("61234510", "web-2", NodeState.PENDING)
    assert node.public_ips == ["66.228.57.101"]
    assert node.extra["ipv6"] == "2600:3c03::f03c:94ff:fe5a:77aa"
    # The generated password is returned once, and never shown.
    assert password not in repr(node)
    assert password not in caplog.text
    assert TOKEN not in caplog.text


def test_create_node_with_ids_and_a_password(api: LinodeAPI) -> None:
    create_ok(api)
    node = make_driver().create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east",
                                     auth=NodeAuthPassword("c0rrect-Horse-battery"))
    body = api.calls[0].json()
    assert body["root_pass"] == "c0rrect-Horse-battery"
    assert "authorized_keys" not in body
    assert "password" not in node.extra  # the caller's own password is not echoed back


def test_create_node_without_auth_generates_a_password(api: LinodeAPI) -> None:
    create_ok(api)
    node = make_driver().create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east")
    assert api.calls[0].json()["root_pass"] == node.extra["password"]


def test_create_node_without_image_sends_no_password(api: LinodeAPI) -> None:
    create_ok(api)
    node = make_driver().create_node("web-2", "g6-nanode-1", None, "us-east")
    body = api.calls[0].json()
    assert body == {"label": "web-2", "type": "g6-nanode-1", "region": "us-east"}
    assert "password" not in node.extra


def test_create_node_sends_every_extra(api: LinodeAPI) -> None:
    create_ok(api)
    make_driver().create_node(
        "web-2", "g6-nanode-1", "linode/debian12", "us-east", auth=NodeAuthSSHKey(KEY),
        ex_authorized_keys=[KEY2], ex_authorized_users=["alice"], ex_tags=["prod", "web"], ex_private_ip=True,
        ex_booted=False, ex_backups_enabled=True, ex_stackscript_id=10079,
        ex_stackscript_data={"gh_username": "linode"}, ex_firewall_id=9000, ex_swap_size=256,
        ex_user_data="#cloud-config\npackages: [nginx]\n")
    body = api.calls[0].json()
    assert body["authorized_keys"] == [KEY, KEY2]
    assert body["authorized_users"] == ["alice"]
    assert body["tags"] == ["prod", "web"]
    assert (body["private_ip"], body["booted"], body["backups_enabled"]) == (True, False, True)
    assert (body["stackscript_id"], body["firewall_id"], body["swap_size"]) == (10079, 9000, 256)
    assert body["stackscript_data"] == {"gh_username": "linode"}
    assert base64.b64decode(body["metadata"]["user_data"]) == b"#cloud-config\npackages: [nginx]\n"


def test_create_without_a_label_lets_linode_choose(api: LinodeAPI) -> None:
    create_ok(api)
    make_driver().create_node(None, "g6-nanode-1", "linode/debian12", "us-east")
    assert "label" not in api.calls[0].json()


@pytest.mark.parametrize(("label", "why"), [
    ("ab", "3 to 64"),
    ("a" * 65, "3 to 64"),
    ("1web", "start with a letter"),
    ("-web", "start with a letter"),
    ("web--1", "'--'"),
    ("web__1", "'__'"),
    ("web..1", "'..'"),
    ("web 1", "only letters"),
    ("wéb-1", "only letters"),
    ("web/1", "only letters"),
    ("", "3 to 64"),
])
def test_invalid_labels_are_refused_before_any_request(label: str, why: str, api: LinodeAPI) -> None:
    with pytest.raises(ValidationError, match="invalid Linode label") as info:
        make_driver().create_node(label, "g6-nanode-1", "linode/debian12", "us-east")
    assert why in str(info.value)
    assert info.value.status is None
    assert api.calls == []


@pytest.mark.parametrize("label", ["web", "web-1", "Web_1.example", "a1-b2_c3.d4", "x" * 64])
def test_valid_labels_pass(label: str) -> None:
    assert validate_label(label) == label


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"size": ""}, "size"),
    ({"size": "g6 nanode"}, "type id"),
    ({"image": "linode/debian 12"}, "image id"),
    ({"image": "../../etc"}, "image id"),
    ({"image": "linode/.."}, "image id"),
    ({"location": None}, "region"),
    ({"location": "us east"}, "region id"),
    ({"auth": NodeAuthPassword("short")}, "7 to 128"),
    ({"auth": NodeAuthPassword("x" * 129)}, "7 to 128"),
    ({"auth": NodeAuthSSHKey("not a key")}, "public key"),
    ({"auth": NodeAuthSSHKey("-----BEGIN OPENSSH PRIVATE KEY-----\nabc")}, "private key"),
    ({"auth": "password"}, "NodeAuthSSHKey or a NodeAuthPassword"),
    ({"ex_authorized_keys": ["ssh-ed25519 AAAA"]}, "public key"),
    ({"ex_authorized_keys": KEY2}, "list of public key lines"),
    ({"ex_authorized_users": "alice"}, "list of strings"),
    ({"ex_tags": ["ok-tag", "x"]}, "3 to 50"),
    ({"ex_private_ip": "yes"}, "True or False"),
    ({"ex_stackscript_id": -1}, "non-negative"),
    ({"ex_firewall_id": True}, "non-negative"),
    ({"ex_stackscript_data": ["a"]}, "mapping"),
    ({"image": None, "auth": NodeAuthPassword("c0rrect-Horse-battery")}, "need an image"),
])
def test_bad_input_is_refused_before_any_request(kwargs: dict[str, object], match: str, api: LinodeAPI) -> None:
    args: dict[str, object] = {"name": "web-2", "size": "g6-nanode-1", "image": "linode/debian12",
                               "location": "us-east"}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match) as info:
        make_driver().create_node(**args)  # type: ignore[arg-type]
    assert "c0rrect" not in str(info.value)
    assert api.calls == []


def test_a_dropped_connection_after_sending_says_what_to_look_for(api: LinodeAPI) -> None:
    api.rsps.add("POST", "https://api.linode.com/v4/linode/instances",
                 body=requests.exceptions.ConnectionError("connection reset by peer"))
    driver = make_driver(max_retries=3)
    with pytest.raises(OutcomeUnknownError) as info:
        driver.create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east")
    assert "web-2" in str(info.value)
    assert info.value.hint is not None and "look for a Linode labelled 'web-2'" in info.value.hint
    assert len(api.calls) == 1  # never repeated


def test_create_error_names_every_field(api: LinodeAPI) -> None:
    api.add("POST", "/v4/linode/instances", "error_400.json", status=400)
    with pytest.raises(ValidationError) as info:
        make_driver().create_node("web-2", "g6-nope-1", "linode/debian12", "us-nowhere")
    text = str(info.value)
    assert "type: A valid plan type by that ID was not found" in text
    assert "region: region is not valid" in text
    assert info.value.status == 400


def test_weak_password_error_from_the_api_does_not_echo_it(api: LinodeAPI) -> None:
    api.add("POST", "/v4/linode/instances", "error_400_root_pass.json", status=400)
    with pytest.raises(ValidationError, match="root_pass: Password does not meet strength") as info:
        make_driver().create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east",
                                  auth=NodeAuthPassword("aaaaaaaa1"))
    assert "aaaaaaaa1" not in str(info.value)
    assert "aaaaaaaa1" not in repr(info.value)


def test_generated_passwords_are_strong_and_different() -> None:
    seen = {generate_root_password() for _ in range(50)}
    assert len(seen) == 50
    for password in seen:
        assert len(password) == 32
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


def test_password_never_reaches_debug_logs(api: LinodeAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    create_ok(api)
    node = make_driver().create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east",
                                     auth=NodeAuthPassword("c0rrect-Horse-battery"))
    assert "c0rrect-Horse-battery" not in caplog.text
    assert "c0rrect-Horse-battery" not in repr(node)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
