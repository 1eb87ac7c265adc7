"""The scripts in examples/ run as documented (on the simulator; never against a real provider)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDKIT_")}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=120, env={**clean, **(env or {})}, check=False)


def test_inventory_on_the_simulator_lists_every_account() -> None:
    result = _run("inventory.py", "--simulate")
    assert result.returncode == 0, result.stderr
    assert "== DigitalOcean" in result.stdout and "== Linode" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "node-" in line]
    assert len(lines) == 6
    assert all("$" in line and "/h" in line for line in lines)  # every server priced


def test_inventory_without_credentials_is_a_usage_error() -> None:
    result = _run("inventory.py")
    assert result.returncode == 2
    assert "CLOUDKIT_DIGITALOCEAN_TOKEN" in result.stderr


def test_deploy_example_without_a_token_stops_before_any_request() -> None:
    result = _run("deploy_web_server.py", "--provider", "digitalocean", "--key", "/nonexistent",
                  "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64")
    assert result.returncode == 2
    assert "CLOUDKIT_DIGITALOCEAN_TOKEN" in result.stderr


def test_fleet_inventory_on_a_dask_local_cluster_against_the_simulator() -> None:
    result = _run("fleet_inventory.py", "--simulate")
    assert result.returncode == 1, result.stderr  # one account's token is refused, on purpose
    lines = result.stdout.splitlines()
    counts = {line.split()[0]: line for line in lines}
    for number in range(1, 5):
        assert "40 servers: running 40" in counts[f"digitalocean-{number}"]
    for number in range(1, 4):
        assert "25 servers: running 25" in counts[f"linode-{number}"]
    assert "error:" in counts["linode-4"] and "401" in counts["linode-4"]
    assert "revoked-token" not in result.stdout + result.stderr
    assert counts["total"].split()[1] == str(4 * 40 + 3 * 25)
