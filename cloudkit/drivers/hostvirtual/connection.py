"""HostVirtual's connection (API key in the query string) and its error mapping."""

from __future__ import annotations

import logging
from typing import Any

from cloudkit.connection import QueryKeyConnection
from cloudkit.errors import CloudkitError, ProviderError, ServerError, ValidationError
from cloudkit.parsing import opt_int
from cloudkit.redact import redact_exception
from cloudkit.response import STATUS_ERRORS, JsonResponse, Response

log = logging.getLogger("cloudkit.drivers.hostvirtual")

API_HOST = "vapi.vr.org"


# -- errors ---------------------------------------------------------------------------------

def _error_fields(body: Any) -> tuple[str, str | None] | None:
    """(message, code) from ``{"error": {"code": 404, "message": "..."}}`` (or looser shapes)."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        code = err.get("code")
        text = message.strip()[:500] if isinstance(message, str) and message.strip() else None
        code_text = (str(code).strip()[:40] if isinstance(code, (int, str)) and not isinstance(code, bool)
                     and str(code).strip() else None)
        if text is None and code_text is None:
            return None
        return (text or f"error code {code_text}", code_text)
    if isinstance(err, str) and err.strip():
        return (err.strip()[:500], None)
    message = body.get("message")
    if isinstance(message, str) and message.strip() and "mbpkgid" not in body:
        return (message.strip()[:500], None)
    return None


def _error_class(status: int) -> type[ProviderError]:
    if status == 412:  # Precondition Failed: HostVirtual's validation / business-rule refusal
        return ValidationError
    cls = STATUS_ERRORS.get(status)
    if cls is not None:
        return cls
    return ServerError if status >= 500 else ProviderError


def _describe(exc: BaseException) -> str:
    """One line about a failed step, without the driver prefix."""
    if isinstance(exc, ProviderError):
        status = f"HTTP {exc.status}: " if exc.status is not None else ""
        return f"{status}{exc.message or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


class HostVirtualResponse(JsonResponse):
    """HostVirtual answers: JSON; errors look like ``{"error": {"code", "message"}}``."""

    def parse_body(self) -> Any:
        body = super().parse_body()
        # Defensive: an error object delivered with a 2xx status is still an error.
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and "mbpkgid" not in body:
            found = _error_fields(body)
            if found is not None:
                message, code = found
                status = opt_int(code)
                status = status if status is not None and 400 <= status <= 599 else self.status
                cls = _error_class(status) if status >= 400 else ProviderError
                raise cls(message, status, code=code, body=self.body, driver=self.driver_name,
                          headers=dict(self.headers))
        return body

    def parse_error(self) -> tuple[str, str | None]:
        found = _error_fields(self.json_error_body())
        return found if found is not None else (self._fallback_message(), None)

    def to_exception(self) -> ProviderError:
        if self.status == 412:
            try:
                message, code = self.parse_error()
            except Exception:
                message, code = self._fallback_message(), None
            return ValidationError(message, 412, code=code, body=self.body, driver=self.driver_name,
                                   headers=dict(self.headers))
        return super().to_exception()


class HostVirtualConnection(QueryKeyConnection):
    """``https://vapi.vr.org`` with the API key in the ``key`` query parameter."""

    host = API_HOST
    key_param = "key"
    responseCls = HostVirtualResponse

    def request(self, *args: Any, **kwargs: Any) -> Response:
        """As ``Connection.request``; any error text that echoes the API key is scrubbed."""
        try:
            return super().request(*args, **kwargs)
        except CloudkitError as exc:
            redact_exception(exc, [self.key])
            raise
