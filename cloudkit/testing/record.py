"""Record a driver's HTTP exchanges as scrubbed fixtures, and replay them (VCR-style).

Record once against a real account (or the simulator)::

    from cloudkit.testing.record import record, replay

    with record("cassettes/linode-create", secrets=[token]) as rec:
        driver = get_driver("linode")(token)
        node = driver.create_node("web-1", "g6-nanode-1", "linode/debian12", "us-east",
                                  auth=NodeAuthPassword("...") )
    print(len(rec.exchanges), "exchanges recorded")

and replay in tests, offline::

    with replay("cassettes/linode-create"):
        node = get_driver("linode")("any-token").create_node(...)

Every request sent through :mod:`requests` inside ``record`` is written as two files: the
exchange (``0001_GET_v4_linode_instances.json``: method, path, query, status, a subset of
the response headers, the request body and the response body) and the raw response body
(``0001_GET_v4_linode_instances.body.json``), which a :class:`~cloudkit.testing.fixtures.Route`
can serve as it is. Before anything is written, tokens, passwords, API keys, private keys,
``Authorization`` values and the values of secret-named fields are replaced by ``REDACTED``;
with ``scrub_ips`` every IP address is replaced by a stand-in from the documentation ranges
(the same address always gets the same stand-in, private ones stay private). Secrets are also
learnt from the traffic itself (the ``Authorization`` header, secret query parameters and
secret body fields), and when the block ends every file is scrubbed again with everything
learnt and then searched: a secret left on disk raises :class:`ScrubError`.

``replay`` answers each request with the first recorded exchange not yet played that has
the same method, path and query (secret parameters aside), so identical requests (a poll)
are answered in recorded order and concurrent page fetches in any order. A request the
cassette does not hold raises :class:`CassetteMismatchError` naming it and what was left.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import io
import ipaddress
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "REDACTED",
    "CassetteMismatchError",
    "Exchange",
    "Player",
    "Recording",
    "ScrubError",
    "Scrubber",
    "add_record_parser",
    "load_cassette",
    "record",
    "replay",
    "routes_from_cassette",
    "run_record",
]

REDACTED = "REDACTED"
FORMAT_VERSION = 1

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


# -- exchanges ----------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One recorded request and its answer."""

    seq: int
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    headers: dict[str, str]
    body: bytes
    request_body: Any = None
    file: Path | None = None
    body_file: Path | None = None

    @property
    def content_type(self) -> str:
        """The response's content type (no parameters)."""
        return _content_type(self.headers)

    def describe(self) -> str:
        """``GET /v1/servers?page=2`` style text (secret parameters shown as names only)."""
        query = "&".join(f"{k}={v}" for k, values in sorted(self.query.items()) for v in values)
        return f"{self.method} {self.path}{'?' + query if query else ''}"

    def matches(self, method: str, path: str, query: Mapping[str, list[str]]) -> bool:
        """Same method, path and query; secret or redacted parameters are not compared."""
        if method.upper() != self.method or path.rstrip("/") != self.path.rstrip("/"):
            return False
        return _comparable(self.query) == _comparable(query)


def _comparable(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in query.items() if not _is_secret_name(k) and REDACTED not in v}


def _slug(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", unquote(path)).strip("_") or "root"
    return f"{method.upper()}_{words[:60]}"


# -- recording ----------------------------------------------------------------------------------


class Recording:
    """What ``record`` yields: the exchanges written so far and the scrubber in use."""

    def __init__(self, out_dir: Path, scrubber: Scrubber) -> None:
        self.out_dir = out_dir
        self.scrubber = scrubber
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._seq = 0

    def _write(self, request: Any, response: Any) -> None:
        url = str(request.url or "")
        headers = {str(k): str(v) for k, v in (request.headers or {}).items()}
        body = request.body if isinstance(request.body, (bytes, str)) else None
        self.scrubber.learn_request(url, headers, body)
        raw = response.content or b""
        resp_headers = {str(k): str(v) for k, v in response.headers.items()}
        ctype = _content_type(resp_headers)
        scrubbed = self.scrubber.body(raw, ctype)
        request_body = None
        if body:
            raw_request = body.encode("utf-8") if isinstance(body, str) else body
            request_body = _decode_body(self.scrubber.body(raw_request, _content_type(headers)))
        with self._lock:
            self._seq += 1
            seq = self._seq
        path = urlsplit(url).path or "/"
        stem = f"{seq:04d}_{_slug(str(request.method), path)}"
        suffix = _SUFFIXES.get(ctype, ".json" if scrubbed.lstrip()[:1] in (b"{", b"[") else ".txt")
        exchange = Exchange(seq, str(request.method).upper(), path, self.scrubber.query(url), response.status_code,
                            self.scrubber.headers(resp_headers), scrubbed, request_body,
                            self.out_dir / f"{stem}.json", self.out_dir / f"{stem}.body{suffix}")
        assert exchange.file is not None and exchange.body_file is not None
        shown: Any
        if "json" in ctype or suffix == ".json":
            try:
                shown = json.loads(scrubbed) if scrubbed.strip() else None
            except ValueError:
                shown = scrubbed.decode("utf-8", "replace")
        else:
            shown = scrubbed.decode("utf-8", "replace") if scrubbed else None
        document = {
            "cloudkit_cassette": FORMAT_VERSION,
            "seq": seq,
            "method": exchange.method,
            "path": exchange.path,
            "query": exchange.query,
            "request_body": request_body,
            "status": exchange.status,
            "headers": exchange.headers,
            "body": shown,
            "body_file": exchange.body_file.name,
            "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        exchange.body_file.write_bytes(scrubbed)
        exchange.file.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        with self._lock:
            self.exchanges.append(exchange)

    def finish(self) -> None:
        """Scrub every file again with every secret learnt, then make sure none is left."""
        secrets = self.scrubber.secrets
        leaks: list[str] = []
        for path in sorted(self.out_dir.glob("[0-9][0-9][0-9][0-9]_*")):
            data = path.read_bytes()
            text = _PEM.sub(f"-----{REDACTED} PRIVATE KEY-----", data.decode("utf-8", "surrogateescape"))
            for secret in secrets:
                text = text.replace(secret, REDACTED)
            cleaned = text.encode("utf-8", "surrogateescape")
            if cleaned != data:
                path.write_bytes(cleaned)
            if any(secret in text for secret in secrets) or _PEM.search(text):
                leaks.append(path.name)
        if leaks:
            raise ScrubError(f"secrets remain in {', '.join(leaks)} after scrubbing; delete {self.out_dir}")


@contextmanager
def record(out_dir: str | Path, *, secrets: Iterable[str | None] = (), scrub_ips: bool = False,
           overwrite: bool = False) -> Iterator[Recording]:
    """Record every request sent through ``requests`` inside the block into ``out_dir``.

    ``secrets``: credentials to scrub besides those learnt from the traffic (pass the
    driver's key and secret). ``scrub_ips`` replaces IP addresses too. ``out_dir`` must be
    empty or absent unless ``overwrite`` (then its old exchange files are removed first).
    """
    import requests

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    existing = [p for p in folder.iterdir() if p.is_file()]
    if existing and not overwrite:
        raise FileExistsError(f"{folder} already holds {len(existing)} files; record into an empty folder "
                              "(or pass overwrite=True / --force)")
    for path in existing:
        if re.match(r"^\d{4}_", path.name):
            path.unlink()
    recording = Recording(folder, Scrubber(secrets, scrub_ips=scrub_ips))
    local = threading.local()

    def hook(inner: Callable[..., Any], session: Any, request: Any, **kwargs: Any) -> Any:
        if getattr(local, "busy", False):
            return inner(session, request, **kwargs)
        local.busy = True
        try:
            response = inner(session, request, **kwargs)
            recording._write(request, response)
            return response
        finally:
            local.busy = False

    undo = _patch_send(requests.sessions.Session, hook)
    try:
        yield recording
    finally:
        undo()
        recording.finish()


def _patch_send(owner: Any, hook: Callable[..., Any]) -> Callable[[], None]:
    inner = owner.send

    def send(session: Any, request: Any, **kwargs: Any) -> Any:
        return hook(inner, session, request, **kwargs)

    owner.send = send

    def undo() -> None:
        if owner.send is send:  # someone patched on top of us: leave theirs alone
            owner.send = inner

    return undo


# -- replaying ----------------------------------------------------------------------------------


def load_cassette(cassette_dir: str | Path) -> list[Exchange]:
    """The exchanges recorded in ``cassette_dir``, in recorded order."""
    folder = Path(cassette_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"cassette folder not found: {folder}")
    exchanges: list[Exchange] = []
    for path in sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.json")):
        if ".body." in path.name:
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("cloudkit_cassette") != FORMAT_VERSION:
            raise ValueError(f"{path} is not a cloudkit cassette exchange (format {FORMAT_VERSION})")
        body_file = folder / str(doc["body_file"])
        exchanges.append(Exchange(int(doc["seq"]), str(doc["method"]).upper(), str(doc["path"]),
                                  {str(k): [str(x) for x in v] for k, v in dict(doc.get("query") or {}).items()},
                                  int(doc["status"]), {str(k): str(v) for k, v in dict(doc["headers"]).items()},
                                  body_file.read_bytes(), doc.get("request_body"), path, body_file))
    if not exchanges:
        raise ValueError(f"{folder} holds no recorded exchanges")
    return sorted(exchanges, key=lambda e: e.seq)


class Player:
    """What ``replay`` yields: answers requests from the cassette; ``played`` and ``unused``
    say how far it got."""

    def __init__(self, exchanges: Sequence[Exchange], name: str) -> None:
        self.exchanges = list(exchanges)
        self.name = name
        self.played: list[Exchange] = []
        self._lock = threading.Lock()

    @property
    def unused(self) -> list[Exchange]:
        """Recorded exchanges no request has asked for yet."""
        with self._lock:
            played = {id(e) for e in self.played}
            return [e for e in self.exchanges if id(e) not in played]

    def take(self, method: str, url: str) -> Exchange:
        """The first unplayed exchange answering ``method url``; CassetteMismatchError if none."""
        parts = urlsplit(url)
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        with self._lock:
            played = {id(e) for e in self.played}
            for exchange in self.exchanges:
                if id(exchange) not in played and exchange.matches(method, parts.path or "/", query):
                    self.played.append(exchange)
                    return exchange
            left = [e for e in self.exchanges if id(e) not in played]
        shown_query = "&".join(f"{k}={REDACTED if _is_secret_name(k) else v}" for k, v in parse_qsl(parts.query))
        nearby = "\n    ".join(f"{e.file.name if e.file else e.seq}: {e.describe()}" for e in left[:8]) or "(none)"
        raise CassetteMismatchError(
            f"request {method} {parts.path}{'?' + shown_query if shown_query else ''} is not in cassette "
            f"{self.name} ({len(left)} of {len(self.exchanges)} exchanges left):\n    {nearby}\n"
            "  Record the flow again, or fix the request the code sends.")

    def respond(self, request: Any) -> Any:
        """A ``requests.Response`` for ``request``, built from the cassette."""
        import requests
        from requests.structures import CaseInsensitiveDict

        exchange = self.take(str(request.method), str(request.url))
        response = requests.Response()
        response.status_code = exchange.status
        response.headers = CaseInsensitiveDict({**exchange.headers, "Content-Length": str(len(exchange.body))})
        response._content = exchange.body
        # requests has no public way to build a Response whose body is already read;
        # without this flag it would try to stream from .raw a second time.
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw = io.BytesIO(exchange.body)
        response.url = str(request.url)
        response.request = request
        response.encoding = None
        response.elapsed = _dt.timedelta(0)
        try:
            response.reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            response.reason = ""
        return response


@contextmanager
def replay(cassette_dir: str | Path, *, allow_unused: bool = False) -> Iterator[Player]:
    """Answer every request sent through ``requests`` inside the block from a cassette.

    Nothing reaches the network. A request the cassette does not hold raises
    ``CassetteMismatchError`` (an AssertionError) from the sending call; exchanges left
    unplayed raise it when the block ends, unless ``allow_unused``.
    """
    import requests

    player = Player(load_cassette(cassette_dir), str(cassette_dir))

    def hook(inner: Callable[..., Any], session: Any, request: Any, **kwargs: Any) -> Any:
        return player.respond(request)

    undo = _patch_send(requests.sessions.Session, hook)
    try:
        yield player
    finally:
        undo()
    left = player.unused
    if left and not allow_unused:
        names = ", ".join(e.file.name if e.file else str(e.seq) for e in left[:8])
        raise CassetteMismatchError(f"{len(left)} recorded exchange(s) of {cassette_dir} were never replayed: "
                                    f"{names}; the code sent fewer requests than when it was recorded "
                                    "(pass allow_unused=True if that is expected)")


def routes_from_cassette(cassette_dir: str | Path, *, repeat_last: bool = False) -> list[Any]:
    """The cassette as ``cloudkit.testing.fixtures.Route`` objects, to feed ``mock_routes`` or a
    ``DriverConformance`` class. Each answers once, in recorded order; with ``repeat_last`` the
    last answer to each distinct request keeps answering (a suite calls a listing many times)."""
    from cloudkit.testing.fixtures import Route

    exchanges = load_cassette(cassette_dir)
    last: dict[tuple[str, str, str], int] = {}
    for index, exchange in enumerate(exchanges):
        last[_request_key(exchange)] = index
    routes: list[Any] = []
    for index, exchange in enumerate(exchanges):
        query = {k: v[0] for k, v in _comparable(exchange.query).items() if v}
        headers = {k: v for k, v in exchange.headers.items() if k.lower() != "content-type"}
        keeps = repeat_last and last[_request_key(exchange)] == index
        routes.append(Route(exchange.method, exchange.path, exchange.body_file, status=exchange.status,
                            headers=headers, query=query, times=None if keeps else 1,
                            content_type=exchange.content_type or "application/json"))
    # A Route's query matches any request that carries at least its parameters: the most
    # specific routes go first, so ``?type=gpus&page=1`` is not answered by ``?page=1``.
    routes.sort(key=lambda route: -len(route.query))
    return routes


def _request_key(exchange: Exchange) -> tuple[str, str, str]:
    return exchange.method, exchange.path.rstrip("/"), json.dumps(_comparable(exchange.query), sort_keys=True)


# -- the command line --------------------------------------------------------------------------

#: The read-only flow ``cloudkit record`` runs when no command is given.
CATALOGUE_FLOW: tuple[tuple[str, ...], ...] = (
    ("accounts", "check"), ("nodes", "list"), ("sizes",), ("images",), ("locations",), ("keys", "list"),
)
_SECRET_ENV = re.compile(r"TOKEN|KEY|PASSWORD|PASSWD|SECRET", re.IGNORECASE)


def add_record_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``record`` to an argparse subparsers object (its ``func`` runs the command)."""
    text = "run cloudkit commands against a provider and save every HTTP exchange as scrubbed fixtures"
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "record", help=text, description=text + ". Without a command after '--', records a read-only "
        "flow: accounts check, nodes list, sizes, images, locations, keys list.")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the cassette (must be empty)")
    parser.add_argument("--scrub-ips", action="store_true", help="replace IP addresses by documentation ones")
    parser.add_argument("--force", action="store_true", help="replace a cassette already in --out")
    parser.add_argument("--provider", metavar="NAME", default=argparse.SUPPRESS,
                        help="provider to record (credentials as for every cloudkit command)")
    parser.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS,
                        help="send the requests here instead (e.g. the simulator)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the cloudkit command to record, after '--' (e.g. -- nodes list)")
    parser.set_defaults(func=_command)
    return parser


def _command(ctx: Any) -> int:
    """The ``func`` set by add_record_parser: takes the CLI's context (or bare args)."""
    return run_record(getattr(ctx, "args", ctx), env=getattr(ctx, "env", None), stdout=getattr(ctx, "out", None),
                      stderr=getattr(ctx, "err", None))


def run_record(args: argparse.Namespace, *, env: Mapping[str, str] | None = None,
               stdout: IO[str] | None = None, stderr: IO[str] | None = None,
               main: Callable[..., int] | None = None) -> int:
    """Run ``cloudkit record``: each command (or the read-only flow) through the cloudkit CLI
    inside ``record``. Returns the worst exit status of the commands; 2 for a usage error."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    environ = dict(os.environ if env is None else env)
    if main is None:
        from cloudkit.cli import main as cli_main

        main = cli_main
    command = list(getattr(args, "command", None) or [])
    if command[:1] == ["--"]:
        command = command[1:]
    flow = [tuple(command)] if command else list(CATALOGUE_FLOW)
    prefix: list[str] = []
    if getattr(args, "provider", None):
        prefix += ["--provider", args.provider]
    if getattr(args, "base_url", None):
        prefix += ["--base-url", args.base_url]
    secrets = [value for name, value in environ.items() if name.startswith("CLOUDKIT_") and _SECRET_ENV.search(name)]
    worst = 0
    try:
        with record(args.out, secrets=secrets, scrub_ips=bool(args.scrub_ips),
                    overwrite=bool(getattr(args, "force", False))) as recording:
            for step in flow:
                sink = io.StringIO()
                status = main([*prefix, *step], env=environ, stdout=sink, stderr=err)
                out.write(f"cloudkit {' '.join(step)}: exit status {status}\n")
                worst = max(worst, status)
    except FileExistsError as exc:
        err.write(f"cloudkit record: error: {exc}\n")
        return 2
    except ScrubError as exc:
        err.write(f"cloudkit record: error: {exc}\n")
        return 1
    out.write(f"recorded {len(recording.exchanges)} exchange(s) in {args.out} (tokens, passwords and keys "
              f"scrubbed{'; IP addresses replaced' if args.scrub_ips else ''})\n")
    return worst
