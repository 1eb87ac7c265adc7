"""A small threaded HTTP/1.1 server for the simulator.

Stdlib only. One daemon thread per connection, keep-alive, ``TCP_NODELAY``, and a request
parser that does the least work a JSON API needs (no ``email`` header parsing): the server
often shares a process and the GIL with the client it serves, so its per-request cost is
part of whatever is being measured.

The application object (``App`` protocol: the ``Simulator``) turns a :class:`SimRequest`
into a :class:`Reply`, which may also say "close the connection without answering",
"wait before answering" or "send only part of the body" (fault injection).
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["BadBody", "Reply", "SimRequest", "SimResponse", "SimServer"]

_MAX_LINE = 65536
_MAX_HEADERS = 100
_MAX_BODY = 32 * 1024 * 1024

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS.setdefault(299, "Deprecated")


class BadBody(ValueError):
    """The request body is not what the endpoint accepts (not JSON, not a form)."""


class SimRequest:
    """One parsed HTTP request as the provider handlers see it."""

    __slots__ = ("_json", "_params", "body", "headers", "method", "path", "query", "raw_path", "target")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            raw_path, qs = parts.path or "/", parts.query
        else:
            raw_path, _, qs = target.partition("?")
        self.raw_path = raw_path
        self.path = unquote(raw_path) if "%" in raw_path else raw_path
        self.query: dict[str, list[str]] = parse_qs(qs, keep_blank_values=True) if qs else {}
        self._json: Any = _UNSET
        self._params: dict[str, Any] | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter ``name``."""
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header (case-insensitive name)."""
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); ``BadBody`` when it does not parse."""
        if self._json is _UNSET:
            if not self.body.strip():
                self._json = None
            else:
                try:
                    self._json = json.loads(self.body)
                except (ValueError, UnicodeDecodeError):
                    raise BadBody("request body is not valid JSON") from None
        return self._json

    def params(self) -> dict[str, Any]:
        """Query parameters merged with a JSON object or form body (body wins).

        For APIs (HostVirtual, NephoScale) that take the same fields in either place and
        either encoding.
        """
        if self._params is None:
            merged: dict[str, Any] = {k: v[-1] for k, v in self.query.items()}
            text = self.body.strip()
            if text:
                if text[:1] in (b"{", b"["):
                    data = self.json()
                    if not isinstance(data, dict):
                        raise BadBody("request body must be a JSON object")
                    merged.update(data)
                else:
                    try:
                        form = parse_qs(text.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
                    except (ValueError, UnicodeDecodeError):
                        raise BadBody("request body is neither JSON nor a form") from None
                    merged.update({k: v[-1] for k, v in form.items()})
            self._params = merged
        return self._params


_UNSET: Any = object()


class SimResponse:
    """A complete answer: status, body bytes and extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None,
                 content_type: str | None = "application/json; charset=utf-8") -> None:
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else []
        self.content_type = content_type if body or status not in (204, 304) else None

    def __repr__(self) -> str:
        return f"<SimResponse {self.status} {len(self.body)} bytes>"


class Reply:
    """What the server does with one request (a response, possibly altered by a fault)."""

    __slots__ = ("close", "declared_length", "delay", "drop", "reset", "response")

    def __init__(self, response: SimResponse | None = None, *, drop: bool = False, reset: bool = False,
                 delay: float = 0.0, declared_length: int | None = None, close: bool = False) -> None:
        self.response = response
        self.drop = drop or response is None
        self.reset = reset
        self.delay = delay
        self.declared_length = declared_length
        self.close = close


class App(Protocol):
    """What the server calls for each request."""

    def handle(self, request: SimRequest) -> Reply: ...  # pragma: no cover

    def wait(self, seconds: float) -> bool: ...  # pragma: no cover


class _DateCache:
    """The ``Date`` header, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._value = formatdate(now, usegmt=True)
            self._second = now
        return self._value


_date = _DateCache()


def _head(status: int, headers: Iterable[tuple[str, str]], content_type: str | None, length: int | None,
          keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", "Server: cloudkit-simulator",
             f"Date: {_date.get()}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if not keep_alive:
        lines.append("Connection: close")
    for name, value in headers:
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


class _Handler(socketserver.StreamRequestHandler):
    """Reads requests off one connection until it closes (HTTP/1.1 keep-alive)."""

    disable_nagle_algorithm = True
    server: SimServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self.connection)

    def handle(self) -> None:
        app = self.server.app
        try:
            while not self.server.stopping:
                parsed = self._read_request()
                if parsed is None:
                    return
                request, keep_alive = parsed
                try:
                    reply = app.handle(request)
                except Exception:  # a bug in the simulator: answer 500 rather than vanish
                    self._error(500)
                    return
                if reply.drop:
                    if reply.reset:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 0))
                    return
                if reply.delay > 0 and app.wait(reply.delay):
                    return
                keep_alive = keep_alive and not reply.close and reply.declared_length is None
                self._write(request.method, reply, keep_alive)
                if not keep_alive:
                    return
        except (OSError, ValueError):
            return

    def _read_request(self) -> tuple[SimRequest, bool] | None:
        rfile = self.rfile
        line = rfile.readline(_MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):
            line = rfile.readline(_MAX_LINE + 1)
        if not line:
            return None
        if len(line) > _MAX_LINE:
            self._error(414)
            return None
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._error(400)
            return None
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            raw = rfile.readline(_MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                self._error(400)
                return None
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        else:
            self._error(431)
            return None
        body = self._read_body(headers)
        if body is None:
            return None
        conn = headers.get("connection", "").lower()
        keep_alive = ("close" not in conn) if version == "HTTP/1.1" else ("keep-alive" in conn)
        return SimRequest(method.upper(), target, headers, body), keep_alive

    def _read_body(self, headers: dict[str, str]) -> bytes | None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(_MAX_LINE + 1)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._error(400)
                    return None
                if size == 0:
                    while self.rfile.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > _MAX_BODY:
                    self._error(413)
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(_MAX_LINE + 1)
        length_text = headers.get("content-length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self._error(400)
            return None
        if length < 0 or length > _MAX_BODY:
            self._error(413)
            return None
        body = self.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def _write(self, method: str, reply: SimResponse | Reply, keep_alive: bool) -> None:
        if isinstance(reply, Reply):
            resp = reply.response
            assert resp is not None
            declared = reply.declared_length
        else:
            resp, declared = reply, None
        body = b"" if method == "HEAD" or resp.status in (204, 304) else resp.body
        length: int | None = None if resp.status in (204, 304) else (
            declared if declared is not None else len(resp.body))
        head = _head(resp.status, resp.headers, resp.content_type, length, keep_alive)
        self.connection.sendall(head + body if len(body) < 262144 else head)
        if len(body) >= 262144:
            self.connection.sendall(body)

    def _error(self, status: int) -> None:
        body = json.dumps({"error": _REASONS.get(status, "error")}).encode()
        try:
            self._write("GET", SimResponse(status, body), keep_alive=False)
        except OSError:
            pass


class SimServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server that hands each request to ``app`` and tracks its connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.stopping = False
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.discard(conn)

    def close_connections(self) -> None:
        """Shut every open client connection (wakes handler threads blocked on reads)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection-level errors are the client's business; stay quiet."""


def serve_in_thread(server: SimServer, name: str) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread and return the thread."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name,
                              daemon=True)
    thread.start()
    return thread

