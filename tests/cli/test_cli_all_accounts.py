"""``cloudkit nodes list --all-accounts``: every account of the config file at once; a failing
account is one line on stderr and exit status 1, the others' nodes still printed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit.testing.simulator import Simulator

WRONG = "wrong-token-5b8e1f"


@pytest.fixture
def two_sims() -> Iterator[tuple[Simulator, Simulator]]:
    with Simulator("digitalocean", boot_seconds=0, nodes=3) as do, \
            Simulator("linode", boot_seconds=0, nodes=2) as lin:
        yield do, lin


def _config(home: Path, do: Simulator, lin: Simulator, *, broken: bool = True) -> Path:
    text = (
        f'[accounts.ocean]\nprovider = "digitalocean"\ntoken = "{do.token}"\nbase_url = "{do.base_url}"\n\n'
        f'[accounts.lino]\nprovider = "linode"\ntoken = "{lin.token}"\nbase_url = "{lin.base_url}"\n\n'
    )
    if broken:
        text += f'[accounts.revoked]\nprovider = "digitalocean"\ntoken = "{WRONG}"\nbase_url = "{do.base_url}"\n'
    path = home / ".config" / "cloudkit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_json_lists_every_account_and_reports_the_failing_one(
        bare_cli: CliRunner, home: Path, two_sims: tuple[Simulator, Simulator]) -> None:
    do, lin = two_sims
    _config(home, do, lin)
    result = bare_cli.run("nodes", "list", "--all-accounts", "-o", "json")
    assert result.code == 1
    rows = result.json()
    by_account: dict[str, set[str]] = {}
    for row in rows:
        by_account.setdefault(row["account"], set()).add(row["id"])
        assert {"id", "name", "state", "public_ips"} <= set(row)
    assert by_account == {"ocean": set(do.node_ids()), "lino": set(lin.node_ids())}
    assert len(result.err_lines) == 1
    line = result.err_lines[0]
    assert "revoked" in line and "InvalidCredsError" in line and "401" in line
    assert WRONG not in result.err and WRONG not in result.out
    assert do.token not in result.err + result.out and lin.token not in result.err + result.out


def test_table_has_an_account_column(bare_cli: CliRunner, home: Path,
                                     two_sims: tuple[Simulator, Simulator]) -> None:
    do, lin = two_sims
    _config(home, do, lin)
    result = bare_cli.run("nodes", "list", "--all-accounts")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["ACCOUNT", "ID"]
    accounts = [line.split()[0] for line in lines[1:] if line.strip() and not set(line) <= {"-", " "}]
    assert sorted(accounts) == ["lino"] * 2 + ["ocean"] * 3
    assert len(result.err_lines) == 1 and "account revoked" in result.err


def test_all_accounts_fine_is_exit_zero_and_tag_filters(bare_cli: CliRunner, home: Path,
                                                        two_sims: tuple[Simulator, Simulator]) -> None:
    do, lin = two_sims
    do.seed_nodes(2, tag="web", name_prefix="web")
    _config(home, do, lin, broken=False)
    everything = bare_cli.ok("nodes", "list", "--all-accounts", "-o", "json").json()
    assert len(everything) == 7 and not bare_cli.run("nodes", "list", "--all-accounts").err
    web = bare_cli.ok("nodes", "list", "--all-accounts", "--tag", "web", "-o", "json").json()
    assert [(r["account"], r["name"].startswith("web")) for r in web] == [("ocean", True)] * 2


def test_all_accounts_needs_a_config_and_excludes_account(bare_cli: CliRunner, home: Path,
                                                          two_sims: tuple[Simulator, Simulator]) -> None:
    missing = bare_cli.run("nodes", "list", "--all-accounts")
    assert missing.code == 2 and "does not exist" in missing.err
    path = _config(home, *two_sims)
    path.write_text("# no accounts yet\n")
    none = bare_cli.run("nodes", "list", "--all-accounts")
    assert none.code == 2 and "no accounts" in none.err
    _config(home, *two_sims)
    both = bare_cli.run("--account", "ocean", "nodes", "list", "--all-accounts")
    assert both.code == 2 and "--account" in both.err
