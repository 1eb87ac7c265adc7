"""deploy_node and probe_node end to end: Dummy driver nodes pointing at a real sshd."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest
from support.sshd import SshdDummyDriver, SSHServer, free_port, ssh_with_key

from cloudkit.deployment import (
    DeployEvent,
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    SSHKeyDeployment,
)
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.errors import (
    DeploymentError,
    NotSupportedError,
    SSHAuthenticationError,
    SSHCommandTimeoutError,
    SSHConnectError,
    SSHHostKeyError,
    WaitTimeoutError,
)
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey, NodeState

pytestmark = [pytest.mark.sshd, pytest.mark.integration]

Provider = Callable[..., SshdDummyDriver]


def _deploy(driver: DummyNodeDriver, server: SSHServer, deploy: Any, **kwargs: Any) -> Node:
    kwargs.setdefault("timeout", 20)
    kwargs.setdefault("wait_period", 0.2)
    return driver.deploy_node("web", "small", "debian-12", "lon1", deploy, ssh_username=server.user,
                              ssh_port=kwargs.pop("ssh_port", server.port), **kwargs)


@pytest.mark.timeout(30)
def test_deploy_pushes_key_runs_script_and_real_ssh_logs_in(
        sshd: SSHServer, provider: Provider, login_key: Path, user_key: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    driver = provider(ex_boot_seconds=0.3)
    events: list[DeployEvent] = []
    script = ScriptDeployment("#!/bin/sh\necho \"deployed by $1\" > ~/marker.txt\n", args=["cloudkit"])
    deploy = MultiStepDeployment([SSHKeyDeployment(user_key.with_suffix(".pub").read_text()), script])
    with caplog.at_level(logging.INFO, logger="cloudkit.deploy"):
        node = _deploy(driver, sshd, deploy, ssh_key=str(login_key), progress=events.append)
    assert node.state == NodeState.RUNNING
    assert node.id == driver.created[0].id
    assert "password" not in node.extra  # the key was used, no password made
    assert script.exit_status == 0
    # the provider installed the login key's public half (what deploy_node derived)
    assert any(line.split()[1] == login_key.with_suffix(".pub").read_text().split()[1]
               for line in sshd.authorized_keys())
    # the real ssh client logs in with the PUSHED key and reads what the script wrote
    login = ssh_with_key(sshd, user_key, "cat marker.txt")
    assert login.returncode == 0, login.stderr
    assert login.stdout == "deployed by cloudkit\n"
    phases = [e.phase for e in events]
    assert phases == ["created", "running", "ssh_ready", "step", "step", "deployed"]
    assert [(e.step, e.total) for e in events if e.phase == "step"] == [(1, 2), (2, 2)]
    assert all(e.node is not None and e.node.id == node.id for e in events)
    logged = [r.getMessage() for r in caplog.records if r.name == "cloudkit.deploy"]
    assert len(logged) == len(events)


@pytest.mark.timeout(30)
def test_generated_password_path(sshd: SSHServer, provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    class PasswordOnly(SshdDummyDriver):
        features: ClassVar[dict[str, list[str]]] = {"create_node": ["password"]}

    driver = PasswordOnly(sshd)
    seen: list[Any] = []
    original = driver.create_node

    def spy(*args: Any, **kwargs: Any) -> Node:
        seen.append(kwargs.get("auth"))
        return original(*args, **kwargs)

    driver.create_node = spy  # type: ignore[method-assign]
    step = ScriptDeployment("whoami")
    node = _deploy(driver, sshd, step)
    assert isinstance(seen[0], NodeAuthPassword) and seen[0].generated
    password = node.extra["password"]
    assert password == sshd.password and len(password) >= 20
    assert step.stdout == f"{sshd.user}\n"
    everything = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert password not in everything


@pytest.mark.timeout(30)
def test_provider_generated_password_path(sshd: SSHServer) -> None:
    class Generates(SshdDummyDriver):
        features: ClassVar[dict[str, list[str]]] = {"create_node": ["generates_password"]}

        def create_node(self, name: str, size: Any, image: Any, location: Any = None, auth: Any = None,
                        **kwargs: Any) -> Node:
            assert auth is None
            self.server.set_password("Provider-Made-123")
            node = super().create_node(name, size, image, location, None, **kwargs)
            node.extra["password"] = "Provider-Made-123"
            return node

    step = ScriptDeployment("echo via provider password")
    _deploy(Generates(sshd), sshd, step)
    assert step.stdout == "via provider password\n"


def test_no_way_to_log_in_is_refused_before_creating(sshd: SSHServer) -> None:
    class Nothing(SshdDummyDriver):
        features: ClassVar[dict[str, list[str]]] = {"create_node": []}

    driver = Nothing(sshd)
    with pytest.raises(NotSupportedError):
        _deploy(driver, sshd, ScriptDeployment("true"))
    assert driver.list_nodes() == []


def test_malformed_key_fails_before_creating(sshd: SSHServer, provider: Provider, tmp_path: Path) -> None:
    bad = tmp_path / "bad_key"
    bad.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----\n")
    driver = provider()
    with pytest.raises(SSHAuthenticationError):
        _deploy(driver, sshd, ScriptDeployment("true"), ssh_key=str(bad))
    assert driver.list_nodes() == []


@pytest.mark.timeout(20)
def test_no_sshd_listening(sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    driver = provider()
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, ScriptDeployment("true"), ssh_key=str(login_key), ssh_port=free_port(), timeout=2)
    err = info.value
    assert err.phase == "wait_ssh"
    assert isinstance(err.cause, SSHConnectError)
    assert isinstance(err.node, Node) and err.node.id == driver.created[0].id
    assert err.destroyed is None
    assert driver.get_node(err.node.id).state == NodeState.RUNNING  # left in place, as reported
    assert "left in place" in str(err)


@pytest.mark.timeout(20)
def test_wrong_key_is_an_authentication_failure(sshd: SSHServer, login_key: Path) -> None:
    driver = DummyNodeDriver()  # does not install the key: the server refuses it
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, ScriptDeployment("true"), ssh_key=str(login_key), ssh_auth_grace=0.5)
    err = info.value
    assert err.phase == "ssh_auth"
    assert isinstance(err.cause, SSHAuthenticationError)
    assert err.node is not None and err.node.id == driver.list_nodes()[0].id


@pytest.mark.timeout(30)
def test_script_exit_3_fails_with_status_and_stderr(sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    failing = ScriptDeployment("echo about to fail; echo 'disk full on /dev/sda1' >&2; exit 3")
    never = ScriptDeployment("touch never-ran.txt")
    driver = provider()
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, MultiStepDeployment([failing, never]), ssh_key=str(login_key))
    err = info.value
    assert err.exit_status == 3
    assert err.stderr is not None and "disk full on /dev/sda1" in err.stderr
    assert "disk full" in str(err) and "status 3" in str(err)
    assert err.step is failing and err.phase == "deploy"
    assert err.node is not None and err.node.id == driver.created[0].id
    assert not (sshd.home / "never-ran.txt").exists()


@pytest.mark.timeout(20)
def test_node_never_running_names_node_and_last_state(sshd: SSHServer, provider: Provider,
                                                      login_key: Path) -> None:
    driver = provider(ex_never_boot=True)
    started = time.monotonic()
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, ScriptDeployment("true"), ssh_key=str(login_key), timeout=1.0)
    assert time.monotonic() - started < 10
    err = info.value
    assert err.phase == "wait_running"
    assert isinstance(err.cause, WaitTimeoutError) and err.__cause__ is err.cause
    node_id = driver.created[0].id
    assert err.node.id == node_id and err.cause.nodes[0].id == node_id
    assert err.cause.last_states == {node_id: "pending"}
    assert node_id in str(err) and "last state: pending" in str(err)


@pytest.mark.timeout(30)
def test_destroy_on_failure_destroys_and_reports(sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    driver = provider()
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, ScriptDeployment("exit 3"), ssh_key=str(login_key), ex_destroy_on_failure=True)
    assert info.value.destroyed is True and info.value.exit_status == 3
    assert driver.list_nodes() == []
    assert "destroyed" in str(info.value)

    class CannotDestroy(SshdDummyDriver):
        def destroy_node(self, node: Node, ex_force: bool = False) -> bool:
            raise RuntimeError("provider said no")

    stubborn = CannotDestroy(sshd, ex_never_boot=True)
    with pytest.raises(DeploymentError) as info2:
        _deploy(stubborn, sshd, ScriptDeployment("true"), ssh_key=str(login_key), timeout=0.5,
                ex_destroy_on_failure=True)
    assert info2.value.destroyed is False
    assert isinstance(info2.value.destroy_error, RuntimeError)
    assert "NOT destroyed" in str(info2.value) and "provider said no" in str(info2.value)


@pytest.mark.timeout(20)
def test_step_timeout_is_bounded_by_overall_timeout(sshd: SSHServer, provider: Provider,
                                                    login_key: Path) -> None:
    driver = provider()
    started = time.monotonic()
    with pytest.raises(DeploymentError) as info:
        _deploy(driver, sshd, ScriptDeployment("sleep 60"), ssh_key=str(login_key), timeout=2)
    assert time.monotonic() - started < 8
    assert isinstance(info.value.cause, SSHCommandTimeoutError)
    assert info.value.phase == "deploy"


@pytest.mark.timeout(20)
def test_strict_host_key_policy(sshd: SSHServer, provider: Provider, login_key: Path, tmp_path: Path) -> None:
    known = sshd.known_hosts_file(tmp_path / "known_hosts")
    step = ScriptDeployment("echo strict")
    _deploy(provider(), sshd, step, ssh_key=str(login_key), ssh_host_key_policy="strict",
            ssh_known_hosts=str(known))
    assert step.stdout == "strict\n"
    stranger = tmp_path / "stranger"
    stranger.write_text(f"[127.0.0.1]:1 {sshd.host_key_line}\n")
    with pytest.raises(DeploymentError) as info:
        _deploy(provider(), sshd, ScriptDeployment("true"), ssh_key=str(login_key),
                ssh_host_key_policy="strict", ssh_known_hosts=str(stranger))
    assert info.value.phase == "ssh_host_key" and isinstance(info.value.cause, SSHHostKeyError)


@pytest.mark.timeout(60)
def test_ten_threads_deploy_at_once(sshd: SSHServer, provider: Provider, login_key: Path, tmp_path: Path) -> None:
    driver = provider(ex_boot_seconds=0.2)
    payload = tmp_path / "payload.txt"
    payload.write_text("payload\n")

    def one(i: int) -> tuple[Node, ScriptDeployment]:
        script = ScriptDeployment(f"cat payload-{i}.txt > out-{i}.txt; echo {i}")
        deploy = MultiStepDeployment([FileDeployment(payload, f"payload-{i}.txt", mode=0o600), script])
        node = driver.deploy_node(f"web-{i}", "small", "debian-12", "lon1", deploy, ssh_key=str(login_key),
                                  ssh_username=sshd.user, ssh_port=sshd.port, timeout=40, wait_period=0.2)
        return node, script

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    assert len({node.id for node, _ in results}) == 10
    for i, (node, script) in enumerate(results):
        assert node.state == NodeState.RUNNING
        assert (script.stdout, script.exit_status) == (f"{i}\n", 0)
        assert (sshd.home / f"out-{i}.txt").read_text() == "payload\n"


def test_progress_callback_errors_do_not_break_deploy(sshd: SSHServer, provider: Provider,
                                                      login_key: Path) -> None:
    def broken(event: DeployEvent) -> None:
        raise ValueError("callback bug")

    step = ScriptDeployment("echo fine")
    _deploy(provider(), sshd, step, ssh_key=str(login_key), progress=broken)
    assert step.stdout == "fine\n"


def test_explicit_auth_is_passed_through(sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    pub = login_key.with_suffix(".pub").read_text().strip()
    driver = provider()
    step = ScriptDeployment("echo explicit")
    _deploy(driver, sshd, step, ssh_key=str(login_key), auth=NodeAuthSSHKey(pub))
    assert step.stdout == "explicit\n"
    assert driver.list_nodes()[0].extra["auth"] == "ssh_key"


@pytest.mark.timeout(20)
def test_probe_node(sshd: SSHServer, login_key: Path) -> None:
    driver = DummyNodeDriver()
    node = driver.create_node("probe", "small", "debian-12")
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    good = driver.probe_node(node, ssh_key=str(login_key), ssh_username=sshd.user, ssh_port=sshd.port)
    assert good.reachable and good.auth_ok and good.error is None
    assert good.detail is not None and "Linux" in good.detail and "up" in good.detail
    assert good.banner is not None and good.banner.startswith("SSH-2.0-OpenSSH")
    assert good.host_key_fingerprint is not None and good.host_key_fingerprint.startswith("SHA256:")

    refused = driver.probe_node(node, ssh_username=sshd.user, ssh_port=sshd.port, ssh_password="wrong-pw")
    assert refused.reachable and not refused.auth_ok and refused.error
    assert "wrong-pw" not in refused.error

    down = driver.probe_node(node, ssh_key=str(login_key), ssh_port=free_port(), timeout=2)
    assert not down.reachable and not down.auth_ok and down.error

    bare = Node("x", "no-address", NodeState.RUNNING, [], [], driver)
    nowhere = driver.probe_node(bare, ssh_key=str(login_key))
    assert not nowhere.reachable and nowhere.address is None and "no address" in (nowhere.error or "")


def test_import_cloudkit_does_not_load_ssh_stack() -> None:
    code = ("import sys, cloudkit, cloudkit.driver, cloudkit.drivers.dummy; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'paramiko' "
            "or m in ('cloudkit.ssh', 'cloudkit.deployment')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
