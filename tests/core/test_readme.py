"""The README's Python quickstart runs as written (it uses the in-memory dummy driver)."""

from __future__ import annotations

import re
from pathlib import Path

from cloudkit.driver import NodeDriver

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_quickstart_block_runs() -> None:
    blocks = _python_blocks()
    quickstart = next(b for b in blocks if "get_driver(Provider.DUMMY)" in b)
    namespace: dict[str, object] = {}
    exec(compile(quickstart, "README quickstart", "exec"), namespace)
    driver = namespace["driver"]
    assert isinstance(driver, NodeDriver)
    assert driver.list_nodes() == []  # the quickstart destroyed its node


def test_readme_names_the_install_demo_and_test_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install ".[test]"' in text
    assert "cloudkit demo" in text
    assert "pytest -q" in text


def test_simulator_block_runs() -> None:
    block = next(b for b in _python_blocks() if "simulate(Provider.DIGITAL_OCEAN" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README simulator example", "exec"), namespace)
    assert namespace["node"] is not None
