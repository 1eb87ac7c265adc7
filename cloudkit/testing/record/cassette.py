"""The cassette format (one exchange file and one raw body file per request) and :func:`record`,
which writes a cassette of every request sent through ``requests`` inside its block.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cloudkit.testing.record.scrubbing import (
    _PEM,
    _SUFFIXES,
    REDACTED,
    Scrubber,
    ScrubError,
    _content_type,
    _decode_body,
    _is_secret_name,
)

FORMAT_VERSION = 1

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
