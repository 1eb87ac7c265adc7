"""``cloudkit providers``, the capability matrix, and the README's copy of it."""

from __future__ import annotations

from pathlib import Path

from _cli_support import CliRunner

from cloudkit import Provider, get_driver
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
