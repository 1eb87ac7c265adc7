"""A real OpenSSH ``sshd`` on 127.0.0.1 for deploy tests, with a throwaway login user.

``start_sshd(config_dir)`` writes a host key and an ``sshd_config`` into ``config_dir``
(a pytest temporary directory), creates a login user named ``ckt_XXXXXX`` whose home is
in a fresh temporary directory (traversable by that user, which pytest's own
``/tmp/pytest-of-root`` is not), and starts ``/usr/sbin/sshd -D -e`` on a free port. Only
that user may log in (``AllowUsers``). ``SSHServer.stop()`` stops sshd, ends the processes
of that user (by pid), deletes the user (``userdel``) and its temporary home. Nothing else
on the machine changes, apart from creating ``/run/sshd`` (sshd's privilege-separation
directory) when it is missing.

Needs root and sshd. Without them the tests are skipped with the reason, except when the
``CI`` environment variable is set: then they fail, because CI must run them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"


def _tool(name: str) -> str:
    """``name`` as found on PATH, or in /usr/sbin (not always on a CI user's PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    return found or name


def require_sshd() -> None:
    """Skip (or, under CI, fail) unless we are root and sshd, useradd and ssh exist."""
    missing = [tool for tool in (SSHD, "useradd", "userdel", "chpasswd", "ssh-keygen", "ssh")
               if shutil.which(_tool(tool)) is None]
    reason = None
    if os.geteuid() != 0:
        reason = "the sshd tests need root (they create a throwaway login user)"
    elif missing:
        reason = f"the sshd tests need {', '.join(missing)} (Debian: apt-get install openssh-server)"
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _run(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool(args[0]), *args[1:]], input=input_text, capture_output=True, text=True,
                          check=False, timeout=30)


def _check(*args: str, input_text: str | None = None) -> str:
    done = _run(*args, input_text=input_text)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "", fmt: str | None = None,
           bits: int | None = None) -> Path:
    """Generate a key pair with ssh-keygen at ``path`` (and ``path.pub``)."""
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "cloudkit-test", "-f", str(path)]
    if fmt:
        args += ["-m", fmt]
    if bits:
        args += ["-b", str(bits)]
    _check(*args)
    return path


@dataclass
class SSHServer:
    """A running sshd and its login user."""

    port: int
    user: str
    uid: int
    gid: int
    home: Path
    password: str
    config_dir: Path
    host_key: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    _home_root: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    host: str = HOST

    @property
    def host_key_line(self) -> str:
        """The host's public key line (``ssh-ed25519 AAAA...``)."""
        kind, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def known_hosts_file(self, path: Path, key_line: str | None = None) -> Path:
        """Write a known_hosts file listing this server (or ``key_line`` for it)."""
        path.write_text(f"[{self.host}]:{self.port} {key_line or self.host_key_line}\n")
        return path

    def _chown(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)

    def authorize(self, pubkey_line: str) -> None:
        """Add a public key to the user's authorized_keys (what a provider does at create)."""
        with self._lock:
            ssh_dir = self.home / ".ssh"
            ssh_dir.mkdir(mode=0o700, exist_ok=True)
            self._chown(ssh_dir)
            keys = ssh_dir / "authorized_keys"
            with keys.open("a") as fh:
                fh.write(pubkey_line.strip() + "\n")
            keys.chmod(0o600)
            self._chown(keys)

    def set_password(self, password: str) -> None:
        """Set the user's password (what a provider does with a root password)."""
        with self._lock:
            _check("chpasswd", input_text=f"{self.user}:{password}\n")
            self.password = password

    def authorized_keys(self) -> list[str]:
        """The lines of the user's authorized_keys (empty when it does not exist)."""
        path = self.home / ".ssh" / "authorized_keys"
        return path.read_text().splitlines() if path.exists() else []

    def reset(self) -> None:
        """Empty the user's home and give the user a fresh random password."""
        for entry in self.home.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        self.set_password(secrets.token_urlsafe(18))

    def log_text(self) -> str:
        """sshd's log so far (for failure messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _user_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == self.uid:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    def stop(self) -> None:
        """Stop sshd, end the user's processes, delete the user and the temporary home."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for _ in range(20):
            pids = self._user_pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        _run("userdel", "-f", self.user)
        shutil.rmtree(self._home_root, ignore_errors=True)


def _sshd_config(config_dir: Path, port: int, user: str, host_key: Path, extra: list[str]) -> Path:
    lines = [
        f"Port {port}",
        f"ListenAddress {HOST}",
        f"HostKey {host_key}",
        f"PidFile {config_dir / 'sshd.pid'}",
        "AuthorizedKeysFile .ssh/authorized_keys",
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        "UsePAM no",
        "StrictModes yes",
        f"AllowUsers {user}",
        "Subsystem sftp internal-sftp",
        "MaxStartups 200",
        "MaxSessions 50",
        "MaxAuthTries 10",
        "LoginGraceTime 30",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "LogLevel VERBOSE",
        *extra,
    ]
    path = config_dir / "sshd_config"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def _wait_for_banner(server: SSHServer, seconds: float = 10.0) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if server.process.poll() is not None:
            raise RuntimeError(f"sshd exited ({server.process.returncode}):\n{server.log_text()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=1.0) as sock:
                sock.settimeout(1.0)
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on port {server.port}:\n{server.log_text()}")


def start_sshd(config_dir: Path) -> SSHServer:
    """Create the throwaway user and start sshd for it (see the module docstring)."""
    require_sshd()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key = keygen(config_dir / "ssh_host_ed25519_key")
    user = f"ckt_{secrets.token_hex(3)}"
    home_root = Path(tempfile.mkdtemp(prefix="ckt-sshd-home-"))
    home_root.chmod(0o755)
    home = home_root / user
    try:
        _check("useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh",
               "--no-user-group", "--comment", "cloudkit test user",
               "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", "-K", "UMASK=022", user)
    except Exception:
        shutil.rmtree(home_root, ignore_errors=True)
        raise
    stat = home.stat()
    home.chmod(0o755)
    extra: list[str] = []
    probe = _sshd_config(config_dir, 0, user, host_key, ["PerSourcePenalties no"])
    if _run(SSHD, "-t", "-f", str(probe)).returncode == 0:
        extra.append("PerSourcePenalties no")  # OpenSSH >= 9.8 would throttle failing tests
    log_path = config_dir / "sshd.log"
    last_error = "sshd did not start"
    for _ in range(3):
        port = free_port()
        config = _sshd_config(config_dir, port, user, host_key, extra)
        log_file = log_path.open("ab")
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log_file.close()
        server = SSHServer(port, user, stat.st_uid, stat.st_gid, home, "", config_dir, host_key, process,
                           log_path, home_root)
        try:
            server.reset()
            _wait_for_banner(server)
            return server
        except Exception as exc:  # a port grabbed in between, most likely: try another
            last_error = str(exc)
            if process.poll() is None:
                process.terminate()
                process.wait(5)
    _run("userdel", "-f", user)
    shutil.rmtree(home_root, ignore_errors=True)
    raise RuntimeError(last_error)


class DelayedForwarder:
    """A TCP port that refuses connections for ``delay`` seconds, then forwards each
    connection to ``target_port`` on 127.0.0.1: a server whose SSH comes up late."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.delay = delay
        self.opened_at: float | None = None
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="delayed-forwarder", daemon=True)

    def __enter__(self) -> DelayedForwarder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for sock in list(self._sockets):
            try:
                sock.close()
            except OSError:
                pass
        self._thread.join(5)

    def _serve(self) -> None:
        if self._stop.wait(self.delay):
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._sockets.append(listener)
        self.opened_at = time.monotonic()
        while not self._stop.is_set():
            try:
                inbound, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            outbound = socket.create_connection((HOST, self.target_port))
            self._sockets += [inbound, outbound]
            for src, dst in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class SilentServer:
    """A port that accepts TCP connections but never sends an SSH banner."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


class SshdDummyDriver(DummyNodeDriver):
    """The Dummy driver acting like a real provider towards the test sshd: the auth given
    to create_node is installed for the sshd's login user (key) or set as its password."""

    def __init__(self, server: SSHServer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server = server
        self.created: list[Node] = []

    def create_node(self, name: str, size: Any, image: Any, location: Any = None, auth: Any = None,
                    **kwargs: Any) -> Node:
        if isinstance(auth, NodeAuthSSHKey):
            self.server.authorize(auth.pubkey)
        elif isinstance(auth, NodeAuthPassword):
            self.server.set_password(auth.password)
        node = super().create_node(name, size, image, location, auth, **kwargs)
        self.created.append(node)
        return node
