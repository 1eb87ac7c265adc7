"""HostVirtual create_node: order a package, build it, and cancel the order if the build fails."""

from __future__ import annotations

import pytest
import requests
from drivers._hostvirtual_support import (
    HostVirtualAPI,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    load,
    make_driver,
)

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import (
    CreateNodeError,
    MalformedResponseError,
    OutcomeUnknownError,
    ServerError,
    ValidationError,
)
from cloudkit.models import NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize, NodeState

PUBKEY = load("GET_server_sshkeys.json")[0]["ssh_key"]
NAME = "web7.cloudkit-test.net"


def size(driver: HostVirtualNodeDriver) -> NodeSize:
    return NodeSize("102", "VR2G", 2048, 40, 2000.0, 0.02, driver)


def create(driver: HostVirtualNodeDriver, **kwargs: object) -> object:
    args: dict[str, object] = {"name": NAME, "size": size(driver), "image": NodeImage("3102", "Debian 12 x64"),
                               "location": NodeLocation("33", "AMS - Amsterdam, NL", "NL"),
                               "auth": NodeAuthSSHKey(PUBKEY), "ex_wait_timeout": 0, "ex_poll_interval": 0}
    args.update(kwargs)
    return driver.create_node(**args)  # type: ignore[arg-type]


def happy_path(api: HostVirtualAPI) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build.json")
    api.reply("GET_cloud_server_412030_building.json")


def test_create_with_an_ssh_key(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    node = driver.create_node(NAME, size(driver), NodeImage("3102", "Debian 12 x64", driver),
                              NodeLocation("33", "AMS - Amsterdam, NL", "NL", driver),
                              auth=NodeAuthSSHKey(PUBKEY + "\n"))
    assert (node.id, node.name, node.state) == ("412030", NAME, NodeState.PENDING)
    assert node.public_ips == ["198.51.100.52", "2001:db8:200::52"]
    assert node.extra["job_id"] == "9912001"
    assert node.extra["size"] == "102" and node.extra["location"] == "33" and node.extra["image"] == "3102"
    assert node.size is not None and node.size.id == "102"
    assert node.image is not None and node.image.id == "3102"
    assert "password" not in node.extra
    assert api.route() == [("POST", "/cloud/buy/"), ("POST", "/cloud/server/build"), ("GET", "/cloud/server")]
    buy, build, get = api.calls
    assert buy.body == {"plan": "VR2G"}
    assert build.body == {"mbpkgid": "412030", "fqdn": NAME, "image": "3102", "location": "33",
                          "ssh_key": PUBKEY}
    assert get.query["mbpkgid"] == "412030"


def test_create_with_a_password(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    node = create(driver, auth=NodeAuthPassword("Chosen-by-User-42"))
    assert api.calls[1].body["password"] == "Chosen-by-User-42"
    assert "ssh_key" not in api.calls[1].body
    assert "password" not in node.extra  # the caller's own password is not echoed back


def test_create_without_auth_generates_a_password(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    node = create(driver, auth=None)
    sent = api.calls[1].body["password"]
    assert len(sent) >= 20 and any(c.isdigit() for c in sent) and any(c.isupper() for c in sent)
    assert node.extra["password"] == sent
    assert sent not in repr(node)


def test_create_with_a_stored_key_id(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    node = create(driver, auth=None, ex_ssh_key_id="5501")
    assert api.calls[1].body["ssh_key_id"] == "5501"
    assert "password" not in api.calls[1].body and "password" not in node.extra


def test_create_waits_for_the_server_record(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build.json")
    api.reply("GET_cloud_server_412_not_built.json")
    api.reply("GET_cloud_server_412_not_built.json")
    api.reply("GET_cloud_server_412030_building.json")
    node = create(driver, ex_wait_timeout=5, ex_poll_interval=0.01)
    assert node.public_ips == ["198.51.100.52", "2001:db8:200::52"]
    assert [c.path for c in api.calls].count("/cloud/server") == 3


def test_create_returns_a_pending_node_when_the_record_is_late(api: HostVirtualAPI,
                                                               driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build.json")
    api.reply("GET_cloud_server_412_not_built.json")
    node = create(driver, ex_wait_timeout=0)
    assert (node.id, node.name, node.state, node.public_ips) == ("412030", NAME, NodeState.PENDING, [])
    assert node.extra["location"] == "33" and node.extra["job_id"] == "9912001"


def test_create_with_ids(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes.json")
    happy_path(api)
    node = driver.create_node(NAME, "102", "3102", "33", NodeAuthSSHKey(PUBKEY), ex_wait_timeout=0)
    assert api.calls[1].body == {"plan": "VR2G"}  # the plan id was turned into its name
    assert node.size is None and node.extra["size"] == "102"


def test_create_with_a_plan_name_needs_no_lookup(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    create(driver, size="VR2G")
    assert api.route()[0] == ("POST", "/cloud/buy/")
    assert api.calls[0].body == {"plan": "VR2G"}


def test_create_uses_the_default_location(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    create(driver, location=None)
    assert api.calls[1].body["location"] == "21"


@pytest.mark.parametrize("bad_name", ["web1", "-web.example.com", "web-.example.com", "a..example.com",
                                      "web_1.example.com", "x" * 64 + ".example.com",
                                      ("a" * 60 + ".") * 5 + "com", "", None])
def test_bad_names_are_refused_before_anything_is_ordered(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                          bad_name: object) -> None:
    with pytest.raises(ValidationError, match="domain name"):
        create(driver, name=bad_name)
    assert api.calls == []


def test_a_trailing_dot_is_fine(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    happy_path(api)
    create(driver, name="web7.cloudkit-test.net.")
    assert api.calls[1].body["fqdn"] == "web7.cloudkit-test.net."


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"auth": NodeAuthSSHKey("ssh-ed25519 not-base64!")}, "base64"),
    ({"auth": NodeAuthSSHKey("-----BEGIN OPENSSH PRIVATE KEY-----")}, "private key"),
    ({"auth": NodeAuthPassword("   ")}, "password"),
    ({"auth": "hunter2"}, "NodeAuthSSHKey"),
    ({"image": ""}, "image"),
    ({"location": "../21"}, "location"),
    ({"size": NodeSize("", "", 0, 0, None, None)}, "size"),
    ({"ex_userdata": "x"}, "unknown create_node arguments"),
    ({"ex_wait_timeout": "soon"}, "ex_wait_timeout"),
    ({"ex_poll_interval": -1}, "ex_poll_interval"),
])
def test_bad_input_is_refused_before_anything_is_ordered(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                         kwargs: dict[str, object], text: str) -> None:
    with pytest.raises(ValidationError, match=text):
        create(driver, **kwargs)
    assert api.calls == []


def test_an_unknown_plan_id_is_refused_before_ordering(api: HostVirtualAPI,
                                                       driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes.json")
    with pytest.raises(ValidationError, match="unknown size '999'"):
        create(driver, size="999")
    assert api.route() == [("GET", "/cloud/sizes/")]


# -- the order step fails ---------------------------------------------------------------------

def test_order_refused(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy_412.json")
    with pytest.raises(ValidationError, match="out of stock"):
        create(driver)
    assert api.route() == [("POST", "/cloud/buy/")]  # nothing built, nothing to cancel


def test_order_reply_without_an_id(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="POST", path="/cloud/buy/", body={"status": "success"})
    with pytest.raises(MalformedResponseError, match="ex_list_packages"):
        create(driver)
    assert api.route() == [("POST", "/cloud/buy/")]


def test_order_connection_dropped_is_not_repeated(api: HostVirtualAPI,
                                                  driver: HostVirtualNodeDriver) -> None:
    api.reply(method="POST", path="/cloud/buy/",
              exception=requests.exceptions.ConnectionError("connection reset by peer"))
    with pytest.raises(OutcomeUnknownError) as info:
        make_driver(max_retries=3).create_node(NAME, size(driver), "3102", "33", NodeAuthSSHKey(PUBKEY))
    assert "VR2G" in str(info.value) and "ex_list_packages" in str(info.value)
    assert api.route() == [("POST", "/cloud/buy/")]


# -- the build step fails: the order is cancelled ------------------------------------------------

@pytest.mark.parametrize(("fixture", "status", "text"), [
    ("POST_cloud_server_build_412.json", 412, "image 3103 is not available in location 9"),
    ("POST_cloud_server_build_500.json", 500, "provisioning backend unavailable"),
])
def test_build_failure_cancels_the_order(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                         fixture: str, status: int, text: str) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply(fixture)
    api.reply("POST_cloud_cancel.json")
    with pytest.raises(CreateNodeError) as info:
        create(driver)
    error = info.value
    assert api.route() == [("POST", "/cloud/buy/"), ("POST", "/cloud/server/build"), ("POST", "/cloud/cancel")]
    assert api.calls[2].body == {"mbpkgid": "412030"}
    assert error.cleaned_up is True and error.cleanup_error is None
    assert error.resource_id == "412030"
    assert error.status == status
    assert isinstance(error.cause, ValidationError if status == 412 else ServerError)
    message = str(error)
    assert text in message and "412030" in message
    assert "the order was cancelled" in message and "not billed" in message


def test_build_and_cancel_both_fail(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build_412.json")
    api.reply("POST_cloud_cancel_500.json")
    with pytest.raises(CreateNodeError) as info:
        create(driver)
    error = info.value
    assert error.cleaned_up is False
    assert isinstance(error.cleanup_error, ServerError)
    assert isinstance(error.cause, ValidationError)
    assert error.resource_id == "412030"
    message = str(error)
    assert "image 3103 is not available" in message
    assert "cancelling the order ALSO failed" in message and "billing backend unavailable" in message
    assert "package 412030 is still ordered and may be billed" in message
    assert "ex_cancel_package('412030')" in message
    # Neither POST was repeated.
    assert api.route() == [("POST", "/cloud/buy/"), ("POST", "/cloud/server/build"), ("POST", "/cloud/cancel")]


def test_cancel_connection_failure_is_reported_too(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply("POST_cloud_server_build_500.json")
    api.reply(method="POST", path="/cloud/cancel", exception=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(CreateNodeError) as info:
        create(driver)
    assert info.value.cleaned_up is False
    assert isinstance(info.value.cleanup_error, OutcomeUnknownError)
    assert "still ordered" in str(info.value)


def test_build_outcome_unknown_keeps_the_package_and_names_what_to_look_for(
        api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply(method="POST", path="/cloud/server/build",
              exception=requests.exceptions.ConnectionError("connection reset by peer"))
    with pytest.raises(OutcomeUnknownError) as info:
        make_driver(max_retries=3).create_node(NAME, size(driver), "3102", "33", NodeAuthSSHKey(PUBKEY))
    message = str(info.value)
    assert NAME in message and "may have been built" in message
    assert "ex_cancel_package(" in message
    # The build may have happened: the order is not cancelled, and nothing is repeated.
    assert api.route() == [("POST", "/cloud/buy/"), ("POST", "/cloud/server/build")]


def test_an_error_body_with_status_200_is_a_failed_build(api: HostVirtualAPI,
                                                         driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply(method="POST", path="/cloud/server/build",
              body={"error": {"code": 412, "message": "Precondition Failed: location full"}})
    api.reply("POST_cloud_cancel.json")
    with pytest.raises(CreateNodeError, match="location full") as info:
        create(driver)
    assert isinstance(info.value.cause, ValidationError)
    assert info.value.cleaned_up is True


def test_a_build_reply_that_is_not_json_still_means_accepted(api: HostVirtualAPI,
                                                             driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_buy.json")
    api.reply(method="POST", path="/cloud/server/build", raw="OK", content_type="text/plain")
    api.reply("GET_cloud_server_412030_building.json")
    node = create(driver)
    assert node.id == "412030" and "job_id" not in node.extra
    assert ("POST", "/cloud/cancel") not in api.route()


def test_a_password_echoed_in_a_build_error_is_hidden(api: HostVirtualAPI,
                                                      driver: HostVirtualNodeDriver) -> None:
    password = "Echoed-Passw0rd-991"
    api.reply("POST_cloud_buy.json")
    api.reply(method="POST", path="/cloud/server/build", status=412,
              body={"error": {"code": 412, "message": f"Precondition Failed: password {password} too weak"}})
    api.reply("POST_cloud_cancel.json")
    with pytest.raises(CreateNodeError) as info:
        create(driver, auth=NodeAuthPassword(password))
    assert password not in str(info.value)
    assert password not in str(info.value.cause)
    assert password not in info.value.cause.body  # type: ignore[attr-defined]
    assert "too weak" in str(info.value)
