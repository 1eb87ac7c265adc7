"""Shared helpers for the NephoScale driver tests: fixtures, a mocked API, prices."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses

from cloudkit import Provider, get_driver
from cloudkit.drivers.nephoscale import NephoscaleNodeDriver
from cloudkit.pricing import clear_pricing_cache

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "nephoscale"
HOST = "https://api.nephoscale.com"
USER = "acme-ops"
PASSWORD = "Acc0unt-Pa55w0rd-7731"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
BASIC_TOKEN = BASIC.split(" ", 1)[1]

#: The hourly prices written to /work/briefs/pricing-nephoscale.json (libcloud's 2013 table).
PRICES: dict[str, float] = {
    "1": 0.60, "3": 0.063, "5": 0.031, "7": 0.125, "9": 0.188, "11": 0.35, "27": 0.0,
    "46": 0.10, "48": 0.15, "50": 0.28, "52": 0.48, "54": 0.938, "56": 0.75,
}

#: Public keys of the fixtures (their private halves were thrown away).
RSA_KEY = json.loads((FIXTURES / "GET_key_sshrsa.json").read_text())["data"][0]["public_key"]
ED_KEY = json.loads((FIXTURES / "GET_key_sshrsa.json").read_text())["data"][1]["public_key"]
#: Passwords that appear in GET /key/password/.
KEY_PASSWORDS = [k["password"] for k in json.loads((FIXTURES / "GET_key_password.json").read_text())["data"]]


def load(name: str) -> Any:
    """A fixture file parsed as JSON."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def raw(name: str) -> str:
    """A fixture file as text."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def status_of(name: str) -> int:
    """The HTTP status a fixture is served with (error files end in _<status>)."""
    stem = Path(name).stem
    if stem.endswith("_200_failure"):
        return 200
    tail = stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() and len(tail) == 3 else 200


def add(api: responses.RequestsMock, method: str, path: str, fixture: str | None = None, *,
        status: int | None = None, body: Any = None) -> None:
    """Serve ``fixture`` (or ``body``: a dict as JSON, str/bytes as is) for ``method path``."""
    url = HOST + path
    if fixture is not None:
        code = status if status is not None else status_of(fixture)
        if fixture.endswith(".json"):
            api.add(method, url, json=load(fixture), status=code)
        else:
            api.add(method, url, body=raw(fixture), status=code, content_type="text/html")
    elif isinstance(body, (dict, list)):
        api.add(method, url, json=body, status=status or 200)
    else:
        api.add(method, url, body=body if body is not None else "", status=status or 200)


def form(call: Any) -> dict[str, str]:
    """The form fields of a recorded request."""
    text = call.request.body or ""
    if isinstance(text, bytes):
        text = text.decode()
    return dict(parse_qsl(text, keep_blank_values=True))


def calls(api: responses.RequestsMock) -> list[tuple[str, str]]:
    """(method, path) of every request sent, in order."""
    out = []
    for call in api.calls:
        url = call.request.url
        out.append((call.request.method, url[len(HOST):]))
    return out


def make_driver(**kwargs: Any) -> NephoscaleNodeDriver:
    """A driver for the test account (retries off unless asked for)."""
    kwargs.setdefault("max_retries", 0)
    driver = get_driver(Provider.NEPHOSCALE)(USER, PASSWORD, **kwargs)
    assert isinstance(driver, NephoscaleNodeDriver)
    return driver


def use_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point cloudkit at a pricing file holding the NephoScale prices (for a fixture)."""
    path = tmp_path / "pricing.json"
    path.write_text(json.dumps({"compute": {"nephoscale": PRICES}}))
    monkeypatch.setenv("CLOUDKIT_PRICING_FILE", str(path))
    clear_pricing_cache()
    yield path
    clear_pricing_cache()


def mock_api() -> responses.RequestsMock:
    """A strict ``responses`` mock (use as a context manager): every answer must be used."""
    return responses.RequestsMock(assert_all_requests_are_fired=True)


#: create_node keyword arguments that make its polling fast (and its wait short).
FAST: dict[str, float] = {"ex_poll_interval": 0.01, "ex_max_poll_interval": 0.02, "ex_wait_timeout": 5.0}


# -- fixtures: import them into a test module by their function names -------------------------


@pytest.fixture(autouse=True, name="nephoscale_prices")
def nephoscale_prices_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The NephoScale prices, for every test of a module that imports this fixture."""
    yield from use_prices(tmp_path, monkeypatch)


@pytest.fixture(name="api")
def api_fixture() -> Iterator[responses.RequestsMock]:
    """The mocked API (strict: every answer registered must be used)."""
    with mock_api() as mock:
        yield mock


@pytest.fixture(name="driver")
def driver_fixture() -> NephoscaleNodeDriver:
    """A driver for the test account, retries off."""
    return make_driver()
