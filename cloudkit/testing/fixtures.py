"""Fixture sets and HTTP mocking for driver tests.

A ``FixtureSet`` is a folder of recorded response bodies. ``Route`` ties a request
(method, path, optional query) to a body from that folder (or an inline body), and
``mock_routes`` serves a list of routes with ``responses`` for the length of a ``with``
block, so a driver under test talks to its real host name and never to the network::

    fx = FixtureSet("fixtures/digitalocean")
    routes = [
        fx.route("GET", "/v2/droplets", "GET_v2_droplets_page1.json", query={"page": "1"}),
        Route("DELETE", r"^/v2/droplets/\\d+$", status=204),
    ]
    with mock_routes("https://api.digitalocean.com", routes) as mock:
        nodes = driver.list_nodes()
    assert len(mock.calls) == 2

Paths are the full URL paths the driver sends (any ``base_path`` prefix included). A
request that no route answers raises ``UnmatchedRequestError`` (an ``AssertionError``)
naming the request and the routes that were offered, so a missing fixture is obvious and
a driver that catches cloudkit errors cannot swallow it.

Needs the ``responses`` package (``pip install "cloudkit-compute[test]"``).
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

__all__ = ["FixtureSet", "Route", "UnmatchedRequestError", "content_type_for", "mock_routes"]

_SUFFIX_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
}


def content_type_for(name: str | Path) -> str:
    """The Content-Type a fixture file is served with, from its suffix (JSON by default)."""
    return _SUFFIX_TYPES.get(Path(name).suffix.lower(), "application/json")


class UnmatchedRequestError(AssertionError):
    """A request reached ``mock_routes`` that no route answers (a missing fixture)."""


class FixtureSet:
    """A folder of fixture files.

    Give an absolute path (``Path(__file__).parent / "fixtures"``): a relative one is taken
    from the current directory, which changes with where pytest is started.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"fixture folder not found: {self.root.resolve()} (relative paths start at the current "
                "directory; build it from Path(__file__).parent instead)")

    def __repr__(self) -> str:
        return f"FixtureSet({str(self.root)!r})"

    def path(self, name: str) -> Path:
        """The path of fixture ``name`` (which must exist)."""
        path = self.root / name
        if not path.is_file():
            near = ", ".join(self.names()[:12]) or "none"
            raise FileNotFoundError(f"fixture {name!r} not found in {self.root}; it holds: {near}")
        return path

    def exists(self, name: str) -> bool:
        """Whether fixture ``name`` is there."""
        return (self.root / name).is_file()

    def body(self, name: str) -> bytes:
        """The raw bytes of fixture ``name``."""
        return self.path(name).read_bytes()

    def text(self, name: str) -> str:
        """Fixture ``name`` as UTF-8 text."""
        return self.body(name).decode("utf-8")

    def json(self, name: str) -> Any:
        """Fixture ``name`` parsed as JSON."""
        return json.loads(self.body(name))

    def names(self, pattern: str = "*") -> list[str]:
        """Fixture file names matching a glob pattern, sorted."""
        return sorted(p.name for p in self.root.glob(pattern) if p.is_file())

    def route(self, method: str, path: str, name: str, *, status: int = 200,
              headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
              times: int | None = None, content_type: str | None = None) -> Route:
        """A ``Route`` answering with fixture ``name`` (served with the Content-Type of its suffix)."""
        return Route(method, path, self.path(name), status=status, headers=dict(headers or {}),
                     query={k: str(v) for k, v in (query or {}).items()}, times=times,
                     content_type=content_type or content_type_for(name))


@dataclass
class Route:
    """One mocked endpoint.

    ``path`` is matched exactly (a trailing slash aside), or as a regular expression when
    it starts with ``^``. ``query`` entries must all be present in the request's query
    string (other parameters, such as an API key, are ignored). ``body`` is a fixture path,
    bytes/str, or a JSON-able object. ``times`` limits how often the route answers (None:
    always); routes are tried in order, so a one-shot route placed first can shadow a
    general one. ``content_type`` defaults to the fixture file's suffix (``.xml`` →
    ``application/xml``), else ``application/json``. ``raises`` makes the route fail the
    request with that exception instead (e.g. ``requests.ConnectionError()``), to test
    network failures. ``calls`` counts the requests it answered.
    """

    method: str
    path: str
    body: Path | bytes | str | Mapping[str, Any] | Sequence[Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    content_type: str | None = None
    calls: int = 0
    raises: BaseException | None = None

    def matches(self, method: str, url: str) -> bool:
        """Whether this route answers ``method url`` (and has answers left)."""
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
        """The body bytes this route answers with."""
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

    def response_headers(self) -> dict[str, str]:
        """Content-Type (explicit, else from the fixture suffix) plus ``headers``."""
        ctype = self.content_type
        if ctype is None:
            ctype = content_type_for(self.body) if isinstance(self.body, Path) else "application/json"
        return {"Content-Type": ctype, **self.headers}

    def describe(self) -> str:
        """``GET /v1/servers?page=1`` style text for messages."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        left = "" if self.times is None else f" ({max(0, self.times - self.calls)} of {self.times} left)"
        return f"{self.method.upper()} {self.path}{'?' + query if query else ''}{left}"


def _describe_request(method: str, url: str) -> str:
    parts = urlsplit(url)
    # Only parameter names: values may be API keys.
    names = sorted(parse_qs(parts.query, keep_blank_values=True))
    return f"{method} {parts.path}" + (f" (query parameters: {', '.join(names)})" if names else "")


@contextmanager
def mock_routes(base_url: str, routes: Sequence[Route],
                *, assert_all_requests_are_fired: bool = False) -> Iterator[responses_mod.RequestsMock]:
    """Serve ``routes`` under ``base_url`` (scheme and host; a path prefix is ignored) with
    ``responses``. An unmatched request raises ``UnmatchedRequestError`` naming it and the
    routes on offer. The yielded mock's ``calls`` lists every request made (readable after
    the block too)."""
    import responses

    parts = urlsplit(base_url if "://" in base_url else f"https://{base_url}")
    if not parts.hostname:
        raise ValueError(f"mock_routes needs a base URL such as 'https://api.example.com', got {base_url!r}")
    host = f"{parts.scheme}://{parts.netloc}"
    ordered = list(routes)

    def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
        for route in ordered:
            if route.matches(request.method, request.url):
                route.calls += 1
                if route.raises is not None:
                    raise route.raises
                return route.status, route.response_headers(), route.payload()
        offered = "\n    ".join(r.describe() for r in ordered) or "(none)"
        raise UnmatchedRequestError(
            f"no mocked route answers {_describe_request(request.method, request.url)}; routes offered:\n    "
            f"{offered}\n  Add a Route (or a fixture) for it, or fix the path/query the driver sends.")

    # start/stop rather than ``with``: leaving the ``with`` would reset ``calls``, and tests
    # read them after the block.
    rsps = responses.RequestsMock(assert_all_requests_are_fired=assert_all_requests_are_fired)
    rsps.start()
    finished = False
    try:
        pattern = re.compile(re.escape(host) + r"(/.*)?(\?.*)?$")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
            rsps.add_callback(method, pattern, callback=callback)
        yield rsps
        finished = True
    finally:
        rsps.stop(allow_assert=finished)
