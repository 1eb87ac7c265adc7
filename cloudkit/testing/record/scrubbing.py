"""Scrubbing recorded traffic: secrets given and learnt (tokens, passwords, keys, Authorization
values, secret-named fields) become REDACTED, IP addresses optionally become documentation
stand-ins.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

REDACTED = "REDACTED"

#: Field, header and query-parameter names whose values are always secret.
_SECRET_NAME = re.compile(
    r"(?:^|[_-])(?:pass|password|passwd|passphrase|root_pass|secret|api_?key|apikey|private_?key|token|"
    r"credentials?|authorization|cookie|signature)$|^key$",
    re.IGNORECASE)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL)
_AUTH_WORDS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
#: Response headers kept in an exchange file (the rest say nothing a fixture needs).
_KEEP_HEADERS = ("content-type", "retry-after", "link", "location")
_KEEP_HEADER_PREFIXES = ("x-ratelimit-", "ratelimit-")
_SUFFIXES = {"application/json": ".json", "application/xml": ".xml", "text/xml": ".xml", "text/html": ".html",
             "text/plain": ".txt"}


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


class ScrubError(AssertionError):
    """A secret was still found in a recorded file after scrubbing (nothing is kept silently)."""


class CassetteMismatchError(AssertionError):
    """A replayed request is not in the cassette, or recorded exchanges were never replayed."""


# -- scrubbing ---------------------------------------------------------------------------------


class Scrubber:
    """Replaces secrets (given and learnt) and, optionally, IP addresses in text and bodies."""

    def __init__(self, secrets: Iterable[str | None] = (), *, scrub_ips: bool = False) -> None:
        self.scrub_ips = scrub_ips
        self._secrets: set[str] = set()
        self._ips: dict[str, str] = {}
        self._counts: dict[tuple[int, bool], int] = {}
        self._lock = threading.Lock()
        for secret in secrets:
            self.learn(secret)

    @property
    def secrets(self) -> list[str]:
        """Every secret known, longest first (so a secret inside another goes with it)."""
        with self._lock:
            return sorted(self._secrets, key=len, reverse=True)

    def learn(self, value: str | None) -> None:
        """Treat ``value`` (and its URL-encoded and Base64 forms) as secret from now on."""
        if not isinstance(value, str) or len(value.strip()) < 4 or value == REDACTED:
            return
        forms = {value, quote(value, safe=""), quote(value), base64.b64encode(value.encode()).decode()}
        with self._lock:
            self._secrets.update(form for form in forms if len(form) >= 4)

    def learn_request(self, url: str, headers: Mapping[str, str], body: bytes | str | None) -> None:
        """Learn the credentials a request carries: auth headers, secret query parameters and
        secret-named fields of a JSON or form body."""
        for name, value in headers.items():
            lname = name.lower()
            if lname in ("authorization", "proxy-authorization"):
                scheme, _, credential = str(value).partition(" ")
                credential = credential.strip() or scheme
                self.learn(credential)
                if scheme.lower() == "basic":
                    try:
                        user, _, password = base64.b64decode(credential).decode("utf-8").partition(":")
                    except (binascii.Error, ValueError):
                        continue
                    self.learn(user)
                    self.learn(password)
            elif _is_secret_name(lname) or lname in ("x-auth-token", "x-api-key"):
                self.learn(str(value))
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if _is_secret_name(key):
                self.learn(value)
        self._learn_fields(_decode_body(body))

    def _learn_fields(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if _is_secret_name(str(key)) and isinstance(item, (str, int)) and not isinstance(item, bool):
                    self.learn(str(item))
                else:
                    self._learn_fields(item)
        elif isinstance(value, list):
            for item in value:
                self._learn_fields(item)

    # -- text

    def text(self, text: str) -> str:
        """``text`` with private keys, auth words, known secrets (and IPs) replaced."""
        text = _PEM.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
        text = _AUTH_WORDS.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        if self.scrub_ips:
            text = _IPV4.sub(lambda m: self._ip(m.group(0)), text)
            text = _IPV6.sub(lambda m: self._ip(m.group(0)), text)
        return text

    def _ip(self, candidate: str) -> str:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            return candidate
        if (address.is_loopback or address.is_unspecified or address.is_multicast
                or str(address).startswith("255.") or _is_documentation(address)):
            return candidate
        private = address.is_private or address.is_link_local
        with self._lock:
            known = self._ips.get(str(address))
            if known is None:
                kind = (address.version, private)
                count = self._counts.get(kind, 0)
                self._counts[kind] = count + 1
                known = self._stand_in(address.version, private, count)
                self._ips[str(address)] = known
        return known

    @staticmethod
    def _stand_in(version: int, private: bool, n: int) -> str:
        """The n-th stand-in address: documentation ranges for public ones, private for private."""
        if version == 6:
            return f"fd00::{n + 1:x}" if private else f"2001:db8::{n + 1:x}"
        if private:
            return f"10.{(n // 62500) % 250}.{(n // 250) % 250}.{n % 250 + 1}"
        nets = ("203.0.113", "198.51.100", "192.0.2")
        return f"{nets[(n // 254) % 3]}.{n % 254 + 1}"

    # -- structured values

    def value(self, value: Any) -> Any:
        """A JSON value with secret-named fields replaced and every string scrubbed."""
        if isinstance(value, dict):
            return {key: (REDACTED if _is_secret_name(str(key)) and item not in (None, "", [], {})
                          and not isinstance(item, bool) else self.value(item))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def query(self, url: str) -> dict[str, list[str]]:
        """The query string of ``url``, secret parameters replaced."""
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            query.setdefault(key, []).append(REDACTED if _is_secret_name(key) else self.text(value))
        return query

    def body(self, raw: bytes, content_type: str) -> bytes:
        """A response or request body, scrubbed (JSON structurally, anything else as text)."""
        if not raw:
            return raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            data = raw
            for secret in self.secrets:
                data = data.replace(secret.encode(), REDACTED.encode())
            return data
        if "json" in content_type or text.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(text)
            except ValueError:
                pass
            else:
                return (json.dumps(self.value(parsed), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        if "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            return "&".join(f"{quote(k)}={REDACTED if _is_secret_name(k) else quote(self.text(v))}"
                            for k, v in pairs).encode("utf-8")
        if "xml" in content_type or "html" in content_type or text.lstrip().startswith("<"):
            text = re.sub(r"<([\w:-]+)(\s[^>]*)?>([^<]*)</\1>",
                          lambda m: (f"<{m.group(1)}{m.group(2) or ''}>{REDACTED}</{m.group(1)}>"
                                     if _is_secret_name(m.group(1).split(":")[-1]) and m.group(3).strip()
                                     else m.group(0)), text)
        return self.text(text).encode("utf-8")

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The response headers worth keeping, scrubbed."""
        kept: dict[str, str] = {}
        for name, value in headers.items():
            lname = name.lower()
            if lname in _KEEP_HEADERS or lname.startswith(_KEEP_HEADER_PREFIXES):
                kept[name] = self.text(str(value))
        return kept


def _is_documentation(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    nets = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
    return any(address in ipaddress.ip_network(net) for net in nets if ipaddress.ip_network(net).version
               == address.version)


def _decode_body(body: bytes | str | None) -> Any:
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return stripped
    if "=" in stripped and not stripped.startswith("<"):
        return dict(parse_qsl(stripped, keep_blank_values=True))
    return stripped


def _content_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value).split(";", 1)[0].strip().lower()
    return ""
