"""HostVirtual SSH keys on ``/server/sshkeys``."""

from __future__ import annotations

import pytest
from drivers._hostvirtual_support import (
    HostVirtualAPI,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    load,
)

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import NotFoundError, ValidationError
from cloudkit.models import KeyPair
from cloudkit.sshkeys import fingerprint_md5

NEW_KEY = load("POST_server_sshkeys.json")["ssh_key"]


def test_list_key_pairs(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_server_sshkeys.json")
    keys = driver.list_key_pairs()
    assert [(k.id, k.name) for k in keys] == [("5501", "ops-bastion"), ("5507", "ci-runner")]
    assert keys[0].public_key.startswith("ssh-ed25519 ")
    assert keys[0].fingerprint == "78:73:5d:0c:a8:a9:c1:08:7c:2b:a5:b5:a5:1b:84:24"
    assert keys[0].fingerprint == fingerprint_md5(keys[0].public_key)
    assert keys[0].private_key is None


def test_list_key_pairs_empty(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_server_sshkeys_404_empty.json")
    assert driver.list_key_pairs() == []


def test_get_key_pair(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_server_sshkeys.json")
    assert driver.get_key_pair("ci-runner").id == "5507"
    with pytest.raises(NotFoundError):
        driver.get_key_pair("nobody")


def test_import_key_pair(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_server_sshkeys.json")
    pair = driver.import_key_pair_from_string("new-laptop", NEW_KEY + "\n")
    assert (pair.id, pair.name, pair.public_key) == ("5512", "new-laptop", NEW_KEY)
    assert pair.fingerprint == fingerprint_md5(NEW_KEY)
    (call,) = api.calls
    assert (call.method, call.path) == ("POST", "/server/sshkeys")
    assert call.body == {"name": "new-laptop", "ssh_key": NEW_KEY}


def test_import_key_pair_with_a_bare_success_reply(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="POST", path="/server/sshkeys", body={"status": "success"})
    pair = driver.import_key_pair_from_string("new-laptop", NEW_KEY)
    assert (pair.id, pair.name, pair.fingerprint) == (None, "new-laptop", fingerprint_md5(NEW_KEY))


@pytest.mark.parametrize(("name", "material", "text"), [
    ("", NEW_KEY, "name"),
    ("k", "ssh-ed25519 AAAA", "truncated|base64"),
    ("k", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "private key"),
    ("k", "", "empty"),
])
def test_import_refuses_bad_input_before_sending(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                 name: str, material: str, text: str) -> None:
    with pytest.raises(ValidationError, match=text):
        driver.import_key_pair_from_string(name, material)
    assert api.calls == []


def test_import_refused_by_the_api(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_server_sshkeys_412.json")
    with pytest.raises(ValidationError, match="already exists"):
        driver.import_key_pair_from_string("ci-runner", NEW_KEY)


def test_create_key_pair_generates_locally(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_server_sshkeys.json")
    pair = driver.create_key_pair("new-laptop")
    assert pair.private_key is not None and "PRIVATE KEY" in pair.private_key
    assert pair.private_key not in repr(pair)
    sent = api.calls[0].body
    assert sent["name"] == "new-laptop" and sent["ssh_key"].startswith("ssh-ed25519 ")
    assert "PRIVATE" not in sent["ssh_key"]


def test_delete_key_pair_by_id(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("DELETE_server_sshkeys_5507.json")
    assert driver.delete_key_pair(KeyPair("ci-runner", "", None, driver, id="5507")) is True
    assert api.route() == [("DELETE", "/server/sshkeys/5507")]


def test_delete_key_pair_by_name_looks_it_up(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_server_sshkeys.json")
    api.reply("DELETE_server_sshkeys_5507.json")
    assert driver.delete_key_pair(KeyPair("ci-runner", "", None)) is True
    assert api.route() == [("GET", "/server/sshkeys"), ("DELETE", "/server/sshkeys/5507")]


def test_delete_missing_key(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("DELETE_server_sshkeys_404.json")
    with pytest.raises(NotFoundError, match="ssh key"):
        driver.delete_key_pair(KeyPair("gone", "", None, id="5507"))
