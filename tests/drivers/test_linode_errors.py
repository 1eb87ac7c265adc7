"""Linode error bodies mapped to cloudkit errors; rate limits; retries; secrets kept out."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from drivers._linode_support import TOKEN, LinodeAPI, fast_retries, linode_api, load, make_driver

from cloudkit.errors import (
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
)

PAGED = {"page": "1", "page_size": "500"}


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


@pytest.mark.parametrize(("fixture", "status", "cls"), [
    ("error_400.json", 400, ValidationError),
    ("error_400_root_pass.json", 400, ValidationError),
    ("error_400_busy.json", 400, ValidationError),
    ("error_401.json", 401, InvalidCredsError),
    ("error_403.json", 403, ForbiddenError),
    ("error_404.json", 404, NotFoundError),
    ("error_429.json", 429, RateLimitError),
    ("error_500.json", 500, ServerError),
])
def test_error_bodies_map_to_errors_with_every_reason_and_field(fixture: str, status: int,
                                                                cls: type[ProviderError],
                                                                api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", fixture, status=status, query=PAGED)
    with pytest.raises(cls) as info:
        make_driver().list_nodes()
    error = info.value
    assert error.status == status
    assert error.driver == "Linode"
    for item in load(fixture)["errors"]:
        assert item["reason"] in error.message
        if "field" in item:
            assert f"{item['field']}: {item['reason']}" in error.message
    assert TOKEN not in str(error) and TOKEN not in error.body


def test_several_errors_are_joined_in_order(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", "error_400.json", status=400, query=PAGED)
    with pytest.raises(ValidationError) as info:
        make_driver().list_nodes()
    assert info.value.message == ("type: A valid plan type by that ID was not found; "
                                  "region: region is not valid")
    assert str(info.value) == f"[Linode] HTTP 400: {info.value.message}"


@pytest.mark.parametrize(("body", "expected"), [
    ({"errors": [{"reason": "Not found"}, "junk", {"field": "label"}]}, "Not found; label: (no reason given)"),
    ({"errors": "nope"}, '{"errors": "nope"}'),
    ({"message": "odd"}, '{"message": "odd"}'),
])
def test_odd_error_bodies_still_give_a_message(body: object, expected: str, api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", json_body=body, status=400)
    with pytest.raises(ValidationError) as info:
        make_driver().verify_credentials()
    assert info.value.message == expected


def test_html_error_page(api: LinodeAPI) -> None:
    api.rsps.add("GET", "https://api.linode.com/v4/profile", body="<html>Bad gateway</html>", status=502,
                 content_type="text/html")
    with pytest.raises(ServerError, match="HTML page"):
        make_driver().verify_credentials()


def test_429_is_retried_after_retry_after_then_succeeds(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "error_429.json", status=429,
            headers={"Retry-After": "0", "X-RateLimit-Limit": "800", "X-RateLimit-Remaining": "0",
                     "X-RateLimit-Reset": str(int(time.time()) + 1)})
    api.add("GET", "/v4/profile", "GET_v4_profile.json")
    driver = make_driver()
    fast_retries(driver)
    assert driver.verify_credentials() is True
    assert len(api.calls) == 2


def test_429_on_a_create_post_is_retried_too(api: LinodeAPI) -> None:
    api.add("POST", "/v4/linode/instances", "error_429.json", status=429, headers={"Retry-After": "0"})
    api.add("POST", "/v4/linode/instances", "POST_v4_linode_instances.json")
    driver = make_driver()
    fast_retries(driver)
    node = driver.create_node("web-2", "g6-nanode-1", "linode/debian12", "us-east")
    assert node.id == "61234510"
    assert len(api.calls) == 2  # a 429 means the create was refused, so it is safe to repeat


def test_429_that_persists_raises_rate_limit_error_with_retry_after(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "error_429.json", status=429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimitError, match="Too many requests") as info:
        make_driver().verify_credentials()
    assert info.value.retry_after == 7.0
    assert len(api.calls) == 1


def test_429_without_retry_after_waits_until_the_reset_epoch(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "error_429.json", status=429,
            headers={"X-RateLimit-Reset": str(int(time.time()) + 30), "X-RateLimit-Remaining": "0"})
    with pytest.raises(RateLimitError) as info:
        make_driver().verify_credentials()
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 31


def test_500_is_retried_for_a_get(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances/61234501", "error_500.json", status=500)
    api.add("GET", "/v4/linode/instances/61234501", "GET_v4_linode_instances_61234501.json")
    driver = make_driver()
    fast_retries(driver)
    assert driver.get_node("61234501").name == "web-1"


def test_500_is_not_retried_for_a_post(api: LinodeAPI) -> None:
    api.add("POST", "/v4/linode/instances/61234501/reboot", "error_500.json", status=500)
    driver = make_driver()
    fast_retries(driver)
    with pytest.raises(ServerError, match="Please try again"):
        driver.reboot_node("61234501")
    assert len(api.calls) == 1


def test_a_success_body_that_is_not_json_is_malformed(api: LinodeAPI) -> None:
    api.rsps.add("GET", "https://api.linode.com/v4/linode/instances/61234501", body="{not json",
                 content_type="application/json")
    api.traffic.responses_too = False
    with pytest.raises(MalformedResponseError):
        make_driver().get_node("61234501")


def test_token_never_logged(api: LinodeAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.add("GET", "/v4/profile", "error_401.json", status=401)
    driver = make_driver()
    with pytest.raises(InvalidCredsError) as info:
        driver.verify_credentials()
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(driver) and TOKEN not in repr(driver.connection)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert api.calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
