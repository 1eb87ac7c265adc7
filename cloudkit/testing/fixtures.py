"""Fixture sets and HTTP mocking for driver tests.

A ``FixtureSet`` is a folder of recorded response bodies. ``Route`` ties a request
(method, path, optional query) to a body from that folder (or an inline body), and
``mock_routes`` serves a list of routes with ``responses`` for the length of a ``with``
block, so a driver under test talks to its real host name and never to the network::

    fx = FixtureSet("fixtures/digitalocean")
    routes = [Route("GET", "/v2/droplets", fx.path("GET_v2_droplets.json"))]
    with mock_routes("https://api.digitalocean.com", routes):
        nodes = driver.list_nodes()

Needs the ``responses`` package (``pip install "cloudkit[test]"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    import responses as responses_mod

__all__ = ["FixtureSet", "Route", "mock_routes"]


class FixtureSet:
    """A folder of fixture files."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture folder not found: {self.root}")

    def path(self, name: str) -> Path:
        """The path of fixture ``name`` (which must exist)."""
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"fixture {name!r} not found in {self.root}")
        return path

    def body(self, name: str) -> bytes:
        """The raw bytes of fixture ``name``."""
        return self.path(name).read_bytes()

    def json(self, name: str) -> Any:
        """Fixture ``name`` parsed as JSON."""
        return json.loads(self.body(name))

    def names(self, pattern: str = "*") -> list[str]:
        """Fixture file names matching a glob pattern, sorted."""
        return sorted(p.name for p in self.root.glob(pattern) if p.is_file())


@dataclass
class Route:
    """One mocked endpoint.

    ``path`` is matched exactly, or as a regular expression when it starts with ``^``.
    ``query`` entries must all be present in the request's query string. ``body`` is a
    fixture path, bytes/str, or a JSON-able object. ``times`` limits how often the route
    answers (None: always); routes are tried in order, so a one-shot route placed first
    can shadow a general one.
    """

    method: str
    path: str
    body: Path | bytes | str | Mapping[str, Any] | Sequence[Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    content_type: str = "application/json"
    calls: int = 0

    def matches(self, method: str, url: str) -> bool:
        if method.upper() != self.method.upper():
            return False
        if self.times is not None and self.calls >= self.times:
            return False
        parts = urlsplit(url)
        if self.path.startswith("^"):
            if not re.match(self.path, parts.path):
                return False
        elif parts.path.rstrip("/") != self.path.rstrip("/"):
            return False
        args = parse_qs(parts.query, keep_blank_values=True)
        return all(args.get(k, [None])[0] == str(v) for k, v in self.query.items())

    def payload(self) -> bytes:
        body = self.body
        if body is None:
            return b""
        if isinstance(body, Path):
            return body.read_bytes()
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        return json.dumps(body).encode("utf-8")


@contextmanager
def mock_routes(base_url: str, routes: Sequence[Route],
                *, assert_all_requests_are_fired: bool = False) -> Iterator[responses_mod.RequestsMock]:
    """Serve ``routes`` under ``base_url`` with ``responses``; unmatched requests fail
    with a ConnectionError naming the request (so a missing fixture is obvious)."""
    import responses

    host = base_url.rstrip("/")
    ordered = list(routes)

    def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
        for route in ordered:
            if route.matches(request.method, request.url):
                route.calls += 1
                headers = {"Content-Type": route.content_type, **route.headers}
                return route.status, headers, route.payload()
        raise ConnectionError(f"no mocked route for {request.method} {urlsplit(request.url).path}")

    with responses.RequestsMock(assert_all_requests_are_fired=assert_all_requests_are_fired) as rsps:
        pattern = re.compile(re.escape(host) + r"(/.*)?(\?.*)?$")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
            rsps.add_callback(method, pattern, callback=callback)
        yield rsps
