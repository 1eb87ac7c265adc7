"""Connections: the HTTP side of a driver, as in libcloud's ``common/base.py``.

A driver's Connection subclass says only what is specific to its provider: the default
host, the auth hook (``add_default_headers`` / ``add_default_params``), and its Response
class. ``Connection`` builds each request (URL, auth, body), then orchestrates the parts
that live in their own modules, split the way the HTTP libraries underneath are split
(session, adapter, retry policy):

* ``cloudkit.transport`` sends it (the only module that imports requests): pooled session,
  connect and read timeouts, bodies larger than ``max_body_bytes`` refused while streaming,
  an answer still arriving after ``max_response_seconds`` (default: twice the read timeout)
  cut off, every failure turned into a cloudkit error;
* ``cloudkit.retry.RetryPolicy`` decides whether and when to try again (idempotency,
  ``Retry-After``, backoff with jitter, the total budget);
* ``Response`` (``cloudkit.response``) parses the body and maps error statuses;
* ``cloudkit.paging`` runs paged listings (``paginate``, ``follow_links``).

Log lines and errors never carry Authorization headers or secret query parameters.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload
from urllib.parse import urlsplit

from cloudkit import paging, transport
from cloudkit._pickling import restore_state, travelling_state
from cloudkit._version import __version__
from cloudkit.errors import ConfigurationError, NetworkError, OutcomeUnknownError, RateLimitError, ServerError
from cloudkit.paging import item_key
from cloudkit.redact import redact_url
from cloudkit.response import JsonResponse, Response
from cloudkit.retry import IDEMPOTENT_METHODS, RetryPolicy
from cloudkit.transport import Timeout, normalise_timeout

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.transport import Session

__all__ = [
    "IDEMPOTENT_METHODS",
    "BasicAuthConnection",
    "BearerTokenConnection",
    "Connection",
    "QueryKeyConnection",
    "RetryPolicy",
    "Timeout",
]

log = logging.getLogger("cloudkit.connection")

T = TypeVar("T")
U = TypeVar("U")

class Connection:
    """The HTTP side of a driver: base URL, session, auth hook, retries, paging.

    ``Connection(key, secret=None, secure=True, host=None, port=None, ...)`` takes
    libcloud's arguments; ``base_url="http://127.0.0.1:8080"`` overrides scheme, host,
    port and path prefix at once (for a simulator or a proxy).
    """

    #: Default host of the provider's API (subclasses set it).
    host: str = ""
    #: Default port, or None for the scheme's default.
    port: int | None = None
    #: Prefix prepended to every request path (e.g. "/api/v1"); "" when paths carry it.
    base_path: str = ""
    responseCls: ClassVar[type[Response]] = JsonResponse
    default_timeout: ClassVar[tuple[float, float]] = (10.0, 60.0)
    default_retry: ClassVar[RetryPolicy] = RetryPolicy()
    #: Query parameter names this provider uses for secrets (redacted in logs).
    secret_params: ClassVar[frozenset[str]] = frozenset()
    #: Bodies above this size are refused while streaming (MalformedResponseError). One page
    #: of any listing cloudkit asks for is far smaller; 16 MiB keeps a hostile or broken
    #: answer (a 50 MB flood, a gzip bomb) from costing more memory than that.
    max_body_bytes: int = 16 * 1024 * 1024
    #: Seconds the answer (status line, headers and body) may take to arrive in full once the
    #: request is on its way (None: twice the read timeout). The read timeout bounds each
    #: wait for data; this bounds the total (see ``cloudkit.deadline``).
    max_response_seconds: float | None = None
    #: Size of the HTTP connection pool (>= the paging workers).
    pool_size: ClassVar[int] = 32
    #: Threads used to fetch the remaining pages of a listing.
    page_workers: int = 8
    #: Items asked for per page of a listing (None: the driver's default, the provider's
    #: maximum). A page shorter than this ends the listing.
    page_size: int | None = None
    #: Keep what a listing builds out of the cyclic garbage collector's repeated scans while
    #: it is paged and built (``cloudkit.paging.gc_sheltered``: the collector keeps running
    #: for every thread; objects alive at a page boundary are examined after the listing
    #: instead of during it). False: leave the collector alone.
    shelter_gc: bool = True
    #: Opt-in: switch the cyclic garbage collector off, for the whole process, while any
    #: listing is paged and built (``cloudkit.paging.gc_paused``; restored after the last
    #: one, retry waits included). About 7 % faster than the shelter on a 10,000-droplet
    #: listing (docs/performance.md); only for programs whose other threads make little
    #: cyclic garbage meanwhile. Takes precedence over ``shelter_gc``.
    pause_gc: bool = False
    #: Attributes that do not travel when the connection is pickled (None on arrival, made
    #: again on first use); locks and executors never travel either (see ``__getstate__``).
    transient_attributes: ClassVar[frozenset[str]] = frozenset({"_session"})

    def __init__(
        self,
        key: str | None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        retry_budget: float | None = None,
        verify: bool | str = True,
        proxies: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
        page_workers: int | None = None,
        page_size: int | None = None,
        driver_name: str | None = None,
        user_agent_extra: str | None = None,
    ) -> None:
        self.key = key
        self.secret = secret
        self.secure = bool(secure)
        self.host = host or type(self).host
        self.port = port if port is not None else type(self).port
        self.base_path = type(self).base_path
        if base_url is not None:
            self._apply_base_url(base_url)
        self.timeout = normalise_timeout(timeout, type(self).default_timeout)
        if max_retries is not None and max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        self.retry = type(self).default_retry.with_options(max_retries=max_retries, budget=retry_budget)
        self.verify = verify
        self.proxies = dict(proxies) if proxies else None
        if max_body_bytes is not None:
            self.max_body_bytes = max_body_bytes
        if page_workers is not None:
            self.page_workers = max(1, page_workers)
        if page_size is not None:
            if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
                raise ConfigurationError("page_size must be a positive whole number")
            self.page_size = page_size
        self.driver_name = driver_name
        self.user_agent = f"cloudkit/{__version__}" + (f" {user_agent_extra}" if user_agent_extra else "")
        self._session: Session | None = None
        self._forms: tuple[Any, tuple[str, ...]] | None = None
        self._session_lock = threading.Lock()
        #: time.monotonic() before which no request is sent (the rate-limit allowance is spent)
        self._throttle_until = 0.0
        if not self.host:
            raise ConfigurationError(f"{type(self).__name__} needs a host")

    def __getstate__(self) -> dict[str, Any]:
        """What travels when pickled: the configuration, credentials included; never the
        session, its pools or locks (made afresh on first use in the receiving process)."""
        return travelling_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_state(self, state)

    # -- addressing -------------------------------------------------------------------------

    def _apply_base_url(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"base_url must look like https://host[:port][/prefix], got {base_url!r}")
        self.secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        # A base URL without a path (a simulator's root) keeps the API's own prefix ("/v1").
        self.base_path = parts.path.rstrip("/") or type(self).base_path

    @property
    def base_url(self) -> str:
        """``scheme://host[:port]`` plus the path prefix."""
        scheme = "https" if self.secure else "http"
        default_port = 443 if self.secure else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port in (None, default_port) else f"{host}:{self.port}"
        return f"{scheme}://{netloc}{self.base_path}"

    def url_for(self, action: str) -> str:
        """The absolute URL for a request path, or for a link the API gave us.

        Links are re-based onto our own base URL: a token is only ever sent to the
        host this connection was configured for.
        """
        if "://" in action:
            parts = urlsplit(action)
            path = parts.path
            if self.base_path and path.startswith(self.base_path + "/"):
                path = path[len(self.base_path):]
            action = path + (f"?{parts.query}" if parts.query else "")
        if not action.startswith("/"):
            action = "/" + action
        return self.base_url + action

    # -- hooks for subclasses ---------------------------------------------------------------

    def add_default_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Add auth and provider headers. Override per auth scheme."""
        return headers

    def add_default_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Add auth and provider query parameters. Override per auth scheme."""
        return params

    def encode_data(self, data: object, headers: dict[str, str]) -> bytes | str | None:
        """Encode a request body (JSON by default) and set its Content-Type."""
        if data is None:
            return None
        if isinstance(data, (bytes, str)):
            return data
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(data, separators=(",", ":"))

    # -- the session ------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The pooled session, created on first use."""
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    self._session = transport.new_session(
                        self.user_agent, pool_size=self.pool_size, proxies=self.proxies,
                        secret_params=self.secret_params | _DEFAULT_SECRET_PARAMS)
        return self._session

    def close(self) -> None:
        """Close pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        data: object = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        *,
        response_cls: type[Response] | None = None,
        idempotent: bool | None = None,
        timeout: Timeout | None = None,
        outcome_hint: str | None = None,
        defer_parse: bool = False,
    ) -> Response:
        """Send one request and return its parsed Response, retrying where safe.

        ``idempotent`` overrides the method-based rule (a provider's POST that is safe to
        repeat may say so). ``outcome_hint`` is added to the error when a non-idempotent
        request may have been carried out but no answer came back. ``defer_parse=True``
        returns the Response with its status checked but its body not yet parsed (call its
        ``parse()``).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url_for(action)
        query = self.add_default_params(dict(params or {}))
        hdrs = self.add_default_headers({"Accept": "application/json", **(headers or {})})
        body = self.encode_data(data, hdrs)
        cls = response_cls or self.responseCls
        req_timeout = normalise_timeout(timeout, self.timeout)
        started = time.monotonic()
        self._hold_for_rate_limit(method, url, query)
        attempt = 0
        with self.scrubbing():
            while True:
                try:
                    resp = self._attempt(method, url, query, hdrs, body, cls, req_timeout, attempt,
                                         defer_parse)
                    hold = resp.throttle_for()
                    if hold:
                        self._throttle_until = max(self._throttle_until, time.monotonic() + hold)
                    return resp
                except (RateLimitError, ServerError, NetworkError) as exc:
                    wait = self.retry.wait_before_retry(exc, method=method, idempotent=idempotent,
                                                        attempt=attempt, elapsed=time.monotonic() - started)
                    if wait is None:
                        raise self._final_error(exc, method, url, idempotent, outcome_hint) from None
                    log.info("%s %s: %s; retry %d/%d in %.2fs", method, self._safe(url, query),
                             type(exc).__name__, attempt + 1, self.retry.max_retries, wait)
                    time.sleep(wait)
                    attempt += 1

    def credential_forms(self) -> tuple[str, ...]:
        """Every form in which this connection's credentials could be echoed back (raw,
        URL-encoded, JSON-escaped, base64 Basic): what ``scrubbing`` removes from errors."""
        inputs = (self._secret_values(), self._basic_pairs())
        cached = getattr(self, "_forms", None)
        if cached is None or cached[0] != inputs:
            from cloudkit.scrub import secret_forms

            cached = self._forms = (inputs, secret_forms(*inputs))
        return cached[1]

    def _secret_values(self) -> tuple[str | None, ...]:
        return (self.key, self.secret)

    def _basic_pairs(self) -> tuple[tuple[str, str], ...]:
        return ()

    @contextmanager
    def scrubbing(self) -> Iterator[None]:
        """Scrub every form of the credentials from any error raised inside (and from its
        whole exception chain): see ``cloudkit.scrub``."""
        try:
            yield
        except Exception as exc:
            from cloudkit.scrub import scrub_exception

            scrub_exception(exc, self.credential_forms())
            raise

    def _hold_for_rate_limit(self, method: str, url: str, query: Mapping[str, Any]) -> None:
        """Wait until the rate-limit window resets when the last answer said the allowance is
        spent, if that is within the retry budget (beyond it the request goes out, and a 429
        is handled as usual)."""
        delay = self._throttle_until - time.monotonic()
        if delay <= 0 or delay > self.retry.budget or self.retry.max_retries == 0:
            return
        log.info("%s %s: rate-limit allowance spent; waiting %.2fs for it to reset", method,
                 self._safe(url, query), delay)
        time.sleep(delay)

    def _final_error(self, exc: Exception, method: str, url: str, idempotent: bool,
                     hint: str | None) -> Exception:
        if isinstance(exc, NetworkError) and exc.sent and not idempotent and not isinstance(
                exc, OutcomeUnknownError):
            return OutcomeUnknownError(
                f"{method} {self._safe(url, {})}: {exc}; the request may have been carried out "
                "and was not repeated", hint=hint, method=method, url=exc.url, sent=True)
        return exc

    def _safe(self, url: str, query: Mapping[str, Any]) -> str:
        if query:
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(query, doseq=True)}"
        return redact_url(url, self.secret_params | _DEFAULT_SECRET_PARAMS)

    def _attempt(self, method: str, url: str, query: dict[str, Any], headers: dict[str, str],
                 body: bytes | str | None, cls: type[Response], timeout: tuple[float, float],
                 attempt: int, defer_parse: bool = False) -> Response:
        """One try: send through the transport, then build the Response (errors mapped)."""
        # The redacted URL is only needed for a log line or an error: built on first use
        # (encoding and redacting the query costs more than the rest of a request's own work).
        safe_url = _SafeURL(self, url, query)
        t0 = time.perf_counter()
        answer = transport.exchange(
            self.session, method, url, params=query, body=body, headers=headers, timeout=timeout,
            verify=self.verify, max_body_bytes=self.max_body_bytes,
            response_seconds=self._response_seconds(timeout[1]), safe_url=safe_url,
            driver_name=self.driver_name)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d (%d bytes, %.3fs, try %d)", method, safe_url(), answer.status,
                      len(answer.body), time.perf_counter() - t0, attempt + 1)
        if defer_parse or _paging.parse_late:  # passed only when needed: Response subclasses may predate it
            resp = cls(answer.status, answer.headers, answer.body, driver_name=self.driver_name,
                       method=method, url=safe_url, defer_parse=True)
            if not defer_parse:
                resp.parse_when_read()
            return resp
        return cls(answer.status, answer.headers, answer.body, driver_name=self.driver_name, method=method,
                   url=safe_url)

    def _response_seconds(self, read_timeout: float | None) -> float:
        """Seconds the whole answer may take (``max_response_seconds``, default twice the read
        timeout)."""
        seconds = self.max_response_seconds
        if seconds is None:
            seconds = 2 * (read_timeout if read_timeout is not None else self.timeout[1])
        return seconds

    # -- paging -----------------------------------------------------------------------------

    @overload
    def paginate(self, action: str, extract: Callable[[Any], Sequence[T]],
                 total_pages: Callable[[Any, int], int | None], *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, page_param: str = "page",
                 size_param: str | None = "per_page", page_size: int = 100, first_page: int = 1,
                 transform: None = None, total_items: Callable[[Any], int | None] | None = None,
                 key: Callable[[T], Hashable | None] = item_key) -> list[T]: ...

    @overload
    def paginate(self, action: str, extract: Callable[[Any], Sequence[T]],
                 total_pages: Callable[[Any, int], int | None], *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, page_param: str = "page",
                 size_param: str | None = "per_page", page_size: int = 100, first_page: int = 1,
                 transform: Callable[[T], U], total_items: Callable[[Any], int | None] | None = None,
                 key: Callable[[U], Hashable | None] = item_key) -> list[U]: ...

    def paginate(
        self,
        action: str,
        extract: Callable[[Any], Sequence[Any]],
        total_pages: Callable[[Any, int], int | None],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        page_param: str = "page",
        size_param: str | None = "per_page",
        page_size: int = 100,
        first_page: int = 1,
        transform: Callable[[Any], Any] | None = None,
        total_items: Callable[[Any], int | None] | None = None,
        key: Callable[[Any], Hashable | None] = item_key,
    ) -> list[Any]:
        """Fetch every page of a page-numbered listing and return the items in order.

        The first page is fetched alone; ``total_pages(first_body, page_size)`` tells how
        many pages the provider claims (and ``total_items(first_body)`` how many items, when
        it says), and the remaining pages are fetched concurrently by a small pool
        (``page_workers`` threads). ``extract(body)`` returns one page's items and must raise
        ``MalformedResponseError`` when the body is not a listing; ``transform(item)`` (e.g.
        a driver's ``_to_node``) turns each item into what is returned, page by page as the
        pages arrive. Items with the same ``key`` are listed once. The listing is bounded by
        what the first page justifies and ends on a short page (see :mod:`cloudkit.paging`);
        ``size_param=None`` for listings that take no page size. While a listing is built,
        it is kept out of the cyclic garbage collector's scans when ``shelter_gc`` is set (or
        the collector is paused, process-wide, when ``pause_gc`` is).
        """
        base = dict(params or {})
        if size_param is not None:
            base[size_param] = page_size
        # The page-fetching threads leave each body unparsed: it is decoded on the building
        # thread, just before its items are built (decoding holds the GIL, so it gains nothing
        # from the threads). Every page still goes through self.request(), so a subclass that
        # wraps request() sees each page; one that reads ``.object`` there parses it itself.
        def fetch(page: int) -> Response:
            # A listing that takes no page size is asked for its first page plainly.
            query = base if size_param is None and page == first_page else {**base, page_param: page}
            with _parse_late():
                return self.request(action, query, headers=headers)

        def parse(fetched: Response) -> Any:
            return fetched.parse()

        with self.scrubbing():
            return paging.paginate(
                fetch, parse, extract, total_pages, what=action, page_size=page_size, first_page=first_page,
                size_sent=size_param is not None, transform=transform, total_items=total_items, key=key,
                workers=self.page_workers, shelter_gc=self.shelter_gc, pause_gc=self.pause_gc)

    def follow_links(
        self,
        action: str,
        extract: Callable[[Any], Sequence[T]],
        next_link: Callable[[Any], str | None],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_pages: int = 10_000,
    ) -> list[T]:
        """Fetch a listing by following each page's "next" link (or cursor URL) until there
        is none; bounded as :func:`cloudkit.paging.follow_links` says."""
        with self.scrubbing():
            first = self.request(action, params, headers=headers).object
            return paging.follow_links(first, lambda link: self.request(link, headers=headers).object,
                                       extract, next_link, what=action, max_pages=max_pages)


class _PagingState(threading.local):
    parse_late = False


_paging = _PagingState()


@contextmanager
def _parse_late() -> Iterator[None]:
    """Inside, the responses this thread's requests return parse their body on the first read
    of ``object`` (or on ``parse()``), not on arrival: how ``paginate`` fetches its pages."""
    before = _paging.parse_late
    _paging.parse_late = True
    try:
        yield
    finally:
        _paging.parse_late = before


_DEFAULT_SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "password", "secret"})


class _SafeURL:
    """A request's URL with its query, secrets redacted, as text made on first call.

    Every request needs one in case a log line is written or an error is raised, but most
    requests need neither: encoding the query and redacting it would cost more than the rest
    of cloudkit's own work on a request, so it waits until something asks for the text.
    """

    __slots__ = ("_conn", "_query", "_text", "_url")

    def __init__(self, conn: Connection, url: str, query: Mapping[str, Any]) -> None:
        self._conn = conn
        self._url = url
        self._query = query
        self._text: str | None = None

    def __call__(self) -> str:
        if self._text is None:
            self._text = self._conn._safe(self._url, self._query)
        return self._text

    def __repr__(self) -> str:
        return f"<_SafeURL {self()}>"


class BearerTokenConnection(Connection):
    """``Authorization: Bearer <key>`` on every request."""

    def add_default_headers(self, headers: dict[str, str]) -> dict[str, str]:
        headers["Authorization"] = f"Bearer {self.key}"
        return headers


class BasicAuthConnection(Connection):
    """HTTP Basic auth with ``key`` as the user name and ``secret`` as the password."""

    def __init__(self, key: str | None, secret: str | None = None, *args: Any, **kwargs: Any) -> None:
        if secret is None:
            raise ConfigurationError(f"{type(self).__name__} needs a user name and a password")
        super().__init__(key, secret, *args, **kwargs)
        token = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
        self._basic = f"Basic {token}"

    def add_default_headers(self, headers: dict[str, str]) -> dict[str, str]:
        headers["Authorization"] = self._basic
        return headers

    def _secret_values(self) -> tuple[str | None, ...]:
        return (self.secret,)  # the user name is not a secret; the password and the pair are

    def _basic_pairs(self) -> tuple[tuple[str, str], ...]:
        return ((self.key or "", self.secret or ""),)


class QueryKeyConnection(Connection):
    """The API key in a query-string parameter (``key_param``), redacted in every log line."""

    key_param: ClassVar[str] = "key"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.secret_params = cls.secret_params | {cls.key_param}

    def add_default_params(self, params: dict[str, Any]) -> dict[str, Any]:
        params[self.key_param] = self.key
        return params


QueryKeyConnection.secret_params = frozenset({QueryKeyConnection.key_param})
