"""Fixtures for the CLI tests: a simulated DigitalOcean account and a runner for ``cloudkit``.

The runner calls ``cloudkit.cli.main`` in-process with its own environment (never the
developer's: ``HOME`` and ``XDG_CONFIG_HOME`` point into a temporary directory) and captures
stdout and stderr separately.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit.testing.simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A fresh simulated DigitalOcean account on 127.0.0.1 (fast boots and actions)."""
    with Simulator("digitalocean", boot_seconds=0.2, action_seconds=0.05) as simulator:
        yield simulator
        assert simulator.server_errors == []


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private HOME for the command (no config file unless a test writes one)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def cli(sim: Simulator, home: Path) -> CliRunner:
    """Runs ``cloudkit`` with the simulator's token and URL in its environment."""
    return CliRunner({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CLOUDKIT_DIGITALOCEAN_TOKEN": sim.token,
        "CLOUDKIT_BASE_URL": sim.base_url,
    })


@pytest.fixture
def bare_cli(home: Path) -> CliRunner:
    """Runs ``cloudkit`` with no credentials at all in its environment."""
    return CliRunner({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
