"""Suite-wide set-up: the tests/ folder is importable (``support.*``), and loggers are quiet."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture
def fixtures_dir() -> Path:
    """The repository's recorded-response folder."""
    return REPO / "fixtures"


@pytest.fixture(autouse=True)
def _cloudkit_logging_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Run every test with cloudkit's loggers at DEBUG, so secret leaks in debug lines are seen."""
    caplog.set_level(logging.DEBUG, logger="cloudkit")


_KNOWN_HOSTS_COUNT = iter(range(1_000_000))


@pytest.fixture(scope="session")
def _known_hosts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("known_hosts")


@pytest.fixture(autouse=True)
def _private_known_hosts(monkeypatch: pytest.MonkeyPatch, _known_hosts_dir: Path) -> None:
    """Each test remembers SSH host keys in its own file (``CLOUDKIT_KNOWN_HOSTS``), never in
    the developer's ~/.config/cloudkit/known_hosts: throwaway sshds reuse ports with new keys."""
    monkeypatch.setenv("CLOUDKIT_KNOWN_HOSTS", str(_known_hosts_dir / f"known_hosts-{next(_KNOWN_HOSTS_COUNT)}"))
