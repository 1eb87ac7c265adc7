"""``cloudkit demo`` runs as a new user would run it: exit 0, readable output, no account."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit import register_driver, unregister_driver
from cloudkit.testing.sshd import unavailable_reason

REPO = Path(__file__).resolve().parents[2]

STEPS = ("$ cloudkit sizes", "$ cloudkit images", "$ cloudkit locations", "$ cloudkit keys add",
         "$ cloudkit nodes list", "$ cloudkit nodes destroy", "Demo finished")


def test_demo_as_a_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDKIT_")}
    env.update({"PYTHONPATH": str(REPO), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    done = subprocess.run([sys.executable, "-m", "cloudkit.cli", "demo"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    positions = [out.index(step) for step in STEPS]
    assert positions == sorted(positions)
    assert "DigitalOcean simulated on http://127.0.0.1:" in out
    assert "(no nodes)" in out.split("$ cloudkit nodes destroy")[1]  # nothing left behind
    if unavailable_reason() is None:
        assert "$ cloudkit nodes deploy" in out and "deployed:" in out
        assert "hello from" in out and "2 keys may log in" in out
        user = re.search(r"login user (ckdemo_[0-9a-f]+)", out).group(1)
        assert user not in Path("/etc/passwd").read_text(), "the demo left its throwaway user behind"
        assert not list(Path(tempfile.gettempdir()).glob(f"cloudkit-sshd-home-*/{user}"))
    else:
        assert f"SSH: skipped: {unavailable_reason()}" in out


def test_demo_without_ssh(bare_cli: CliRunner) -> None:
    result = bare_cli.ok("demo", "--no-ssh", "--boot-seconds", "0.2")
    assert "SSH: skipped (--no-ssh)" in result.out
    assert "$ cloudkit nodes create cloudkit-demo-1" in result.out and "--wait" in result.out
    assert "cloudkit-demo-1 is running at 127.0.0.1" in result.out
    assert "destroyed cloudkit-demo-1" in result.out
    assert "waiting for cloudkit-demo-1" in result.err  # progress on stderr


def test_demo_with_an_unknown_simulator_is_a_usage_error(bare_cli: CliRunner) -> None:
    result = bare_cli.run("demo", "--provider", "nosuchcloud")
    assert result.code == 2 and "unknown provider 'nosuchcloud' (known: " in result.err
    register_driver("nosim", "cloudkit.drivers.dummy", "DummyNodeDriver")
    try:
        result = bare_cli.run("demo", "--provider", "nosim")
    finally:
        unregister_driver("nosim")
    assert result.code == 2 and "no simulator for 'nosim'" in result.err


@pytest.mark.parametrize("provider", ["linode", "hostvirtual", "nephoscale"])
def test_demo_on_every_simulated_provider(bare_cli: CliRunner, provider: str) -> None:
    from cloudkit._cli.config import env_names

    result = bare_cli.ok("demo", "--provider", provider, "--boot-seconds", "0.3")
    positions = [result.out.index(step) for step in STEPS]
    assert positions == sorted(positions)
    assert f"export {env_names(provider)[0]}=" in result.out
    if unavailable_reason() is None:
        assert "deployed:" in result.out and "2 keys may log in" in result.out


def test_demo_says_in_one_line_why_ssh_is_skipped(bare_cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import cloudkit.testing.sshd as sshd_module

    reason = "a throwaway sshd needs root (it creates a temporary login user)"
    monkeypatch.setattr(sshd_module, "unavailable_reason", lambda: reason)
    result = bare_cli.ok("demo", "--boot-seconds", "0.2")
    skipped = [line for line in result.out.splitlines() if line.startswith("SSH:")]
    assert skipped == [f"SSH: skipped: {reason}; the deployment steps over SSH are left out"]
    assert "$ cloudkit nodes deploy" not in result.out and "destroyed cloudkit-demo-1" in result.out
