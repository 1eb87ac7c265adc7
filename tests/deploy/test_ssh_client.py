"""cloudkit.ssh.SSHClient against a real OpenSSH sshd on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from support.sshd import DelayedForwarder, SilentServer, SSHServer, free_port, keygen

from cloudkit.errors import (
    ConfigurationError,
    SSHAuthenticationError,
    SSHCommandTimeoutError,
    SSHConnectError,
    SSHHostKeyError,
)
from cloudkit.ssh import SSHClient, key_fingerprint, load_private_key, public_key_line

pytestmark = [pytest.mark.sshd, pytest.mark.integration, pytest.mark.timeout(30)]

PASSPHRASE = "correct horse battery"
KINDS = ("rsa", "ecdsa", "ed25519")
FORMATS = ("openssh", "pem")


def _pem_copy(src: Path, dst: Path, passphrase: str) -> Path:
    """Re-encode ``src`` in PEM: traditional PEM via ssh-keygen for RSA/ECDSA, PKCS#8 for Ed25519."""
    shutil.copy(src, dst)
    if "ed25519" in src.name:
        key = serialization.load_ssh_private_key(src.read_bytes(), None)
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
            else serialization.NoEncryption())
        dst.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    else:
        subprocess.run(["ssh-keygen", "-q", "-p", "-m", "PEM", "-N", passphrase, "-f", str(dst)],
                       check=True, capture_output=True)
    return dst


def _encrypt_copy(src: Path, dst: Path, passphrase: str) -> Path:
    shutil.copy(src, dst)
    subprocess.run(["ssh-keygen", "-q", "-p", "-a", "4", "-N", passphrase, "-f", str(dst)], check=True,
                   capture_output=True)
    return dst


@pytest.fixture(scope="session")
def key_matrix(keydir: Path) -> dict[tuple[str, str, bool], tuple[Path, str]]:
    """(kind, format, encrypted) → (private key path, public key line from ssh-keygen)."""
    matrix: dict[tuple[str, str, bool], tuple[Path, str]] = {}
    for kind in KINDS:
        base = keygen(keydir / f"m_{kind}", kind, bits=2048 if kind == "rsa" else None)
        pub = " ".join(base.with_suffix(".pub").read_text().split()[:2])
        matrix[(kind, "openssh", False)] = (base, pub)
        matrix[(kind, "openssh", True)] = (_encrypt_copy(base, keydir / f"m_{kind}_enc", PASSPHRASE), pub)
        matrix[(kind, "pem", False)] = (_pem_copy(base, keydir / f"m_{kind}_pem", ""), pub)
        matrix[(kind, "pem", True)] = (_pem_copy(base, keydir / f"m_{kind}_pem_enc", PASSPHRASE), pub)
    return matrix


def _client(server: SSHServer, **kwargs: object) -> SSHClient:
    return SSHClient(server.host, server.port, server.user, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "passphrase"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_key_types_and_formats_log_in(sshd: SSHServer, key_matrix: dict[tuple[str, str, bool], tuple[Path, str]],
                                      kind: str, fmt: str, encrypted: bool) -> None:
    path, pub = key_matrix[(kind, fmt, encrypted)]
    header = path.read_text().splitlines()[0]
    assert ("OPENSSH" in header) == (fmt == "openssh")
    passphrase = PASSPHRASE if encrypted else None
    sshd.authorize(pub)
    # the public half derived by cloudkit equals the one ssh-keygen wrote
    assert public_key_line(str(path), passphrase) == pub
    with _client(sshd, key=str(path), passphrase=passphrase) as client:
        assert client.run("whoami") == (f"{sshd.user}\n", "", 0)
    # the same key given as text
    with _client(sshd, key=path.read_text(), passphrase=passphrase) as client:
        assert client.run("echo ok")[0] == "ok\n"


def test_key_path_with_tilde(sshd: SSHServer, login_key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(login_key.parent))
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    with _client(sshd, key=f"~/{login_key.name}") as client:
        assert client.run("whoami")[0].strip() == sshd.user


def test_password_login_and_wrong_password(sshd: SSHServer) -> None:
    with _client(sshd, password=sshd.password) as client:
        assert client.run("whoami")[0].strip() == sshd.user
        assert sshd.password not in repr(client)
    with pytest.raises(SSHAuthenticationError) as info:
        _client(sshd, password="not-the-password").connect()
    assert "not-the-password" not in str(info.value)


class _ConnectSpy:
    """Counts calls to paramiko.SSHClient.connect."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = paramiko.SSHClient.connect

        def spy(client: paramiko.SSHClient, *args: object, **kwargs: object) -> object:
            self.calls += 1
            return original(client, *args, **kwargs)

        monkeypatch.setattr(paramiko.SSHClient, "connect", spy)


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> _ConnectSpy:
    return _ConnectSpy(monkeypatch)


@pytest.fixture
def bad_keys(tmp_path: Path, key_matrix: dict[tuple[str, str, bool], tuple[Path, str]]) -> Iterator[dict[str, Path]]:
    good = key_matrix[("ed25519", "openssh", False)][0].read_text().splitlines()
    garbage = tmp_path / "garbage"
    garbage.write_text("this is not a key at all\n")
    truncated = tmp_path / "truncated"
    truncated.write_text("\n".join([good[0], good[1][:20], good[-1]]) + "\n")
    yield {
        "garbage": garbage,
        "truncated": truncated,
        "missing": tmp_path / "does-not-exist",
        "encrypted-no-passphrase": key_matrix[("ed25519", "openssh", True)][0],
        "pem-encrypted-no-passphrase": key_matrix[("rsa", "pem", True)][0],
    }


@pytest.mark.parametrize("name", ["garbage", "truncated", "missing", "encrypted-no-passphrase",
                                  "pem-encrypted-no-passphrase"])
def test_unusable_key_fails_at_once_without_connecting(sshd: SSHServer, bad_keys: dict[str, Path],
                                                       connect_spy: _ConnectSpy, name: str) -> None:
    with pytest.raises(SSHAuthenticationError) as info:
        client = _client(sshd, key=str(bad_keys[name]))
        client.connect(retry_until=time.monotonic() + 60)
    assert connect_spy.calls == 0
    if name.endswith("no-passphrase"):
        assert "passphrase is needed" in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_passphrase_fails_at_once(sshd: SSHServer, key_matrix: dict[tuple[str, str, bool], tuple[Path, str]],
                                        connect_spy: _ConnectSpy, fmt: str) -> None:
    path = key_matrix[("ecdsa", fmt, True)][0]
    with pytest.raises(SSHAuthenticationError, match="wrong passphrase") as info:
        _client(sshd, key=str(path), passphrase="wrong horse").connect(retry_until=time.monotonic() + 60)
    assert "wrong horse" not in str(info.value)
    assert connect_spy.calls == 0
    with pytest.raises(SSHAuthenticationError):
        load_private_key(path.read_text(), "wrong horse")


def test_key_text_never_in_error(bad_keys: dict[str, Path]) -> None:
    text = bad_keys["truncated"].read_text()
    with pytest.raises(SSHAuthenticationError) as info:
        load_private_key(text)
    body = text.splitlines()[1]
    assert body not in str(info.value)


def test_refused_login_is_not_retried_without_grace(sshd: SSHServer, login_key: Path) -> None:
    client = _client(sshd, key=str(login_key))  # key not authorized
    with pytest.raises(SSHAuthenticationError, match="refused the login"):
        client.connect(retry_until=time.monotonic() + 60)
    assert client.attempts == 1


def test_refused_login_retried_within_grace(sshd: SSHServer, login_key: Path) -> None:
    client = _client(sshd, key=str(login_key), auth_grace=0.8)
    with pytest.raises(SSHAuthenticationError):
        client.connect(retry_until=time.monotonic() + 60)
    assert client.attempts >= 2


def test_refused_login_succeeds_once_key_appears(sshd: SSHServer, login_key: Path) -> None:
    """A fresh server may install the key a moment after sshd answers."""
    import threading

    timer = threading.Timer(0.5, sshd.authorize, args=(login_key.with_suffix(".pub").read_text(),))
    timer.start()
    try:
        client = _client(sshd, key=str(login_key), auth_grace=10)
        with client.connect(retry_until=time.monotonic() + 20):
            assert client.attempts >= 2
            assert client.run("true")[2] == 0
    finally:
        timer.cancel()


def test_agent_login(sshd: SSHServer, login_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.02)
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        subprocess.run(["ssh-add", "-q", str(login_key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        sshd.authorize(login_key.with_suffix(".pub").read_text())
        with _client(sshd) as client:  # no key, no password: the agent
            assert client.run("whoami")[0].strip() == sshd.user
    finally:
        agent.terminate()
        agent.wait(5)


def test_no_credentials_at_all_is_an_auth_error(sshd: SSHServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    client = _client(sshd)
    with pytest.raises(SSHAuthenticationError, match="no usable credentials"):
        client.connect(retry_until=time.monotonic() + 60)
    assert client.attempts == 1


def _host_fingerprint(server: SSHServer) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(server.host_key.with_suffix(".pub"))],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[1]


def test_accept_new_logs_fingerprint(sshd: SSHServer, login_key: Path, caplog: pytest.LogCaptureFixture) -> None:
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    with caplog.at_level(logging.INFO, logger="cloudkit.ssh"), _client(sshd, key=str(login_key)) as client:
        assert client.host_key_fingerprint == _host_fingerprint(sshd)
    accepted = [r for r in caplog.records if r.name == "cloudkit.ssh" and r.levelno == logging.INFO
                and "accepted new host key" in r.getMessage()]
    assert accepted and _host_fingerprint(sshd) in accepted[0].getMessage()


def test_strict_accepts_known_host(sshd: SSHServer, login_key: Path, tmp_path: Path) -> None:
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    known = sshd.known_hosts_file(tmp_path / "known_hosts")
    with _client(sshd, key=str(login_key), host_key_policy="strict", known_hosts=str(known)) as client:
        assert client.run("echo strict")[0] == "strict\n"


def test_strict_refuses_unknown_host(sshd: SSHServer, login_key: Path, tmp_path: Path) -> None:
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:1 {sshd.host_key_line}\n")  # another host
    client = _client(sshd, key=str(login_key), host_key_policy="strict", known_hosts=str(known))
    with pytest.raises(SSHHostKeyError, match="not in known_hosts"):
        client.connect(retry_until=time.monotonic() + 60)
    assert client.attempts == 1


def test_changed_host_key_refused_under_both_policies(sshd: SSHServer, login_key: Path, tmp_path: Path) -> None:
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    other = keygen(tmp_path / "other_host_key")
    known = sshd.known_hosts_file(tmp_path / "known_hosts", other.with_suffix(".pub").read_text().strip())
    for policy in ("strict", "accept-new"):
        with pytest.raises(SSHHostKeyError, match="does not match"):
            _client(sshd, key=str(login_key), host_key_policy=policy, known_hosts=str(known)).connect()


def test_bad_policy_and_missing_known_hosts_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        SSHClient("127.0.0.1", host_key_policy="yolo", password="x")
    with pytest.raises(ConfigurationError):
        SSHClient("127.0.0.1", host_key_policy="strict", known_hosts=tmp_path / "nope", password="x")


def test_connect_retries_until_sshd_comes_up(sshd: SSHServer, login_key: Path) -> None:
    sshd.authorize(login_key.with_suffix(".pub").read_text())
    with DelayedForwarder(sshd.port, delay=0.8) as late:
        client = SSHClient("127.0.0.1", late.port, sshd.user, key=str(login_key))
        with client.connect(retry_until=time.monotonic() + 20):
            connected_at = time.monotonic()
            assert client.attempts >= 2
            assert client.run("echo late")[0] == "late\n"
        assert late.opened_at is not None
        # polled quickly: connected well within a second of the port opening
        assert connected_at - late.opened_at < 1.5


def test_connect_gives_up_at_deadline_when_refused() -> None:
    client = SSHClient("127.0.0.1", free_port(), "nobody", password="x")
    with pytest.raises(SSHConnectError, match="cannot reach") as info:
        client.connect(retry_until=time.monotonic() + 1.0)
    assert client.attempts >= 2
    assert "x" not in str(info.value).split()


def test_connect_without_retry_makes_one_attempt() -> None:
    client = SSHClient("127.0.0.1", free_port(), "nobody", password="x")
    with pytest.raises(SSHConnectError):
        client.connect()
    assert client.attempts == 1


def test_missing_banner_is_retried_and_bounded() -> None:
    with SilentServer() as silent:
        client = SSHClient("127.0.0.1", silent.port, "nobody", password="x", banner_timeout=0.3, timeout=0.3)
        with pytest.raises(SSHConnectError):
            client.connect(retry_until=time.monotonic() + 1.5)
        assert client.attempts >= 2


def test_run_output_status_and_timeout(sshd: SSHServer) -> None:
    with _client(sshd, password=sshd.password) as client:
        out, err, status = client.run("echo out; echo err >&2; exit 7")
        assert (out, err, status) == ("out\n", "err\n", 7)
        big, _, _ = client.run("head -c 300000 /dev/zero | tr '\\0' x")
        assert len(big) == 300000
        with pytest.raises(SSHCommandTimeoutError):
            client.run("sleep 20", timeout=0.5)
        # the connection is still usable after a timed-out command
        assert client.run("echo again")[0] == "again\n"


def test_run_with_sudo_goes_through_sudo(sshd: SSHServer) -> None:
    with _client(sshd, password=sshd.password) as client:
        out, err, status = client.run("id -u", sudo=True)
    if status == 0:  # sudo installed and allowed: it ran as root
        assert out.strip() == "0"
    else:  # this test user may not (or sudo is absent): the command went through sudo
        assert "sudo" in err


def test_put_data_file_and_modes(sshd: SSHServer, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    local.write_bytes(bytes(range(256)) * 100)
    with _client(sshd, password=sshd.password) as client:
        client.put("~/hello.txt", "hello\n", mode=0o640)
        client.put("blob.bin", local_path=local, mode=0o600)
        assert client.run("cat hello.txt; stat -c %a hello.txt blob.bin")[0] == "hello\n640\n600\n"
    assert (sshd.home / "blob.bin").read_bytes() == local.read_bytes()
    with pytest.raises(ConfigurationError):
        SSHClient("127.0.0.1", password="x").put("x", "a", local_path=local)


def test_close_is_idempotent_and_context_manager(sshd: SSHServer) -> None:
    client = _client(sshd, password=sshd.password)
    with client:
        assert client.connected
    assert not client.connected
    client.close()
    assert "connected" in repr(client)


def test_public_key_line_sources(login_key: Path) -> None:
    pub_text = login_key.with_suffix(".pub").read_text().strip()
    pub = " ".join(pub_text.split()[:2])
    assert public_key_line(pub_text) == pub_text
    assert public_key_line(str(login_key.with_suffix(".pub"))) == pub_text
    assert public_key_line(str(login_key)) == pub
    assert public_key_line(login_key.read_text(), comment="me") == f"{pub} me"
    pkey = load_private_key(login_key)
    assert public_key_line(pkey) == pub
    assert key_fingerprint(pkey).startswith("SHA256:")
