"""A base URL without a path (a simulator's root, as the README shows) keeps the API's own
version prefix: the CLI reaches Hetzner's /v1 and Vultr's /v2 on a simulator given by its root."""

from __future__ import annotations

import io

import pytest

from cloudkit import cli, get_driver
from cloudkit.testing.simulator import Simulator


@pytest.mark.parametrize(("provider", "prefix"), [("hetzner", "/v1"), ("vultr", "/v2")])
def test_a_root_base_url_keeps_the_api_prefix(provider: str, prefix: str) -> None:
    driver = get_driver(provider)("tok", base_url="http://127.0.0.1:8080")
    assert driver.connection.base_url == f"http://127.0.0.1:8080{prefix}"
    explicit = get_driver(provider)("tok", base_url="http://127.0.0.1:8080/other")
    assert explicit.connection.base_url == "http://127.0.0.1:8080/other"


@pytest.mark.parametrize("provider", ["hetzner", "vultr"])
def test_cli_sizes_on_a_simulator_root(provider: str) -> None:
    with Simulator(provider, boot_seconds=0) as sim:
        out, err = io.StringIO(), io.StringIO()
        status = cli.main(["sizes", "--provider", provider, "--base-url", sim.base_url],
                          env={f"CLOUDKIT_{provider.upper()}_TOKEN": sim.token}, stdout=out, stderr=err)
    assert status == 0, err.getvalue()
    assert "PRICE/HOUR" in out.getvalue() and len(out.getvalue().splitlines()) > 2
