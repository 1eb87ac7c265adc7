"""Responses: parse a body (JSON or XML) and map error statuses to cloudkit exceptions.

A driver subclasses ``JsonResponse`` or ``XmlResponse`` and overrides ``parse_error`` to
pull the provider's message (and error code) out of its error bodies. Everything else,
status to exception, malformed bodies, excerpts, is shared here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cloudkit.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    RedirectError,
    ServerError,
    ValidationError,
)

if TYPE_CHECKING:  # pragma: no cover
    from xml.etree.ElementTree import Element

__all__ = ["STATUS_ERRORS", "JsonResponse", "RawResponse", "Response", "XmlResponse", "parse_retry_after"]

#: HTTP status → exception class; statuses not listed fall back by class (4xx/5xx).
STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: ValidationError,
    401: InvalidCredsError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # imported on first use: importing cloudkit stays quick

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Response:
    """A parsed HTTP answer. ``object`` is the parsed body, ``body`` the raw bytes.

    ``url`` is the request's URL with secrets redacted; the connection may pass a function
    returning it instead of the text, so that it is only built when something reads it.
    An error status raises its exception at once; ``defer_parse=True`` leaves a successful
    body unparsed (``object`` None) until ``parse()`` is called, or, after
    ``parse_when_read()``, until ``object`` is first read: so that a listing can decode its
    pages on the thread that builds its models.
    """

    #: Content types that this response class accepts for a successful body.
    accepted_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, *,
                 driver_name: str | None = None, method: str = "GET",
                 url: str | Callable[[], str] = "", defer_parse: bool = False) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.driver_name = driver_name
        self.method = method
        self._url = url
        self._object: Any = None
        self._unparsed = self._on_read = False
        if not self.success():
            raise self.to_exception()
        if defer_parse:
            self._unparsed = True
        else:
            self._object = self.parse_body()

    @property
    def object(self) -> Any:
        """The parsed body (None while a deferred body waits for ``parse()``)."""
        if self._on_read:
            self.parse()
        return self._object

    @object.setter
    def object(self, value: Any) -> None:
        self._object = value
        self._unparsed = self._on_read = False

    def parse(self) -> Any:
        """Parse the body if that has not been done yet and return ``object`` (for a response
        made with ``defer_parse=True``: its status was checked, its body not yet parsed)."""
        if self._unparsed:
            self._object = self.parse_body()
            self._unparsed = self._on_read = False
        return self._object

    def parse_when_read(self) -> None:
        """Parse a deferred body on the first read of ``object`` (``parse()`` still works)."""
        self._on_read = self._unparsed

    @property
    def url(self) -> str:
        """The request's URL, secrets redacted."""
        url = self._url
        if not isinstance(url, str):
            url = self._url = url()
        return url

    @url.setter
    def url(self, value: str) -> None:
        self._url = value

    # -- hooks a driver may override ------------------------------------------------------

    def success(self) -> bool:
        """True for 2xx only: a redirect (never followed) is an error, ``RedirectError``."""
        return 200 <= self.status < 300

    def parse_body(self) -> Any:
        """Parse a successful body; raise ``MalformedResponseError`` if it does not parse."""
        return self.body

    def parse_error(self) -> tuple[str, str | None]:
        """Return (message, error code) from an error body. Override per provider."""
        return (self._fallback_message(), None)

    def retry_after(self) -> float | None:
        """Seconds the provider asked us to wait (Retry-After, or a rate-limit reset header)."""
        seconds = parse_retry_after(self.header("retry-after"))
        if seconds is not None:
            return seconds
        return self._until_reset()

    def throttle_for(self) -> float | None:
        """Seconds to hold the next request when this (successful) answer says the rate-limit
        allowance is spent (``RateLimit-Remaining: 0`` or ``X-RateLimit-Remaining: 0``): until
        the window resets, instead of drawing a 429. None when requests may go on."""
        remaining = self.header("ratelimit-remaining") or self.header("x-ratelimit-remaining")
        if remaining is None or remaining.strip() != "0":
            return None
        return self._until_reset()

    def _until_reset(self) -> float | None:
        reset = self.header("ratelimit-reset") or self.header("x-ratelimit-reset")
        if reset:
            try:
                value = float(reset)
            except ValueError:
                return None
            if value != value or value in (float("inf"), float("-inf")):
                return None
            # Epoch seconds (DigitalOcean, Linode) or a delta; tell them apart.
            return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
        return None

    # -- shared machinery -----------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """A header value, case-insensitively."""
        value = self.headers.get(name)
        if value is None and not hasattr(self.headers, "lower_items"):
            lname = name.lower()
            for key, val in self.headers.items():
                if key.lower() == lname:
                    return str(val)
        return None if value is None else str(value)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def _fallback_message(self) -> str:
        if self.content_type in ("text/html", "application/xhtml+xml"):
            return f"HTTP {self.status} with an HTML page instead of an API error body"
        text = " ".join(self.text().split())
        return text[:200] if text else f"HTTP {self.status}"

    def malformed(self, reason: str) -> MalformedResponseError:
        """Build the error for a body that is not what the API promises."""
        return MalformedResponseError(
            f"{reason} ({self.method} {self._path()})", self.status, body=self.body,
            driver=self.driver_name, headers=dict(self.headers))

    def _path(self) -> str:
        # Only the path: query strings may carry API keys.
        url = self.url.split("?", 1)[0]
        if "://" in url:
            url = "/" + url.split("://", 1)[1].partition("/")[2]
        return url

    def to_exception(self) -> ProviderError:
        """The cloudkit exception for this (error) status and body."""
        if 300 <= self.status < 400:
            return redirect_error(self.status, self.header("location"), dict(self.headers),
                                  self.method, self._path(), self.driver_name)
        try:
            message, code = self.parse_error()
        except Exception:
            message, code = self._fallback_message(), None
        cls = STATUS_ERRORS.get(self.status)
        if cls is None:
            cls = ServerError if self.status >= 500 else ProviderError
        kwargs: dict[str, Any] = {"code": code, "body": self.body, "driver": self.driver_name,
                                  "headers": dict(self.headers)}
        if cls is RateLimitError:
            return RateLimitError(message, self.status, retry_after=self.retry_after(), **kwargs)
        return cls(message, self.status, **kwargs)


def redirect_error(status: int, location: str | None, headers: Mapping[str, str], method: str, path: str,
                   driver: str | None) -> RedirectError:
    """The error for a 3xx answer: its status and the target's host, never the target's path
    or query (which may carry a token); the Location header is cut down to scheme and host."""
    from urllib.parse import urlsplit

    host: str | None = None
    target = ""
    if location:
        try:
            parts = urlsplit(location.strip())
            host = parts.hostname
            if host is not None and parts.port is not None:
                host = f"{host}:{parts.port}"
            target = f"{parts.scheme}://{host}" if host else ""
        except ValueError:
            host = None
    where = f"to {host}" if host else ("to a path on the same host" if location else "without a target")
    message = (f"{method} {path}: the API answered with a redirect {where}, which is not followed "
               "(the request was sent; its outcome is unknown)")
    kept = {k: (target or "<path>") if k.lower() == "location" else v for k, v in headers.items()}
    err = RedirectError(message, status, driver=driver, headers=kept)
    err.location_host = host
    return err


class RawResponse(Response):
    """Keeps the body as bytes (for binary or plain-text endpoints)."""


class JsonResponse(Response):
    """A JSON API answer. Empty successful bodies (204) parse to None."""

    accepted_types = ("application/json",)

    def parse_body(self) -> Any:
        if not self.body.strip():
            return None
        if self.content_type in ("text/html", "application/xhtml+xml"):
            raise self.malformed("expected JSON, got an HTML page")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.malformed(f"body is not valid JSON: {exc}") from None
        except RecursionError:
            raise self.malformed("body is nested too deeply to parse") from None

    def json_error_body(self) -> Any:
        """The error body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None


class XmlResponse(Response):
    """An XML API answer, parsed with defusedxml: DTDs, entity expansion and external
    entities are refused with ``MalformedResponseError``."""

    accepted_types = ("application/xml", "text/xml")

    def parse_body(self) -> Element | None:
        if not self.body.strip():
            return None
        return self.parse_xml(self.body)

    def parse_xml(self, data: bytes) -> Element:
        from xml.etree.ElementTree import ParseError  # loaded on first use: JSON-only drivers never need it

        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring

        try:
            root: Element = fromstring(data, forbid_dtd=True, forbid_entities=True,
                                       forbid_external=True)
        except DefusedXmlException as exc:
            raise self.malformed(f"XML refused for safety: {type(exc).__name__}") from None
        except (ParseError, ValueError) as exc:
            raise self.malformed(f"body is not valid XML: {exc}") from None
        except RecursionError:
            raise self.malformed("body is nested too deeply to parse") from None
        return root

    def xml_error_body(self) -> Element | None:
        """The error body parsed as XML, or None when it does not parse safely."""
        try:
            return self.parse_xml(self.body) if self.body.strip() else None
        except MalformedResponseError:
            return None
