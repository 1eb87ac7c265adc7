"""NephoScale's connection (HTTP Basic auth, form bodies) and its response envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from cloudkit.connection import BasicAuthConnection
from cloudkit.errors import ConfigurationError, ProviderError, ServerError
from cloudkit.response import STATUS_ERRORS, JsonResponse


class NephoscaleResponse(JsonResponse):
    """A NephoScale answer: the JSON envelope, whose ``success``/``response`` also count."""

    _env_cache: Any = None
    _env_parsed = False

    def _envelope(self) -> dict[str, Any] | None:
        if not self._env_parsed:
            body = self.json_error_body()
            self._env_cache = body if isinstance(body, dict) else None
            self._env_parsed = True
        env: dict[str, Any] | None = self._env_cache
        return env

    def _envelope_code(self) -> int | None:
        env = self._envelope()
        code = env.get("response") if env is not None else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    def _envelope_failed(self) -> bool:
        env = self._envelope()
        if env is None:
            return False
        if env.get("success") is False:
            return True
        code = self._envelope_code()
        return code is not None and not 200 <= code < 300

    def success(self) -> bool:
        """2xx/3xx HTTP status and an envelope that does not report a failure."""
        return super().success() and not self._envelope_failed()

    def parse_error(self) -> tuple[str, str | None]:
        env = self._envelope()
        message = env.get("message") if env is not None else None
        subcode = env.get("subcode") if env is not None else None
        code = None if subcode in (None, 0, "0") or isinstance(subcode, (dict, list)) else str(subcode)
        if isinstance(message, str) and message.strip():
            return (" ".join(message.split())[:500], code)
        if self.status == 401:
            return ("authorization failed: check the NephoScale user name and password", code)
        return (self._fallback_message(), code)

    def to_exception(self) -> ProviderError:
        if not super().success():
            return super().to_exception()
        # HTTP said 2xx but the envelope reports a failure: map by the envelope's code.
        try:
            message, code = self.parse_error()
        except Exception:
            message, code = self._fallback_message(), None
        status = self._envelope_code()
        kwargs: dict[str, Any] = {"code": code, "body": self.body, "driver": self.driver_name,
                                  "headers": dict(self.headers)}
        env = self._envelope() or {}
        said = ["success=false"] if env.get("success") is False else []
        if status is not None:
            said.append(f"response={status}")
        text = f"{message} (HTTP {self.status}, but the envelope says {' '.join(said) or 'it failed'})"
        if status is None or not 400 <= status < 600:
            return ProviderError(text, self.status, **kwargs)
        cls = STATUS_ERRORS.get(status) or (ServerError if status >= 500 else ProviderError)
        return cls(text, status, **kwargs)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


class NephoscaleConnection(BasicAuthConnection):
    """HTTP Basic auth to api.nephoscale.com; bodies are form-urlencoded."""

    host = "api.nephoscale.com"
    responseCls = NephoscaleResponse
    # mist.io's fork raised the read timeout to 180 s for this API.
    default_timeout = (10.0, 180.0)

    def encode_data(self, data: Any, headers: dict[str, str]) -> bytes | str | None:
        """Form-encode a mapping (None values are left out)."""
        if data is None:
            return None
        if isinstance(data, (bytes, str)):
            return data
        if not isinstance(data, Mapping):
            raise ConfigurationError("NephoScale request bodies must be mappings of form fields")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode([(str(k), _form_value(v)) for k, v in data.items() if v is not None])
