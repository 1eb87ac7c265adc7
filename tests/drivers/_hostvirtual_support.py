"""Shared helpers for the HostVirtual driver tests: fixtures and a mocked vapi.vr.org.

Every mocked route only answers a request that carries ``key=<API_KEY>`` in its query
string (and nothing unexpected besides), so each test also proves the API key is sent on
every request, POSTs included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from responses import matchers

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "hostvirtual"
HOST = "https://vapi.vr.org"
API_KEY = "hvKEY-5c1e9a7b3d2f4e6a0b8c"

#: Which request (method, path with query, status) each fixture file answers.
FIXTURE_ENDPOINTS: dict[str, tuple[str, str, int]] = {
    "GET_cloud_servers.json": ("GET", "/cloud/servers/", 200),
    "GET_cloud_servers_404_empty.json": ("GET", "/cloud/servers/", 404),
    "GET_cloud_servers_401.json": ("GET", "/cloud/servers/", 401),
    "GET_cloud_server.json": ("GET", "/cloud/server?mbpkgid=412017", 200),
    "GET_cloud_server_412030_building.json": ("GET", "/cloud/server?mbpkgid=412030", 200),
    "GET_cloud_server_404.json": ("GET", "/cloud/server?mbpkgid=999999", 404),
    "GET_cloud_server_412_not_built.json": ("GET", "/cloud/server?mbpkgid=412030", 412),
    "GET_cloud_packages.json": ("GET", "/cloud/packages", 200),
    "GET_cloud_packages_404_empty.json": ("GET", "/cloud/packages", 404),
    "GET_cloud_package_412017.json": ("GET", "/cloud/package/412017", 200),
    "GET_cloud_package_404.json": ("GET", "/cloud/package/999999", 404),
    "GET_cloud_sizes.json": ("GET", "/cloud/sizes/", 200),
    "GET_cloud_sizes_location_33.json": ("GET", "/cloud/sizes/?location=33", 200),
    "GET_cloud_sizes_500.json": ("GET", "/cloud/sizes/", 500),
    "GET_cloud_images.json": ("GET", "/cloud/images/", 200),
    "GET_cloud_images_401.json": ("GET", "/cloud/images/", 401),
    "GET_cloud_locations.json": ("GET", "/cloud/locations/", 200),
    "GET_cloud_locations_pre2017_array.json": ("GET", "/cloud/locations/", 200),
    "GET_cloud_locations_500.json": ("GET", "/cloud/locations/", 500),
    "GET_cloud_serverjob.json": ("GET", "/cloud/serverjob?mbpkgid=412030&job_id=9912001", 200),
    "GET_cloud_serverjob_running.json": ("GET", "/cloud/serverjob?mbpkgid=412030&job_id=9912001", 200),
    "GET_cloud_serverjob_404.json": ("GET", "/cloud/serverjob?mbpkgid=412030&job_id=1", 404),
    "POST_cloud_buy.json": ("POST", "/cloud/buy/", 200),
    "POST_cloud_buy_412.json": ("POST", "/cloud/buy/", 412),
    "POST_cloud_server_build.json": ("POST", "/cloud/server/build", 200),
    "POST_cloud_server_build_412.json": ("POST", "/cloud/server/build", 412),
    "POST_cloud_server_build_500.json": ("POST", "/cloud/server/build", 500),
    "POST_cloud_server_reboot.json": ("POST", "/cloud/server/reboot", 200),
    "POST_cloud_server_reboot_412.json": ("POST", "/cloud/server/reboot", 412),
    "POST_cloud_server_start.json": ("POST", "/cloud/server/start", 200),
    "POST_cloud_server_start_412.json": ("POST", "/cloud/server/start", 412),
    "POST_cloud_server_shutdown.json": ("POST", "/cloud/server/shutdown", 200),
    "POST_cloud_server_shutdown_412.json": ("POST", "/cloud/server/shutdown", 412),
    "POST_cloud_server_delete.json": ("POST", "/cloud/server/delete", 200),
    "POST_cloud_server_delete_401.json": ("POST", "/cloud/server/delete", 401),
    "POST_cloud_cancel.json": ("POST", "/cloud/cancel", 200),
    "POST_cloud_cancel_412.json": ("POST", "/cloud/cancel", 412),
    "POST_cloud_cancel_500.json": ("POST", "/cloud/cancel", 500),
    "POST_cloud_unlink.json": ("POST", "/cloud/unlink", 200),
    "POST_cloud_unlink_412.json": ("POST", "/cloud/unlink", 412),
    "GET_server_sshkeys.json": ("GET", "/server/sshkeys", 200),
    "GET_server_sshkeys_404_empty.json": ("GET", "/server/sshkeys", 404),
    "POST_server_sshkeys.json": ("POST", "/server/sshkeys", 200),
    "POST_server_sshkeys_412.json": ("POST", "/server/sshkeys", 412),
    "DELETE_server_sshkeys_5507.json": ("DELETE", "/server/sshkeys/5507", 200),
    "DELETE_server_sshkeys_404.json": ("DELETE", "/server/sshkeys/5507", 404),
}


def load(name: str) -> Any:
    """A fixture body, parsed."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_driver(**kwargs: Any) -> HostVirtualNodeDriver:
    """A driver on the real host name (mocked); no retries unless a test asks for them."""
    kwargs.setdefault("max_retries", 0)
    return HostVirtualNodeDriver(API_KEY, **kwargs)


@dataclass
class Call:
    """One request the driver sent."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


class HostVirtualAPI:
    """A ``responses`` mock of vapi.vr.org: register replies, read back what was sent."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps

    def reply(self, fixture: str | None = None, *, method: str | None = None, path: str | None = None,
              status: int | None = None, body: Any = None, raw: str | bytes | None = None,
              content_type: str = "application/json", headers: dict[str, str] | None = None,
              exception: Exception | None = None) -> None:
        """Answer (method, path) once per registration (``responses`` reuses the last one)."""
        if fixture is not None:
            f_method, f_path, f_status = FIXTURE_ENDPOINTS[fixture]
            method, path = method or f_method, path or f_path
            status = f_status if status is None else status
            body = load(fixture)
        assert method is not None and path is not None
        url_path, _, query = path.partition("?")
        wanted = {"key": API_KEY, **dict(parse_qsl(query))}
        match = [matchers.query_param_matcher(wanted, strict_match=True)]
        if exception is not None:
            self.rsps.add(method, HOST + url_path, body=exception, match=match)
            return
        payload: str | bytes = raw if raw is not None else json.dumps(body)
        self.rsps.add(method, HOST + url_path, body=payload, status=status or 200,
                      content_type=content_type, headers=headers, match=match)

    @property
    def calls(self) -> list[Call]:
        """Every request sent so far, in order."""
        out = []
        for call in self.rsps.calls:
            request = call.request
            parts = urlsplit(request.url or "")
            raw = request.body
            if isinstance(raw, bytes):
                raw = raw.decode()
            body = json.loads(raw) if raw else None
            out.append(Call(request.method or "", parts.path, dict(parse_qsl(parts.query)), body,
                            dict(request.headers)))
        return out

    def sent(self, method: str, path: str) -> list[Call]:
        """The requests sent to (method, path)."""
        return [c for c in self.calls if c.method == method and c.path == path]

    def route(self) -> list[tuple[str, str]]:
        """(method, path) of every request, in order."""
        return [(c.method, c.path) for c in self.calls]


@contextmanager
def hostvirtual_api() -> Iterator[HostVirtualAPI]:
    """Mock vapi.vr.org for the duration of the block."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield HostVirtualAPI(rsps)


# -- fixtures: import them into a test module by their function names -------------------------


@pytest.fixture(name="api")
def api_fixture() -> Iterator[HostVirtualAPI]:
    """The mocked vapi.vr.org."""
    with hostvirtual_api() as mocked:
        yield mocked


@pytest.fixture(name="driver")
def driver_fixture() -> HostVirtualNodeDriver:
    """A driver for the test API key, retries off."""
    return make_driver()
