"""SSH host keys follow OpenSSH's ``StrictHostKeyChecking=accept-new`` (issue 16, item 7).

A throwaway sshd on 127.0.0.1; HOME points at a temporary directory whose
``.ssh/known_hosts`` lists a wrong key for it (the real ~/.ssh is never touched), and
cloudkit's own known_hosts file is a per-test temporary file (``CLOUDKIT_KNOWN_HOSTS``).

* ``probe_node`` with no ``ssh_known_hosts=`` reports the mismatch with the user's file (its
  error names the host key), for every provider; so do ``SSHClient``, a hashed entry, a
  wrong key of another type, ``cloudkit probe`` and ``cloudkit run``.
* An unknown host is trusted on first use and remembered in cloudkit's own file; a later
  change of its key is refused. ``strict`` refuses unknown hosts.
* A node ``deploy_node`` has just created is new: stale entries for its (recycled) address in
  the user's file and in cloudkit's own file do not block it, and its key replaces them in
  cloudkit's own file; the CLI's ``nodes deploy`` does the same.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _rel_support import PROVIDERS, create_kwargs, fast_retry, running_sim
from support.sshd import SSHServer, keygen

from cloudkit.cli import main
from cloudkit.deployment import ScriptDeployment
from cloudkit.errors import SSHHostKeyError
from cloudkit.known_hosts import own_known_hosts_path
from cloudkit.ssh import SSHClient
from cloudkit.testing.simulator import Simulator

pytestmark = [pytest.mark.sshd, pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory, sshd: SSHServer) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("hk-keys")
    login = keygen(directory / "login_rsa", "rsa", bits=2048, fmt="PEM")
    sshd.authorize(login.with_suffix(".pub").read_text())
    wrong_ed = keygen(directory / "wrong_ed25519")
    wrong_rsa = keygen(directory / "wrong_rsa", "rsa", bits=2048)
    return {"login": login, "wrong": wrong_ed, "wrong_rsa": wrong_rsa}


def _pub(path: Path) -> str:
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME with an empty ~/.ssh."""
    path = tmp_path / "home"
    (path / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(path))
    return path


def _list(sshd: SSHServer, file: Path, key_line: str, *, hashed: bool = False) -> Path:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(f"[{sshd.host}]:{sshd.port} {key_line}\n")
    if hashed:
        subprocess.run(["ssh-keygen", "-H", "-f", str(file)], check=True, capture_output=True)
        assert str(sshd.port) not in file.read_text()
    return file


def _client(sshd: SSHServer, keys: dict[str, Path], **kwargs: Any) -> SSHClient:
    return SSHClient(sshd.host, sshd.port, sshd.user, key=str(keys["login"]), timeout=5, **kwargs)


def _own() -> Path:
    return Path(own_known_hosts_path())


@pytest.mark.parametrize("variant", ["plain", "hashed", "other-type"])
def test_mismatch_with_the_users_known_hosts_is_refused(variant: str, sshd: SSHServer, keys: dict[str, Path],
                                                        home: Path) -> None:
    wrong = keys["wrong_rsa"] if variant == "other-type" else keys["wrong"]
    _list(sshd, home / ".ssh" / "known_hosts", _pub(wrong), hashed=variant == "hashed")
    before = (home / ".ssh" / "known_hosts").read_text()
    with pytest.raises(SSHHostKeyError, match="host key"):
        _client(sshd, keys).connect()
    assert (home / ".ssh" / "known_hosts").read_text() == before  # never written to
    assert not _own().exists() or str(sshd.port) not in _own().read_text()


def test_matching_key_in_the_users_file_is_accepted(sshd: SSHServer, keys: dict[str, Path], home: Path) -> None:
    _list(sshd, home / ".ssh" / "known_hosts", sshd.host_key_line, hashed=True)
    with _client(sshd, keys) as client:
        assert client.run("echo ok")[0] == "ok\n"


def test_unknown_host_is_remembered_then_checked(sshd: SSHServer, keys: dict[str, Path], home: Path) -> None:
    with _client(sshd, keys) as client:
        assert client.run("true")[2] == 0
    own = _own()
    assert sshd.host_key_line.split()[1] in own.read_text()
    assert os.stat(own).st_mode & 0o077 == 0
    with _client(sshd, keys) as client:  # known now, and matching
        assert client.run("true")[2] == 0
    _list(sshd, own, _pub(keys["wrong"]))  # the remembered key "changes"
    with pytest.raises(SSHHostKeyError, match="does not match"):
        _client(sshd, keys).connect()


def test_strict_refuses_an_unknown_host(sshd: SSHServer, keys: dict[str, Path], home: Path) -> None:
    with pytest.raises(SSHHostKeyError, match="not in known_hosts"):
        _client(sshd, keys, host_key_policy="strict").connect()
    assert not _own().exists()


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest, sshd: SSHServer) -> Iterator[Simulator]:
    yield from running_sim(request.param, boot_seconds=0.1, ssh_port=sshd.port)


def _driver(sim: Simulator) -> Any:
    return fast_retry(sim.driver(timeout=(2.0, 5.0)), max_retries=8)


def test_probe_node_reports_the_mismatch(sim: Simulator, sshd: SSHServer, keys: dict[str, Path],
                                         home: Path) -> None:
    driver = _driver(sim)
    node = driver.create_node(**create_kwargs(sim.provider, "hk-probe"))
    node = driver.wait_until_running([node], wait_period=0.05, timeout=20)[0][0]
    _list(sshd, home / ".ssh" / "known_hosts", _pub(keys["wrong"]))
    result = driver.probe_node(node, ssh_key=str(keys["login"]), ssh_username=sshd.user, ssh_port=sshd.port,
                               timeout=10)
    assert result.reachable is True and result.auth_ok is False
    assert result.error is not None and "SSHHostKeyError" in result.error and "host key" in result.error


def test_deploy_node_is_not_blocked_by_a_recycled_address(sim: Simulator, sshd: SSHServer,
                                                          keys: dict[str, Path], home: Path) -> None:
    stale = _pub(keys["wrong"])
    _list(sshd, home / ".ssh" / "known_hosts", stale)  # a destroyed server had this address
    _list(sshd, _own(), stale)
    driver = _driver(sim)
    node = driver.deploy_node(deploy=ScriptDeployment("echo fresh > fresh.txt"), ssh_key=str(keys["login"]),
                              ssh_username=sshd.user, ssh_port=sshd.port, timeout=20, ssh_timeout=3,
                              wait_period=0.05, **create_kwargs(sim.provider, "hk-deploy"))
    assert (sshd.home / "fresh.txt").read_text().strip() == "fresh"
    own = _own().read_text()
    assert sshd.host_key_line.split()[1] in own and stale.split()[1] not in own  # replaced
    assert stale in (home / ".ssh" / "known_hosts").read_text()  # the user's file is left alone
    # a later probe checks the remembered key: the user's stale line does not block it
    result = driver.probe_node(node, ssh_key=str(keys["login"]), ssh_username=sshd.user, ssh_port=sshd.port,
                               timeout=10)
    assert result.auth_ok is True, result.error


# ------------------------------------------------------------------------------------ CLI


ENV_VARS = {
    "digitalocean": ("CLOUDKIT_DIGITALOCEAN_TOKEN", None),
    "linode": ("CLOUDKIT_LINODE_TOKEN", None),
    "hostvirtual": ("CLOUDKIT_HOSTVIRTUAL_KEY", None),
    "nephoscale": ("CLOUDKIT_NEPHOSCALE_USER", "CLOUDKIT_NEPHOSCALE_PASSWORD"),
}


def _cli(sim: Simulator, home: Path, *argv: str) -> tuple[int, str, str]:
    key_var, secret_var = ENV_VARS[sim.provider]
    key, secret = sim.credentials
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), key_var: key}
    if secret_var and secret:
        env[secret_var] = secret
    out, err = io.StringIO(), io.StringIO()
    code = main(["--provider", sim.provider, "--base-url", sim.base_url, *argv], env=env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_checks_host_keys(sim: Simulator, sshd: SSHServer, keys: dict[str, Path], home: Path,
                              tmp_path: Path) -> None:
    driver = _driver(sim)
    node = driver.create_node(**create_kwargs(sim.provider, "hk-cli"))
    driver.wait_until_running([node], wait_period=0.05, timeout=20)
    ssh = ["--ssh-key", str(keys["login"]), "--user", sshd.user, "--port", str(sshd.port)]
    cli_own = home / ".config" / "cloudkit" / "known_hosts"

    code, out, err = _cli(sim, home, "probe", node.id, *ssh, "--host-key-policy", "strict", "-o", "json")
    assert code == 1 and "not in known_hosts" in out

    code, out, err = _cli(sim, home, "probe", node.id, *ssh)  # first use: trusted and remembered
    assert code == 0, out + err
    assert sshd.host_key_line.split()[1] in cli_own.read_text()

    _list(sshd, home / ".ssh" / "known_hosts", _pub(keys["wrong"]))
    cli_own.unlink()
    code, out, err = _cli(sim, home, "probe", node.id, *ssh, "-o", "json")
    assert code == 1 and "SSHHostKeyError" in out and "host key" in out
    code, out, err = _cli(sim, home, "run", "echo should-not-run", "--nodes", node.id, *ssh, "-o", "json")
    assert code == 1 and "SSHHostKeyError" in out and "should-not-run\\n" not in out

    wrong_file = _list(sshd, tmp_path / "team_known_hosts", _pub(keys["wrong"]))
    (home / ".ssh" / "known_hosts").unlink()
    code, out, err = _cli(sim, home, "probe", node.id, *ssh, "--known-hosts", str(wrong_file), "-o", "json")
    assert code == 1 and "SSHHostKeyError" in out
    right_file = _list(sshd, tmp_path / "right_known_hosts", sshd.host_key_line)
    code, out, err = _cli(sim, home, "run", "echo ran", "--nodes", node.id, *ssh, "--known-hosts",
                          str(right_file), "--host-key-policy", "strict", "-o", "json")
    assert code == 0, out + err
    code, out, err = _cli(sim, home, "probe", node.id, *ssh, "--known-hosts", str(tmp_path / "missing"))
    assert code == 2 and "no such file" in err


def test_cli_deploy_replaces_a_stale_entry(sim: Simulator, sshd: SSHServer, keys: dict[str, Path],
                                           home: Path) -> None:
    stale = _pub(keys["wrong"])
    _list(sshd, home / ".ssh" / "known_hosts", stale)
    code, _, err = _cli(sim, home, "nodes", "deploy", create_kwargs(sim.provider, "hk-cli-deploy")["name"],
                          "--size", create_kwargs(sim.provider)["size"],
                          "--image", create_kwargs(sim.provider)["image"],
                          "--location", create_kwargs(sim.provider)["location"],
                          "--ssh-key", str(keys["login"]), "--user", sshd.user, "--port", str(sshd.port),
                          "--run", "echo deployed", "--timeout", "30", "-o", "json")
    assert code == 0, err
    own = (home / ".config" / "cloudkit" / "known_hosts").read_text()
    assert sshd.host_key_line.split()[1] in own
    code, _, err = _cli(sim, home, "nodes", "deploy", "x", "--size", "a", "--image", "b", "--run", "true",
                          "--host-key-policy", "strict")
    assert code == 2 and "--known-hosts" in err
