"""Every Linode fixture body validates against Linode's OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from drivers._linode_support import FIXTURE_ENDPOINTS, FIXTURES, LinodeAPI, linode_api, load, validator

from cloudkit.testing.openapi import SpecMismatchError, validate_body

CASES = [(name, method, path, status) for name, endpoints in FIXTURE_ENDPOINTS.items()
         for method, path, status in endpoints]


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


def test_every_fixture_file_is_mapped_to_an_operation() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.json")}
    assert on_disk == set(FIXTURE_ENDPOINTS)
    assert (FIXTURES / "README.md").is_file()


@pytest.mark.parametrize(("name", "method", "path", "status"), CASES,
                         ids=[f"{c[0]}:{c[1]}:{c[2].split('?')[0]}" for c in CASES])
def test_fixture_validates_against_the_spec(name: str, method: str, path: str, status: int,
                                            api: LinodeAPI) -> None:
    validate_body(validator(), method, path, status, FIXTURES / name)
    assert api.calls == []


def test_a_body_that_breaks_the_schema_is_caught() -> None:
    # The check has teeth: an instance whose status is not in the enum fails.
    body = load("GET_v4_linode_instances_61234501.json")
    body["status"] = "exploded"
    with pytest.raises(SpecMismatchError, match="status"):
        validate_body(validator(), "GET", "/v4/linode/instances/61234501", 200, body)


def test_error_fixtures_carry_reason_and_optional_field() -> None:
    for name in FIXTURE_ENDPOINTS:
        if name.startswith("error_"):
            errors = load(name)["errors"]
            assert errors and all(isinstance(e["reason"], str) and e["reason"] for e in errors)
    assert {e.get("field") for e in load("error_400.json")["errors"]} == {"type", "region"}
