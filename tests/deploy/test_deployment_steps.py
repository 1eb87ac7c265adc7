"""Deployment steps (cloudkit.deployment) run over SSH against a real sshd."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sshd import SSHServer, ssh_with_key

from cloudkit.deployment import (
    Deployment,
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    ScriptFileDeployment,
    SSHKeyDeployment,
)
from cloudkit.errors import ConfigurationError, SSHCommandTimeoutError, ValidationError
from cloudkit.models import Node, NodeState
from cloudkit.ssh import SSHClient

pytestmark = [pytest.mark.sshd, pytest.mark.integration, pytest.mark.timeout(30)]

NODE = Node("n1", "web-1", NodeState.RUNNING, ["127.0.0.1"], [])


@pytest.fixture
def client(sshd: SSHServer) -> Iterator[SSHClient]:
    with SSHClient(sshd.host, sshd.port, sshd.user, password=sshd.password) as connected:
        yield connected


def test_ssh_key_deployment_creates_dir_and_file_with_modes(sshd: SSHServer, client: SSHClient,
                                                           user_key: Path) -> None:
    pub = user_key.with_suffix(".pub").read_text().strip()
    assert ssh_with_key(sshd, user_key, "true").returncode != 0  # not authorized yet
    step = SSHKeyDeployment(pub)
    assert step.run(NODE, client) is NODE
    assert step.exit_status == 0
    assert sshd.authorized_keys() == [pub]
    out = client.run("stat -c %a ~/.ssh ~/.ssh/authorized_keys")[0].split()
    assert out == ["700", "600"]
    login = ssh_with_key(sshd, user_key, "whoami")
    assert login.returncode == 0, login.stderr
    assert login.stdout.strip() == sshd.user


def test_ssh_key_deployment_is_idempotent(sshd: SSHServer, client: SSHClient, user_key: Path) -> None:
    pub = user_key.with_suffix(".pub").read_text().strip()
    kind, blob = pub.split()[:2]
    SSHKeyDeployment(pub).run(NODE, client)
    SSHKeyDeployment(pub).run(NODE, client)
    SSHKeyDeployment(f"{kind} {blob} another-comment").run(NODE, client)
    assert sshd.authorized_keys() == [pub]


def test_ssh_key_deployment_keeps_existing_lines(sshd: SSHServer, client: SSHClient, user_key: Path,
                                                login_key: Path) -> None:
    first = login_key.with_suffix(".pub").read_text().strip()
    # an existing file whose last line has no newline
    client.run(f"mkdir -p ~/.ssh && printf '%s' '{first}' > ~/.ssh/authorized_keys")
    pub = user_key.with_suffix(".pub").read_text().strip()
    SSHKeyDeployment(pub).run(NODE, client)
    assert sshd.authorized_keys() == [first, pub]


def test_ssh_key_deployment_key_sources(user_key: Path) -> None:
    pub = user_key.with_suffix(".pub").read_text().strip()
    bare = " ".join(pub.split()[:2])
    assert SSHKeyDeployment(io.StringIO(pub + "\n")).key == pub
    assert SSHKeyDeployment(str(user_key.with_suffix(".pub"))).key == pub
    assert SSHKeyDeployment(str(user_key)).key == bare  # derived from the private key
    assert "AAAA" not in repr(SSHKeyDeployment(pub))
    with pytest.raises((ValidationError, ConfigurationError)):
        SSHKeyDeployment("ssh-ed25519 AAAA\nssh-rsa BBBB")
    with pytest.raises((ValidationError, ConfigurationError)):
        SSHKeyDeployment("ssh-ed25519 not-base64!")


def test_script_deployment_keeps_output_and_status(client: SSHClient) -> None:
    step = ScriptDeployment("#!/bin/sh\necho \"args: $1|$2\"\necho oops >&2\nexit 4\n",
                            args=["two words", "it's"], name="check.sh")
    step.run(NODE, client)
    assert step.stdout == "args: two words|it's\n"
    assert step.stderr == "oops\n"
    assert step.exit_status == 4
    assert client.run("stat -c %a check.sh")[0].strip() == "700"


def test_script_without_shebang_runs_under_sh(client: SSHClient) -> None:
    step = ScriptDeployment("echo plain > plain.txt; echo done")
    step.run(NODE, client)
    assert (step.stdout, step.exit_status) == ("done\n", 0)
    assert client.run("cat plain.txt")[0] == "plain\n"


def test_script_deployment_delete_and_absolute_name(sshd: SSHServer, client: SSHClient) -> None:
    target = sshd.home / "sub" / "job.sh"
    client.run("mkdir -p sub")
    step = ScriptDeployment("exit 0", name=str(target), delete=True)
    step.run(NODE, client)
    assert step.exit_status == 0
    assert not target.exists()
    kept = ScriptDeployment("exit 0", name="kept.sh")
    kept.run(NODE, client)
    assert (sshd.home / "kept.sh").exists()


def test_script_deployment_timeout(client: SSHClient) -> None:
    with pytest.raises(SSHCommandTimeoutError):
        ScriptDeployment("sleep 20", timeout=0.5).run(NODE, client)


def test_script_deployment_passes_sudo(client: SSHClient) -> None:
    step = ScriptDeployment("id -u", sudo=True)
    step.run(NODE, client)
    # the test user is not root: the script went through sudo (absent here, or refused)
    assert step.exit_status != 0 or step.stdout == "0\n"
    assert step.exit_status == 0 or "sudo" in (step.stderr or "")


def test_script_file_deployment(client: SSHClient, tmp_path: Path) -> None:
    script = tmp_path / "setup.sh"
    script.write_text("#!/bin/sh\necho \"from file $1\"\n")
    step = ScriptFileDeployment(str(script), args=["x"])
    step.run(NODE, client)
    assert (step.stdout, step.exit_status) == ("from file x\n", 0)
    with pytest.raises(ConfigurationError):
        ScriptFileDeployment(tmp_path / "missing.sh")


def test_script_repr_hides_script_text() -> None:
    step = ScriptDeployment("echo s3cr3t-token", name="x.sh")
    assert "s3cr3t" not in repr(step)
    assert "x.sh" in repr(step)


def test_file_deployment_uploads_with_mode(sshd: SSHServer, client: SSHClient, tmp_path: Path) -> None:
    local = tmp_path / "app.conf"
    local.write_text("key=value\n")
    local.chmod(0o640)
    FileDeployment(local, "app.conf").run(NODE, client)
    FileDeployment(str(local), "~/app-private.conf", mode=0o600).run(NODE, client)
    assert (sshd.home / "app.conf").read_text() == "key=value\n"
    assert client.run("stat -c %a app.conf app-private.conf")[0].split() == ["640", "600"]
    with pytest.raises(ConfigurationError):
        FileDeployment(tmp_path / "nope", "x")


def test_multi_step_runs_in_order(client: SSHClient) -> None:
    first = ScriptDeployment("echo one > order.txt")
    second = ScriptDeployment("echo two >> order.txt; cat order.txt")
    multi = MultiStepDeployment([first])
    multi.add(second)
    assert isinstance(multi, Deployment)
    assert multi.run(NODE, client) is NODE
    assert second.stdout == "one\ntwo\n"
    assert MultiStepDeployment(steps=[first, second]).steps == [first, second]
    with pytest.raises(ConfigurationError):
        MultiStepDeployment(["echo not a step"])  # type: ignore[list-item]
