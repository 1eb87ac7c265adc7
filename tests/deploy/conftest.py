"""Fixtures for the deploy tests: one real sshd for the session, keys, a provisioning driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.sshd import SshdDummyDriver, SSHServer, keygen, start_sshd


@pytest.fixture(scope="session")
def sshd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    """A running sshd on 127.0.0.1 with its throwaway login user (whole session)."""
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sshd(sshd_server: SSHServer) -> SSHServer:
    """The session's sshd, with the user's home emptied and a fresh password."""
    sshd_server.reset()
    return sshd_server


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for generated client keys."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def login_key(keydir: Path) -> Path:
    """An unencrypted Ed25519 key (OpenSSH format); its public half is ``.pub`` next to it."""
    return keygen(keydir / "login_ed25519")


@pytest.fixture(scope="session")
def user_key(keydir: Path) -> Path:
    """A second Ed25519 key: the one a deployment pushes to authorized_keys."""
    return keygen(keydir / "user_ed25519")


@pytest.fixture
def provider(sshd: SSHServer) -> Callable[..., SshdDummyDriver]:
    """Build a provisioning Dummy driver for the sshd (keyword args go to DummyNodeDriver)."""

    def make(**kwargs: Any) -> SshdDummyDriver:
        return SshdDummyDriver(sshd, **kwargs)

    return make
