"""Broken drivers fail the conformance suite, each with a message that says what to fix.

The suite is run for real: a test module subclassing the suite for each broken driver is
written to a temporary folder and run with ``pytest.main``; the reports are collected and
their failure texts checked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from _kit_toy import TOKEN

MODULE = textwrap.dedent('''
    from _kit_toy import (PlainStateDriver, RepeatPageDriver, SecretReprDriver, ToyConformance,
                          ToyNodeDriver, Unmapped404Driver)

    class TestGood(ToyConformance):
        driver_cls = ToyNodeDriver

    class TestPlainState(ToyConformance):
        driver_cls = PlainStateDriver

    class TestUnmapped404(ToyConformance):
        driver_cls = Unmapped404Driver

    class TestSecretRepr(ToyConformance):
        driver_cls = SecretReprDriver

    class TestRepeatPage(ToyConformance):
        driver_cls = RepeatPageDriver
''')


class _Collect:
    def __init__(self) -> None:
        self.failed: dict[str, str] = {}
        self.passed: set[str] = set()

    def pytest_runtest_logreport(self, report: Any) -> None:
        name = report.nodeid.split("::", 1)[1]
        if report.failed:
            self.failed[name] = report.longreprtext
        elif report.when == "call" and report.passed:
            self.passed.add(name)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> _Collect:
    folder: Path = tmp_path_factory.mktemp("broken")
    module = folder / "test_kit_broken_drivers.py"
    module.write_text(MODULE)
    collect = _Collect()
    code = pytest.main([str(module), "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), "--tb=short",
                        "-o", "addopts="], plugins=[collect])
    assert code == pytest.ExitCode.TESTS_FAILED
    return collect


def failures(outcome: _Collect, cls: str) -> dict[str, str]:
    return {name.split("::", 1)[1]: text for name, text in outcome.failed.items() if name.startswith(cls + "::")}


def test_the_correct_driver_passes_everything(outcome: _Collect) -> None:
    assert failures(outcome, "TestGood") == {}
    assert sum(1 for name in outcome.passed if name.startswith("TestGood::")) >= 25


def test_plain_string_state_is_named_with_the_fix(outcome: _Collect) -> None:
    failed = failures(outcome, "TestPlainState")
    text = failed["test_list_nodes_returns_nodes"]
    assert "state is 'running' (str), not a NodeState" in text
    assert "self._state(provider_status)" in text
    assert "NODE_STATE_MAP['new'] is 'pending' (str), not a NodeState" in failed["test_declarations"]
    assert "map to NodeState members" in failed["test_declarations"]


def test_unmapped_404_returning_empty_list_is_named_with_the_fix(outcome: _Collect) -> None:
    failed = failures(outcome, "TestUnmapped404")
    text = failed["test_error_status_maps_to_cloudkit_error[404]"]
    assert "HTTP 404 on list_nodes() raised nothing and returned []; expected NotFoundError" in text
    assert "let the cloudkit error propagate" in text
    assert set(failed) == {"test_error_status_maps_to_cloudkit_error[404]"}


def test_secret_in_repr_is_named_without_showing_it(outcome: _Collect) -> None:
    failed = failures(outcome, "TestSecretRepr")
    assert set(failed) == {"test_no_secret_in_reprs_logs_or_errors"}
    text = failed["test_no_secret_in_reprs_logs_or_errors"]
    assert "the key given to make_driver() shows repr(driver): '<SecretReprDriver key=<SECRET>>'" in text
    assert "keep credentials out of __repr__" in text
    assert TOKEN not in text


def test_listing_that_repeats_page_one_is_named_with_the_fix(outcome: _Collect) -> None:
    failed = failures(outcome, "TestRepeatPage")
    text = failed["test_list_nodes_returns_every_node_exactly_once"]
    assert "returned node(s) ['101', '102'] more than once" in text
    assert "asked for the same page repeatedly: GET /v1/servers?page=1&per_page=2 (2 times)" in text
    assert "fetch each page once" in text
