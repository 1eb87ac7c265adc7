"""``cloudkit providers``, the capability matrix, and the README's copy of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit import Provider, get_driver, known_providers, register_driver, unregister_driver
from cloudkit.capabilities import (
    CORE_CAPABILITIES,
    END_MARKER,
    START_MARKER,
    capability_matrix,
    readme_section,
    render_markdown_table,
    update_readme,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_capability_table_is_fresh() -> None:
    section = readme_section(README.read_text(encoding="utf-8"))
    assert section is not None, f"README.md lacks the {START_MARKER} ... {END_MARKER} section"
    assert section == render_markdown_table(), (
        "the capability table in README.md is stale: run python -m cloudkit.capabilities --write README.md")


def test_matrix_has_every_builtin_driver_and_agrees_with_supports() -> None:
    rows = capability_matrix()
    assert [r.provider for r in rows] == [p.value for p in Provider if p is not Provider.DUMMY] + ["dummy"]
    columns = list(rows[0].capabilities)
    assert columns[:len(CORE_CAPABILITIES)] == list(CORE_CAPABILITIES)
    for row in rows:
        assert list(row.capabilities) == columns
        cls = get_driver(row.provider)
        assert row.name == cls.name
        assert row.create_auth == tuple(cls.features.get("create_node", []))
        for cap, cell in row.capabilities.items():
            has_method = callable(getattr(cls, cap, None))
            if not has_method:
                assert not cell.supported, (row.provider, cap)
            if not cell.supported:
                assert cell.reason, (row.provider, cap)
            if cap in cls.UNSUPPORTED:
                assert not cell.supported and cell.declared, (row.provider, cap)


def test_providers_command(cli: CliRunner) -> None:
    rows = cli.ok("providers", "-o", "json").json()
    assert [r["provider"] for r in rows] == [r.provider for r in capability_matrix()]
    digitalocean = rows[0]
    assert digitalocean["capabilities"]["create_node"] == {"supported": True, "reason": ""}
    assert "ssh_key" in digitalocean["create_auth"]
    table = cli.ok("providers").out.splitlines()
    assert table[0].split()[0] == "CAPABILITY" and "DIGITALOCEAN" in table[0]
    assert any(line.startswith("create_node") for line in table)
    assert cli.ok("providers", "--markdown").out == render_markdown_table()


def test_providers_needs_no_credentials(bare_cli: CliRunner) -> None:
    assert bare_cli.ok("providers", "-o", "json").json()


def test_update_readme_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{START_MARKER}\nold table\n{END_MARKER}\n\nafter\n")
    assert update_readme(readme) is True
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n\n") and text.endswith(f"{END_MARKER}\n\nafter\n")
    assert readme_section(text) == render_markdown_table()
    assert update_readme(readme) is False


def _plugin_module(root: Path, module: str, classname: str, name: str) -> None:
    (root / f"{module}.py").write_text(
        "from cloudkit.drivers.dummy import DummyNodeDriver\n\n\n"
        f"class {classname}(DummyNodeDriver):\n"
        f"    name = {name!r}\n"
        f"    type = {module!r}\n")


def _entry_point(root: Path, dist: str, line: str) -> None:
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[cloudkit.drivers]\n{line}\n")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One driver registered in-process (register_driver), one installed with an entry point,
    and one entry point whose module does not exist."""
    _plugin_module(tmp_path, "inhouse_cloud", "InhouseNodeDriver", "Inhouse")
    _plugin_module(tmp_path, "acme_cli_plugin", "AcmeNodeDriver", "Acme")
    _entry_point(tmp_path, "acme_cli_plugin", "acme = acme_cli_plugin:AcmeNodeDriver")
    _entry_point(tmp_path, "broken_cli_plugin", "broken = no_such_module_here:Nothing")
    monkeypatch.syspath_prepend(str(tmp_path))
    register_driver("inhouse", "inhouse_cloud", "InhouseNodeDriver")
    try:
        yield
    finally:
        unregister_driver("inhouse")


def test_providers_lists_plugin_drivers_after_the_builtin_ones(bare_cli: CliRunner, plugins: None) -> None:
    result = bare_cli.ok("providers", "-o", "json")
    names = [r["provider"] for r in result.json()]
    builtin = [r.provider for r in capability_matrix()]
    assert names == [*builtin, "acme", "inhouse"]
    acme = result.json()[len(builtin)]
    assert acme["name"] == "Acme" and acme["capabilities"]["create_node"]["supported"] is True
    # the plugin that cannot be imported is named on stderr, and the others are still listed
    assert "plugin driver 'broken' left out" in result.err and "no_such_module_here" in result.err
    table = bare_cli.ok("providers").out.splitlines()
    assert "ACME" in table[0] and "INHOUSE" in table[0] and "DIGITALOCEAN" in table[0]
    assert "| Acme | Inhouse |" in bare_cli.ok("providers", "--markdown").out.splitlines()[0]
    one = bare_cli.ok("providers", "--provider", "acme", "-o", "json").json()
    assert [r["provider"] for r in one] == ["acme"]


def test_providers_of_an_unknown_name_lists_the_plugins_too(bare_cli: CliRunner, plugins: None) -> None:
    result = bare_cli.run("providers", "--provider", "aws")
    assert result.code == 2 and result.out == ""
    assert result.err_lines == [f"cloudkit: error: unknown provider 'aws' (known: {', '.join(known_providers())})"]
    assert "acme" in result.err and "inhouse" in result.err and "digitalocean" in result.err
