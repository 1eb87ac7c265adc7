"""Check HTTP traffic against a provider's OpenAPI 3 description, for tests.

A driver test turns the check on around the code under test::

    from cloudkit.testing.openapi import OpenAPIValidator, check_requests

    validator = OpenAPIValidator(SPECS / "digitalocean-compute.schema.json")
    with check_requests(validator, responses_too=True) as traffic:
        driver.list_nodes()
    assert [call.path for call in traffic.calls] == ["/v2/droplets"]

Every request sent through :mod:`requests` inside the ``with`` block (``responses`` or
``requests-mock`` mocks, or a real server on loopback) is checked: path, method, path and query
parameters, credentials the operation requires, and the JSON body. A mismatch raises
:class:`SpecMismatchError` (an ``AssertionError``) out of ``Session.send`` at once, so its
traceback points at the driver line that built the request and nothing is sent; and it is raised
again when the block ends, so a driver that swallows exceptions cannot hide it.

Beyond what openapi-core checks, a request also fails when it carries a query parameter the
operation does not declare, a body on an operation that takes none, or a top-level JSON body
field that no schema of the operation's body names (APIs silently ignore misspelt fields).
Each check can be turned off per validator.

Fixture files are checked with :func:`validate_body`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathError,
    PathNotFound,
    ServerNotFound,
)
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import (
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import (
    DataValidationError,
    HeaderValidationError,
    MissingData,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from requests.structures import CaseInsensitiveDict

__all__ = [
    "OpenAPIValidator",
    "RecordedCall",
    "SpecMismatchError",
    "TrafficRecorder",
    "check_requests",
    "validate_body",
]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Names whose values must never be echoed into an error message or repr.
_SECRET_NAME = re.compile(
    r"pass|secret|token|private|credential|api_?key|^key$|^auth|signature|cookie", re.IGNORECASE
)
_MAX_NESTING = 3
_MAX_MESSAGE = 300

Body = bytes | str | Mapping[str, Any] | list[Any] | None
"""A body: raw bytes or text, or a JSON value (dict/list) that is encoded as JSON."""


class SpecMismatchError(AssertionError):
    """HTTP traffic does not match the OpenAPI description; ``problems`` lists every finding."""

    def __init__(
        self,
        message: str,
        problems: Sequence[str] = (),
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        mismatches: Sequence[SpecMismatchError] = (),
    ) -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.method = method
        self.url = url
        self.status = status
        self.mismatches = tuple(mismatches)

    @classmethod
    def combine(cls, mismatches: Sequence[SpecMismatchError]) -> SpecMismatchError:
        """One error that reports several mismatches (the first one's message comes first)."""
        if len(mismatches) == 1:
            return mismatches[0]
        text = "\n\n".join(str(m) for m in mismatches)
        problems = [p for m in mismatches for p in m.problems]
        return cls(
            f"{len(mismatches)} HTTP exchanges did not match the OpenAPI description:\n\n{text}",
            problems,
            mismatches=mismatches,
        )


# --------------------------------------------------------------------------- spec loading


class _BearerTokenProvider(BaseProvider):
    """Checks OAuth2 / OpenID Connect schemes: the token travels as ``Authorization: Bearer``.

    openapi-core only warns on these scheme types and so accepts a request without any token.
    """

    def __call__(self, parameters: Any) -> str:
        value = str(parameters.header.get("Authorization", ""))
        kind, _, token = value.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("Missing bearer token.")
        return token


class _SecurityProviders(SecurityProviderFactory):
    """openapi-core's security providers, with OAuth2 / OpenID Connect checked as bearer tokens."""

    PROVIDERS = {
        **SecurityProviderFactory.PROVIDERS,
        "oauth2": _BearerTokenProvider,
        "openIdConnect": _BearerTokenProvider,
    }


@dataclass(frozen=True)
class _LoadedSpec:
    api: Any
    finder: Any
    origin: str
    base_path: str
    name: str
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)


def open_response_schemas(node: Any, in_responses: bool = False) -> None:
    """Drop ``additionalProperties: false`` from every schema under a ``responses`` key, in place.

    Providers add response fields over time; a closed response schema would reject them.
    Request schemas stay closed. Schemas reached only through ``$ref`` stay as they are.
    """
    if isinstance(node, dict):
        if in_responses and node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for key, value in node.items():
            open_response_schemas(value, in_responses or key == "responses")
    elif isinstance(node, list):
        for value in node:
            open_response_schemas(value, in_responses)


def _server_url(document: Mapping[str, Any]) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = str(server.get("url", "/"))
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return url


@functools.lru_cache(maxsize=16)
def _load_spec(path: str, open_responses: bool) -> _LoadedSpec:
    started = time.perf_counter()
    spec_file = Path(path)
    document = json.loads(spec_file.read_text(encoding="utf-8"))
    if open_responses:
        open_response_schemas(document.get("paths", {}))
        open_response_schemas(document.get("components", {}).get("responses", {}), True)
    api = OpenAPI.from_dict(
        document,
        config=Config(security_provider_factory=_SecurityProviders()),
        base_uri=spec_file.as_uri(),
    )
    server = urllib.parse.urlsplit(_server_url(document))
    origin = f"{server.scheme}://{server.netloc}" if server.netloc else "http://localhost"
    return _LoadedSpec(
        api=api,
        finder=APICallPathFinder(api.spec, base_url=None),
        origin=origin,
        base_path=server.path.rstrip("/"),
        name=spec_file.name,
        load_seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- small helpers


def _is_secret(name: object) -> bool:
    return isinstance(name, str) and bool(_SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """``url`` without user info and with secret-looking query values replaced."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='')}="
        + ("REDACTED" if _is_secret(k) else urllib.parse.quote(v, safe=":,"))
        for k, v in pairs
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _safe_str(exc: BaseException) -> str:
    """``str(exc)``, or the class name when the exception cannot render itself."""
    try:
        return str(exc)
    except Exception:
        return type(exc).__name__


def _shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bullets(problems: Iterable[str]) -> str:
    """One bullet per problem; indented lines (alternatives of anyOf/oneOf) stay under theirs."""
    return "\n".join(f"    {p}" if p.startswith(" ") else f"  - {p}" for p in problems)


def _json_path(root: str, path: Iterable[object]) -> str:
    out = root
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _encode_body(body: Body) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body or None
    if isinstance(body, str):
        return body.encode("utf-8") or None
    return json.dumps(body).encode("utf-8")


def _unquote_path(path: str) -> str:
    """Percent-decode a path as a server would, keeping ``%2F`` so segments stay segments."""
    return urllib.parse.unquote(re.sub("%2[fF]", "%252F", path))


def _schema_error_lines(root: str, error: Any, depth: int = 0) -> list[str]:
    """Describe one jsonschema error (and the alternatives of anyOf/oneOf) without secrets."""
    path = list(getattr(error, "absolute_path", ()) or ())
    where = _json_path(root, path)
    validator = getattr(error, "validator", None)
    expected = getattr(error, "validator_value", None)
    instance = getattr(error, "instance", None)
    pad = "    " * depth
    context = list(getattr(error, "context", None) or ())
    if validator in ("anyOf", "oneOf") and context:
        count = len(expected) if isinstance(expected, list) else len(context)
        lines = [f"{pad}{where}: matches none of the {count} {validator} alternatives:"]
        branches: dict[int, list[Any]] = {}
        for sub in context:
            relative = list(getattr(sub, "relative_schema_path", ()) or ())
            index = relative[0] if relative and isinstance(relative[0], int) else -1
            branches.setdefault(index, []).append(sub)
        for index in sorted(branches):
            subs = branches[index]
            lines.append(f"{pad}  alternative {index + 1}:")
            if depth + 1 >= _MAX_NESTING:
                lines.append(f"{pad}    ({len(subs)} more problem(s) not shown)")
                continue
            for sub in subs:
                lines.extend(_schema_error_lines(root, sub, depth + 1))
        return lines
    message = str(getattr(error, "message", ""))
    if validator == "type":
        message = f"expected type {expected!r}, got {_json_type(instance)}"
    elif validator in ("required", "additionalProperties", "dependentRequired", "propertyNames"):
        pass  # these messages name properties, never values
    elif isinstance(instance, dict | list) or any(_is_secret(p) for p in path):
        # Do not echo the value: it may be large or hold a secret.
        shown = repr(instance)
        if message.startswith(shown):
            message = f"{_json_type(instance)} value{message[len(shown) :]}"
        else:
            message = f"{_json_type(instance)} value fails {validator}: {_shorten(repr(expected), 120)}"
    if validator in ("anyOf", "oneOf") and "could not be resolved" in message:
        message = f"no {validator} alternative fits the discriminator value ({message})"
    return [f"{pad}{where}: {_shorten(message)}"]


def _schema_problems(root: str, cause: object) -> list[str]:
    lines: list[str] = []
    for error in getattr(cause, "schema_errors", ()) or ():
        lines.extend(_schema_error_lines(root, error))
    return lines or [f"{root}: does not match its schema"]


def _body_problems(exc: BaseException, root: str) -> list[str]:
    cause = exc.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return _schema_problems(root, cause)
    if isinstance(cause, MediaTypeNotFound):
        documented = ", ".join(cause.availableMimetypes) or "none"
        if not cause.mimetype:
            return [f"{root}: sent without a Content-Type header (documented: {documented})"]
        return [f"{root}: Content-Type {cause.mimetype!r} is not documented (documented: {documented})"]
    if isinstance(cause, DeserializeError):
        return [f"{root}: could not be decoded as its Content-Type says"]
    if isinstance(exc, MissingRequiredRequestBody):
        return [f"{root}: the operation requires a request body and none was sent"]
    if isinstance(exc, MissingData):
        return [f"{root}: missing (the documented response has content)"]
    return [f"{root}: {_shorten(_safe_str(exc))}"]


def _describe(exc: BaseException, method: str) -> list[str]:
    """Turn one openapi-core finding into readable problem lines."""
    cause = exc.__cause__
    if isinstance(exc, PathNotFound):
        return ["no path in the OpenAPI description matches this URL"]
    if isinstance(exc, OperationNotFound):
        return [f"the path exists but documents no {method.upper()} operation"]
    if isinstance(exc, ServerNotFound):
        return ["the URL is not under the description's server URL"]
    if isinstance(exc, SecurityValidationError):
        schemes = getattr(cause, "schemes", None) or []
        accepted = " or ".join("+".join(s) for s in schemes) or "its security schemes"
        return [f"credentials missing or malformed: the operation requires {accepted}"]
    if isinstance(exc, ParameterValidationError):
        label = f"{exc.location} parameter {exc.name!r}"
        if _is_secret(exc.name) and cause is not None:
            return [f"{label}: invalid value (hidden)"]
        if isinstance(cause, InvalidSchemaValue):
            return _schema_problems(label, cause)
        if isinstance(cause, CastError):
            return [f"{label}: {_shorten(_safe_str(cause))}"]
        if isinstance(cause, DeserializeError):
            mimetype = getattr(cause, "mimetype", "its media type")
            return [f"{label}: value could not be decoded as {mimetype}"]
        return [_shorten(_safe_str(exc))]
    if isinstance(exc, RequestBodyValidationError):
        return _body_problems(exc, "body")
    if isinstance(exc, ResponseNotFound):
        documented = ", ".join(str(s) for s in exc.availableresponses)
        return [f"status {exc.http_status} is not documented for this operation (documented: {documented})"]
    if isinstance(exc, DataValidationError):
        return _body_problems(exc, "body")
    if isinstance(exc, HeaderValidationError):
        label = f"response header {exc.name!r}"
        if isinstance(cause, InvalidSchemaValue):
            return _schema_problems(label, cause)
        return [_shorten(_safe_str(exc))]
    return [f"{type(exc).__name__}: {_shorten(_safe_str(exc))}"]


# --------------------------------------------------------------------------- the validator


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


def _declared_parameters(path_item: Any, operation: Any, location: str) -> set[str]:
    names: set[str] = set()
    for holder in (path_item, operation):
        if "parameters" not in holder:
            continue
        for parameter in holder / "parameters":
            if (parameter / "in").read_str() == location:
                names.add((parameter / "name").read_str())
    return names


def _schema_field_names(schema: Any, depth: int = 0) -> set[str] | None:
    """Property names a body schema declares, through allOf/anyOf/oneOf; None if it is open."""
    if depth > 10:
        return None
    if "additionalProperties" in schema:
        extra = (schema / "additionalProperties").read_value()
        if extra is not False:
            return None
    names: set[str] = set()
    if "properties" in schema:
        names.update(str(k) for k in (schema / "properties").keys())
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            for sub in schema / keyword:
                sub_names = _schema_field_names(sub, depth + 1)
                if sub_names is None:
                    return None
                names.update(sub_names)
    return names


def _undeclared_body_fields(operation: Any, content_type: str, body: bytes) -> list[str]:
    mimetype = content_type.split(";")[0].strip().lower()
    if "json" not in mimetype:
        return []
    content = operation / "requestBody" / "content"
    if mimetype not in content or "schema" not in content / mimetype:
        return []
    try:
        value = json.loads(body)
    except ValueError:
        return ["body: not valid JSON"]
    if not isinstance(value, dict):
        return []
    declared = _schema_field_names(content / mimetype / "schema")
    if not declared:
        return []  # a free-form object: nothing to compare against
    return [
        f"body.{name}: field is not declared by the request body schema"
        for name in sorted(set(value) - declared)
    ]


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


# --------------------------------------------------------------------------- recording traffic


@dataclass(repr=False)
class RecordedCall:
    """One request sent while :func:`check_requests` was active (and its response status)."""

    method: str
    url: str
    body: bytes | None
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    status: int | None = None
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RecordedCall({self.method} {redact_url(self.url)} -> {self.status})"

    @property
    def path(self) -> str:
        """The URL path as sent."""
        return urllib.parse.urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string, parsed (every value is a list)."""
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query, keep_blank_values=True)

    def json(self) -> Any:
        """The body decoded as JSON (None when there is no body)."""
        return None if self.body is None else json.loads(self.body)


class TrafficRecorder:
    """What :func:`check_requests` yields: the calls seen so far and the mismatches found."""

    def __init__(self, validator: OpenAPIValidator, *, responses_too: bool, raise_immediately: bool) -> None:
        self.validator = validator
        self.responses_too = responses_too
        self.raise_immediately = raise_immediately
        self.active = False
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._mismatches: list[SpecMismatchError] = []
        self._local = threading.local()

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request recorded, in the order they were sent."""
        with self._lock:
            return list(self._calls)

    @property
    def mismatches(self) -> list[SpecMismatchError]:
        """Every mismatch found so far."""
        with self._lock:
            return list(self._mismatches)

    def check(self) -> None:
        """Raise the mismatches found so far, all in one :class:`SpecMismatchError`."""
        mismatches = self.mismatches
        if mismatches:
            raise SpecMismatchError.combine(mismatches)

    # -- hooks called from the patched send

    def _in_flight(self) -> set[int]:
        ids: set[int] | None = getattr(self._local, "ids", None)
        if ids is None:
            ids = set()
            self._local.ids = ids
        return ids

    def _send(self, inner: Callable[..., Any], session: Any, request: Any, **kwargs: Any) -> Any:
        in_flight = self._in_flight()
        if not self.active or id(request) in in_flight:
            return inner(session, request, **kwargs)
        in_flight.add(id(request))
        try:
            call = self._before(request)
            response = inner(session, request, **kwargs)
            self._after(call, response)
            return response
        finally:
            in_flight.discard(id(request))

    def _record_mismatch(self, error: SpecMismatchError) -> None:
        with self._lock:
            self._mismatches.append(error)
        if self.raise_immediately:
            raise error

    def _before(self, request: requests.PreparedRequest) -> RecordedCall:
        method = (request.method or "GET").upper()
        url = request.url or ""
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {str(k): str(v) for k, v in request.headers.items()}
        )
        raw: object = request.body  # typed bytes | str | None, but a stream is possible
        problems: list[str]
        if raw is None or isinstance(raw, bytes | str):
            body = _encode_body(raw)
            problems = self.validator.request_problems(method, url, headers, body)
        else:
            body = None
            problems = ["body: a streamed body cannot be checked against the description"]
        call = RecordedCall(method, url, body, headers, problems=tuple(problems))
        with self._lock:
            self._calls.append(call)
        if problems:
            self._record_mismatch(self.validator._error("request", method, url, None, problems))
        return call

    def _after(self, call: RecordedCall, response: requests.Response) -> None:
        with self._lock:
            call.status = response.status_code
        if not self.responses_too or not 200 <= response.status_code < 300:
            return
        headers = {str(k): str(v) for k, v in response.headers.items()}
        problems = self.validator.response_problems(
            call.method, call.url, response.status_code, headers, response.content
        )
        if problems:
            self._record_mismatch(
                self.validator._error("response", call.method, call.url, response.status_code, problems)
            )


def _patch(owner: Any, name: str, recorder: TrafficRecorder) -> Callable[[], None]:
    """Replace ``owner.name`` (a send function) by a checking wrapper; return the undo."""
    inner = getattr(owner, name)

    def send(session: Any, request: Any, **kwargs: Any) -> Any:
        return recorder._send(inner, session, request, **kwargs)

    setattr(owner, name, send)

    def undo() -> None:
        if getattr(owner, name) is send:  # someone patched on top of us: leave theirs alone
            setattr(owner, name, inner)

    return undo


@contextmanager
def check_requests(
    validator: OpenAPIValidator, *, responses_too: bool = False, raise_immediately: bool = True
) -> Iterator[TrafficRecorder]:
    """Check every request sent through ``requests`` inside the block against ``validator``.

    Works with ``responses`` and ``requests-mock`` (started before or inside the block) and
    with real servers. With ``responses_too`` the 2xx responses are checked as well.

    A mismatch raises :class:`SpecMismatchError` out of ``Session.send`` (unless
    ``raise_immediately=False``; then the request is sent anyway), and every mismatch is raised
    again when the block ends, even if the code under test caught the first raise. Mocks and
    this patch must be stopped in reverse order of starting (as ``with`` blocks are); a wrapper
    left behind by out-of-order stops passes requests through unchecked.
    """
    recorder = TrafficRecorder(validator, responses_too=responses_too, raise_immediately=raise_immediately)
    undo = [_patch(requests.sessions.Session, "send", recorder)]
    # requests-mock's fake send calls the *original* Session.send it captured at import.
    mocker = sys.modules.get("requests_mock.mocker")
    if mocker is not None and hasattr(mocker, "_original_send"):
        undo.append(_patch(mocker, "_original_send", recorder))
    recorder.active = True
    try:
        yield recorder
    except BaseException as exc:
        mismatches = recorder.mismatches
        if mismatches and not (len(mismatches) == 1 and exc is mismatches[0]):
            raise SpecMismatchError.combine(mismatches) from exc
        raise
    finally:
        recorder.active = False
        for step in reversed(undo):
            step()
    recorder.check()
