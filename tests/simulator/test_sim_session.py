"""``cloudkit.testing.simulate``, the pytest fixture, and ``python -m cloudkit.testing.simulator``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

import cloudkit.testing
from cloudkit import Provider
from cloudkit.testing.pytest_plugin import cloudkit_simulator  # noqa: F401  (the fixture under test)
from cloudkit.testing.simulator import SimulatedCloud, Simulator, simulate
from cloudkit.testing.simulator.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def test_simulate_is_exported_lazily_from_cloudkit_testing() -> None:
    assert cloudkit.testing.simulate is simulate
    with pytest.raises(AttributeError):
        cloudkit.testing.nothing_here  # noqa: B018


def test_simulate_gives_a_wired_driver_and_stops_afterwards() -> None:
    with simulate(Provider.DIGITAL_OCEAN, boot_seconds=0) as cloud:
        assert isinstance(cloud, SimulatedCloud) and cloud.provider == "digitalocean"
        assert cloud.base_url.startswith("http://127.0.0.1:") and cloud.token.startswith("dop_v1_")
        assert cloud.credentials == (cloud.token, None)
        sizes = cloud.driver.list_sizes()
        assert sizes and cloud.driver is cloud.driver
        assert cloud.driver.list_images() and cloud.driver.list_locations()
        node = cloud.driver.create_node("web-1", sizes[1], "ubuntu-24-04-x64", "nyc3")
        assert cloud.node_count() == 1 and node.name == "web-1"
        assert cloud.requests[-1].path == "/v2/droplets"
        other = cloud.new_driver(timeout=5)
        assert other is not cloud.driver and [n.name for n in other.list_nodes()] == ["web-1"]
        assert cloud.faults is cloud.simulator.faults
        url = cloud.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v2/account", timeout=2)


def test_simulate_passes_options_and_driver_options() -> None:
    with simulate("linode", nodes=3, node_tag="seed", driver_options={"max_retries": 0}) as cloud:
        assert len(cloud.driver.list_nodes(tag="seed")) == 3
        assert cloud.driver.connection.retry.max_retries == 0
        assert "linode" in repr(cloud)


def test_simulate_stops_even_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), simulate("nephoscale") as cloud:
        sim = cloud.simulator
        raise RuntimeError("boom")
    assert not sim.running


def test_pytest_fixture_starts_and_tracks_simulators(cloudkit_simulator: Callable[..., Simulator]) -> None:  # noqa: F811
    first = cloudkit_simulator("hostvirtual", boot_seconds=0)
    second = cloudkit_simulator()
    assert first.running and second.running and second.provider == "digitalocean"
    assert first.driver().list_sizes()


def _run_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "cloudkit.testing.simulator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    return proc, proc.stdout.readline()


def test_command_line_serves_until_terminated() -> None:
    proc, line = _run_cli("--provider", "linode", "--seed", "12", "--seed-tag", "web", "--json",
                          "--boot-seconds", "0")
    try:
        info = json.loads(line)
        assert info["provider"] == "linode" and info["nodes"] == 12 and info["secret"] is None
        body = requests.get(info["base_url"] + "/v4/linode/instances", timeout=5,
                            headers={"Authorization": f"Bearer {info['token']}"}).json()
        assert body["results"] == 12 and body["data"][0]["tags"] == ["web"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_command_line_human_output_for_basic_auth() -> None:
    proc, first = _run_cli("--provider", "nephoscale", "--latency", "0.01")
    try:
        assert first.strip() == "provider: nephoscale"
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        base_url = lines[0].removeprefix("base_url: ")
        user = lines[1].removeprefix("username: ")
        password = lines[2].removeprefix("password: ")
        assert lines[3].startswith("nodes: 0")
        resp = requests.get(base_url + "/datacenter/zone/", auth=(user, password), timeout=5)
        assert resp.json()["success"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_command_line_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--provider", "aws"])
    assert exc.value.code == 2
    assert main(["--provider", "hostvirtual", "--seed", "1", "--seed-tag", "web"]) == 2
    assert "no tags" in capsys.readouterr().err
