"""A throwaway OpenSSH ``sshd`` on 127.0.0.1 with a throwaway login user.

For ``cloudkit demo`` and for tests that run ``deploy_node`` end to end against the
simulator: the simulated servers' public address is 127.0.0.1 and their SSH port is this
server's port.

``start_sshd()`` writes a fresh host key and an ``sshd_config`` into a temporary directory,
creates a login user named ``<prefix>XXXXXX`` whose home is a fresh temporary directory,
and starts ``/usr/sbin/sshd -D -e`` on a free port, accepting only that user
(``AllowUsers``). ``SSHServer.stop()`` (or leaving its ``with`` block) stops sshd, ends that
user's processes (by pid), deletes the user (``userdel``) and every temporary file. Nothing
else on the machine changes, apart from creating ``/run/sshd`` (sshd's privilege-separation
directory) when it is missing.

It needs root (to create the user) and OpenSSH's server; ``unavailable_reason()`` says in
one line why it cannot run here, or returns None.
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
from types import TracebackType

__all__ = ["HOST", "SSHD", "SSHServer", "free_port", "start_sshd", "unavailable_reason"]

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"
_TOOLS = ("useradd", "userdel", "chpasswd")


def unavailable_reason() -> str | None:
    """Why a throwaway sshd cannot be started here (one line), or None when it can."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "a throwaway sshd needs a POSIX system"
    if not os.path.exists(SSHD):
        return f"OpenSSH's server is not installed ({SSHD}; Debian: apt-get install openssh-server)"
    missing = [tool for tool in _TOOLS if shutil.which(_tool(tool)) is None]
    if missing:
        return f"{', '.join(missing)} not found (needed to create a throwaway login user)"
    if os.geteuid() != 0:
        return "a throwaway sshd needs root (it creates a temporary login user)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    """``name`` as found on PATH, or in /usr/sbin (not always on a non-root user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") or name


def _run(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool(args[0]), *args[1:]], input=input_text, capture_output=True, text=True,
                          check=False, timeout=30)


def _check(*args: str, input_text: str | None = None) -> str:
    done = _run(*args, input_text=input_text)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass
class SSHServer:
    """A running sshd and its login user (``user``, ``home``, ``port``)."""

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
    _owns_config_dir: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    host: str = HOST

    def __enter__(self) -> SSHServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def host_key_line(self) -> str:
        """The host's public key line (``ssh-ed25519 AAAA...``)."""
        kind, blob = self.host_key.with_name(self.host_key.name + ".pub").read_text().split()[:2]
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
        """Stop sshd, end the user's processes, delete the user and the temporary files."""
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
        if self._owns_config_dir:
            shutil.rmtree(self.config_dir, ignore_errors=True)


def _write_host_key(config_dir: Path) -> Path:
    from cloudkit.sshkeys import generate_key_pair

    private, public = generate_key_pair("ed25519", comment="cloudkit-sshd-host")
    path = config_dir / "ssh_host_ed25519_key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private)
    path.with_name(path.name + ".pub").write_text(public + "\n")
    return path


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
            raise RuntimeError(f"sshd exited ({server.process.returncode}): {server.log_text().strip()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=1.0) as sock:
                sock.settimeout(1.0)
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on port {server.port}: {server.log_text().strip()}")


def start_sshd(config_dir: Path | None = None, *, user_prefix: str = "ckt_") -> SSHServer:
    """Create the throwaway user and start sshd for it (see the module docstring).

    ``config_dir`` holds the host key, config and log (a fresh temporary directory, removed
    by ``stop()``, when None). Raises RuntimeError when it cannot start.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    owns = config_dir is None
    cfg = Path(tempfile.mkdtemp(prefix="cloudkit-sshd-")) if config_dir is None else config_dir
    try:
        return _start(cfg, owns, user_prefix)
    except BaseException:
        if owns:
            shutil.rmtree(cfg, ignore_errors=True)
        raise


def _start(config_dir: Path, owns: bool, user_prefix: str) -> SSHServer:
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key = _write_host_key(config_dir)
    user = f"{user_prefix}{secrets.token_hex(3)}"
    home_root = Path(tempfile.mkdtemp(prefix="cloudkit-sshd-home-"))
    home_root.chmod(0o755)
    home = home_root / user
    try:
        _check("useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh",
               "--no-user-group", "--comment", "cloudkit throwaway user",
               "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", "-K", "UMASK=022", user)
    except BaseException:
        shutil.rmtree(home_root, ignore_errors=True)
        raise
    try:
        stat = home.stat()
        home.chmod(0o755)
        extra: list[str] = []
        probe = _sshd_config(config_dir, 0, user, host_key, ["PerSourcePenalties no"])
        if _run(SSHD, "-t", "-f", str(probe)).returncode == 0:
            extra.append("PerSourcePenalties no")  # OpenSSH >= 9.8 would throttle failed logins
        log_path = config_dir / "sshd.log"
        last_error = "sshd did not start"
        for _ in range(3):
            port = free_port()
            config = _sshd_config(config_dir, port, user, host_key, extra)
            with log_path.open("ab") as log_file:
                process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log_file,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            server = SSHServer(port, user, stat.st_uid, stat.st_gid, home, "", config_dir, host_key, process,
                               log_path, home_root, owns)
            try:
                server.reset()
                _wait_for_banner(server)
                return server
            except Exception as exc:  # most likely a port taken in between: try another
                last_error = str(exc)
                if process.poll() is None:
                    process.terminate()
                    process.wait(5)
        raise RuntimeError(last_error)
    except BaseException:
        _run("userdel", "-f", user)
        shutil.rmtree(home_root, ignore_errors=True)
        raise
