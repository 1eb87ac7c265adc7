"""Redaction of secrets in URLs, headers and text before they are logged or shown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "SECRET_HEADERS", "SECRET_PARAMS", "redact_headers", "redact_text", "redact_url"]

REDACTED = "<redacted>"

#: Query-string parameter names whose values are never shown.
SECRET_PARAMS = frozenset({
    "key", "api_key", "apikey", "api-key", "token", "access_token", "password", "passwd",
    "secret", "client_secret", "auth", "root_pass",
})

#: Header names whose values are never shown.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-auth-token", "x-api-key", "cookie",
                            "set-cookie"})


def redact_url(url: str, secret_params: Iterable[str] = SECRET_PARAMS) -> str:
    """``url`` with the values of secret query parameters (and any userinfo) replaced."""
    secret = {name.lower() for name in secret_params}
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = [(k, REDACTED if k.lower() in secret else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs, safe="<>")))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with secret values replaced."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_text(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each (non-trivial) secret replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def redact_auth_words(text: str) -> str:
    """Replace ``Bearer xyz`` / ``Basic xyz`` credentials appearing inside free text."""
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
