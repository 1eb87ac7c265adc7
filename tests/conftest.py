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
