"""deploy_node on the simulator against a real sshd: a failure at any phase leaves exactly
one server, and the error carries it.

The simulated servers' address is 127.0.0.1 and their SSH is the test sshd's port; the
login key is authorized for the sshd's throwaway user beforehand (the simulator does not
install keys). Each phase is made to fail in turn: the node never gets running, SSH never
answers, the login is refused, the host key is not the known one, a script step fails.
Every time ``DeploymentError.node`` is the one server the account holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _rel_support import CREATE_PATHS, PROVIDERS, create_kwargs, fast_retry, running_sim, start_sim
from support.sshd import SSHServer, free_port, keygen

from cloudkit.deployment import ScriptDeployment
from cloudkit.errors import DeploymentError, OutcomeUnknownError, WaitTimeoutError
from cloudkit.models import Node
from cloudkit.testing.simulator import Simulator

pytestmark = [pytest.mark.sshd, pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory, sshd: SSHServer) -> dict[str, Path]:
    """"login" (RSA, authorized: NephoScale's key endpoint is sshrsa) and "stranger" (not)."""
    directory = tmp_path_factory.mktemp("rel-keys")
    login = keygen(directory / "login_rsa", "rsa", bits=2048, fmt="PEM")
    stranger = keygen(directory / "stranger_ed25519")
    sshd.authorize(login.with_suffix(".pub").read_text())
    return {"login": login, "stranger": stranger}


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param, boot_seconds=0.1)


def _deploy(sim: Simulator, sshd: SSHServer, keys: dict[str, Path], script: str = "true",
            create: dict[str, Any] | None = None, **kwargs: Any) -> Node:
    driver = fast_retry(sim.driver(timeout=(2.0, 5.0)), max_retries=8)
    args = create_kwargs(sim.provider, "rel-deploy", **(create or {}))
    kwargs.setdefault("ssh_key", str(keys["login"]))
    kwargs.setdefault("ssh_port", sshd.port)
    kwargs.setdefault("timeout", 8.0)
    kwargs.setdefault("ssh_timeout", 2.0)
    kwargs.setdefault("ssh_auth_grace", 0.3)
    return driver.deploy_node(deploy=ScriptDeployment(script), ssh_username=sshd.user, wait_period=0.05,
                              **args, **kwargs)


def _one_server_carried(sim: Simulator, err: DeploymentError, phase: str) -> None:
    assert err.phase == phase, f"phase {err.phase!r}, expected {phase!r}: {err}"
    assert isinstance(err.node, Node)
    assert sim.node_ids() == [err.node.id], "exactly one server, and the error names it"
    assert err.node.id in str(err)
    assert err.destroyed is None  # not asked to destroy: left in place for the caller
    assert sum(1 for r in sim.requests if r.method == "POST" and r.path.rstrip("/") ==
               CREATE_PATHS[sim.provider].rstrip("/")) == 1


@pytest.mark.timeout(40)
def test_a_deployment_that_works_makes_one_server(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    node = _deploy(sim, sshd, keys, script="echo deployed > deployed.txt")
    assert sim.node_ids() == [node.id]
    assert (sshd.home / "deployed.txt").read_text().strip() == "deployed"


@pytest.mark.timeout(40)
def test_failing_script_step(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    with pytest.raises(DeploymentError) as info:
        _deploy(sim, sshd, keys, script="echo broken >&2; exit 3")
    _one_server_carried(sim, info.value, "deploy")
    assert info.value.exit_status == 3 and "broken" in (info.value.stderr or "")


@pytest.mark.timeout(40)
def test_login_refused(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    with pytest.raises(DeploymentError) as info:
        _deploy(sim, sshd, keys, ssh_key=str(keys["stranger"]))
    _one_server_carried(sim, info.value, "ssh_auth")


@pytest.mark.timeout(40)
def test_host_key_not_the_known_one(sim: Simulator, sshd: SSHServer, keys: dict[str, Path], tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_host_key").with_suffix(".pub").read_text().split()[:2]
    known = sshd.known_hosts_file(tmp_path / "known_hosts", " ".join(other))
    with pytest.raises(DeploymentError) as info:
        _deploy(sim, sshd, keys, ssh_host_key_policy="strict", ssh_known_hosts=str(known))
    _one_server_carried(sim, info.value, "ssh_host_key")


@pytest.mark.timeout(40)
def test_accept_new_still_refuses_a_host_key_that_contradicts_known_hosts(
        sshd: SSHServer, keys: dict[str, Path], tmp_path: Path) -> None:
    """The default policy trusts an unknown host on first use, never a changed one."""
    sim = start_sim("linode", boot_seconds=0.1)
    try:
        other = keygen(tmp_path / "other_host_key").with_suffix(".pub").read_text().split()[:2]
        known = sshd.known_hosts_file(tmp_path / "known_hosts", " ".join(other))
        with pytest.raises(DeploymentError) as info:
            # the policy is left at its default, "accept-new"
            _deploy(sim, sshd, keys, script="echo ran > host-key-marker.txt", ssh_known_hosts=str(known))
        _one_server_carried(sim, info.value, "ssh_host_key")
        assert not (sshd.home / "host-key-marker.txt").exists(), "nothing may run on an untrusted host"
        assert info.value.step is None
    finally:
        sim.stop()


@pytest.mark.timeout(40)
def test_ssh_never_answers(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    with pytest.raises(DeploymentError) as info:
        _deploy(sim, sshd, keys, ssh_port=free_port(), timeout=1.0, ssh_timeout=0.3)
    _one_server_carried(sim, info.value, "wait_ssh")


@pytest.mark.timeout(40)
def test_node_never_gets_running(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    sim.options.boot_seconds = 60.0
    if sim.provider == "nephoscale":
        # NephoScale's create_node itself waits for the new server to get an address: its
        # WaitTimeoutError carries the one server it saw.
        with pytest.raises(WaitTimeoutError) as wait:
            _deploy(sim, sshd, keys, create={"ex_wait_timeout": 0.5})
        assert sim.node_ids() == [wait.value.node.id]
        assert wait.value.node.id in str(wait.value)
        return
    with pytest.raises(DeploymentError) as info:
        _deploy(sim, sshd, keys, timeout=0.5)
    _one_server_carried(sim, info.value, "wait_running")
    assert isinstance(info.value.cause, WaitTimeoutError)


@pytest.mark.timeout(40)
def test_api_faults_while_waiting_are_survived(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    """5xx and dropped connections on the polls of the running-wait are retried: the
    deployment still succeeds with its one server."""
    sim.faults.configure(error_rate=0.3, drop_rate=0.1, method="GET", seed=3)
    node = _deploy(sim, sshd, keys)
    sim.faults.clear()
    assert sim.node_ids() == [node.id]


@pytest.mark.timeout(40)
def test_lost_create_answer_during_deploy(sim: Simulator, sshd: SSHServer, keys: dict[str, Path]) -> None:
    """The create itself loses its answer: no DeploymentError (there is no node to carry)
    but OutcomeUnknownError naming the server, which exists exactly once."""
    sim.faults.queue("drop_after", method="POST", path=CREATE_PATHS[sim.provider])
    with pytest.raises(OutcomeUnknownError) as info:
        _deploy(sim, sshd, keys)
    assert create_kwargs(sim.provider, "rel-deploy")["name"] in str(info.value)
    if sim.provider == "hostvirtual":
        assert sim.api.package_count() == 1  # type: ignore[attr-defined]
    else:
        assert sim.node_count() == 1


@pytest.mark.timeout(40)
def test_destroy_on_failure_reports_what_it_did(sshd: SSHServer, keys: dict[str, Path]) -> None:
    sim = start_sim("linode", boot_seconds=0.1)
    try:
        with pytest.raises(DeploymentError) as info:
            _deploy(sim, sshd, keys, script="exit 7", ex_destroy_on_failure=True)
        err = info.value
        assert err.destroyed is True and err.node is not None
        assert err.node.id in str(err) and "destroyed" in str(err)
        assert sim.node_count() == 0
    finally:
        sim.stop()
