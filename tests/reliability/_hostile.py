"""A hostile HTTP server on 127.0.0.1 for the round-2 reliability cases (issue 16).

``HostileServer(behaviour)`` accepts connections on a loopback port and hands each one, with
the request it read (line, headers and body), to ``behaviour(conn, request)``, which writes
whatever bytes it likes. Every behaviour's loop is bounded in count and in time, and stops
when the server is closed or the client goes away.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from cloudkit.driver import NodeDriver
from cloudkit.models import Node, NodeState
from cloudkit.providers import get_driver

PROVIDERS: tuple[str, ...] = ("digitalocean", "linode", "hostvirtual", "nephoscale")

#: Credentials with characters that URL-encoding changes (``+``, ``/``, ``=``).
KEY = "Tok+en/Secret=Value+42/abcdef"
SECRET = "Pass+word/With=Odd+Chars/xyz"

#: Hard bound for any behaviour loop (seconds) and for the bytes a dribbler sends.
MAX_SECONDS = 30.0


@dataclass
class Request:
    line: str
    headers: dict[str, str]
    body: bytes
    raw: bytes = b""

    @property
    def target(self) -> str:
        return self.line.split(" ")[1] if " " in self.line else ""


Behaviour = Callable[[socket.socket, Request, "HostileServer"], None]


@dataclass
class HostileServer:
    behaviour: Behaviour
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closed.set()
        self._thread.join(5)
        self.sock.close()

    def _accept(self) -> None:
        started = time.monotonic()
        while not self.closed.is_set() and time.monotonic() - started < 120:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            for _ in range(50):  # keep-alive: at most 50 requests on one connection
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self.behaviour(conn, request, self)
        except OSError:
            return
        finally:
            conn.close()


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(lines[0], headers, rest[:length], head + b"\r\n\r\n" + rest[:length])


def answer(conn: socket.socket, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
           reason: str = "X") -> None:
    """Write one complete HTTP/1.1 answer."""
    hdrs = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    conn.sendall(head.encode("latin-1") + body)


def dribble_headers(conn: socket.socket, request: Request, server: HostileServer) -> None:
    """Status line and headers, one byte per second (bounded)."""
    text = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"a" * 4000 + b"\r\n"
    started = time.monotonic()
    for byte in text[:int(MAX_SECONDS)]:
        if server.closed.is_set() or time.monotonic() - started > MAX_SECONDS:
            break
        conn.sendall(bytes([byte]))
        time.sleep(1.0)
    raise OSError("done dribbling")


def endless_continue(conn: socket.socket, request: Request, server: HostileServer) -> None:
    """``100 Continue`` answers, forever (bounded: 30 s, 3000 of them)."""
    started = time.monotonic()
    for _ in range(3000):
        if server.closed.is_set() or time.monotonic() - started > MAX_SECONDS:
            break
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.01)
    raise OSError("done")


def fixed(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    """The same answer to every request."""
    def behave(conn: socket.socket, request: Request, server: HostileServer) -> None:
        answer(conn, status, body, headers)
    return behave


def echo(status: int) -> Behaviour:
    """An error answer whose body and headers copy the whole request (line, headers, body),
    raw and URL-decoded, and the query-string key in JSON-escaped form."""
    def behave(conn: socket.socket, request: Request, server: HostileServer) -> None:
        raw = request.raw.decode("latin-1")
        decoded = unquote_plus(raw)
        body = json.dumps({"message": f"you sent {raw} / decoded {decoded}",
                           "error": raw, "errors": [{"reason": decoded, "field": "x"}],
                           "success": False, "response": status, "escaped": raw.replace("/", "\\/")})
        headers = {"X-Echo-Line": request.line, "X-Echo-Decoded": unquote_plus(request.line)}
        for name, value in request.headers.items():
            headers[f"X-Echo-{name}"] = value
        answer(conn, status, body.encode(), headers, reason=request.line[:200])
    return behave


#: The CLI's credential environment of each driver, holding the hostile tests' secrets.
ENV_OF = {
    "digitalocean": {"CLOUDKIT_DIGITALOCEAN_TOKEN": KEY},
    "linode": {"CLOUDKIT_LINODE_TOKEN": KEY},
    "hostvirtual": {"CLOUDKIT_HOSTVIRTUAL_KEY": KEY},
    "nephoscale": {"CLOUDKIT_NEPHOSCALE_USER": KEY, "CLOUDKIT_NEPHOSCALE_PASSWORD": SECRET},
}


def make_driver(provider: str, url: str, **kwargs: Any) -> NodeDriver:
    """A driver of ``provider`` pointed at ``url``, with the round-2 credentials."""
    cls = get_driver(provider)
    kwargs.setdefault("timeout", (2, 2))
    kwargs.setdefault("max_retries", 0)
    if provider == "nephoscale":
        return cls(KEY, SECRET, base_url=url, **kwargs)
    return cls(KEY, base_url=url, **kwargs)


def a_node(driver: NodeDriver, node_id: str = "1234") -> Node:
    """A node object of ``driver`` (running), as a caller could hold it."""
    return Node(id=node_id, name="n1", state=NodeState.RUNNING, public_ips=[], private_ips=[],
                driver=driver)
