"""What every simulated provider shares: routing, authentication, the standard errors and
rate-limit headers, timed state changes, the server store, paging, cached listings and cheap
JSON building.

A provider module subclasses :class:`ProviderAPI` and declares only its paths and shapes:

- ``routes`` (method, path regex, handler name, public?) and the handlers;
- ``auth`` ("bearer", "basic" or "query:NAME"), or its own :meth:`~ProviderAPI.authenticate`;
- :meth:`~ProviderAPI.error` (its error body) and ``messages`` (the texts of its 401, 403,
  404, 429, 500 and other 5xx answers); ``rate_limit`` (its rate-limit headers);
- ``node_table``/``node_id_type``/``status_field`` (where its servers live, for the
  simulator's introspection) and ``page_spec`` plus :meth:`~ProviderAPI.page_body` (its
  listing envelope; :func:`keyed_list` builds the usual ``{"KEY": [...], ...}`` one; a
  provider paging by cursor overrides :meth:`~ProviderAPI.page_window` to return a
  :class:`~cloudkit.testing.simulator.paging.OffsetPage`).

All state lives in the instance and is guarded by ``self.lock`` (handlers run under it).
Subclasses written against the first version of this base (overriding ``authenticate``,
``unauthorized``, ``throttled``, ``node_count``... themselves) keep working unchanged.
"""

from __future__ import annotations

import base64
import binascii
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
from cloudkit.testing.simulator.paging import Page, PageSpec

T = TypeVar("T")

__all__ = [
    "ApiError",
    "ProviderAPI",
    "RateLimit",
    "SimOptions",
    "dumps",
    "enc",
    "enc_list",
    "iso_now",
    "keyed_list",
]

#: JSON string encoder (C implementation): ``enc("a\"b") == '"a\\"b"'``.
enc: Callable[[str], str] = json.encoder.encode_basestring_ascii
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return _encoder.encode(value).encode("ascii")


def keyed_list(key: str, items: bytes, **rest: Any) -> bytes:
    """``{"KEY":[items],...rest}``: a listing envelope around comma-joined JSON ``items``."""
    tail = b"".join(b",%s:%s" % (enc(k).encode(), dumps(v)) for k, v in rest.items())
    return b"{%s:[%s]%s}" % (enc(key).encode(), items, tail)


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
class RateLimit:
    """A provider's rate-limit headers: sent on every answer, and exhausted on a 429."""

    limit: int
    #: Seconds until the counter resets.
    window: float
    #: Header names for the limit, what remains, and the reset time (epoch seconds).
    names: tuple[str, str, str]
    #: The limit a 429 answer states (None: ``limit``).
    throttled_limit: int | None = None


_MESSAGES: dict[int, str] = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
                             429: "Too many requests", 500: "Internal server error", 503: "Service unavailable"}


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
    #: How credentials travel: "bearer" (``Authorization: Bearer TOKEN``), "basic" (HTTP Basic;
    #: ``self.tokens`` keyed by ``user:password``) or "query:NAME" (``?NAME=TOKEN``). Empty:
    #: the subclass implements :meth:`authenticate`.
    auth: ClassVar[str] = ""
    #: Texts of the standard errors by status (401, 403, 404, 405, 429, 500; 503 for other 5xx).
    messages: ClassVar[Mapping[int, str]] = {}
    #: Rate-limit headers on every answer and on a 429 (None: only ``Retry-After`` on a 429).
    rate_limit: ClassVar[RateLimit | None] = None
    #: Headers sent on every answer before the rate-limit ones.
    extra_headers: ClassVar[Sequence[tuple[str, str]]] = ()
    #: ``Retry-After`` header name (empty: none sent), and how its seconds are written:
    #: "exact" (``1.5``) or "whole" (whole seconds from one second up, else ``0.2``).
    retry_after_header: ClassVar[str] = "Retry-After"
    retry_after_style: ClassVar[str] = "exact"
    #: The server store: the attribute holding the servers (a dict id → object, or id → JSON
    #: dict), the id type, the attribute (or key) holding the provider's status, and an
    #: optional attribute that must be true for an entry to count as a server.
    node_table: ClassVar[str] = ""
    node_id_type: ClassVar[type] = str
    status_field: ClassVar[str] = "status"
    node_flag: ClassVar[str | None] = None
    #: How listings page (see :meth:`paged`).
    page_spec: ClassVar[PageSpec | None] = None
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
        self._rl_window = 0.0
        self._rl_count = 0
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
        scheme = self.auth
        if scheme == "bearer":
            header = request.headers.get("authorization")
            if not header:
                return None
            kind, _, token = header.partition(" ")
            return self._access(token.strip() if kind.lower() == "bearer" else None)
        if scheme == "basic":
            header = request.headers.get("authorization")
            if not header:
                return None
            kind, _, value = header.partition(" ")
            if kind.lower() != "basic":
                return self.unauthorized()
            try:
                pair = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return self.unauthorized()
            return self._access(pair)
        if scheme.startswith("query:"):
            values = request.query.get(scheme[6:])
            return self._access(values[-1]) if values else None
        raise NotImplementedError

    def _access(self, credential: str | None) -> str | SimResponse:
        access = self.tokens.get(credential) if credential is not None else None
        return access if access is not None else self.unauthorized()

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        """An error answer in the provider's shape."""
        raise NotImplementedError

    def message(self, status: int) -> str:
        """The provider's text for a standard error."""
        return self.messages.get(status) or _MESSAGES.get(status) or "Error"

    def unauthorized(self) -> SimResponse:
        return self.error(401, self.message(401))

    def forbidden(self) -> SimResponse:
        return self.error(403, self.message(403))

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, self.message(404))

    def throttled(self, retry_after: float) -> SimResponse:
        """A 429 answer with the provider's rate-limit headers."""
        resp = self.error(429, self.message(429))
        rl = self.rate_limit
        if rl is not None:
            reset = int(time.time() + max(1.0, retry_after))
            limit = rl.throttled_limit if rl.throttled_limit is not None else rl.limit
            resp.headers.extend(zip(rl.names, (str(limit), "0", str(reset)), strict=True))
        if self.retry_after_header:
            text = _seconds(retry_after) if self.retry_after_style == "exact" else _whole_seconds(retry_after)
            resp.headers.append((self.retry_after_header, text))
        return resp

    def server_error(self, status: int) -> SimResponse:
        """An injected 5xx (or other) answer."""
        return self.error(status, self.message(500 if status == 500 else 503))

    def common_headers(self) -> list[tuple[str, str]]:
        """Headers added to every answer (rate-limit counters...)."""
        rl = self.rate_limit
        if rl is None:
            return list(self.extra_headers)
        now = time.time()
        if now >= self._rl_window:
            self._rl_window = now + rl.window
            self._rl_count = 0
        self._rl_count += 1
        return [*self.extra_headers, (rl.names[0], str(rl.limit)),
                (rl.names[1], str(max(0, rl.limit - self._rl_count))), (rl.names[2], str(int(self._rl_window)))]

    def normalise_path(self, path: str) -> str:
        return path

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running servers at once; returns their ids."""
        raise NotImplementedError

    # -- the server store -----------------------------------------------------------------------

    def _nodes(self) -> dict[Any, Any]:
        if not self.node_table:
            raise NotImplementedError(f"{type(self).__name__} declares no node_table")
        table: dict[Any, Any] = getattr(self, self.node_table)
        return table

    def node_count(self) -> int:
        with self.lock:
            self.settle()
            table, flag = self._nodes(), self.node_flag
            return len(table) if flag is None else sum(1 for n in table.values() if getattr(n, flag))

    def node_ids(self) -> list[str]:
        with self.lock:
            table, flag = self._nodes(), self.node_flag
            return [str(k) for k, n in table.items() if flag is None or getattr(n, flag)]

    def node_status(self, node_id: str) -> str | None:
        with self.lock:
            self.settle()
            node = self._nodes().get(self.node_id_type(node_id))
            if node is None or (self.node_flag is not None and not getattr(node, self.node_flag)):
                return None
            return self.node_state(node)

    def node_state(self, node: Any) -> str:
        """Hook: the status :meth:`node_status` reports for a server."""
        return str(node[self.status_field] if isinstance(node, dict) else getattr(node, self.status_field))

    def set_node_status(self, node_id: str, status: str) -> None:
        with self.lock:
            node = self._nodes()[self.node_id_type(node_id)]
            if isinstance(node, dict):
                node[self.status_field] = status
            else:
                setattr(node, self.status_field, status)
            self.status_forced(node, status)
            touch = getattr(node, "touch", None)
            if touch is not None:
                touch()
            self.changed()

    def status_forced(self, node: Any, status: str) -> None:
        """Hook: what else changes when a test forces a server into ``status``."""

    def seeding(self, count: int, make: Callable[[int], Hashable]) -> list[str]:
        """Call ``make(n)`` for n = (servers so far) + 1 … + count under the lock; their ids."""
        with self.lock:
            start = len(self._nodes())
            ids = [str(make(start + i + 1)) for i in range(count)]
            self.changed()
        return ids

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

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` now when ``seconds`` is 0 (or less), else as :meth:`later` does."""
        if seconds <= 0:
            action()
        else:
            self.later(seconds, action)

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

    # -- paging ---------------------------------------------------------------------------------

    def page_window(self, request: SimRequest, total: int) -> Page:
        """The page a request asks for (``page_spec``), or a 400 in the provider's shape."""
        spec = self.page_spec
        if spec is None:
            raise NotImplementedError(f"{type(self).__name__} declares no page_spec")
        number = int_arg(request, spec.page_param, 1)
        if number is None or number < 1:
            self.fail(400, spec.page_error, field=spec.page_param)
        return Page(number, self.page_size(request, spec), total)

    def page_size(self, request: SimRequest, spec: PageSpec) -> int:
        """The page size a request asks for, within ``spec``'s bounds, or a 400."""
        size = int_arg(request, spec.size_param, spec.default)
        if size is None or size < spec.minimum or (size > spec.maximum and not spec.clamp):
            self.fail(400, spec.size_error, field=spec.size_param)
        return min(size, spec.maximum)

    def paged(self, request: SimRequest, total: int, render: Callable[[int, int], list[bytes]],
              **shape: Any) -> SimResponse:
        """One page of a listing: ``render(start, end)`` gives the items' JSON, :meth:`page_body`
        wraps them (``shape`` is passed on to it)."""
        page = self.page_window(request, total)
        items = render(page.start, page.end) if page.start < page.end else []
        return SimResponse(200, self.page_body(request, page, b",".join(items), **shape))

    def paged_list(self, request: SimRequest, values: Sequence[Any], **shape: Any) -> SimResponse:
        """:meth:`paged` over plain JSON values."""
        return self.paged(request, len(values), lambda s, e: [dumps(v) for v in values[s:e]], **shape)

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        """The provider's listing envelope around ``items`` (comma-joined JSON values)."""
        raise NotImplementedError

    # -- small helpers --------------------------------------------------------------------------

    def json_object(self, request: SimRequest, message: str, **extra: Any) -> dict[str, Any]:
        """The request's JSON body when it is an object, else a 400 saying ``message``."""
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, message, **extra)
        return body

    def json_response(self, status: int, value: Any) -> SimResponse:
        return SimResponse(status, dumps(value))

    def raw_json(self, status: int, body: bytes | str) -> SimResponse:
        return SimResponse(status, body if isinstance(body, bytes) else body.encode("ascii"))

    def empty(self, status: int = 204) -> SimResponse:
        return SimResponse(status, b"", content_type=None)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def _whole_seconds(value: float) -> str:
    return str(max(1, round(value))) if value >= 1 else f"{value:g}"


def seed_options(fields: dict[str, Any], defaults: Mapping[str, Any],
                 aliases: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Take a seed's known fields (``aliases``: other name → field) out of ``fields``, with
    defaults; a TypeError names any left over."""
    out = dict(defaults)
    for alias, name in (aliases or {}).items():
        if alias in fields:
            out[name] = fields.pop(alias)
    for name in defaults:
        if name in fields:
            out[name] = fields.pop(name)
    if fields:
        raise TypeError(f"unknown seed field(s): {', '.join(sorted(fields))}")
    return out


def int_arg(request: SimRequest, name: str, default: int) -> int | None:
    """An integer query parameter; None when present but not an integer."""
    text = request.arg(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        return None
