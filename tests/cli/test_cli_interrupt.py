"""Ctrl-C during ``nodes create --wait``, ``nodes deploy`` and ``run``: every server that exists
is named on stderr with its last state, and the exit status is 130."""

from __future__ import annotations

import _thread
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _cli_support import CliRunner

from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.errors import SSHError
from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

SIZE, IMAGE = "s-1vcpu-1gb", "ubuntu-24-04-x64"


def _interrupt_the_wait(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The wait polls the node once, then Ctrl-C arrives; returns the ids it was waiting for."""
    waited: list[str] = []

    def wait_until_running(self: DigitalOceanNodeDriver, nodes: Any, *args: Any, **kwargs: Any) -> Any:
        for node in nodes:
            waited.append(self.get_node(node.id).id)
        raise KeyboardInterrupt

    monkeypatch.setattr(DigitalOceanNodeDriver, "wait_until_running", wait_until_running)
    return waited


@pytest.fixture
def key(tmp_path: Path) -> Path:
    private, public = generate_key_pair(comment="interrupt-test")
    path = tmp_path / "id_ed25519"
    path.write_text(private)
    path.chmod(0o600)
    path.with_name("id_ed25519.pub").write_text(public + "\n")
    return path


def _listed(cli: CliRunner) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in cli.ok("nodes", "list", "-o", "json").json()}


def test_ctrl_c_during_create_wait_names_the_new_server(cli: CliRunner, sim: Simulator,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    waited = _interrupt_the_wait(monkeypatch)
    result = cli.run("nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE, "--wait")
    assert result.code == 130
    assert result.out == ""
    [node_id] = waited
    assert "cloudkit: interrupted" in result.err
    line = next(line for line in result.err_lines if f"web-1 ({node_id}): " in line)
    state = _listed(cli)[node_id]["state"]  # the simulator's answer, fetched after the report
    assert re.search(rf"web-1 \({node_id}\): (pending|{state})[;]", line), line
    assert f"cloudkit nodes destroy {node_id} --yes" in line
    assert sim.node_count() == 1  # named, not destroyed


def test_when_the_state_cannot_be_fetched_again_the_last_seen_one_is_named(
        cli: CliRunner, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: DigitalOceanNodeDriver, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # the wait, and the fetch after it (Ctrl-C pressed twice)

    monkeypatch.setattr(DigitalOceanNodeDriver, "wait_until_running", interrupted)
    monkeypatch.setattr(DigitalOceanNodeDriver, "get_node", interrupted)
    result = cli.run("nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE, "--wait", "-o", "json")
    assert result.code == 130
    [node_id] = _listed(cli)
    assert f"web-1 ({node_id}): pending (as last seen)" in result.err


def test_ctrl_c_while_the_create_request_is_unanswered(cli: CliRunner, sim: Simulator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    original = DigitalOceanNodeDriver.create_node

    def create_node(self: DigitalOceanNodeDriver, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)  # it reached the provider, but the answer is never read
        raise KeyboardInterrupt

    monkeypatch.setattr(DigitalOceanNodeDriver, "create_node", create_node)
    result = cli.run("nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE, "--wait")
    assert result.code == 130
    assert "the create request for 'web-1' was sent or about to be sent" in result.err
    assert "cloudkit nodes list" in result.err
    assert sim.node_count() == 1


def test_ctrl_c_during_deploy_names_the_new_server(cli: CliRunner, sim: Simulator, key: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    waited = _interrupt_the_wait(monkeypatch)
    result = cli.run("nodes", "deploy", "web-1", "--size", SIZE, "--image", IMAGE, "--ssh-key", str(key),
                     "--run", "true", "--destroy-on-failure")
    assert result.code == 130
    [node_id] = waited
    line = next(line for line in result.err_lines if f"web-1 ({node_id}): " in line)
    assert "interrupted while deploying" in line and "--destroy-on-failure does not apply" in line
    assert f"cloudkit nodes destroy {node_id} --yes" in line
    assert sim.node_count() == 1


class _FakeSSH:
    """Stands in for cloudkit.ssh.SSHClient: the first command finishes, the second one is
    still running when Ctrl-C arrives (it blocks until its session is closed)."""

    calls = 0
    closed = threading.Event()

    def __init__(self, hosts: Any, port: int, username: str, **kwargs: Any) -> None:
        self.hostname = "127.0.0.1"

    def __enter__(self) -> _FakeSSH:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if _FakeSSH.calls >= 2:
            _FakeSSH.closed.set()

    def run(self, command: str) -> tuple[str, str, int]:
        _FakeSSH.calls += 1
        if _FakeSSH.calls == 1:
            return "done\n", "", 0
        _thread.interrupt_main()  # Ctrl-C reaches the main thread while this command runs
        if not _FakeSSH.closed.wait(20):
            raise AssertionError("the session was never closed")
        raise SSHError("the session was closed")


def test_ctrl_c_during_run_names_every_server_and_where_the_command_stood(
        cli: CliRunner, sim: Simulator, key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [cli.ok("nodes", "create", name, "--size", SIZE, "--image", IMAGE, "--wait", "-o", "json").json()["id"]
           for name in ("web-1", "web-2", "web-3")]
    monkeypatch.setattr("cloudkit.ssh.SSHClient", _FakeSSH)
    monkeypatch.setattr(_FakeSSH, "calls", 0)
    monkeypatch.setattr(_FakeSSH, "closed", threading.Event())
    started = time.monotonic()
    result = cli.run("run", "uptime", "--nodes", *ids, "--ssh-key", str(key), "--parallel", "1")
    assert result.code == 130
    assert time.monotonic() - started < 15  # it did not wait for the command to end
    assert _FakeSSH.closed.is_set()  # the running session was closed
    lines = {i: next(line for line in result.err_lines if f"({i}): " in line) for i in ids}
    assert "running" in lines[ids[0]] and "finished with exit status 0" in lines[ids[0]]
    assert "the command was running there" in lines[ids[1]]
    assert "had not started" in lines[ids[2]]
    assert not any("destroy" in line for line in lines.values())  # not made by this command
    assert sim.node_count() == 3
    deadline = time.monotonic() + 10
    while any(t.name.startswith("cloudkit-run") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name.startswith("cloudkit-run") for t in threading.enumerate())
