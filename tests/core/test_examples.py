"""The scripts in examples/ run as documented, on the simulator (never against a real provider),
for every provider each of them names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.sshd import require_sshd

from cloudkit.testing.simulator import Simulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: Every script in examples/ and the providers it names; each is run below for each of them.
NAMED_PROVIDERS: dict[str, tuple[str, ...]] = {
    "inventory.py": ("digitalocean", "linode"),
    "deploy_web_server.py": ("digitalocean", "linode", "hostvirtual", "nephoscale"),
    "fleet_inventory.py": ("digitalocean", "linode"),  # both in one --simulate run
}
DISPLAY = {"digitalocean": "DigitalOcean", "linode": "Linode", "hostvirtual": "HostVirtual",
           "nephoscale": "NephoScale"}


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDKIT_")}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=120, env={**clean, **(env or {})}, check=False)


def test_every_example_is_run_by_these_tests() -> None:
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    missing = [s for s in scripts if s not in NAMED_PROVIDERS]
    assert not missing, f"add {missing} to NAMED_PROVIDERS here, with a test running it on the simulator"


def test_inventory_on_the_simulator_lists_every_account() -> None:
    result = _run("inventory.py", "--simulate")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("== ")[1:]
    assert [b.splitlines()[0] for b in blocks] == [DISPLAY[p] for p in NAMED_PROVIDERS["inventory.py"]]
    for block in blocks:  # three priced servers in each account
        lines = [line for line in block.splitlines() if "node-" in line]
        assert len(lines) == 3, block
        assert all("$" in line and "/h" in line for line in lines)


@pytest.mark.parametrize("provider", NAMED_PROVIDERS["inventory.py"])
def test_inventory_honours_cloudkit_base_url(provider: str) -> None:
    with Simulator(provider, boot_seconds=0) as sim:
        sim.seed_nodes(2)
        variable = f"CLOUDKIT_{provider.upper()}_TOKEN"
        result = _run("inventory.py", env={variable: sim.token, "CLOUDKIT_BASE_URL": sim.base_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"== {DISPLAY[provider]}"
    assert len([line for line in result.stdout.splitlines() if "node-" in line]) == 2


def test_inventory_without_credentials_is_a_usage_error() -> None:
    result = _run("inventory.py")
    assert result.returncode == 2
    assert "CLOUDKIT_DIGITALOCEAN_TOKEN" in result.stderr


@pytest.mark.sshd
@pytest.mark.parametrize("provider", NAMED_PROVIDERS["deploy_web_server.py"])
def test_deploy_example_on_the_simulator(provider: str) -> None:
    require_sshd()  # skips where sshd cannot run here; fails instead when CI is set
    result = _run("deploy_web_server.py", "--simulate", "--provider", provider)
    assert result.returncode == 0, result.stdout + result.stderr
    for phase in ("created", "running", "ssh_ready", "deployed"):
        assert f"  {phase}: " in result.stdout, phase
    assert "www/index.html (simulated: nginx not installed)" in result.stdout
    assert f", {DISPLAY[provider]}) at 127.0.0.1: has the page" in result.stdout
    assert "destroyed" in result.stdout


@pytest.mark.parametrize("provider", NAMED_PROVIDERS["deploy_web_server.py"])
def test_deploy_example_honours_cloudkit_base_url(provider: str) -> None:
    # wrong credentials against the simulator: the first request shows where they went
    env = {"CLOUDKIT_DIGITALOCEAN_TOKEN": "wrong", "CLOUDKIT_LINODE_TOKEN": "wrong",
           "CLOUDKIT_HOSTVIRTUAL_KEY": "wrong", "CLOUDKIT_NEPHOSCALE_USER": "wrong",
           "CLOUDKIT_NEPHOSCALE_PASSWORD": "wrong"}
    with Simulator(provider) as sim:
        result = _run("deploy_web_server.py", "--provider", provider, "--key", "/nonexistent",
                      env={**env, "CLOUDKIT_BASE_URL": sim.base_url})
        assert sim.node_count() == 0
        assert sim.server_errors == []
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and "401" in result.stderr


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
