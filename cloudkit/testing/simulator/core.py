"""The Simulator: one provider's fake account served over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from cloudkit.testing.simulator._http import Reply, SimRequest, SimResponse, SimServer, serve_in_thread
from cloudkit.testing.simulator.base import ProviderAPI, SimOptions
from cloudkit.testing.simulator.faults import FaultRule, Faults, faults_from

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver

__all__ = ["PROVIDERS", "RecordedRequest", "Simulator"]

#: Provider name → (module, class) of its simulated API.
PROVIDERS: dict[str, tuple[str, str]] = {
    "digitalocean": ("cloudkit.testing.simulator.digitalocean", "DigitalOceanAPI"),
    "linode": ("cloudkit.testing.simulator.linode", "LinodeAPI"),
    "hostvirtual": ("cloudkit.testing.simulator.hostvirtual", "HostVirtualAPI"),
    "nephoscale": ("cloudkit.testing.simulator.nephoscale", "NephoScaleAPI"),
    "hetzner": ("cloudkit.testing.simulator.hetzner", "HetznerAPI"),
    "vultr": ("cloudkit.testing.simulator.vultr", "VultrAPI"),
}

REDACTED = "<redacted>"
_SECRET_FIELDS = frozenset({"key", "root_pass", "password", "rescue_pass", "token", "api_key", "secret"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


@dataclass
class RecordedRequest:
    """One request the simulator received, with credentials and passwords redacted."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    time: float = field(default_factory=time.time)
    status: int | None = None
    fault: str | None = None

    def json(self) -> Any:
        """The parsed body (same as ``body``; for symmetry with ``requests``)."""
        return self.body


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and k.lower() in _SECRET_FIELDS else _redact_value(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def _record(request: SimRequest) -> RecordedRequest:
    query = {k: (REDACTED if k.lower() in _SECRET_FIELDS else v[-1]) for k, v in request.query.items()}
    headers = {k: (REDACTED if k in _SECRET_HEADERS else v) for k, v in request.headers.items()}
    body: Any = None
    raw = request.body.strip()
    if raw:
        try:
            body = _redact_value(request.json())
        except ValueError:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and "=" in text and " " not in text:
                form = parse_qs(text, keep_blank_values=True)
                body = _redact_value({k: v[-1] for k, v in form.items()})
            else:
                body = text if text is not None else raw
    return RecordedRequest(request.method, request.path, query, headers, body)


class Simulator:
    """A stateful fake of a provider's HTTP API on 127.0.0.1, in a background thread.

    ``Simulator("digitalocean", boot_seconds=0.5, latency=0.0)``; ``start()`` (or ``with``)
    binds a port (``port=0``: any free one) and serves; ``base_url`` and ``token`` (or
    ``credentials``) say how to reach it; ``driver()`` builds the matching cloudkit driver.

    Options: ``token`` (else generated; NephoScale: ``username``/``password``),
    ``boot_seconds`` (new server → running), ``action_seconds`` (power actions),
    ``latency`` and ``faults`` (a mapping of ``Faults`` options, or a ``Faults``),
    ``nodes``/``node_tag`` (seed that many running servers), ``ssh_port`` (where the servers'
    SSH is reachable, for ``deploy_node``), ``public_ip`` (default 127.0.0.1),
    ``record_requests``/``max_recorded``, and provider options (e.g. HostVirtual
    ``empty_list_404``).
    """

    def __init__(
        self,
        provider: str,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        boot_seconds: float = 0.5,
        action_seconds: float = 0.2,
        latency: float = 0.0,
        faults: Mapping[str, Any] | Faults | None = None,
        nodes: int = 0,
        node_tag: str | None = None,
        ssh_port: int | None = None,
        public_ip: str = "127.0.0.1",
        record_requests: bool = True,
        max_recorded: int = 10_000,
        **provider_options: Any,
    ) -> None:
        name = str(getattr(provider, "value", provider)).strip().lower()
        if name not in PROVIDERS:
            raise ValueError(f"no simulator for provider {provider!r}; available: {', '.join(sorted(PROVIDERS))}")
        if boot_seconds < 0 or action_seconds < 0:
            raise ValueError("boot_seconds and action_seconds must be 0 or more")
        self.provider = name
        self.host = host
        self._port = port
        self.ssh_port = ssh_port
        self.options = SimOptions(boot_seconds=boot_seconds, action_seconds=action_seconds, public_ip=public_ip)
        module, classname = PROVIDERS[name]
        api_cls: type[ProviderAPI] = getattr(importlib.import_module(module), classname)
        self.api: ProviderAPI = api_cls(self.options, token=token, **provider_options)
        self.faults: Faults = faults_from(faults, latency)
        self.record_requests = record_requests
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._requests_lock = threading.Lock()
        self._ssh_ports: dict[str, int] = {}
        self._stop = threading.Event()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self.request_count = 0
        if nodes:
            self.seed_nodes(nodes, tag=node_tag)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = SimServer((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self.options.base_url = self.base_url
        self._thread = serve_in_thread(self._server, f"cloudkit-sim-{self.provider}-{self._port}")
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        server = self._server
        if server is None:
            return
        self._stop.set()
        server.stopping = True
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self._server is not None else "stopped"
        return f"<Simulator {self.provider} {state}>"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (0 before ``start`` when none was asked for)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (paths below it are the API's own, e.g. ``/v2/droplets``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def token(self) -> str:
        """The account's API token (HostVirtual: API key; NephoScale: the password)."""
        return self.api.token

    @property
    def credentials(self) -> tuple[str, str | None]:
        """(key, secret) for the driver: (token, None), or (username, password) for Basic auth."""
        return self.api.credentials

    def add_token(self, token: str, access: str = "full") -> None:
        """Accept another token: ``access`` "full", "read" (GET only) or "none" (always 403)."""
        if access not in ("full", "read", "none"):
            raise ValueError("access must be 'full', 'read' or 'none'")
        with self.api.lock:
            self.api.tokens[token] = access

    # -- drivers --------------------------------------------------------------------------------

    def driver(self, **kwargs: Any) -> NodeDriver:
        """The cloudkit driver for this provider, wired to this simulator."""
        from cloudkit.providers import get_driver

        if self._server is None:
            raise RuntimeError("start the simulator before asking for a driver")
        cls = get_driver(self.provider)
        key, secret = self.credentials
        prefix = getattr(cls.connectionCls, "base_path", "") or ""
        kwargs.setdefault("base_url", self.base_url + prefix)
        if secret is not None:
            return cls(key, secret, **kwargs)
        return cls(key, **kwargs)

    # -- the request path -----------------------------------------------------------------------

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the simulator stops first (returns True when stopping)."""
        return self._stop.wait(seconds)

    def handle(self, request: SimRequest) -> Reply:
        """Answer one request: latency, faults, then the provider's own handling."""
        record = _record(request) if self.record_requests else None
        with self._requests_lock:
            self.request_count += 1
            if record is not None:
                self._requests.append(record)
        faults = self.faults
        delay = faults.delay_for(request.method, request.path)
        if delay > 0 and self._stop.wait(delay):
            return Reply(drop=True)
        rule = faults.pick(request.method, request.path)
        reply = self._apply(request, rule) if rule is not None else Reply(self.api.handle(request))
        if record is not None:
            record.fault = rule.kind if rule is not None else None
            record.status = None if reply.drop or reply.response is None else reply.response.status
        return reply

    def _apply(self, request: SimRequest, rule: FaultRule) -> Reply:
        kind = rule.kind
        api = self.api
        if kind in ("drop", "reset"):
            return Reply(drop=True, reset=kind == "reset")
        if kind == "429":
            return Reply(api.throttled(rule.retry_after))
        if kind == "5xx" or kind.isdigit():
            status = self.faults.status_for(rule)
            if status == 401:
                return Reply(api.unauthorized())
            if status == 404:
                return Reply(api.not_found())
            if status == 429:
                return Reply(api.throttled(rule.retry_after))
            return Reply(api.server_error(status) if status >= 500 else api.error(status, "Injected error"))
        if kind == "html":
            status = rule.status or 200
            page = (f"<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>Service "
                    "temporarily unavailable</h1><p>The upstream server did not answer.</p></body></html>")
            return Reply(SimResponse(status, page.encode(), content_type="text/html; charset=utf-8"))
        response = api.handle(request)
        if kind == "drop_after":
            return Reply(drop=True)
        if kind == "slow":
            return Reply(response, delay=rule.seconds)
        if kind == "truncated":
            body = response.body or b'{"id": "ok"}'
            cut = SimResponse(response.status if response.status != 204 else 200, body[: max(1, len(body) // 2)],
                              list(response.headers))
            return Reply(cut)
        if kind == "incomplete":
            body = response.body or b'{"id": "ok"}'
            partial = SimResponse(response.status if response.status != 204 else 200, body[: len(body) // 2],
                                  list(response.headers))
            return Reply(partial, declared_length=len(body), close=True)
        return Reply(response)

    # -- introspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (oldest first; at most ``max_recorded``)."""
        with self._requests_lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        with self._requests_lock:
            self._requests.clear()

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of simulator bugs (answered as 500); empty in a healthy run."""
        return list(self.api.server_errors)

    def node_count(self) -> int:
        """How many servers the account has right now."""
        return self.api.node_count()

    def node_ids(self) -> list[str]:
        """The ids of the account's servers, in listing order."""
        return self.api.node_ids()

    def node_status(self, node_id: str | int) -> str | None:
        """The provider's own status string for a server (None when it does not exist)."""
        return self.api.node_status(str(node_id))

    def set_node_status(self, node_id: str | int, status: str) -> None:
        """Force a server into a provider status (for tests of state handling)."""
        self.api.set_node_status(str(node_id), status)

    def seed_nodes(self, count: int, tag: str | None = None, *, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running servers at once (fast: 100,000 in well under a second or two).

        ``tag`` tags them where the provider has tags; ``fields`` pick size/image/region
        (provider ids). Returns their ids.
        """
        if count < 0:
            raise ValueError("count must be 0 or more")
        return self.api.seed_nodes(count, tag=tag, name_prefix=name_prefix, **fields)

    def ssh_port_for(self, node_id: str | int) -> int | None:
        """The SSH port of a server: a per-node override or the simulator's ``ssh_port``."""
        return self._ssh_ports.get(str(node_id), self.ssh_port)

    def set_ssh_port(self, node_id: str | int, port: int) -> None:
        """Give one server its own SSH port."""
        self._ssh_ports[str(node_id)] = port
