"""Shared helpers for the Linode driver tests: fixtures, the spec validator, a mocked API.

Every Linode test runs inside :func:`linode_api`: a ``responses`` mock of api.linode.com
with :func:`cloudkit.testing.openapi.check_requests` on top, so every request the driver
sends (and every 2xx answer the mock gives) is checked against Linode's OpenAPI description.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import responses
from responses import matchers

from cloudkit.connection import RetryPolicy
from cloudkit.drivers.linode import LinodeNodeDriver
from cloudkit.testing.openapi import OpenAPIValidator, RecordedCall, TrafficRecorder, check_requests

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "linode"
SPEC = REPO / "tests" / "data" / "specs" / "linode-compute.schema.json"
HOST = "https://api.linode.com"
TOKEN = "lin-TEST-7f3a9c1e5b2d4f6a8c0e"

#: Which operation (method, request path, status) each fixture file answers.
FIXTURE_ENDPOINTS: dict[str, list[tuple[str, str, int]]] = {
    "GET_v4_linode_instances_page1.json": [("GET", "/v4/linode/instances?page=1&page_size=500", 200)],
    "GET_v4_linode_instances_page2.json": [("GET", "/v4/linode/instances?page=2&page_size=500", 200)],
    "GET_v4_linode_instances_page3.json": [("GET", "/v4/linode/instances?page=3&page_size=500", 200)],
    "GET_v4_linode_instances_tag_web.json": [("GET", "/v4/linode/instances?page=1&page_size=500", 200)],
    "GET_v4_linode_instances_61234501.json": [("GET", "/v4/linode/instances/61234501", 200)],
    "GET_v4_linode_instances_61234502.json": [("GET", "/v4/linode/instances/61234502", 200)],
    "POST_v4_linode_instances.json": [("POST", "/v4/linode/instances", 200)],
    "POST_v4_linode_instances_61234501_rebuild.json": [
        ("POST", "/v4/linode/instances/61234501/rebuild", 200)],
    "POST_v4_linode_instances_61234501_action.json": [
        ("POST", "/v4/linode/instances/61234501/boot", 200),
        ("POST", "/v4/linode/instances/61234501/reboot", 200),
        ("POST", "/v4/linode/instances/61234501/shutdown", 200),
        ("POST", "/v4/linode/instances/61234501/resize", 200)],
    "PUT_v4_linode_instances_61234501_label.json": [("PUT", "/v4/linode/instances/61234501", 200)],
    "PUT_v4_linode_instances_61234501_tags.json": [("PUT", "/v4/linode/instances/61234501", 200)],
    "DELETE_v4_linode_instances_61234501.json": [("DELETE", "/v4/linode/instances/61234501", 200)],
    "GET_v4_linode_types.json": [("GET", "/v4/linode/types", 200)],
    "GET_v4_images_page1.json": [("GET", "/v4/images?page=1&page_size=500", 200)],
    "GET_v4_images_page2.json": [("GET", "/v4/images?page=2&page_size=500", 200)],
    "GET_v4_images_linode_debian12.json": [("GET", "/v4/images/linode/debian12", 200)],
    "GET_v4_regions.json": [("GET", "/v4/regions", 200)],
    "GET_v4_profile.json": [("GET", "/v4/profile", 200)],
    "GET_v4_profile_sshkeys.json": [("GET", "/v4/profile/sshkeys?page=1&page_size=500", 200)],
    "POST_v4_profile_sshkeys.json": [("POST", "/v4/profile/sshkeys", 200)],
    "DELETE_v4_profile_sshkeys_301101.json": [("DELETE", "/v4/profile/sshkeys/301101", 200)],
    "GET_v4_tags.json": [("GET", "/v4/tags?page=1&page_size=500", 200)],
    "POST_v4_tags.json": [("POST", "/v4/tags", 200)],
    "DELETE_v4_tags_blue.json": [("DELETE", "/v4/tags/blue", 200)],
    # Error bodies answer every operation (its ``default`` response); checked on a few.
    **{
        f"error_{name}.json": [("GET", "/v4/linode/instances", status), ("POST", "/v4/linode/instances", status),
                               ("GET", "/v4/profile", status)]
        for name, status in (("400", 400), ("400_root_pass", 400), ("400_busy", 400), ("401", 401),
                             ("403", 403), ("404", 404), ("429", 429), ("500", 500))
    },
}


def load(name: str) -> Any:
    """A fixture file's JSON."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def validator(**kwargs: Any) -> OpenAPIValidator:
    """The Linode spec validator for requests to api.linode.com (response schemas opened)."""
    return OpenAPIValidator(SPEC, HOST, **kwargs)


def make_driver(**kwargs: Any) -> LinodeNodeDriver:
    """A driver for the mock; no retries unless a test asks for them."""
    kwargs.setdefault("max_retries", 0)
    return LinodeNodeDriver(TOKEN, **kwargs)


def fast_retries(driver: LinodeNodeDriver, retries: int = 3) -> None:
    """Retry quickly (tests of retry behaviour)."""
    driver.connection.retry = RetryPolicy(max_retries=retries, backoff_base=0.01, backoff_max=0.02, budget=10)


class LinodeAPI:
    """The mocked API of one test: register answers, then look at what was sent."""

    def __init__(self, rsps: responses.RequestsMock, traffic: TrafficRecorder) -> None:
        self.rsps = rsps
        self.traffic = traffic

    def add(self, method: str, path: str, fixture: str | None = None, *, status: int = 200,
            json_body: Any = None, query: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, match: list[Any] | None = None) -> None:
        """Answer ``method path`` with a fixture file (or ``json_body``)."""
        body = load(fixture) if fixture is not None else json_body
        matcher = list(match or [])
        matcher.append(matchers.query_param_matcher(query or {}))
        self.rsps.add(method, HOST + path, json=body, status=status, headers=headers, match=matcher)

    def add_callback(self, method: str, path: str, callback: Callable[[Any], tuple[int, dict[str, str], str]],
                     query: dict[str, str] | None = None) -> None:
        """Answer ``method path`` from ``callback(request) -> (status, headers, body)``."""
        self.rsps.add_callback(method, HOST + path, callback=callback,
                               match=[matchers.query_param_matcher(query or {})])

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request sent so far (as checked against the spec)."""
        return self.traffic.calls


@contextmanager
def linode_api(assert_all_fired: bool = True) -> Iterator[LinodeAPI]:
    """Mock api.linode.com and check every request (and 2xx response) against the spec."""
    with responses.RequestsMock(assert_all_requests_are_fired=assert_all_fired) as rsps, \
            check_requests(validator(), responses_too=True) as traffic:
        yield LinodeAPI(rsps, traffic)
