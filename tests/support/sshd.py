"""The test suite's sshd harness: a thin layer over ``cloudkit.testing.sshd``.

``start_sshd(config_dir)`` is the package's throwaway sshd on 127.0.0.1 (a host key and an
``sshd_config`` in ``config_dir``, a login user ``ckt_XXXXXX`` with a fresh temporary home,
``AllowUsers`` that user; ``SSHServer.stop()`` removes the user and its home), started only
after ``require_sshd()``: without root, sshd or the OpenSSH client tools the tests are
skipped with the reason, except when the ``CI`` environment variable is set: then they fail,
because CI must run them.

What only the tests need lives here: ``keygen`` (keys made by ``ssh-keygen``), a port whose
SSH comes up late, a port that never answers, and a Dummy driver that provisions the sshd.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey
from cloudkit.testing import sshd as _sshd
from cloudkit.testing.sshd import HOST, SSHD, SSHServer, free_port, unavailable_reason

__all__ = ["HOST", "SSHD", "DelayedForwarder", "SSHServer", "SilentServer", "SshdDummyDriver", "free_port",
           "keygen", "require_sshd", "ssh_with_key", "start_sshd"]

_CLIENT_TOOLS = ("ssh-keygen", "ssh")


def require_sshd() -> None:
    """Skip (or, under CI, fail) unless a throwaway sshd can start and ssh, ssh-keygen exist."""
    reason = unavailable_reason()
    missing = [tool for tool in _CLIENT_TOOLS if shutil.which(tool) is None]
    if reason is None and missing:
        reason = f"the sshd tests need {', '.join(missing)} (Debian: apt-get install openssh-client)"
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


def start_sshd(config_dir: Path) -> SSHServer:
    """The package's throwaway sshd and login user, its files in ``config_dir`` (skips without root)."""
    require_sshd()
    return _sshd.start_sshd(config_dir, user_prefix="ckt_")


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "", fmt: str | None = None,
           bits: int | None = None) -> Path:
    """Generate a key pair with ssh-keygen at ``path`` (and ``path.pub``)."""
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "cloudkit-test", "-f", str(path)]
    if fmt:
        args += ["-m", fmt]
    if bits:
        args += ["-b", str(bits)]
    _sshd._check(*args)
    return path


def ssh_with_key(server: SSHServer, key: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` through the real OpenSSH client, logging in to ``server`` with ``key`` only."""
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", str(key), "-p", str(server.port),
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
         "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no", "-o", "LogLevel=ERROR",
         f"{server.user}@{server.host}", command],
        capture_output=True, text=True, timeout=20, check=False)


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
