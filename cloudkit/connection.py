"""Connections: one pooled HTTP session per driver, auth hooks, timeouts, retries, paging.

A driver's Connection subclass says only what is specific to its provider: the default
host, the auth hook (``add_default_headers`` / ``add_default_params``), and its Response
class. Everything else lives here:

* every request has a connect and a read timeout;
* 429 and failures to connect (the request never left) are retried for every method;
  5xx (500/502/503/504) and read failures only for idempotent methods, so a POST that
  may have reached the server is never repeated (a create must not make two servers);
* backoff is exponential with full jitter, honours ``Retry-After`` and rate-limit reset
  headers, and stops when the total retry budget is spent;
* bodies larger than ``max_body_bytes`` are refused while streaming, not after, and an answer
  (headers included) still arriving after ``max_response_seconds`` (default: twice the read
  timeout) is cut off;
* log lines never carry Authorization headers or secret query parameters.

``requests`` is imported on first use, so constructing a driver stays cheap.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from cloudkit import paging
from cloudkit._pickling import restore_state, travelling_state
from cloudkit._version import __version__
from cloudkit.deadline import Watch, current_watch
from cloudkit.errors import (
    CloudkitError,
    ConfigurationError,
    MalformedResponseError,
    NetworkError,
    OutcomeUnknownError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TLSError,
)
from cloudkit.paging import item_key
from cloudkit.redact import protect_third_party_loggers, redact_url
from cloudkit.response import JsonResponse, Response

if TYPE_CHECKING:  # pragma: no cover
    import requests

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

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

Timeout = float | tuple[float, float]


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how often and how long cloudkit waits between tries.

    ``max_retries`` extra tries at most (0 turns retrying off), waits of
    ``backoff_base * 2**attempt`` seconds with full jitter capped at ``backoff_max``,
    a server's ``Retry-After`` honoured as given, and no retry once ``budget`` seconds
    have passed since the first try (a wait that would cross it is not started).
    """

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 16.0
    budget: float = 60.0
    idempotent_statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            # The server said when; add a little jitter so many clients do not stampede.
            return retry_after + random.uniform(0, min(0.25, retry_after * 0.1 + 0.05))
        cap = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return random.uniform(cap / 2, cap)


def _normalise_timeout(timeout: Timeout | None, default: tuple[float, float]) -> tuple[float, float]:
    if timeout is None:
        return default
    if isinstance(timeout, (int, float)):
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        return (float(timeout), float(timeout))
    try:
        connect, read = timeout
    except (TypeError, ValueError):
        raise ConfigurationError("timeout must be seconds or a (connect, read) pair") from None
    if connect <= 0 or read <= 0:
        raise ConfigurationError("timeouts must be positive")
    return (float(connect), float(read))


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
    #: Pause the cyclic garbage collector while a listing is paged and built (see
    #: ``paginate``; process-wide while any listing runs, retry waits included, restored
    #: after the last one). Set False where other threads make cyclic garbage fast.
    pause_gc: bool = True
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
        self.timeout = _normalise_timeout(timeout, type(self).default_timeout)
        policy = type(self).default_retry
        if max_retries is not None:
            if max_retries < 0:
                raise ConfigurationError("max_retries must be 0 or more")
            policy = RetryPolicy(max_retries, policy.backoff_base, policy.backoff_max, policy.budget,
                                 policy.idempotent_statuses)
        if retry_budget is not None:
            policy = RetryPolicy(policy.max_retries, policy.backoff_base, policy.backoff_max,
                                 float(retry_budget), policy.idempotent_statuses)
        self.retry = policy
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
        self._session: requests.Session | None = None
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

    def encode_data(self, data: Any, headers: dict[str, str]) -> bytes | str | None:
        """Encode a request body (JSON by default) and set its Content-Type."""
        if data is None:
            return None
        if isinstance(data, (bytes, str)):
            return data
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(data, separators=(",", ":"))

    # -- the session ------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The pooled session, created on first use."""
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    import requests

                    from cloudkit.deadline import deadline_adapter_class

                    protect_third_party_loggers(self.secret_params | _DEFAULT_SECRET_PARAMS)
                    session = requests.Session()
                    adapter = deadline_adapter_class()(pool_connections=4, pool_maxsize=self.pool_size, max_retries=0)
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    session.headers["User-Agent"] = (
                        f"{self.user_agent} python-requests/{requests.__version__}")
                    if self.proxies:
                        session.proxies.update(self.proxies)
                    self._session = session
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
        data: Any = None,
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
        ``parse()``); ``paginate`` uses it.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url_for(action)
        query = self.add_default_params(dict(params or {}))
        hdrs = self.add_default_headers({"Accept": "application/json", **(headers or {})})
        body = self.encode_data(data, hdrs)
        cls = response_cls or self.responseCls
        req_timeout = _normalise_timeout(timeout, self.timeout)
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
                    wait = self._retry_wait(exc, method, idempotent, attempt, started)
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

    def _retry_wait(self, exc: Exception, method: str, idempotent: bool, attempt: int,
                    started: float) -> float | None:
        """Seconds to wait before retrying after ``exc``, or None when it must not be retried."""
        if attempt >= self.retry.max_retries:
            return None
        retry_after: float | None = None
        if isinstance(exc, RateLimitError):
            retry_after = exc.retry_after
        elif isinstance(exc, ServerError):
            if not idempotent or exc.status not in self.retry.idempotent_statuses:
                return None
            retry_after = _retry_after_header(exc.headers)
        elif isinstance(exc, TLSError):
            return None
        elif isinstance(exc, NetworkError):
            if exc.sent and not idempotent:
                return None
        wait = self.retry.backoff(attempt, retry_after)
        if time.monotonic() - started + wait > self.retry.budget:
            return None
        return wait

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
        # The redacted URL is only needed for a log line or an error: built on first use
        # (encoding and redacting the query costs more than the rest of a request's own work).
        safe_url = _SafeURL(self, url, query)
        t0 = time.perf_counter()
        with Watch(self._response_seconds(timeout[1])) as watch:
            try:
                return self._exchange(method, url, query, headers, body, cls, timeout, attempt,
                                      defer_parse, safe_url, t0)
            except NetworkError:
                if not watch.fired:
                    raise
                raise RequestTimeoutError(
                    f"{safe_url()}: the answer took longer than {watch.seconds:g}s to arrive in full "
                    "(headers included); cut off", method=method, url=safe_url(), sent=True) from None

    def _response_seconds(self, read_timeout: float | None) -> float:
        """Seconds the whole answer may take (``max_response_seconds``, default twice the read
        timeout)."""
        seconds = self.max_response_seconds
        if seconds is None:
            seconds = 2 * (read_timeout if read_timeout is not None else self.timeout[1])
        return seconds

    def _exchange(self, method: str, url: str, query: dict[str, Any], headers: dict[str, str],
                  body: bytes | str | None, cls: type[Response], timeout: tuple[float, float],
                  attempt: int, defer_parse: bool, safe_url: _SafeURL, t0: float) -> Response:
        import requests

        try:
            resp = self.session.request(method, url, params=query or None, data=body, headers=headers,
                                        timeout=timeout, stream=True, verify=self.verify,
                                        allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"TLS verification failed for {safe_url()}: {_reason(exc)}", method=method,
                           url=safe_url()) from None
        except requests.exceptions.ConnectTimeout:
            raise RequestTimeoutError(f"could not connect to {safe_url()} within {timeout[0]}s",
                                      method=method, url=safe_url(), sent=False) from None
        except requests.exceptions.ReadTimeout:
            raise RequestTimeoutError(f"no answer from {safe_url()} within the {timeout[1]}s read timeout",
                                      method=method, url=safe_url(), sent=True) from None
        except requests.exceptions.ConnectionError as exc:
            sent = not _is_connect_failure(exc)
            raise NetworkError(f"connection to {safe_url()} failed: {_reason(exc)}", method=method,
                               url=safe_url(), sent=sent) from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"request to {safe_url()} failed: {_reason(exc)}", method=method,
                               url=safe_url(), sent=True) from None
        try:
            content = self._read_body(resp, safe_url, method, timeout[1])
        finally:
            resp.close()
            watch = current_watch()
            if watch is not None:
                watch.release()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d (%d bytes, %.3fs, try %d)", method, safe_url(), resp.status_code,
                      len(content), time.perf_counter() - t0, attempt + 1)
        if defer_parse:  # passed only when asked for: Response subclasses may predate it
            return cls(resp.status_code, resp.headers, content, driver_name=self.driver_name, method=method,
                       url=safe_url, defer_parse=True)
        return cls(resp.status_code, resp.headers, content, driver_name=self.driver_name, method=method,
                   url=safe_url)

    def _read_body(self, resp: requests.Response, safe_url: str | Callable[[], str], method: str,
                   read_timeout: float | None = None) -> bytes:
        """Read the body in bounded pieces: refuse it past ``max_body_bytes``, and cut it off
        when it takes longer than ``max_response_seconds`` in all (a body that trickles in
        one byte at a time never trips the per-read timeout). ``safe_url`` (the redacted URL,
        or a function returning it) names the request in errors."""
        import requests
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import ReadTimeoutError

        def shown() -> str:
            return safe_url if isinstance(safe_url, str) else safe_url()

        limit = self.max_body_bytes
        length = resp.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise MalformedResponseError(
                f"{method} {shown()}: body of {int(length)} bytes exceeds the {limit}-byte limit",
                resp.status_code, driver=self.driver_name)
        seconds = self._response_seconds(read_timeout)
        watch = current_watch()
        deadline = watch.start() if watch is not None else time.monotonic() + seconds
        read = _chunk_reader(resp)
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                chunk = read()
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise MalformedResponseError(
                        f"{method} {shown()}: body exceeds the {limit}-byte limit; refused while reading",
                        resp.status_code, driver=self.driver_name)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise RequestTimeoutError(
                        f"{shown()}: the answer took longer than {seconds:g}s to arrive in full; cut off",
                        method=method, url=shown(), sent=True)
        except CloudkitError:
            raise
        except ReadTimeoutError:
            raise RequestTimeoutError(f"{shown()}: the answer stopped arriving within the read timeout",
                                      method=method, url=shown(), sent=True) from None
        except (Urllib3Error, OSError, requests.exceptions.RequestException) as exc:
            raise NetworkError(f"{shown()}: connection broke while reading the answer: {_reason(exc)}",
                               method=method, url=shown(), sent=True) from None
        return b"".join(chunks)

    # -- paging -----------------------------------------------------------------------------

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
        key: Callable[[Any], Any] = item_key,
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
        the cyclic garbage collector is paused when ``pause_gc`` is set.
        """
        base = dict(params or {})
        if size_param is not None:
            base[size_param] = page_size
        # The page-fetching threads leave each body unparsed: it is decoded on the building
        # thread, just before its items are built (decoding holds the GIL, so it gains nothing
        # from the threads). A subclass that wraps request() keeps every body parsed inside it.
        defer = type(self).request is Connection.request

        def fetch(page: int) -> Any:
            # A listing that takes no page size is asked for its first page plainly.
            query = base if size_param is None and page == first_page else {**base, page_param: page}
            resp = self.request(action, query, headers=headers, defer_parse=defer)
            return resp if defer else resp.object

        def parse(fetched: Any) -> Any:
            return fetched.parse() if defer else fetched

        with self.scrubbing():
            return paging.paginate(
                fetch, parse, extract, total_pages, what=action, page_size=page_size, first_page=first_page,
                size_sent=size_param is not None, transform=transform, total_items=total_items, key=key,
                workers=self.page_workers, pause_gc=self.pause_gc)

    def follow_links(
        self,
        action: str,
        extract: Callable[[Any], Sequence[Any]],
        next_link: Callable[[Any], str | None],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_pages: int = 10_000,
    ) -> list[Any]:
        """Fetch a listing by following each page's "next" link (or cursor URL) until there
        is none; bounded as :func:`cloudkit.paging.follow_links` says."""
        with self.scrubbing():
            first = self.request(action, params, headers=headers).object
            return paging.follow_links(first, lambda link: self.request(link, headers=headers).object,
                                       extract, next_link, what=action, max_pages=max_pages)


_DEFAULT_SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "password", "secret"})
_BODY_CHUNK = 256 * 1024


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


def _chunk_reader(resp: requests.Response) -> Callable[[], bytes]:
    """A function returning the next piece of the decoded body (b"" at the end).

    ``read1`` does at most one network read per call, so the caller sees every piece as it
    comes (and can stop a body that trickles in). When something already read the body
    (a recording hook, a test helper), requests hands out what it kept.
    """
    raw = resp.raw
    read1 = getattr(raw, "read1", None)
    if getattr(resp, "_content_consumed", False) or raw is None:
        pieces = resp.iter_content(_BODY_CHUNK)
        return lambda: next(pieces, b"")
    if read1 is not None:
        return lambda: read1(_BODY_CHUNK, decode_content=True) or b""
    return lambda: raw.read(_BODY_CHUNK, decode_content=True) or b""


def _retry_after_header(headers: Mapping[str, str]) -> float | None:
    from cloudkit.response import parse_retry_after

    for name, value in headers.items():
        if name.lower() == "retry-after":
            return parse_retry_after(value)
    return None


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 exception, as short text (no URL query)."""
    inner: BaseException = exc
    for _ in range(5):
        nxt = getattr(inner, "reason", None) or (inner.args[0] if inner.args and isinstance(
            inner.args[0], BaseException) else None)
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = str(inner) or type(inner).__name__
    # urllib3 messages repeat the URL (which may carry a query-string key): cut it out.
    if "url:" in text:
        text = text.split("url:", 1)[0].rstrip(" ,(")
    return f"{type(inner).__name__}: {text}"[:300]


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the failure happened before the request was sent (refused, DNS, connect)."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    inner: Any = exc
    for _ in range(6):
        if isinstance(inner, (NewConnectionError, ConnectTimeoutError, NameResolutionError,
                              ConnectionRefusedError)):
            return True
        nxt = getattr(inner, "reason", None)
        if nxt is None and getattr(inner, "args", None) and isinstance(inner.args[0], BaseException):
            nxt = inner.args[0]
        if nxt is None or nxt is inner:
            return False
        inner = nxt
    return False


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
