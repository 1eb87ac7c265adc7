""":class:`OpenAPIValidator` (requests and responses against one description) and
:func:`validate_body` for stored fixtures.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_core.templating.paths.exceptions import (
    PathError,
)
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import (
    RequestBodyValidationError,
)

from cloudkit.testing.openapi.problems import _declared_parameters, _describe, _undeclared_body_fields
from cloudkit.testing.openapi.spec import (
    Body,
    SpecMismatchError,
    _bullets,
    _encode_body,
    _load_spec,
    _unquote_path,
    redact_url,
)


@dataclass(frozen=True)
class _Target:
    """A request URL mapped onto the description's server."""

    path: str
    query: dict[str, list[str]]


class OpenAPIValidator:
    """Validates requests and responses against one OpenAPI 3.0 JSON document.

    ``server_url`` is the base URL the code under test talks to (``http://127.0.0.1:PORT`` of a
    simulator, the real host in a mock) and corresponds to the description's first server URL:
    request URLs must start with it and the rest of their path is matched below the
    description's server path. With ``server_url=None`` any scheme and host are accepted and
    the request path is matched as is (right when the fake serves the API's real paths).

    ``open_responses`` drops ``additionalProperties: false`` from response schemas (Linode's
    are closed, so fields the provider adds later would fail). The loaded description is cached
    per (file, open_responses): building many validators is cheap. Safe to use from threads.
    """

    def __init__(
        self,
        spec_path: str | os.PathLike[str],
        server_url: str | None = None,
        *,
        open_responses: bool = True,
        allow_undeclared_query: bool = False,
        allow_undeclared_body_fields: bool = False,
    ) -> None:
        self.spec_path = Path(spec_path).resolve()
        self.server_url = server_url.rstrip("/") if server_url else None
        self.allow_undeclared_query = allow_undeclared_query
        self.allow_undeclared_body_fields = allow_undeclared_body_fields
        self._spec = _load_spec(str(self.spec_path), open_responses)

    def __repr__(self) -> str:
        base = redact_url(self.server_url) if self.server_url else "any host"
        return f"OpenAPIValidator({self._spec.name!r}, {base!r})"

    @property
    def api(self) -> Any:
        """The loaded ``openapi_core.OpenAPI`` object (shared by validators of the same file)."""
        return self._spec.api

    @property
    def load_seconds(self) -> float:
        """How long loading (and checking) the description took the first time."""
        return self._spec.load_seconds

    # -- public API

    def validate_request(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: Body = None
    ) -> None:
        """Raise :class:`SpecMismatchError` unless the request matches the description."""
        problems = self.request_problems(method, url, headers, body)
        if problems:
            raise self._error("request", method, url, None, problems)

    def validate_response(
        self,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
    ) -> None:
        """Raise :class:`SpecMismatchError` unless the response matches the operation's."""
        problems = self.response_problems(method, url, status, headers, body)
        if problems:
            raise self._error("response", method, url, status, problems)

    def request_problems(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: Body = None
    ) -> list[str]:
        """Every way the request differs from the description (empty when it matches)."""
        target = self._map_url(url)
        if isinstance(target, str):
            return [target]
        return self._request_problems(method, target, headers or {}, _encode_body(body))

    def response_problems(
        self,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
    ) -> list[str]:
        """Every way the response differs from the description (empty when it matches).

        A body without a Content-Type header is taken as ``application/json``.
        """
        target = self._map_url(url)
        if isinstance(target, str):
            return [target]
        return self._response_problems(method, target, status, headers or {}, _encode_body(body))

    def body_problems(self, method: str, path: str, status: int, body: Body) -> list[str]:
        """Problems of a stored JSON response ``body`` for ``method path`` (path as on the API)."""
        parts = urllib.parse.urlsplit(path)
        target = _Target(
            path=_unquote_path(parts.path),
            query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
        )
        headers = {"Content-Type": "application/json"}
        return self._response_problems(method, target, status, headers, _encode_body(body))

    # -- internals

    def _error(
        self, kind: str, method: str, url: str, status: int | None, problems: Sequence[str]
    ) -> SpecMismatchError:
        shown = redact_url(url)
        what = (
            f"{kind} {method.upper()} {shown}"
            if status is None
            else f"{kind} {status} to {method.upper()} {shown}"
        )
        message = f"{what} does not match {self._spec.name}:\n{_bullets(problems)}"
        return SpecMismatchError(message, problems, method=method.upper(), url=shown, status=status)

    def _map_url(self, url: str) -> _Target | str:
        parts = urllib.parse.urlsplit(url)
        path = parts.path or "/"
        if self.server_url is not None:
            base = urllib.parse.urlsplit(self.server_url)
            base_path = base.path.rstrip("/")
            same_origin = (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
            if not same_origin or not (path == base_path or path.startswith(base_path + "/")):
                return f"URL is outside the API base URL {redact_url(self.server_url)}"
            path = self._spec.base_path + path[len(base_path) :]
        return _Target(
            path=_unquote_path(path),
            query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
        )

    def _mock_request(
        self, method: str, target: _Target, headers: Mapping[str, str], body: bytes | None
    ) -> Any:
        lowered = {k.lower(): v for k, v in headers.items()}
        return MockRequest(
            self._spec.origin,
            method.lower(),
            target.path,
            args=target.query,
            headers=dict(headers),
            data=body,
            content_type=lowered.get("content-type", ""),
        )

    def _find(self, method: str, target: _Target) -> Any:
        try:
            return self._spec.finder.find(method.lower(), self._spec.origin + target.path)
        except PathError:
            return None

    def _request_problems(
        self, method: str, target: _Target, headers: Mapping[str, str], body: bytes | None
    ) -> list[str]:
        request = self._mock_request(method, target, headers, body)
        problems: list[str] = []
        with self._spec.lock:
            errors = list(self._spec.api.iter_request_errors(request))
            for exc in errors:
                problems.extend(_describe(exc, method))
            if any(isinstance(exc, PathError) for exc in errors):
                return problems
            found = self._find(method, target)
            if found is None:
                return problems
            if not self.allow_undeclared_query:
                declared = _declared_parameters(found.path, found.operation, "query")
                for name in sorted(set(target.query) - declared):
                    problems.append(f"query parameter {name!r} is not declared by the operation")
            has_body_errors = any(isinstance(exc, RequestBodyValidationError) for exc in errors)
            if body is not None and "requestBody" not in found.operation:
                problems.append("body: the operation takes no request body but one was sent")
            elif body is not None and not has_body_errors and not self.allow_undeclared_body_fields:
                problems.extend(_undeclared_body_fields(found.operation, request.content_type, body))
        return problems

    def _response_problems(
        self,
        method: str,
        target: _Target,
        status: int,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> list[str]:
        request = self._mock_request(method, target, {}, None)
        lowered = {k.lower(): v for k, v in headers.items()}
        # Mocks often omit the response Content-Type (requests-mock's json= does): take JSON then.
        content_type = lowered.get("content-type") or ("application/json" if body else "")
        response = MockResponse(
            body or b"",
            status_code=status,
            headers=dict(headers),
            content_type=content_type,
        )
        problems: list[str] = []
        with self._spec.lock:
            for exc in self._spec.api.iter_response_errors(request, response):
                problems.extend(_describe(exc, method))
        return problems


def validate_body(
    validator: OpenAPIValidator, method: str, path: str, status: int, body: Body | os.PathLike[str]
) -> None:
    """Check a stored response body (fixture) against the operation's response schema.

    ``path`` is the request path as on the provider's API (``/v2/droplets/3164444``, query
    allowed); ``body`` a parsed JSON value, JSON text/bytes, or the path of a JSON file.
    """
    raw: Body = Path(body).read_bytes() if isinstance(body, os.PathLike) else body
    problems = validator.body_problems(method, path, status, raw)
    if problems:
        source = f" (from {Path(body).name})" if isinstance(body, os.PathLike) else ""
        raise SpecMismatchError(
            f"stored {status} body{source} for {method.upper()} {path} does not match "
            f"{validator.spec_path.name}:\n{_bullets(problems)}",
            problems,
            method=method.upper(),
            url=path,
            status=status,
        )
