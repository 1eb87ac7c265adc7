"""Redaction of secrets in URLs, headers and text before they are logged or shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_PARAMS",
    "RedactingFilter",
    "protect_third_party_loggers",
    "redact_auth_words",
    "redact_exception",
    "redact_headers",
    "redact_text",
    "redact_url",
]

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


#: Text attributes of cloudkit errors that may echo what was sent (besides ``args``).
_ERROR_TEXT_ATTRS = ("message", "body", "hint", "url")


def redact_exception(exc: BaseException, secrets: Iterable[str | None]) -> BaseException:
    """Replace each (non-trivial) secret in an exception's text (its ``args`` and the
    ``message``, ``body``, ``hint`` and ``url`` of cloudkit errors), in place; returns ``exc``."""
    values = [secret for secret in secrets if secret and len(secret) >= 4]
    if not values:
        return exc
    for attr in _ERROR_TEXT_ATTRS:
        value = getattr(exc, attr, None)
        if isinstance(value, str):
            setattr(exc, attr, redact_text(value, values))
    exc.args = tuple(redact_text(a, values) if isinstance(a, str) else a for a in exc.args)
    return exc


_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def redact_auth_words(text: str) -> str:
    """Replace ``Bearer xyz`` / ``Basic xyz`` credentials appearing inside free text."""
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Redacts secret query parameters (``?key=...``) and auth words in records of a
    third-party logger we do not control (urllib3 logs full request lines at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self.params: set[str] = set(SECRET_PARAMS)
        self._pattern = self._compile()

    def _compile(self) -> re.Pattern[str]:
        names = "|".join(sorted(re.escape(p) for p in self.params))
        return re.compile(rf"(?i)([?&](?:{names})=)[^&\s\"']*")

    def add_params(self, names: Iterable[str]) -> None:
        new = {n.lower() for n in names} - self.params
        if new:
            self.params |= new
            self._pattern = self._compile()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = redact_auth_words(self._pattern.sub(lambda m: m.group(1) + REDACTED, message))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_filter = RedactingFilter()
_installed = False


def protect_third_party_loggers(params: Iterable[str] = ()) -> None:
    """Make sure urllib3's request-line logging cannot show secret query parameters."""
    global _installed
    _filter.add_params(params)
    if not _installed:
        for name in ("urllib3.connectionpool", "urllib3.connection", "requests"):
            logging.getLogger(name).addFilter(_filter)
        _installed = True
