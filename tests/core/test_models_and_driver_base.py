"""Models (ids as str, safe reprs), the NodeDriver contract's generic parts and the dummy driver."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudkit import (
    ActionNotAllowedError,
    KeyPair,
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeSize,
    NodeState,
    NotFoundError,
    NotSupportedError,
    ValidationError,
    WaitTimeoutError,
    get_driver,
)
from cloudkit.driver import NodeDriver
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.sshkeys import fingerprint_md5, fingerprint_sha256, generate_key_pair, parse_public_key


def test_ids_are_strings_whatever_the_provider_sends() -> None:
    node = Node(3164444, "web", "running", [], [])
    size = NodeSize(7, "s", 1024, 25, None, None)
    assert node.id == "3164444" and size.id == "7"
    assert node.state is NodeState.RUNNING
    assert KeyPair("k", "ssh-ed25519 AAAA", None, id=512190).id == "512190"


def test_reprs_hide_secrets() -> None:
    pair = KeyPair("deploy", "ssh-ed25519 AAAA", "aa:bb", private_key="-----BEGIN OPENSSH PRIVATE KEY-----xyz")
    assert "PRIVATE" not in repr(pair) and "<hidden>" in repr(pair)
    pw = NodeAuthPassword("hunter2-very-secret")
    assert "hunter2" not in repr(pw) and "hunter2" not in str(pw)
    node = Node("1", "n", NodeState.RUNNING, ["1.2.3.4"], [], extra={"password": "s3cr3t-root-pw"})
    assert "s3cr3t" not in repr(node)
    assert "ssh-ed25519" in repr(NodeAuthSSHKey("ssh-ed25519 AAAAC3 me@host"))
    driver = DummyNodeDriver("dummy-token-123456")
    assert "dummy-token-123456" not in repr(driver) and "dummy-token-123456" not in repr(driver.connection)


def test_node_convenience_methods_go_through_the_driver() -> None:
    driver = DummyNodeDriver()
    node = driver.create_node("web-1", "small", "debian-12")
    node = driver.get_node(node.id)
    assert node.reboot() is True
    assert node.stop() is True
    assert driver.get_node(node.id).state is NodeState.STOPPED
    assert driver.get_node(node.id).start() is True
    assert node.destroy() is True
    with pytest.raises(NotFoundError):
        driver.get_node(node.id)


def test_unsupported_methods_name_driver_and_method() -> None:
    class Tiny(NodeDriver):
        name = "Tiny"
        connectionCls = DummyNodeDriver.connectionCls

    driver = Tiny("k")
    with pytest.raises(NotImplementedError) as info:
        driver.list_nodes()
    assert isinstance(info.value, NotSupportedError)
    assert "Tiny" in str(info.value) and "list_nodes" in str(info.value)
    assert not driver.supports("reboot_node")
    assert "does not implement reboot_node" in driver.supports("reboot_node").reason
    assert not driver.supports("create_key_pair") or True  # derived from import support
    with pytest.raises(NotSupportedError):
        driver.create_key_pair("k")


def test_unknown_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="ex_bogus"):
        DummyNodeDriver("k", ex_bogus=1)


def test_wait_until_running_returns_addresses() -> None:
    driver = DummyNodeDriver(ex_boot_seconds=0.3)
    node = driver.create_node("web-1", "small", "debian-12")
    assert node.state is NodeState.PENDING
    [(ready, ips)] = driver.wait_until_running([node], wait_period=0.1, timeout=5)
    assert ready.state is NodeState.RUNNING and ips == ["127.0.0.1"]


def test_wait_until_running_timeout_names_node_condition_and_last_state() -> None:
    driver = DummyNodeDriver(ex_never_boot=True)
    node = driver.create_node("stuck-1", "small", "debian-12")
    with pytest.raises(WaitTimeoutError) as info:
        driver.wait_until_running([node], wait_period=0.05, timeout=0.3)
    err = info.value
    assert "stuck-1" in str(err) and "pending" in str(err) and "state running" in str(err)
    assert err.nodes[0].id == node.id and err.last_states == {node.id: "pending"}
    assert isinstance(err, TimeoutError)


def test_wait_until_running_waits_for_an_address() -> None:
    driver = DummyNodeDriver(ex_public_ips=())
    node = driver.create_node("noip", "small", "debian-12")
    with pytest.raises(WaitTimeoutError, match="address on public_ips"):
        driver.wait_until_running([node], wait_period=0.05, timeout=0.2)
    [(_, ips)] = driver.wait_until_running([node], wait_period=0.05, timeout=1, ssh_interface="private_ips")
    assert ips and ips[0].startswith("10.")


def test_actions_not_allowed_in_a_state_raise_before_anything_happens() -> None:
    driver = DummyNodeDriver()
    node = driver.get_node(driver.create_node("a", "small", "debian-12").id)
    assert driver.node_actions(node) == {"reboot_node", "stop_node", "destroy_node"}
    with pytest.raises(ActionNotAllowedError) as info:
        driver.start_node(node)
    assert "running" in str(info.value) and "stop_node" in str(info.value)
    assert driver.start_node(node, ex_force=True) is True


def test_dummy_refuses_bad_input_with_validation_errors() -> None:
    driver = get_driver("dummy")()
    with pytest.raises(ValidationError, match="unknown size"):
        driver.create_node("a", "huge", "debian-12")
    with pytest.raises(ValidationError):
        driver.create_node("", "small", "debian-12")
    with pytest.raises(ValidationError):
        driver.create_node("a", "small", "debian-12", auth=NodeAuthSSHKey("not a key"))
    assert driver.list_nodes() == []


def test_dummy_key_pairs_and_created_at() -> None:
    driver = DummyNodeDriver()
    pair = driver.create_key_pair("laptop")
    assert pair.private_key and "OPENSSH PRIVATE KEY" in pair.private_key
    assert driver.get_key_pair("laptop").fingerprint == fingerprint_md5(pair.public_key)
    assert driver.get_key_pair("laptop").private_key is None
    assert driver.delete_key_pair(pair) is True
    assert driver.list_key_pairs() == []
    node = driver.create_node("t", "small", "debian-12", ex_tags=["web"])
    assert isinstance(node.created_at, dt.datetime) and node.created_at.tzinfo is not None
    assert [n.id for n in driver.list_nodes(tag="web")] == [node.id]
    assert driver.list_nodes(tag="db") == []


def test_public_key_helpers() -> None:
    private, public = generate_key_pair()
    kind, blob, comment = parse_public_key(public)
    assert kind == "ssh-ed25519" and comment == "cloudkit" and blob
    assert fingerprint_sha256(public).startswith("SHA256:")
    assert len(fingerprint_md5(public).split(":")) == 16
    for bad in ("", "ssh-rsa", "ssh-rsa !!!notbase64", private, "ssh-foo AAAA"):
        with pytest.raises(ValidationError):
            parse_public_key(bad)
