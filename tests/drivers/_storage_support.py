"""Shared helpers of the storage tests: the compute and storage descriptions merged into one
(a volume attach also reads the droplet and its action), storage fixtures, a checked mock."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import responses

from cloudkit.testing.openapi import OpenAPIValidator, TrafficRecorder, check_requests

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "specs"
HOSTS = {"digitalocean": "https://api.digitalocean.com", "linode": "https://api.linode.com"}
FIXTURES = {"digitalocean": REPO / "fixtures" / "digitalocean" / "storage",
            "linode": REPO / "fixtures" / "linode" / "storage"}
_TMP = tempfile.TemporaryDirectory(prefix="cloudkit-storage-specs-")


@cache
def merged_spec(provider: str) -> Path:
    """``<provider>-compute`` and ``<provider>-storage`` as one document: paths joined per
    method (the storage cut's concrete paths first), ``components.schemas`` joined."""
    compute = json.loads((SPECS / f"{provider}-compute.schema.json").read_text(encoding="utf-8"))
    storage = json.loads((SPECS / f"{provider}-storage.schema.json").read_text(encoding="utf-8"))
    paths: dict[str, Any] = {}
    for source in (storage, compute):
        for path, item in source["paths"].items():
            target = paths.setdefault(path, {})
            for key, value in item.items():
                target.setdefault(key, value)
    merged = dict(compute)
    merged["paths"] = paths
    components = {**storage.get("components", {}), **compute.get("components", {})}
    components["schemas"] = {**storage.get("components", {}).get("schemas", {}),
                             **compute.get("components", {}).get("schemas", {})}
    merged["components"] = components
    out = Path(_TMP.name) / f"{provider}-merged.schema.json"
    out.write_text(json.dumps(merged), encoding="utf-8")
    return out


def validator(provider: str) -> OpenAPIValidator:
    """The merged description's validator for the provider's real host."""
    return OpenAPIValidator(merged_spec(provider), HOSTS[provider])


def fixture(provider: str, name: str) -> Any:
    """A storage fixture body (a fresh copy)."""
    return json.loads((FIXTURES[provider] / name).read_text(encoding="utf-8"))


class Mock:
    """One test's mocked API: ``add`` answers, ``traffic.calls`` what was sent."""

    def __init__(self, provider: str, rsps: responses.RequestsMock, traffic: TrafficRecorder) -> None:
        self.provider, self.rsps, self.traffic = provider, rsps, traffic

    def add(self, method: str, path: str, body: Any = None, status: int = 200) -> None:
        """Answer ``method path`` (any query) with a fixture name or a JSON value."""
        if isinstance(body, str) and body.endswith(".json"):
            body = fixture(self.provider, body)
        target = re.compile(re.escape(HOSTS[self.provider] + path) + r"(\?.*)?$")
        if body is None:
            self.rsps.add(method, target, status=status)
        else:
            self.rsps.add(method, target, json=body, status=status)

    @property
    def sent(self) -> list[tuple[str, str]]:
        """(method, path) of every request sent."""
        return [(c.method, c.path) for c in self.traffic.calls]

    def body(self, index: int) -> Any:
        """The JSON body of the ``index``-th request."""
        return self.traffic.calls[index].json()


@contextmanager
def mocked(provider: str) -> Iterator[Mock]:
    """A ``responses`` mock with every request and 2xx answer checked against the merged
    description; registered answers must all be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps, \
            check_requests(validator(provider), responses_too=True) as traffic:
        yield Mock(provider, rsps, traffic)
