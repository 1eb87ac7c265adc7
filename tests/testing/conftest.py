"""Fixtures for the tests of cloudkit.testing: spec validators and a tiny loopback HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cloudkit.testing.openapi import OpenAPIValidator

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"


@pytest.fixture(scope="session")
def do_spec() -> Path:
    """The DigitalOcean OpenAPI cut carried in the test data."""
    return SPECS / "digitalocean-compute.schema.json"


@pytest.fixture(scope="session")
def linode_spec() -> Path:
    """The Linode OpenAPI cut carried in the test data."""
    return SPECS / "linode-compute.schema.json"


@pytest.fixture
def do_validator(do_spec: Path) -> OpenAPIValidator:
    """DigitalOcean validator accepting any host (mocks use the real host, simulators loopback)."""
    return OpenAPIValidator(do_spec)


@pytest.fixture
def linode_validator(linode_spec: Path) -> OpenAPIValidator:
    """Linode validator accepting any host."""
    return OpenAPIValidator(linode_spec)


@dataclass
class LoopbackServer:
    """Serves canned JSON bodies on 127.0.0.1 and remembers what it received."""

    url: str
    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    received: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, method: str, path: str, status: int, body: Any) -> None:
        self.routes[(method.upper(), path)] = (status, body)


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            with server.lock:
                server.received.append((self.command, self.path, body))
            status, payload = server.routes.get((self.command, path), (404, {"id": "not_found"}))
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    state = LoopbackServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
