"""``cloudkit probe``, ``cloudkit run`` and ``cloudkit nodes deploy`` end to end: the
simulator's servers answer SSH on a real throwaway sshd (127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import CliRunner
from support.sshd import require_sshd

from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator
from cloudkit.testing.sshd import SSHServer, start_sshd

pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module")
def sshd() -> Iterator[SSHServer]:
    require_sshd()  # skips where sshd cannot run here; fails instead when CI is set
    with start_sshd() as server:
        yield server


@pytest.fixture
def login(sshd: SSHServer, tmp_path: Path) -> Path:
    """A login key the server accepts (as a provider installs the key given at creation)."""
    sshd.reset()
    private, public = generate_key_pair(comment="cli-test")
    path = tmp_path / "id_ed25519"
    path.write_text(private)
    path.chmod(0o600)
    path.with_name("id_ed25519.pub").write_text(public + "\n")
    sshd.authorize(public)
    return path


def _ssh(sshd: SSHServer, login: Path) -> list[str]:
    return ["--ssh-key", str(login), "--user", sshd.user, "--port", str(sshd.port)]


def _node(cli: CliRunner, name: str) -> dict:
    return cli.ok("nodes", "create", name, "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64",
                  "--wait", "-o", "json").json()


def test_probe(cli: CliRunner, sshd: SSHServer, login: Path) -> None:
    node = _node(cli, "web-1")
    probed = cli.ok("probe", "web-1", *_ssh(sshd, login), "-o", "json").json()
    assert probed["id"] == node["id"]
    assert probed["reachable"] is True and probed["auth_ok"] is True
    assert probed["banner"].startswith("SSH-2.0-OpenSSH")
    assert probed["detail"] and probed["error"] is None
    table = cli.ok("probe", "web-1", *_ssh(sshd, login)).out
    assert "login works: yes" in table.replace("  ", " ")


def test_probe_of_a_closed_port_exits_1(cli: CliRunner, sshd: SSHServer, login: Path) -> None:
    _node(cli, "web-1")
    from cloudkit.testing.sshd import free_port

    result = cli.run("probe", "web-1", "--ssh-key", str(login), "--port", str(free_port()), "--timeout", "2",
                     "-o", "json")
    assert result.code == 1
    assert result.json()["reachable"] is False and "not reachable" in result.json()["error"]


def test_run_on_several_nodes_groups_output_per_node(cli: CliRunner, sshd: SSHServer, login: Path) -> None:
    first, second = _node(cli, "web-1"), _node(cli, "web-2")
    result = cli.ok("run", "echo out-line; echo err-line >&2", "--nodes", "web-1", second["id"],
                    *_ssh(sshd, login), "-o", "json")
    rows = result.json()
    assert [r["id"] for r in rows] == [first["id"], second["id"]]
    for row in rows:
        assert row["exit_status"] == 0 and row["error"] is None
        assert row["stdout"] == "out-line\n" and row["stderr"] == "err-line\n"
        assert row["address"] == "127.0.0.1"
    table = cli.ok("run", "echo hello", "--nodes", "web-1", "web-2", *_ssh(sshd, login)).out
    assert table.count("hello\n") == 2
    assert table.index("=== web-1") < table.index("=== web-2")


def test_run_fails_when_a_node_fails(cli: CliRunner, sshd: SSHServer, login: Path) -> None:
    _node(cli, "web-1")
    failed = cli.run("run", "exit 3", "--nodes", "web-1", *_ssh(sshd, login))
    assert failed.code == 1
    assert "exit 3" in failed.out and "failed on 1 of 1 node(s): web-1" in failed.err
    wrong_key = login.with_name("other")
    wrong_key.write_text(generate_key_pair()[0])
    refused = cli.run("run", "true", "--nodes", "web-1", "--ssh-key", str(wrong_key), "--user", sshd.user,
                      "--port", str(sshd.port), "-o", "json")
    assert refused.code == 1 and "SSHAuthenticationError" in refused.json()[0]["error"]
    nowhere = cli.run("run", "true", *_ssh(sshd, login))
    assert nowhere.code == 2 and "--nodes" in nowhere.err


def test_run_by_tag(cli: CliRunner, sshd: SSHServer, login: Path) -> None:
    cli.ok("nodes", "create", "web-1", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64", "--tag", "web",
           "--wait")
    _node(cli, "db-1")
    rows = cli.ok("run", "echo hi", "--tag", "web", *_ssh(sshd, login), "-o", "json").json()
    assert [r["name"] for r in rows] == ["web-1"]


def test_nodes_deploy(cli: CliRunner, sim: Simulator, sshd: SSHServer, login: Path, tmp_path: Path) -> None:
    _, teammate = generate_key_pair(comment="teammate")
    pub = tmp_path / "teammate.pub"
    pub.write_text(teammate + "\n")
    script = tmp_path / "setup.sh"
    script.write_text("#!/bin/sh\necho configured > ~/configured.txt\necho setup-done\n")
    result = cli.ok("nodes", "deploy", "web-1", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64",
                    *_ssh(sshd, login), "--push-key", str(pub), "--script", str(script),
                    "--run", "cat ~/configured.txt", "--timeout", "60", "-o", "json")
    data = result.json()
    assert data["node"]["state"] == "running" and data["node"]["name"] == "web-1"
    assert [s["exit_status"] for s in data["steps"]] == [0, 0, 0]
    assert data["steps"][1]["stdout"] == "setup-done\n"
    assert data["steps"][2]["stdout"] == "configured\n"
    assert any(teammate.split()[1] in line for line in sshd.authorized_keys())
    for phase in ("created", "running", "ssh_ready", "deployed"):
        assert f" {phase}: " in result.err  # progress on stderr
    assert sim.node_count() == 1


def test_nodes_deploy_failure_exits_1_and_can_clean_up(cli: CliRunner, sim: Simulator, sshd: SSHServer,
                                                       login: Path) -> None:
    result = cli.run("nodes", "deploy", "web-1", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64",
                     *_ssh(sshd, login), "--run", "echo broken >&2; exit 4", "--destroy-on-failure",
                     "--timeout", "60")
    assert result.code == 1
    assert result.err_lines[-1].startswith("cloudkit: error: ")
    assert "exited with status 4" in result.err_lines[-1] and "destroyed" in result.err_lines[-1]
    nothing = cli.run("nodes", "deploy", "web-2", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64")
    assert nothing.code == 2 and "nothing to deploy" in nothing.err
