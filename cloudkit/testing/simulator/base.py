"""What every simulated provider shares: routing, auth hook, timed state changes,
cached listings and cheap JSON building.

A provider module subclasses :class:`ProviderAPI`, declares ``routes`` (method, path regex,
handler name, public?) and implements its error shape, auth check and handlers. All state
lives in the instance and is guarded by ``self.lock`` (handlers run under it).
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import json
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, TypeVar

from cloudkit.testing.simulator._http import BadBody, SimRequest, SimResponse

T = TypeVar("T")

__all__ = [
    "ApiError",
    "ProviderAPI",
    "SimOptions",
    "dumps",
    "enc",
    "enc_list",
    "iso_now",
]

#: JSON string encoder (C implementation): ``enc("a\"b") == '"a\\"b"'``.
enc: Callable[[str], str] = json.encoder.encode_basestring_ascii
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return _encoder.encode(value).encode("ascii")


def enc_list(items: Iterable[str]) -> str:
    """A JSON array of strings."""
    return "[" + ",".join(map(enc, items)) + "]"


def iso_now(with_z: bool = True) -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS`` (plus ``Z`` unless told not to)."""
    text = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + "Z" if with_z else text


class ApiError(Exception):
    """Raised inside a handler to answer with a ready error response."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class SimOptions:
    """Simulator settings a provider needs."""

    boot_seconds: float = 0.5
    action_seconds: float = 0.2
    public_ip: str = "127.0.0.1"
    base_url: str = "http://127.0.0.1"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: str
    public: bool = False


class ProviderAPI:
    """Base of a simulated provider account."""

    #: Registry name, e.g. "digitalocean".
    name: ClassVar[str] = ""
    #: (method, path regex, handler method name[, public]) — regex groups become arguments.
    routes: ClassVar[Sequence[tuple[Any, ...]]] = ()
    #: Extra constructor options this provider accepts, with defaults.
    option_defaults: ClassVar[dict[str, Any]] = {}
    _compiled: ClassVar[dict[str, list[Route]]]

    def __init__(self, options: SimOptions, *, token: str | None = None, **provider_options: Any) -> None:
        unknown = set(provider_options) - set(self.option_defaults)
        if unknown:
            raise TypeError(f"{self.name} simulator got unknown option(s): {', '.join(sorted(unknown))}")
        self.options = options
        self.settings: dict[str, Any] = {**self.option_defaults, **provider_options}
        self.lock = threading.RLock()
        self.token = token or self.make_token()
        #: token → access: "full", "read" (GET only) or "none" (authenticated, every call forbidden).
        self.tokens: dict[str, str] = {self.token: "full"}
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self.version = 0
        self._list_cache: dict[Hashable, tuple[int, list[Any]]] = {}
        self.server_errors: list[str] = []
        if "_compiled" not in type(self).__dict__:
            type(self)._compiled = self._compile_routes()

    # -- subclass hooks -------------------------------------------------------------------------

    def make_token(self) -> str:
        """A fresh credential in the provider's style."""
        return secrets.token_hex(32)

    @property
    def credentials(self) -> tuple[str, str | None]:
        """(key, secret) to build a driver with."""
        return self.token, None

    def authenticate(self, request: SimRequest, route: Route | None) -> str | SimResponse | None:
        """The token's access level, None when the request carries no credentials, or an error."""
        raise NotImplementedError

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        """An error answer in the provider's shape."""
        raise NotImplementedError

    def unauthorized(self) -> SimResponse:
        return self.error(401, "Unauthorized")

    def forbidden(self) -> SimResponse:
        return self.error(403, "Forbidden")

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, "Not found")

    def throttled(self, retry_after: float) -> SimResponse:
        """A 429 answer with the provider's rate-limit headers."""
        resp = self.error(429, "Too many requests")
        resp.headers.append(("Retry-After", _seconds(retry_after)))
        return resp

    def server_error(self, status: int) -> SimResponse:
        """An injected 5xx (or other) answer."""
        return self.error(status, "Internal server error" if status == 500 else "Service unavailable")

    def common_headers(self) -> list[tuple[str, str]]:
        """Headers added to every answer (rate-limit counters...)."""
        return []

    def normalise_path(self, path: str) -> str:
        return path

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        raise NotImplementedError

    def node_count(self) -> int:
        raise NotImplementedError

    def node_ids(self) -> list[str]:
        raise NotImplementedError

    def node_status(self, node_id: str) -> str | None:
        raise NotImplementedError

    def set_node_status(self, node_id: str, status: str) -> None:
        raise NotImplementedError

    # -- request handling -----------------------------------------------------------------------

    def _compile_routes(self) -> dict[str, list[Route]]:
        table: dict[str, list[Route]] = {}
        for entry in self.routes:
            method, pattern, handler = entry[0], entry[1], entry[2]
            public = bool(entry[3]) if len(entry) > 3 else False
            if not callable(getattr(self, handler, None)):
                raise TypeError(f"{type(self).__name__} has no handler {handler}")
            for m in method.split("|"):
                table.setdefault(m, []).append(Route(m, re.compile(pattern + r"\Z"), handler, public))
        return table

    def match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]] | bool | None:
        """(route, groups), or False when the path exists for another method, or None."""
        lookup = "GET" if method == "HEAD" else method
        for route in self._compiled.get(lookup, ()):
            m = route.pattern.match(path)
            if m:
                return route, m.groups()
        for other, routes in self._compiled.items():
            if other != lookup and any(r.pattern.match(path) for r in routes):
                return False
        return None

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request (under the account lock)."""
        path = self.normalise_path(request.path)
        with self.lock:
            self.settle()
            found = self.match(request.method, path)
            route = found[0] if isinstance(found, tuple) else None
            try:
                access = self.authenticate(request, route)
                if isinstance(access, SimResponse):
                    resp = access
                elif access is None and not (route is not None and route.public):
                    resp = self.unauthorized()
                elif access == "none" or (access == "read" and request.method not in ("GET", "HEAD")):
                    resp = self.forbidden()
                elif found is False:
                    resp = self.error(405, "Method not allowed")
                elif route is None:
                    resp = self.not_found()
                else:
                    assert isinstance(found, tuple)
                    resp = getattr(self, route.handler)(request, *found[1])
            except ApiError as exc:
                resp = exc.response
            except BadBody as exc:
                resp = self.bad_body(str(exc))
            except Exception:  # a simulator bug: answer 500, keep the trace for the test to see
                self.server_errors.append(traceback.format_exc())
                resp = self.error(500, "simulator error")
            extra = self.common_headers()
            if extra:
                resp.headers.extend(extra)
            return resp

    def bad_body(self, message: str) -> SimResponse:
        return self.error(400, message)

    def fail(self, status: int, message: str, **extra: Any) -> NoReturn:
        """Stop the handler and answer with an error."""
        raise ApiError(self.error(status, message, **extra))

    def found(self, table: Mapping[Any, T], key: Any, message: str = "Not found") -> T:
        """``table[key]``, or a 404 answer in the provider's error shape."""
        item = table.get(key)
        if item is None:
            self.fail(404, message)
        return item

    # -- timed state changes --------------------------------------------------------------------

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` (under the lock) at the first request after ``seconds``."""
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, seconds), next(self._timer_seq), action))

    def settle(self) -> None:
        """Apply every state change that is due."""
        timers = self._timers
        if not timers:
            return
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, action = heapq.heappop(timers)
            action()

    def changed(self) -> None:
        """Invalidate cached listings (call after creates, deletes, renames, tag changes)."""
        self.version += 1

    def listing(self, key: Hashable, build: Callable[[], list[Any]]) -> list[Any]:
        """A listing computed once per state version (pages of the same listing share it)."""
        cached = self._list_cache.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        items = build()
        if len(self._list_cache) > 64:
            self._list_cache.clear()
        self._list_cache[key] = (self.version, items)
        return items

    # -- small helpers --------------------------------------------------------------------------

    def json_response(self, status: int, value: Any) -> SimResponse:
        return SimResponse(status, dumps(value))

    def raw_json(self, status: int, body: bytes | str) -> SimResponse:
        return SimResponse(status, body if isinstance(body, bytes) else body.encode("ascii"))

    def empty(self, status: int = 204) -> SimResponse:
        return SimResponse(status, b"", content_type=None)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def int_arg(request: SimRequest, name: str, default: int) -> int | None:
    """An integer query parameter; None when present but not an integer."""
    text = request.arg(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        return None
