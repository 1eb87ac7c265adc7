"""Loading an OpenAPI description (server URL, security schemes, open response schemas), the
mismatch error, and the text helpers its messages use.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.templating.paths.finders import APICallPathFinder

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
