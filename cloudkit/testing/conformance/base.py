"""What every part of the conformance suite shares: the settings and hooks a driver's test class
fills in, the helpers that run a check against mocked routes, and the log capture.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.errors import (
    ForbiddenError,
    InvalidCredsError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from cloudkit.testing.fixtures import Route, mock_routes

#: HTTP status → the exception every driver must raise for it.
ERROR_STATUSES: dict[int, type[ProviderError]] = {
    401: InvalidCredsError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitError,
    500: ServerError,
    503: ServerError,
}

_AUTH_FEATURES = {"ssh_key", "password", "generates_password"}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_MIN_SECRET = 8


def _fix(hint: str) -> str:
    return f"\n  How to fix: {hint}"


def _mask(text: str, secret: str, width: int = 160) -> str:
    """An excerpt of ``text`` around ``secret``, with the secret itself masked."""
    at = text.find(secret)
    start = max(0, at - width // 2)
    piece = text[start:at + len(secret) + width // 2].replace(secret, "<SECRET>")
    return " ".join(piece.split())


def _caller(method: str) -> Callable[[NodeDriver], Any]:
    def call(driver: NodeDriver) -> Any:
        return getattr(driver, method)()

    return call


class _Capture(logging.Handler):
    """Collects every log record (all loggers, DEBUG and up) while a check runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
        except (TypeError, ValueError):
            line = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            line += f" | {record.exc_info[1]!r}"
        self.lines.append(f"{record.name}: {line}")


@contextmanager
def _capture_logs() -> Iterator[_Capture]:
    root = logging.getLogger()
    handler = _Capture()
    old_level = root.level
    ck = logging.getLogger("cloudkit")
    old_ck = ck.level
    root.setLevel(logging.DEBUG)
    ck.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        ck.setLevel(old_ck)


class ConformanceBase:
    """Settings, hooks and helpers of :class:`~cloudkit.testing.conformance.DriverConformance`."""

    #: Scheme and host the mocks answer on; "" means the driver's own (``connection.base_url``).
    base_url: ClassVar[str] = ""
    #: Extra secrets to look for; the key and secret the driver was built with are always checked.
    secrets: ClassVar[Sequence[str]] = ()
    #: (method, path) of the request list_nodes sends first; None: learnt by watching list_nodes().
    list_nodes_route: ClassVar[tuple[str, str] | None] = None
    #: Every node id the fixtures' listing holds across all its pages.
    expected_node_ids: ClassVar[set[str]] = set()
    #: How many pages the fixtures' node listing has (None: not checked).
    list_nodes_pages: ClassVar[int | None] = None
    #: Arguments for a create_node call the fixtures answer (None: fails unless create_node is unsupported).
    create_node_kwargs: ClassVar[Mapping[str, Any] | None] = None
    #: Node actions the routes answer (None: every action the driver supports).
    actions: ClassVar[Sequence[str] | None] = None
    #: Set True when the provider answers an empty listing with 404 (HostVirtual does): a 404 on
    #: list_nodes() must then give [], and the not-found check runs on get_node() only.
    listing_404_is_empty: ClassVar[bool] = False
    #: A well-formed id of a node that does not exist (answered with 404 in the not-found check).
    missing_node_id: ClassVar[str] = "999999999"
    #: Set True when the fixtures hold a provider status on purpose that maps to NodeState.UNKNOWN.
    allow_unknown_states: ClassVar[bool] = False
    #: Bodies that are not what the API promises (body, content type); each must be refused on list_nodes.
    malformed_bodies: ClassVar[Sequence[tuple[bytes, str]]] = (
        (b'{"servers": [{"id": 1', "application/json"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
    )

    # -- what a subclass provides ---------------------------------------------------------

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        """Build the driver under test; pass ``kwargs`` (``max_retries=0``, ...) on to its class."""
        raise NotImplementedError("define make_driver(self, **kwargs) in your conformance test class")

    def routes(self) -> list[Route]:
        """Fresh routes answering the happy-path calls from fixtures."""
        raise NotImplementedError("define routes(self) in your conformance test class")

    def error_body(self, status: int) -> Any:
        """A provider-shaped error body for ``status`` (bytes, str or JSON-able)."""
        return {"message": f"error {status}"}

    def error_message(self, status: int) -> str | None:
        """The provider message ``error_body(status)`` carries, which the raised error must
        show (proves the Response class's ``parse_error`` is wired); None: not checked."""
        return None

    # -- helpers ----------------------------------------------------------------------------

    def _driver(self, **kwargs: Any) -> NodeDriver:
        driver = self.make_driver(**kwargs)
        if not isinstance(driver, NodeDriver):
            pytest.fail(f"make_driver() returned {type(driver).__name__}, not a cloudkit NodeDriver"
                        + _fix("return an instance of your driver class"))
        if "max_retries" in kwargs and driver.connection.retry.max_retries != kwargs["max_retries"]:
            pytest.fail("make_driver() ignored its keyword arguments (asked for max_retries="
                        f"{kwargs['max_retries']}, the driver has {driver.connection.retry.max_retries})"
                        + _fix("def make_driver(self, **kwargs): return MyDriver(KEY, **kwargs)"))
        return driver

    def _host(self, driver: NodeDriver) -> str:
        if self.base_url:
            return self.base_url
        parts = urlsplit(driver.connection.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def _run(self, call: Callable[[NodeDriver], Any], routes: Iterable[Route] | None = None,
             **driver_kwargs: Any) -> Any:
        driver = self._driver(**driver_kwargs)
        with mock_routes(self._host(driver), list(routes) if routes is not None else self.routes()):
            return call(driver)

    def _traced(self, call: Callable[[NodeDriver], Any],
                routes: Iterable[Route] | None = None) -> tuple[Any, list[tuple[str, str]]]:
        """Run ``call`` on the happy routes; also return the requests made (method, URL)."""
        driver = self._driver()
        with mock_routes(self._host(driver), list(routes) if routes is not None else self.routes()) as mock:
            result = call(driver)
            sent = [(str(c.request.method), str(c.request.url)) for c in mock.calls]
        return result, sent

    def _list_route(self) -> tuple[str, str]:
        if self.list_nodes_route is not None:
            return self.list_nodes_route
        _, sent = self._traced(lambda d: d.list_nodes())
        if not sent:
            pytest.fail("list_nodes() sent no request, so the error checks have nothing to fail"
                        + _fix("list_nodes() must ask the API (or set list_nodes_route)"))
        method, url = sent[0]
        return method.upper(), urlsplit(url).path

    def _error_route(self, status: int) -> Route:
        method, path = self._list_route()
        body = self.error_body(status)
        return Route(method, path, body, status=status, headers={"Retry-After": "0"} if status == 429 else {},
                     content_type=self._error_content_type() if isinstance(body, (bytes, str)) else None)

    def _error_content_type(self) -> str:
        # A text error body is served with the content type the driver's fixtures use.
        for route in self.routes():
            ctype = route.response_headers().get("Content-Type")
            if ctype:
                return ctype
        return "application/json"

    def _everything(self, status: int) -> list[Route]:
        """Routes answering every request with ``status`` and the provider's error body."""
        body = self.error_body(status)
        ctype = self._error_content_type() if isinstance(body, (bytes, str)) else None
        return [Route(m, "^/", body, status=status, content_type=ctype) for m in _METHODS]

    def _secrets(self, driver: NodeDriver) -> list[tuple[str, str]]:
        """(label, value) of every secret and the encodings it travels in."""
        found: list[tuple[str, str]] = []
        for label, value in (("key", driver.key), ("secret", driver.secret)):
            if isinstance(value, str) and value:
                found.append((f"the {label} given to make_driver()", value))
        found += [("a value in `secrets`", s) for s in self.secrets if s]
        for label, value in list(found):
            quoted = quote(value, safe="")
            if quoted != value:
                found.append((f"{label}, URL-encoded", quoted))
        if isinstance(driver.key, str) and isinstance(driver.secret, str) and driver.key and driver.secret:
            pair = base64.b64encode(f"{driver.key}:{driver.secret}".encode()).decode()
            found.append(("the Basic auth credentials", pair))
        return found

    @staticmethod
    def _check_ids(items: Sequence[Any], what: str) -> None:
        for item in items:
            assert isinstance(item.id, str) and item.id, (
                f"{what} id {item.id!r} is {type(item.id).__name__}, not a non-empty str"
                + _fix("models turn ids into str in __post_init__; do not overwrite .id afterwards"))

    @staticmethod
    def _check_bound(items: Sequence[Any], driver: NodeDriver, what: str) -> None:
        for item in items:
            assert item.driver is driver, (
                f"{what} {item.id!r} has driver={item.driver!r}, not the driver that returned it"
                + _fix("pass driver=self when building models, so node.reboot() and friends work"))

    def _supported(self, driver: NodeDriver, method: str, *args: Any) -> bool:
        """True when the driver implements ``method``; else check it raises NotImplementedError."""
        if driver.supports(method):
            return True
        with mock_routes(self._host(driver), []), pytest.raises(NotImplementedError):
            getattr(driver, method)(*args)
        return False
