"""A scriptable HTTP server on 127.0.0.1 for connection-level tests.

Each path has a queue of ``Reply`` objects; when a queue runs dry the path's default
reply is used. Every request is recorded, and the peak number of requests in flight at
once is tracked (to prove pages are fetched in parallel).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering (after reading the request)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float


class LoopbackServer:
    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.defaults: dict[tuple[str, str], Reply] = {}
        self.routes: dict[tuple[str, str], Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                outer._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, method: str, path: str, *replies: Reply, default: Reply | None = None) -> None:
        key = (method.upper(), path)
        self.replies[key].extend(replies)
        if default is not None:
            self.defaults[key] = default

    def route(self, method: str, path: str, responder: Callable[[Seen], Reply]) -> None:
        """Answer every request to (method, path) with ``responder(request)``."""
        self.routes[(method.upper(), path)] = responder

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if s.method == method.upper() and s.path == path)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        key = (h.command, parts.path)
        seen = Seen(h.command, parts.path, parse_qs(parts.query), dict(h.headers), body, time.monotonic())
        with self._lock:
            self.seen.append(seen)
            queue = self.replies.get(key)
            if key in self.routes:
                reply = self.routes[key](seen)
            elif queue:
                reply = queue.popleft()
            else:
                reply = self.defaults.get(key, Reply(404, {"message": "no route"}))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            data = reply.body
            ctype = "application/json"
            if isinstance(data, (dict, list)):
                data = json.dumps(data).encode()
            elif isinstance(data, str):
                data = data.encode()
                ctype = reply.headers.get("Content-Type", "text/plain")
            elif data is None:
                data = b""
            h.send_response(reply.status)
            headers = {"Content-Type": ctype, "Content-Length": str(len(data)), **reply.headers}
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(data)
        finally:
            with self._lock:
                self.in_flight -= 1
