"""Shared helpers for the DigitalOcean driver tests: fixtures, the spec validator, mocks.

Every test that sends requests does so inside ``checked()``, which turns on
``cloudkit.testing.openapi.check_requests`` against DigitalOcean's published API description,
so any request the driver sends that the description does not allow fails the test.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import responses

from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.testing.openapi import OpenAPIValidator, TrafficRecorder, check_requests

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS.parent / "fixtures" / "digitalocean"
SPEC = TESTS / "data" / "specs" / "digitalocean-compute.schema.json"
API = "https://api.digitalocean.com"
TOKEN = "dop_v1_" + "5eCr3t" * 10  # fake, but shaped like a personal access token

#: fixture file → (method, request path as on the API, status) it answers.
FIXTURE_INDEX: dict[str, tuple[str, str, int]] = {
    "GET_v2_account.json": ("GET", "/v2/account", 200),
    "GET_v2_account_keys.json": ("GET", "/v2/account/keys?page=1&per_page=200", 200),
    "GET_v2_account_keys_512001.json": ("GET", "/v2/account/keys/512001", 200),
    "GET_v2_actions.json": ("GET", "/v2/actions?page=1&per_page=200", 200),
    "GET_v2_actions_2290020001_completed.json": ("GET", "/v2/actions/2290020001", 200),
    "GET_v2_actions_2290020001_in-progress.json": ("GET", "/v2/actions/2290020001", 200),
    "GET_v2_actions_2290020007_errored.json": ("GET", "/v2/actions/2290020007", 200),
    "GET_v2_droplets_401001.json": ("GET", "/v2/droplets/401001", 200),
    "GET_v2_droplets_401001_actions.json": ("GET", "/v2/droplets/401001/actions?page=1&per_page=200", 200),
    "GET_v2_droplets_401003.json": ("GET", "/v2/droplets/401003", 200),
    "GET_v2_droplets_empty.json": ("GET", "/v2/droplets?page=1&per_page=200", 200),
    "GET_v2_droplets_page1.json": ("GET", "/v2/droplets?page=1&per_page=200", 200),
    "GET_v2_droplets_page2.json": ("GET", "/v2/droplets?page=2&per_page=200", 200),
    "GET_v2_droplets_page3.json": ("GET", "/v2/droplets?page=3&per_page=200", 200),
    "GET_v2_droplets_tag_name_web.json": ("GET", "/v2/droplets?tag_name=web&page=1&per_page=200", 200),
    "GET_v2_images.json": ("GET", "/v2/images?page=1&per_page=200", 200),
    "GET_v2_images_private.json": ("GET", "/v2/images?private=true&page=1&per_page=200", 200),
    "GET_v2_images_type_application.json": ("GET", "/v2/images?type=application&page=1&per_page=200", 200),
    "GET_v2_images_type_distribution.json": ("GET", "/v2/images?type=distribution&page=1&per_page=200",
                                             200),
    "GET_v2_images_ubuntu-24-04-x64.json": ("GET", "/v2/images/ubuntu-24-04-x64", 200),
    "GET_v2_regions.json": ("GET", "/v2/regions?page=1&per_page=200", 200),
    "GET_v2_sizes.json": ("GET", "/v2/sizes?page=1&per_page=200", 200),
    "GET_v2_tags.json": ("GET", "/v2/tags?page=1&per_page=200", 200),
    "POST_v2_account_keys.json": ("POST", "/v2/account/keys", 201),
    "POST_v2_droplets.json": ("POST", "/v2/droplets", 202),
    "POST_v2_droplets_actions_power_cycle.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_droplets_actions_power_off.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_droplets_actions_power_on.json": ("POST", "/v2/droplets/401003/actions", 201),
    "POST_v2_droplets_actions_reboot.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_droplets_actions_rebuild.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_droplets_actions_rename.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_droplets_actions_resize.json": ("POST", "/v2/droplets/401003/actions", 201),
    "POST_v2_droplets_actions_shutdown.json": ("POST", "/v2/droplets/401001/actions", 201),
    "POST_v2_tags.json": ("POST", "/v2/tags", 201),
    # Error bodies, checked against the status the operation declares (or its `default`).
    "error_400_tags.json": ("POST", "/v2/tags", 400),
    "error_401.json": ("GET", "/v2/droplets", 401),
    "error_401_empty_id.json": ("GET", "/v2/account", 401),
    "error_403.json": ("GET", "/v2/account", 403),
    "error_404.json": ("GET", "/v2/droplets/1", 404),
    "error_422.json": ("POST", "/v2/droplets", 422),
    "error_422_resize_on.json": ("POST", "/v2/droplets/401001/actions", 422),
    "error_429.json": ("GET", "/v2/droplets", 429),
    "error_500.json": ("GET", "/v2/droplets", 500),
}

#: Response headers DigitalOcean sends on every answer.
RATE_HEADERS = {"ratelimit-limit": "5000", "ratelimit-remaining": "4987", "ratelimit-reset": "1725451200"}


@cache
def _raw(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture(name: str) -> Any:
    """A fresh copy of a fixture body (tests may change it)."""
    return copy.deepcopy(json.loads(_raw(name)))


@cache
def validator() -> OpenAPIValidator:
    """The DigitalOcean validator (the description is loaded once per session)."""
    return OpenAPIValidator(SPEC, API)


def make_driver(**kwargs: Any) -> DigitalOceanNodeDriver:
    """A driver on the real host name (answered by ``responses``), with fast retries."""
    kwargs.setdefault("retry_budget", 5)
    driver = DigitalOceanNodeDriver(TOKEN, **kwargs)
    policy = driver.connection.retry
    driver.connection.retry = type(policy)(policy.max_retries, 0.001, 0.01, policy.budget,
                                           policy.idempotent_statuses)
    driver.action_poll_interval = 0.0
    return driver


@contextmanager
def checked(*, responses_too: bool = True) -> Iterator[tuple[responses.RequestsMock, TrafficRecorder]]:
    """A ``responses`` mock for api.digitalocean.com with every request checked against the spec
    (and every 2xx response, unless ``responses_too=False``)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock, check_requests(
            validator(), responses_too=responses_too) as traffic:
        yield mock, traffic


def url(path: str) -> str:
    """The absolute URL of an API path."""
    return API + path


def path_re(path: str) -> re.Pattern[str]:
    """A URL pattern for ``path`` with any query string."""
    return re.compile(re.escape(API + path) + r"(\?.*)?$")


def add(mock: responses.RequestsMock, method: str, path: str, body: Any = None, status: int = 200,
        headers: dict[str, str] | None = None, any_query: bool = True) -> None:
    """Answer ``method path`` with a JSON body (a fixture name or a value); 204s have no body."""
    if isinstance(body, str) and body.endswith(".json"):
        body = fixture(body)
    target: Any = path_re(path) if any_query else url(path)
    given = {k.lower() for k in headers or {}}
    all_headers = {**{k: v for k, v in RATE_HEADERS.items() if k not in given}, **(headers or {})}
    if body is None:
        mock.add(method, target, status=status, headers=all_headers)
    else:
        mock.add(method, target, json=body, status=status, headers=all_headers)
