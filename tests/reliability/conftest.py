"""Fixtures the reliability modules share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.sshd import SSHServer, start_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    """A real sshd on 127.0.0.1 of the module's own (its keys are authorised per module)."""
    server = start_sshd(tmp_path_factory.mktemp("rel-sshd"))
    try:
        yield server
    finally:
        server.stop()
