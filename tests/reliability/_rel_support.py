"""Shared helpers of the reliability suite: per-provider create arguments for the simulator,
fast retry policies, and a log sweep that sees every record of every logger.

Imported by the ``test_rel_*`` modules (their directory is on ``sys.path`` under pytest's
default import mode).
"""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloudkit.connection import RetryPolicy
from cloudkit.driver import NodeDriver
from cloudkit.testing.simulator import Simulator

#: Every provider cloudkit ships a driver and a simulator for.
PROVIDERS: tuple[str, ...] = ("digitalocean", "linode", "hostvirtual", "nephoscale")

#: The path of the request that makes a server (HostVirtual: the order of its package).
CREATE_PATHS: dict[str, str] = {
    "digitalocean": "/v2/droplets",
    "linode": "/v4/linode/instances",
    "hostvirtual": "/cloud/buy/",
    "nephoscale": "/server/cloud/",
}

def list_once(driver: Any) -> Any:
    """``list_nodes()`` as one listing: DigitalOcean's ``list_nodes()`` fetches its droplet and
    GPU droplet listings concurrently, so a test that counts requests or times retries asks
    for the droplets alone (``ex_type="droplets"``), the same request path and retry rules."""
    if getattr(driver, "type", "") == "digitalocean":
        return driver.list_nodes(ex_type="droplets")
    return driver.list_nodes()


#: A GET every driver's ``list_nodes`` sends (glob, as the simulator's fault rules take).
LIST_PATHS: dict[str, str] = {
    "digitalocean": "/v2/droplets",
    "linode": "/v4/linode/instances",
    "hostvirtual": "/cloud/servers*",
    "nephoscale": "/server/cloud*",
}

_CATALOGUE: dict[str, dict[str, str]] = {
    "digitalocean": {"size": "s-1vcpu-1gb", "image": "150000001", "location": "nyc1"},
    "linode": {"size": "g6-nanode-1", "image": "linode/debian12", "location": "us-east"},
    "hostvirtual": {"size": "VR1G", "image": "3101", "location": "310"},
    "nephoscale": {"size": "5", "image": "301", "location": "93001"},
}

#: Keyword arguments that keep create_node's own polling short on the simulator.
_FAST_CREATE: dict[str, dict[str, Any]] = {
    "digitalocean": {},
    "linode": {},
    "hostvirtual": {"ex_wait_timeout": 5.0, "ex_poll_interval": 0.02},
    "nephoscale": {"ex_wait_timeout": 10.0, "ex_poll_interval": 0.02, "ex_max_poll_interval": 0.1},
}


def node_name(provider: str, base: str) -> str:
    """A valid node name for ``provider`` (HostVirtual wants a fully qualified domain name)."""
    return f"{base}.example.com" if provider == "hostvirtual" else base


def create_kwargs(provider: str, base: str = "rel-web-1", **extra: Any) -> dict[str, Any]:
    """Arguments for ``create_node`` that the provider's simulator accepts."""
    args: dict[str, Any] = {"name": node_name(provider, base), **_CATALOGUE[provider],
                            **_FAST_CREATE[provider]}
    args.update(extra)
    return args


def fast_retry(driver: NodeDriver, max_retries: int = 4, budget: float = 10.0) -> NodeDriver:
    """Keep the retry rules but shorten the waits (10-50 ms) so fault tests stay quick."""
    driver.connection.retry = RetryPolicy(max_retries=max_retries, backoff_base=0.01, backoff_max=0.05,
                                          budget=budget)
    return driver


def start_sim(provider: str, **options: Any) -> Simulator:
    """A started simulator with quick state changes (close it with ``stop()``)."""
    options.setdefault("boot_seconds", 0.05)
    options.setdefault("action_seconds", 0.02)
    return Simulator(provider, **options).start()


def running_sim(provider: str, **options: Any) -> Iterator[Simulator]:
    """For a fixture: ``start_sim(provider, **options)``, yielded, stopped afterwards."""
    with start_sim(provider, **options) as simulator:
        yield simulator


def secrets_of(sim: Simulator) -> list[str]:
    """Every form in which the simulator account's credentials could leak."""
    key, secret = sim.credentials
    values = [key]
    if secret is not None:
        values.append(secret)
        values.append(base64.b64encode(f"{key}:{secret}".encode()).decode("ascii"))
        values.append(base64.b64encode(f"{key}:{secret}".encode()).decode("ascii").rstrip("="))
    return [v for v in values if v and len(v) >= 8]


@dataclass
class LogSweep:
    """Every log record emitted while active, from every logger, formatted with tracebacks."""

    records: list[logging.LogRecord] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.texts)


class _Collector(logging.Handler):
    def __init__(self, sweep: LogSweep) -> None:
        super().__init__(logging.DEBUG)
        self.sweep = sweep
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.sweep.records.append(record)
        try:
            self.sweep.texts.append(self.format(record))
        except Exception:  # a record whose arguments do not format is still looked at raw
            self.sweep.texts.append(f"{record.msg!r} {record.args!r}")


_NOISY = ("urllib3", "urllib3.connectionpool", "urllib3.connection", "requests", "paramiko", "cloudkit")


@contextmanager
def sweep_logs() -> Iterator[LogSweep]:
    """Root logger and the third-party loggers at DEBUG, every record collected."""
    sweep = LogSweep()
    handler = _Collector(sweep)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in _NOISY}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield sweep
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def exception_text(exc: BaseException) -> str:
    """What a user could see of an exception: str, repr, public attributes, the traceback."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name, value in vars(exc).items():
        parts.append(f"{name}={value!r}")
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        parts.append(str(cause))
        parts.append(repr(cause))
    return "\n".join(parts)


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets (shortened for the failure message) that occur in ``text``."""
    return [f"{s[:6]}...({len(s)} chars)" for s in secrets if s and s in text]
