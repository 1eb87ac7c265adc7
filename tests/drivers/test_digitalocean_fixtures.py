"""Every DigitalOcean fixture body validates against the response schema of the operation it
answers in DigitalOcean's published API description."""

from __future__ import annotations

import json

import pytest
from drivers._digitalocean_support import FIXTURE_INDEX, FIXTURES, checked, make_driver, validator

from cloudkit.testing.openapi import SpecMismatchError, validate_body


def test_every_fixture_file_is_indexed() -> None:
    files = {p.name for p in FIXTURES.glob("*.json")}
    assert files == set(FIXTURE_INDEX)
    assert (FIXTURES / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(FIXTURE_INDEX))
def test_fixture_matches_the_spec(name: str) -> None:
    method, path, status = FIXTURE_INDEX[name]
    validate_body(validator(), method, path, status, FIXTURES / name)


def test_the_check_catches_a_broken_body() -> None:
    body = json.loads((FIXTURES / "GET_v2_droplets_401001.json").read_text())
    body["droplet"]["networks"]["v4"][0]["gateway"] = None  # the spec types gateway as a string
    with pytest.raises(SpecMismatchError, match="gateway"):
        validate_body(validator(), "GET", "/v2/droplets/401001", 200, body)


def test_three_page_listing_is_consistent() -> None:
    pages = [json.loads((FIXTURES / f"GET_v2_droplets_page{i}.json").read_text()) for i in (1, 2, 3)]
    ids = [d["id"] for page in pages for d in page["droplets"]]
    assert len(ids) == len(set(ids)) == pages[0]["meta"]["total"]
    assert "next" not in pages[2]["links"]["pages"] and "prev" not in pages[0]["links"]["pages"]
    assert all(page["links"]["pages"].get("last", "").endswith("page=3&per_page=2") for page in pages[:2])


def test_the_request_check_is_live_in_these_tests() -> None:
    """A request the description does not allow (``tag`` is not a parameter of GET /v2/droplets;
    the API's filter is ``tag_name``) fails the test before it is sent."""
    driver = make_driver()
    with pytest.raises(SpecMismatchError, match="tag"), checked() as (_, traffic):
        driver.connection.request("/v2/droplets", params={"tag": "web"})
    assert len(traffic.calls) == 1 and traffic.calls[0].status is None  # never reached the mock
