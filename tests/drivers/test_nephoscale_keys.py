"""NephoScale keys: SSH key pairs and password keys (list, get, create, delete, errors)."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from drivers._nephoscale_support import (
    ED_KEY,
    KEY_PASSWORDS,
    RSA_KEY,
    add,
    api_fixture,  # noqa: F401  (a fixture)
    calls,
    driver_fixture,  # noqa: F401  (a fixture)
    form,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)

from cloudkit.drivers.nephoscale import (
    KEY_GROUP_CONSOLE,
    KEY_GROUP_SERVER,
    NephoscaleNodeDriver,
    NephoscalePasswordKey,
)
from cloudkit.errors import (
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ValidationError,
)
from cloudkit.models import KeyPair
from cloudkit.sshkeys import fingerprint_md5, parse_public_key

# -- SSH keys ---------------------------------------------------------------------------------


def test_list_key_pairs(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    pairs = driver.list_key_pairs()
    assert [(p.id, p.name) for p in pairs] == [
        ("91502", "build-key"), ("91517", "alice-ed25519"), ("91400", "legacy-import")]
    assert pairs[0].public_key == RSA_KEY
    assert pairs[0].fingerprint == fingerprint_md5(RSA_KEY)
    assert pairs[1].fingerprint == fingerprint_md5(ED_KEY)
    assert pairs[2].fingerprint is None  # corrupted key material: no fingerprint, no error
    assert pairs[0].extra == {"key_group": 1, "key_type": 2, "create_time": "2014-07-21 10:58:13",
                              "uri": "https://api.nephoscale.com/key/sshrsa/91502/"}
    assert pairs[0].private_key is None


def test_list_key_pairs_401(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa_401.json")
    with pytest.raises(InvalidCredsError):
        driver.list_key_pairs()


def test_get_key_pair_by_name_and_id(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    assert driver.get_key_pair("alice-ed25519").id == "91517"
    assert driver.get_key_pair("91502").name == "build-key"
    with pytest.raises(NotFoundError):
        driver.get_key_pair("nope")


def test_import_key_pair(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    pair = driver.import_key_pair_from_string("laptop", RSA_KEY + "\n")
    assert (pair.id, pair.name, pair.public_key) == ("91600", "laptop", RSA_KEY)
    assert pair.fingerprint == fingerprint_md5(RSA_KEY)
    assert form(api.calls[0]) == {"name": "laptop", "public_key": RSA_KEY, "key_group": "1"}
    assert api.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_import_key_pair_into_the_console_group(api: responses.RequestsMock,
                                                driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    driver.import_key_pair_from_string("console-ssh", ED_KEY, ex_key_group=KEY_GROUP_CONSOLE)
    assert form(api.calls[0])["key_group"] == "4"


def test_import_key_pair_from_file(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                   tmp_path: Path) -> None:
    path = tmp_path / "id_rsa.pub"
    path.write_text(RSA_KEY + "\n")
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    assert driver.import_key_pair_from_file("from-file", str(path)).id == "91600"


@pytest.mark.parametrize(("name", "material", "message"), [
    ("", RSA_KEY, "name"),
    ("k", "", "empty"),
    ("k", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----", "private key"),
    ("k", "ssh-rsa", "look like"),
    ("k", "ssh-foo AAAA", "unknown"),
])
def test_import_refuses_bad_input_before_sending(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                                 name: str, material: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        driver.import_key_pair_from_string(name, material)
    assert len(api.calls) == 0


def test_import_refused_by_the_api(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa_400.json")
    with pytest.raises(ValidationError, match="public_key") as info:
        driver.import_key_pair_from_string("laptop", ED_KEY)
    assert info.value.status == 400


def test_import_reply_without_an_id_is_malformed(api: responses.RequestsMock,
                                                 driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/sshrsa/", body={"success": True, "response": 201, "message": "ok", "data": {}})
    with pytest.raises(MalformedResponseError, match="no key id"):
        driver.import_key_pair_from_string("laptop", ED_KEY)


def test_create_key_pair_makes_an_rsa_key(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/sshrsa/", "POST_key_sshrsa.json")
    pair = driver.create_key_pair("generated")
    assert pair.id == "91600"
    assert pair.private_key is not None and "PRIVATE KEY" in pair.private_key
    kind, _, _ = parse_public_key(pair.public_key)
    assert kind == "ssh-rsa"
    assert form(api.calls[0])["public_key"] == pair.public_key
    assert "PRIVATE" not in str(api.calls[0].request.body)
    assert pair.private_key not in repr(pair)


def test_delete_key_pair_by_object_id_and_name(api: responses.RequestsMock,
                                               driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/key/sshrsa/91502/", "DELETE_key_sshrsa_ID.json")
    add(api, "DELETE", "/key/sshrsa/91517/", "DELETE_key_sshrsa_ID.json")
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa.json")
    add(api, "DELETE", "/key/sshrsa/91400/", "DELETE_key_sshrsa_ID.json")
    assert driver.delete_key_pair(KeyPair("build-key", RSA_KEY, None, driver, id="91502")) is True
    assert driver.delete_key_pair("91517") is True
    assert driver.delete_key_pair(KeyPair("legacy-import", "", None, driver)) is True
    assert calls(api) == [("DELETE", "/key/sshrsa/91502/"), ("DELETE", "/key/sshrsa/91517/"),
                          ("GET", "/key/sshrsa/"), ("DELETE", "/key/sshrsa/91400/")]


def test_delete_key_pair_404(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/key/sshrsa/91502/", "DELETE_key_sshrsa_ID_404.json")
    with pytest.raises(NotFoundError):
        driver.delete_key_pair("91502")


# -- password keys ----------------------------------------------------------------------------


def test_list_password_keys(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/password/", "GET_key_password.json")
    keys = driver.ex_list_password_keys()
    assert [(k.id, k.name, k.key_group) for k in keys] == [
        ("91503", "console-build-01", KEY_GROUP_CONSOLE), ("91520", "server-db_primary", KEY_GROUP_SERVER)]
    assert [k.password for k in keys] == KEY_PASSWORDS
    for key in keys:
        assert key.password is not None
        assert key.password not in repr(key) and key.password not in str(key)
        assert "password=<hidden>" in repr(key)
    assert keys[0].extra["key_type"] == 1


def test_get_password_key(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/password/", "GET_key_password.json")
    assert driver.ex_get_password_key("server-db_primary").id == "91520"
    assert driver.ex_get_password_key("91503").name == "console-build-01"
    with pytest.raises(NotFoundError):
        driver.ex_get_password_key("missing")


def test_list_password_keys_forbidden(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/key/password/", "GET_key_password_403.json")
    with pytest.raises(ForbiddenError, match="permission"):
        driver.ex_list_password_keys()


def test_create_password_key_with_a_given_password(api: responses.RequestsMock,
                                                   driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/password/", "POST_key_password.json")
    key = driver.ex_create_password_key("root-web", "S3cret-Root-pw", KEY_GROUP_SERVER)
    assert (key.id, key.name, key.key_group, key.password) == ("91601", "root-web", 1, "S3cret-Root-pw")
    assert form(api.calls[0]) == {"name": "root-web", "password": "S3cret-Root-pw", "key_group": "1"}


def test_create_password_key_generates_one(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/password/", "POST_key_password.json")
    key = driver.ex_create_password_key("console-web")
    assert key.key_group == KEY_GROUP_CONSOLE
    assert key.password is not None and len(key.password) == 16
    assert form(api.calls[0])["password"] == key.password


@pytest.mark.parametrize(("name", "password", "group"), [("", None, 4), ("k", "", 4), ("k", None, 2),
                                                          ("k", None, True)])
def test_create_password_key_validates(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                       name: str, password: str | None, group: int) -> None:
    with pytest.raises(ValidationError):
        driver.ex_create_password_key(name, password, group)
    assert len(api.calls) == 0


def test_create_password_key_refused(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/key/password/", "POST_key_password_400.json")
    with pytest.raises(ValidationError, match="password") as info:
        driver.ex_create_password_key("console-web", "S3cret-Root-pw")
    assert "S3cret-Root-pw" not in str(info.value)


def test_delete_password_key(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/key/password/91503/", "DELETE_key_password_ID.json")
    add(api, "DELETE", "/key/password/91520/", "DELETE_key_password_ID.json")
    assert driver.ex_delete_password_key(NephoscalePasswordKey("91503", "c", 4)) is True
    assert driver.ex_delete_password_key("91520") is True


def test_delete_password_key_404(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/key/password/91503/", "DELETE_key_password_ID_404.json")
    with pytest.raises(NotFoundError):
        driver.ex_delete_password_key("91503")
    with pytest.raises(ValidationError):
        driver.ex_delete_password_key("console-build-01")
