"""DigitalOcean error bodies → cloudkit errors, rate limits, secrets, and hostile bodies."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from drivers._digitalocean_support import TOKEN, add, checked, fixture, make_driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudkit.drivers.digitalocean import DigitalOceanAction, DigitalOceanResponse, _total_items, _total_pages
from cloudkit.errors import (
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.paging import justified_pages

ERRORS = [
    (401, "error_401.json", InvalidCredsError, "unauthorized"),
    (401, "error_401_empty_id.json", InvalidCredsError, None),
    (403, "error_403.json", ForbiddenError, "forbidden"),
    (404, "error_404.json", NotFoundError, "not_found"),
    (422, "error_422.json", ValidationError, "unprocessable_entity"),
    (429, "error_429.json", RateLimitError, "too_many_requests"),
    (500, "error_500.json", ServerError, "server_error"),
]


@pytest.mark.parametrize(("status", "fixture_file", "error", "code"), ERRORS)
def test_error_bodies_map_to_cloudkit_errors_with_the_message(
        status: int, fixture_file: str, error: type[Exception], code: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    driver = make_driver(max_retries=0)
    with checked() as (mock, _):
        add(mock, "GET", "/v2/droplets", fixture_file, status=status)
        with pytest.raises(error) as info:
            driver.list_nodes()
    exc: Any = info.value
    assert exc.status == status
    assert exc.message == fixture(fixture_file)["message"]
    assert exc.code == code
    assert exc.driver == "DigitalOcean"
    assert fixture(fixture_file)["message"] in str(exc)
    assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in caplog.text


def test_html_error_page_is_described_not_dumped() -> None:
    driver = make_driver(max_retries=0)
    with checked() as (mock, _):
        mock.add("GET", "https://api.digitalocean.com/v2/account", body="<html><body>Bad gateway</body></html>",
                 status=502, content_type="text/html")
        with pytest.raises(ServerError) as info:
            driver.verify_credentials()
    assert "HTML page" in info.value.message


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"message": 5}', b'{"id": "", "message": ""}'])
def test_unusual_error_bodies_still_map_by_status(body: bytes) -> None:
    with pytest.raises(InvalidCredsError) as info:
        DigitalOceanResponse(401, {"Content-Type": "application/json"}, body, driver_name="DigitalOcean")
    assert info.value.status == 401
    assert info.value.message


def test_server_error_on_a_get_is_retried() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account", "error_500.json", status=500)
        add(mock, "GET", "/v2/account", "GET_v2_account.json")
        assert driver.verify_credentials() is True
    assert len(traffic.calls) == 2


# -- rate limits ------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/sizes", "error_429.json", status=429,
            headers={"retry-after": "0", "ratelimit-remaining": "0"})
        add(mock, "GET", "/v2/sizes", "GET_v2_sizes.json")
        assert len(driver.list_sizes()) == 11
    assert len(traffic.calls) == 2


def test_429_burst_limit_backs_off_even_for_a_post() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", "error_429.json", status=429,
            headers={"ratelimit-remaining": "4200"})
        add(mock, "POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_reboot.json", status=201)
        assert driver.reboot_node("401001") is True
    assert len(traffic.calls) == 2


def test_429_with_the_hourly_allowance_spent_reports_the_reset_without_waiting() -> None:
    driver = make_driver()
    reset = int(time.time()) + 1800
    started = time.monotonic()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/droplets", "error_429.json", status=429,
            headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
        with pytest.raises(RateLimitError) as info:
            driver.list_nodes()
    assert time.monotonic() - started < 2  # past the retry budget: raised at once
    assert len(traffic.calls) == 2  # the droplet and the GPU droplet listings, each asked once
    assert info.value.message == "API rate limit exceeded."
    assert info.value.retry_after is not None and 1700 < info.value.retry_after <= 1800
    assert info.value.headers["RateLimit-Reset"] == str(reset)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "3", "ratelimit-remaining": "0", "ratelimit-reset": "99999999999"}, 3.0),
    ({"ratelimit-remaining": "12", "ratelimit-reset": "99999999999"}, None),
    ({"ratelimit-remaining": "0", "ratelimit-reset": "garbage"}, None),
    ({}, None),
])
def test_retry_after_from_headers(headers: dict[str, str], expected: float | None) -> None:
    with pytest.raises(RateLimitError) as info:
        DigitalOceanResponse(429, {"Content-Type": "application/json", **headers},
                             json.dumps(fixture("error_429.json")).encode())
    assert info.value.retry_after == expected


def test_reset_in_the_past_means_no_wait() -> None:
    with pytest.raises(RateLimitError) as info:
        DigitalOceanResponse(429, {"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) - 5)},
                             b'{"id": "too_many_requests", "message": "API rate limit exceeded."}')
    assert info.value.retry_after == 0.0


# -- secrets ----------------------------------------------------------------------------------


def test_token_never_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/droplets", "GET_v2_droplets_tag_name_web.json")
        add(mock, "GET", "/v2/account", "error_401.json", status=401)
        nodes = driver.list_nodes()
        with pytest.raises(InvalidCredsError) as info:
            driver.verify_credentials()
    assert traffic.calls[0].headers["Authorization"] == f"Bearer {TOKEN}"  # it was sent...
    texts = [caplog.text, repr(driver), repr(driver.connection), str(info.value), repr(info.value),
             info.value.body, repr(traffic.calls[0]), *(repr(n) for n in nodes), *(str(n.extra) for n in nodes)]
    assert all(TOKEN not in text for text in texts)  # ...and shown nowhere


# -- hostile bodies: a model or MalformedResponseError, nothing else --------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)

DROPLET = fixture("GET_v2_droplets_401001.json")["droplet"]
SIZE = fixture("GET_v2_sizes.json")["sizes"][0]
IMAGE = fixture("GET_v2_images.json")["images"][0]
REGION = fixture("GET_v2_regions.json")["regions"][0]
KEY = fixture("GET_v2_account_keys.json")["ssh_keys"][0]
ACTION = fixture("POST_v2_droplets_actions_reboot.json")["action"]
CREATE = fixture("POST_v2_droplets.json")

PARSERS: list[tuple[str, dict[str, Any], type]] = [
    ("_to_node", DROPLET, Node), ("_to_size", SIZE, NodeSize), ("_to_image", IMAGE, NodeImage),
    ("_to_location", REGION, NodeLocation), ("_to_key_pair", KEY, KeyPair), ("_to_action", ACTION, DigitalOceanAction),
]
DRIVER = make_driver()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse(method: str, value: Any, model: type) -> None:
    try:
        result = getattr(DRIVER, method)(value)
    except MalformedResponseError:
        return
    assert isinstance(result, model)
    assert isinstance(getattr(result, "id", "") or "", str)


@pytest.mark.parametrize(("method", "valid", "model"), PARSERS, ids=[p[0] for p in PARSERS])
def test_valid_bodies_parse(method: str, valid: dict[str, Any], model: type) -> None:
    assert isinstance(getattr(DRIVER, method)(valid), model)


@pytest.mark.parametrize(("method", "valid", "model"), PARSERS, ids=[p[0] for p in PARSERS])
@FUZZ
@given(value=json_values)
def test_any_json_in_place_of_the_object(method: str, valid: dict[str, Any], model: type, value: Any) -> None:
    _parse(method, value, model)


@pytest.mark.parametrize(("method", "valid", "model"), PARSERS, ids=[p[0] for p in PARSERS])
@FUZZ
@given(data=st.data(), value=json_values)
def test_any_json_in_place_of_one_field(method: str, valid: dict[str, Any], model: type, data: Any,
                                        value: Any) -> None:
    body = json.loads(json.dumps(valid))
    field = data.draw(st.sampled_from(sorted(body)))
    body[field] = value
    _parse(method, body, model)


@FUZZ
@given(data=st.data(), value=json_values)
def test_any_json_inside_droplet_networks_image_size_region(data: Any, value: Any) -> None:
    body = json.loads(json.dumps(DROPLET))
    where = data.draw(st.sampled_from(["networks", "image", "size", "region"]))
    inner = body[where]
    key = data.draw(st.sampled_from(sorted(inner)))
    if where == "networks" and data.draw(st.booleans()):
        inner[key] = [value, *inner[key]]  # one odd entry among good ones
    else:
        inner[key] = value
    _parse("_to_node", body, Node)


@FUZZ
@given(value=json_values)
def test_any_json_as_a_create_answer(value: Any) -> None:
    for body in (value, {**CREATE, "droplet": value}, {"action": value}, {**CREATE, "links": value}):
        try:
            node = DRIVER._created_node(body, "web-3")
        except MalformedResponseError:
            continue
        assert isinstance(node, Node)


@FUZZ
@given(value=json_values)
def test_any_json_as_a_first_page(value: Any) -> None:
    for body in (value, {"droplets": [], "links": value, "meta": value}, {"links": {"pages": value}},
                 {"droplets": [{}] * 200, "links": value, "meta": value}):
        pages = _total_pages(body, 200)
        assert pages is None or (isinstance(pages, int) and pages >= 1)
        total = _total_items(body)
        assert total is None or isinstance(total, int)
        first_len = len(body["droplets"]) if isinstance(body, dict) and "droplets" in body else 0
        planned, _size = justified_pages(pages, first_len, 200, total)
        # never more pages than the first page justifies against the total it claims, plus one
        assert 1 <= planned and (total is None or total < 0 or planned <= max(1, -(-total // 200) + 1))


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_error_body(body: bytes) -> None:
    with pytest.raises(NotFoundError) as info:
        DigitalOceanResponse(404, {"Content-Type": "application/json"}, body)
    assert isinstance(info.value.message, str) and info.value.message
