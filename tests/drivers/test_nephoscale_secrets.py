"""NephoScale: the account password, the Basic token and key passwords never leak into logs,
reprs or error texts (with cloudkit's loggers at DEBUG)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from drivers._nephoscale_support import (
    BASIC_TOKEN,
    FAST,
    KEY_PASSWORDS,
    PASSWORD,
    add,
    api_fixture,  # noqa: F401  (a fixture)
    load,
    make_driver,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)

from cloudkit.errors import CloudkitError, MalformedResponseError, ServerError, ValidationError
from cloudkit.models import NodeAuthPassword

ROOT_PASSWORD = "Given-R00t-Passw0rd"


def _texts_of(error: BaseException) -> list[str]:
    out = [str(error), repr(error), *(str(a) for a in error.args)]
    for attr in ("message", "body", "hint"):
        value = getattr(error, attr, None)
        if value:
            out.append(str(value))
    return out


def _assert_clean(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:200]}"


def _log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [caplog.text]
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
    return texts


def test_a_whole_flow_leaks_nothing(api: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudkit")
    driver = make_driver()
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone.json")
    add(api, "GET", "/server/type/cloud/", "GET_server_type_cloud.json")
    add(api, "GET", "/image/server/", "GET_image_server.json")
    add(api, "GET", "/key/password/", "GET_key_password.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    add(api, "POST", "/server/cloud/150412/initiator/restart/", "POST_server_cloud_ID_initiator_restart.json")
    add(api, "DELETE", "/server/cloud/150412/", "DELETE_server_cloud_ID.json")
    add(api, "GET", "/key/sshrsa/", "GET_key_sshrsa_401.json")

    objects: list[Any] = [driver, driver.connection]
    assert driver.verify_credentials()
    objects += driver.list_sizes() + driver.list_images()
    password_keys = driver.ex_list_password_keys()
    objects += password_keys
    node = driver.create_node("web-7", "46", "411", "88412", auth=NodeAuthPassword(ROOT_PASSWORD),
                              ex_console_key=password_keys[0], **FAST)
    objects.append(node)
    driver.reboot_node(node)
    driver.destroy_node(node)
    with pytest.raises(CloudkitError) as info:
        driver.list_key_pairs()

    secrets = [PASSWORD, BASIC_TOKEN, ROOT_PASSWORD, *KEY_PASSWORDS]
    texts = [repr(o) for o in objects] + [str(o) for o in objects] + _log_texts(caplog) + _texts_of(info.value)
    _assert_clean(texts, secrets)
    # The API itself did get the credentials and the root password.
    assert api.calls[0].request.headers["Authorization"] == f"Basic {BASIC_TOKEN}"
    assert any(ROOT_PASSWORD in str(c.request.body) for c in api.calls)


def test_a_generated_root_password_is_only_in_extra(api: responses.RequestsMock,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudkit")
    driver = make_driver()
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    add(api, "POST", "/key/password/", "POST_key_password.json")
    add(api, "POST", "/server/cloud/", "POST_server_cloud.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_after_create.json")
    node = driver.create_node("web-7", "46", "411", ex_console_key="91503", **FAST)
    generated = node.extra["password"]
    _assert_clean([repr(node), str(node), *_log_texts(caplog)], [generated, PASSWORD, BASIC_TOKEN])


def test_an_error_that_echoes_the_key_password_is_scrubbed(api: responses.RequestsMock,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudkit")
    driver = make_driver()
    body = load("POST_key_password_400.json")
    body["message"] = f"Invalid value for field: password ('{ROOT_PASSWORD}' is too weak)"
    add(api, "POST", "/key/password/", status=400, body=body)
    with pytest.raises(ValidationError) as info:
        driver.ex_create_password_key("root-web", ROOT_PASSWORD, 1)
    assert "too weak" in str(info.value)
    _assert_clean(_texts_of(info.value) + _log_texts(caplog), [ROOT_PASSWORD, PASSWORD, BASIC_TOKEN])


def test_a_broken_password_listing_does_not_quote_its_body(api: responses.RequestsMock) -> None:
    driver = make_driver()
    text = '{"success": true, "data": [{"id": 91503, "password": "' + KEY_PASSWORDS[0] + '", '
    add(api, "GET", "/key/password/", status=200, body=text)
    with pytest.raises(MalformedResponseError) as info:
        driver.ex_list_password_keys()
    _assert_clean(_texts_of(info.value), KEY_PASSWORDS)


def test_a_password_listing_error_does_not_quote_its_body(api: responses.RequestsMock) -> None:
    driver = make_driver()
    add(api, "GET", "/key/password/", status=500, body=f"internal error near {KEY_PASSWORDS[1]}")
    with pytest.raises(ServerError) as info:
        driver.ex_list_password_keys()
    assert info.value.body == ""
    _assert_clean([info.value.body], KEY_PASSWORDS)


def test_driver_and_connection_reprs_hide_the_credentials() -> None:
    driver = make_driver()
    for text in (repr(driver), str(driver), repr(driver.connection), str(driver.connection)):
        assert PASSWORD not in text and BASIC_TOKEN not in text
