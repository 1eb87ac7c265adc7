"""Helpers for the simulator tests: an HTTP client that authenticates the provider's way."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq9mdpXUuRrO2Yf4dCrZJ4I3pBV0a5+4nHAY0M8ChBq test@sim"
OTHER_KEY = generate_key_pair("ed25519", comment="other@sim")[1]


class Api:
    """A requests session speaking to a simulator with its provider's credentials."""

    def __init__(self, sim: Simulator, *, credentials: Any = "default") -> None:
        self.sim = sim
        self.session = requests.Session()
        self.provider = sim.provider
        self._creds = sim.credentials if credentials == "default" else credentials

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None,
             params: dict[str, Any] | None = None, timeout: float = 10, **kwargs: Any) -> requests.Response:
        headers = dict(headers or {})
        params = dict(params or {})
        auth = None
        if self._creds is not None:
            key, secret = self._creds
            if self.provider in ("digitalocean", "linode"):
                headers.setdefault("Authorization", f"Bearer {key}")
            elif self.provider == "hostvirtual":
                params.setdefault("key", key)
            else:
                auth = (key, secret)
        return self.session.request(method, self.sim.base_url + path, headers=headers, params=params or None,
                                    auth=auth, timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Call and return the parsed body, asserting the status."""
        resp = self.call(method, path, **kwargs)
        assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text[:300]}"
        return resp.json() if resp.content else None

    def close(self) -> None:
        self.session.close()


def wait_for(check: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def filter_header(value: Any) -> dict[str, str]:
    return {"X-Filter": json.dumps(value)}
