"""HostVirtual's error shape ``{"error": {"code", "message"}}`` mapped to cloudkit errors."""

from __future__ import annotations

import pytest
from drivers._hostvirtual_support import (
    HostVirtualAPI,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    load,
    make_driver,
)

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
)


def test_listings_read_404_and_412_as_empty(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/images/", status=404, body={"error": {"code": 404, "message": "x"}})
    api.reply(method="GET", path="/cloud/sizes/", status=412, body={"error": {"code": 412, "message": "x"}})
    assert driver.list_images() == []
    assert driver.list_sizes() == []


@pytest.mark.parametrize(("status", "cls"), [
    (400, ValidationError), (401, InvalidCredsError), (403, ForbiddenError), (404, NotFoundError),
    (409, ConflictError), (412, ValidationError), (418, ProviderError), (429, RateLimitError),
    (500, ServerError), (503, ServerError)])
def test_status_and_body_map_to_errors(api: HostVirtualAPI, driver: HostVirtualNodeDriver, status: int,
                                       cls: type[ProviderError]) -> None:
    message = f"Something: detail for {status}"
    api.reply(method="GET", path="/cloud/package/412017", status=status,
              body={"error": {"code": status, "message": message}})
    with pytest.raises(cls) as info:
        driver.ex_get_package("412017")
    error = info.value
    assert type(error) is cls
    assert (error.status, error.message, error.code, error.driver) == (status, message, str(status),
                                                                       "HostVirtual")
    assert str(error) == f"[HostVirtual] HTTP {status}: {message} (code {status})"


def test_code_as_a_numeric_string(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    body = load("POST_cloud_server_build_412.json")
    assert body["error"]["code"] == "412"
    api.reply(method="GET", path="/cloud/package/412017", status=412, body=body)
    with pytest.raises(ValidationError) as info:
        driver.ex_get_package("412017")
    assert info.value.code == "412"
    assert info.value.message == body["error"]["message"]


@pytest.mark.parametrize(("body", "message"), [
    ({"error": {"message": "Not Found: image"}}, "Not Found: image"),
    ({"error": {"code": 404}}, "error code 404"),
    ({"error": "Not Found: flat text"}, "Not Found: flat text"),
    ({"message": "plain message"}, "plain message"),
])
def test_looser_error_shapes(api: HostVirtualAPI, driver: HostVirtualNodeDriver, body: object,
                             message: str) -> None:
    api.reply(method="GET", path="/cloud/package/412017", status=404, body=body)
    with pytest.raises(NotFoundError) as info:
        driver.ex_get_package("412017")
    assert info.value.message == message


def test_non_json_error_bodies(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/images/", status=502, raw="<html><h1>Bad Gateway</h1></html>",
              content_type="text/html")
    with pytest.raises(ServerError, match="HTML page") as info:
        driver.list_images()
    assert info.value.status == 502
    api.reply(method="GET", path="/cloud/sizes/", status=401, raw="denied", content_type="text/plain")
    with pytest.raises(InvalidCredsError, match="denied"):
        driver.list_sizes()


@pytest.mark.parametrize(("code", "cls"), [(401, InvalidCredsError), ("404", NotFoundError),
                                           (412, ValidationError), (500, ServerError)])
def test_error_bodies_sent_with_status_200(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                           code: object, cls: type[ProviderError]) -> None:
    api.reply(method="POST", path="/cloud/server/start", body={"error": {"code": code, "message": "nope"}})
    with pytest.raises(cls, match="nope"):
        driver.start_node("412018")


def test_rate_limit_carries_retry_after(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/images/", status=429, headers={"Retry-After": "7"},
              body={"error": {"code": 429, "message": "Too Many Requests"}})
    with pytest.raises(RateLimitError) as info:
        driver.list_images()
    assert info.value.retry_after == 7


def test_idempotent_reads_are_retried_after_a_5xx(api: HostVirtualAPI) -> None:
    api.reply("GET_cloud_sizes_500.json")
    api.reply("GET_cloud_sizes.json")
    driver = make_driver(max_retries=2)
    driver.connection.retry = type(driver.connection.retry)(2, 0.001, 0.002, 5.0)
    assert len(driver.list_sizes()) == 5
    assert len(api.calls) == 2


@pytest.mark.parametrize(("path", "body", "call"), [
    ("/cloud/servers/", {"mbpkgid": "1"}, "list_nodes"),
    ("/cloud/servers/", [{"fqdn": "no-id.example.com", "status": "RUNNING"}], "list_nodes"),
    ("/cloud/servers/", [["nested"]], "list_nodes"),
    ("/cloud/sizes/", [{"plan_id": "1", "plan": "VR1G", "ram": "lots", "disk": "20GB"}], "list_sizes"),
    ("/cloud/sizes/", [{"plan_id": True, "plan": "VR1G", "ram": "1GB", "disk": "20GB"}], "list_sizes"),
    ("/cloud/images/", [{"id": "1"}], "list_images"),
    ("/cloud/images/", "not a list", "list_images"),
])
def test_malformed_bodies(api: HostVirtualAPI, driver: HostVirtualNodeDriver, path: str, body: object,
                          call: str) -> None:
    api.reply(method="GET", path=path, body=body)
    with pytest.raises(MalformedResponseError):
        getattr(driver, call)()


def test_truncated_json(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/servers/", raw='[{"mbpkgid": "1", ')
    with pytest.raises(MalformedResponseError, match="not valid JSON"):
        driver.list_nodes()
