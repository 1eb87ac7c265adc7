"""The transport: the only module of cloudkit that imports ``requests`` (and urllib3).

What ``requests.adapters.HTTPAdapter`` is to ``requests.Session``, this module is to
``cloudkit.connection.Connection``: it makes the pooled session, sends one request, reads
its body in bounded pieces and turns every failure of the HTTP library into a cloudkit
error (``TLSError``, ``RequestTimeoutError``, ``NetworkError`` with ``sent`` saying whether
the request may have reached the server, ``MalformedResponseError`` for a body too large).
It knows nothing of auth, retries or response parsing.

* a body larger than its limit is refused while streaming, not after;
* an answer (status line and headers included) still arriving after its deadline is cut
  off: the connections of the session's adapter attach their socket to the thread's
  ``cloudkit.deadline.Watch``, whose watchdog shuts the socket down when time is up;
* errors name the request by its redacted URL only (the caller passes it, or a function
  returning it, so that it is built only when needed).

``requests`` is imported on first use, so importing cloudkit and constructing a driver stay
cheap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cloudkit.deadline import Watch, current_watch
from cloudkit.errors import (
    CloudkitError,
    ConfigurationError,
    MalformedResponseError,
    NetworkError,
    RequestTimeoutError,
    TLSError,
)
from cloudkit.redact import protect_third_party_loggers

if TYPE_CHECKING:  # pragma: no cover
    import requests
    from requests import Session as Session
    from requests.adapters import HTTPAdapter

__all__ = [
    "Answer",
    "Timeout",
    "deadline_adapter_class",
    "exchange",
    "new_session",
    "normalise_timeout",
    "read_body",
    "send",
]

#: Seconds for both timeouts, or a (connect, read) pair.
Timeout = float | tuple[float, float]
#: The redacted URL of a request as text, or a function that makes it on first call.
SafeURL = str | Callable[[], str]

_BODY_CHUNK = 256 * 1024


def normalise_timeout(timeout: Timeout | None, default: tuple[float, float]) -> tuple[float, float]:
    """``timeout`` as a (connect, read) pair of positive seconds (``default`` when None)."""
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


def _shown(safe_url: SafeURL) -> str:
    return safe_url if isinstance(safe_url, str) else safe_url()


# -- the session ----------------------------------------------------------------------------

def new_session(user_agent: str, *, pool_size: int, proxies: Mapping[str, str] | None = None,
                secret_params: Iterable[str] = ()) -> requests.Session:
    """A pooled session whose connections obey the thread's deadline watch, sending
    ``user_agent`` (plus requests' own token); the HTTP library's loggers are set to redact
    ``secret_params`` from the request lines they write."""
    import requests

    protect_third_party_loggers(secret_params)
    session = requests.Session()
    adapter = deadline_adapter_class()(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"{user_agent} python-requests/{requests.__version__}"
    if proxies:
        session.proxies.update(proxies)
    return session


# -- one exchange ---------------------------------------------------------------------------

class Answer:
    """What came back: status, headers (case-insensitive mapping) and the whole body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def exchange(session: requests.Session, method: str, url: str, *, params: Mapping[str, Any] | None,
             body: bytes | str | None, headers: dict[str, str], timeout: tuple[float, float],
             verify: bool | str, max_body_bytes: int, response_seconds: float, safe_url: SafeURL,
             driver_name: str | None = None) -> Answer:
    """Send one request and read its whole answer, within ``timeout`` (connect, read) and
    ``response_seconds`` for the whole answer once the request is on its way; every failure
    raised as a cloudkit error naming ``safe_url``."""
    with Watch(response_seconds) as watch:
        try:
            resp = send(session, method, url, params=params, body=body, headers=headers,
                        timeout=timeout, verify=verify, safe_url=safe_url)
            try:
                content = read_body(resp, max_body_bytes=max_body_bytes, seconds=response_seconds,
                                    safe_url=safe_url, method=method, driver_name=driver_name)
            finally:
                resp.close()
                watch.release()
        except NetworkError:
            if not watch.fired:
                raise
            raise RequestTimeoutError(
                f"{_shown(safe_url)}: the answer took longer than {watch.seconds:g}s to arrive in full "
                "(headers included); cut off", method=method, url=_shown(safe_url), sent=True) from None
    return Answer(resp.status_code, resp.headers, content)


def send(session: requests.Session, method: str, url: str, *, params: Mapping[str, Any] | None,
         body: bytes | str | None, headers: dict[str, str], timeout: tuple[float, float],
         verify: bool | str, safe_url: SafeURL) -> requests.Response:
    """Send the request (redirects not followed, body streamed) and return the response
    with its body still to read; failures to connect or send become cloudkit errors."""
    import requests

    try:
        return session.request(method, url, params=params or None, data=body, headers=headers,
                               timeout=timeout, stream=True, verify=verify, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        raise TLSError(f"TLS verification failed for {_shown(safe_url)}: {_reason(exc)}", method=method,
                       url=_shown(safe_url)) from None
    except requests.exceptions.ConnectTimeout:
        raise RequestTimeoutError(f"could not connect to {_shown(safe_url)} within {timeout[0]}s",
                                  method=method, url=_shown(safe_url), sent=False) from None
    except requests.exceptions.ReadTimeout:
        raise RequestTimeoutError(f"no answer from {_shown(safe_url)} within the {timeout[1]}s read timeout",
                                  method=method, url=_shown(safe_url), sent=True) from None
    except requests.exceptions.ConnectionError as exc:
        sent = not _is_connect_failure(exc)
        raise NetworkError(f"connection to {_shown(safe_url)} failed: {_reason(exc)}", method=method,
                           url=_shown(safe_url), sent=sent) from None
    except requests.exceptions.RequestException as exc:
        raise NetworkError(f"request to {_shown(safe_url)} failed: {_reason(exc)}", method=method,
                           url=_shown(safe_url), sent=True) from None


def read_body(resp: requests.Response, *, max_body_bytes: int, seconds: float, safe_url: SafeURL,
              method: str, driver_name: str | None = None) -> bytes:
    """Read the body in bounded pieces: refuse it past ``max_body_bytes``, and cut it off
    when it takes longer than ``seconds`` in all (measured from the start of the thread's
    watch when there is one: a body that trickles in one byte at a time never trips the
    per-read timeout)."""
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import ReadTimeoutError

    limit = max_body_bytes
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise MalformedResponseError(
            f"{method} {_shown(safe_url)}: body of {int(length)} bytes exceeds the {limit}-byte limit",
            resp.status_code, driver=driver_name)
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
                    f"{method} {_shown(safe_url)}: body exceeds the {limit}-byte limit; refused while reading",
                    resp.status_code, driver=driver_name)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise RequestTimeoutError(
                    f"{_shown(safe_url)}: the answer took longer than {seconds:g}s to arrive in full; cut off",
                    method=method, url=_shown(safe_url), sent=True)
    except CloudkitError:
        raise
    except ReadTimeoutError:
        raise RequestTimeoutError(f"{_shown(safe_url)}: the answer stopped arriving within the read timeout",
                                  method=method, url=_shown(safe_url), sent=True) from None
    except (Urllib3Error, OSError, requests.exceptions.RequestException) as exc:
        raise NetworkError(f"{_shown(safe_url)}: connection broke while reading the answer: {_reason(exc)}",
                           method=method, url=_shown(safe_url), sent=True) from None
    return b"".join(chunks)


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


# -- failure classification -----------------------------------------------------------------

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


# -- the adapter whose connections obey the deadline ----------------------------------------

def _watched_connection(base: Any) -> Any:
    class Watched(base):  # type: ignore[misc]  # base is urllib3's class, known only at run time
        """urllib3's connection that attaches its socket to the thread's watch."""

        def request(self, *args: Any, **kwargs: Any) -> Any:
            watch = current_watch()
            if watch is not None:
                watch.attach(self.sock)
            return super().request(*args, **kwargs)

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            watch = current_watch()
            if watch is not None:
                watch.attach(self.sock)
                if watch.expired():  # the request took the whole deadline to send
                    watch.fire()
            return super().getresponse(*args, **kwargs)

    Watched.__name__ = Watched.__qualname__ = f"Watched{base.__name__}"
    return Watched


def _pool_classes() -> dict[str, Any]:
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class WatchedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = _watched_connection(HTTPConnection)

    class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = _watched_connection(HTTPSConnection)

    return {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


_POOLS: dict[str, Any] | None = None


def _pools() -> dict[str, Any]:
    global _POOLS
    if _POOLS is None:
        _POOLS = _pool_classes()
    return _POOLS


def _make_adapter_class() -> type[HTTPAdapter]:
    from requests.adapters import HTTPAdapter

    class DeadlineAdapter(HTTPAdapter):
        """requests' adapter whose connections obey the thread's ``Watch``."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _pools()

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if hasattr(manager, "pool_classes_by_scheme"):
                manager.pool_classes_by_scheme = _pools()
            return manager

    return DeadlineAdapter


_ADAPTER: type[HTTPAdapter] | None = None


def deadline_adapter_class() -> type[HTTPAdapter]:
    """requests' ``HTTPAdapter`` subclass whose connections obey the thread's ``Watch``
    (built on first use so that importing this module does not import requests)."""
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = _make_adapter_class()
    return _ADAPTER
