"""The pytest11 plugin loads nothing heavy into another project's test run: neither the
simulator nor any driver is imported until a test uses the ``cloudkit_simulator`` fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFTEST = '''
import json, os, sys

def pytest_sessionfinish(session, exitstatus):
    names = sorted(m for m in sys.modules if m.startswith("cloudkit"))
    plugin = session.config.pluginmanager.get_plugin("cloudkit")
    with open(os.environ["CLOUDKIT_MODULES_OUT"], "w") as fh:
        json.dump({"modules": names, "plugin": getattr(plugin, "__name__", None)}, fh)
'''


def _run_project(tmp_path: Path, test_body: str) -> dict[str, object]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_trivial.py").write_text(test_body)
    out = tmp_path / "modules.json"
    env = {**os.environ, "CLOUDKIT_MODULES_OUT": str(out), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "cloudkit", "-p", "no:cacheprovider", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    loaded: dict[str, object] = json.loads(out.read_text())
    return loaded


def test_plugin_loads_neither_simulator_nor_drivers_until_used(tmp_path: Path) -> None:
    loaded = _run_project(tmp_path, "def test_nothing():\n    assert 1 + 1 == 2\n")
    assert loaded["plugin"] == "cloudkit.testing.pytest_plugin"  # the plugin was active
    modules = loaded["modules"]
    assert isinstance(modules, list) and "cloudkit.testing.pytest_plugin" in modules
    heavy = [m for m in modules if m.startswith(("cloudkit.testing.simulator", "cloudkit.drivers"))]
    assert heavy == []


def test_using_the_fixture_loads_the_simulator(tmp_path: Path) -> None:
    body = ("def test_sim(cloudkit_simulator):\n"
            "    sim = cloudkit_simulator('linode', boot_seconds=0)\n"
            "    assert sim.running and sim.node_count() == 0\n")
    loaded = _run_project(tmp_path, body)
    modules = loaded["modules"]
    assert isinstance(modules, list)
    assert "cloudkit.testing.simulator.core" in modules and "cloudkit.testing.simulator.linode" in modules
