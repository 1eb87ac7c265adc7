"""Where credentials come from: environment variables, the config file and its permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit.testing.simulator import Simulator


def _write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


def _accounts(sim: Simulator, default: str | None = None) -> str:
    head = f'default_account = "{default}"\n\n' if default else ""
    return head + (
        '[accounts.sim]\nprovider = "digitalocean"\n'
        f'token = "{sim.token}"\nbase_url = "{sim.base_url}"\n\n'
        '[accounts.broken]\nprovider = "digitalocean"\n'
        f'token = "not-the-token"\nbase_url = "{sim.base_url}"\n'
    )


def test_environment_credentials(cli: CliRunner) -> None:
    checked = cli.ok("accounts", "check", "-o", "json").json()
    assert checked == [{"account": None, "provider": "digitalocean",
                        "source": "environment (CLOUDKIT_DIGITALOCEAN_TOKEN)", "ok": True, "error": None}]
    assert cli.ok("--provider", "digitalocean", "nodes", "list", "-o", "json").json() == []


def test_no_credentials_is_a_usage_error_naming_the_variable(bare_cli: CliRunner) -> None:
    result = bare_cli.run("--provider", "linode", "nodes", "list")
    assert result.code == 2
    assert len(result.err_lines) == 1 and "CLOUDKIT_LINODE_TOKEN" in result.err
    nothing = bare_cli.run("sizes")
    assert nothing.code == 2 and "--provider" in nothing.err and "cloudkit demo" in nothing.err


def test_nephoscale_needs_both_variables(bare_cli: CliRunner) -> None:
    result = bare_cli.run("--provider", "nephoscale", "sizes", env={"CLOUDKIT_NEPHOSCALE_USER": "me"})
    assert result.code == 2 and "CLOUDKIT_NEPHOSCALE_PASSWORD" in result.err


def test_several_providers_in_the_environment_need_a_choice(cli: CliRunner, sim: Simulator) -> None:
    env = {"CLOUDKIT_LINODE_TOKEN": "linode-token-value"}
    result = cli.run("nodes", "list", env=env)
    assert result.code == 2 and "--provider" in result.err
    assert cli.ok("--provider", "digitalocean", "nodes", "list", "-o", "json", env=env).json() == []


def test_unknown_provider_is_a_usage_error(cli: CliRunner) -> None:
    result = cli.run("--provider", "nosuchcloud", "nodes", "list")
    assert result.code == 2
    assert "nosuchcloud" in result.err and len(result.err_lines) == 1


def test_config_file_accounts(bare_cli: CliRunner, sim: Simulator, home: Path) -> None:
    _write_config(home / ".config" / "cloudkit" / "config.toml", _accounts(sim, default="sim"))
    assert bare_cli.ok("nodes", "list", "-o", "json").json() == []  # the default account
    assert bare_cli.ok("--account", "sim", "accounts", "check", "-o", "json").json()[0]["ok"] is True
    bad = bare_cli.run("accounts", "check", "--account", "broken")
    assert bad.code == 1 and "FAILED" in bad.out and "not-the-token" not in bad.out + bad.err
    listed = bare_cli.ok("accounts", "list", "-o", "json").json()
    assert [(a["name"], a["provider"], a["default"]) for a in listed] == [
        ("broken", "digitalocean", False), ("sim", "digitalocean", True)]
    assert all(a["credentials"] == ["token"] for a in listed)
    assert sim.token not in bare_cli.ok("accounts", "list").out
    every = bare_cli.run("accounts", "check", "--all", "-o", "json")
    assert every.code == 1
    assert {r["account"]: r["ok"] for r in every.json()} == {"broken": False, "sim": True}
    unknown = bare_cli.run("--account", "nope", "sizes")
    assert unknown.code == 2 and "no account 'nope'" in unknown.err and "broken, sim" in unknown.err


def test_config_path_from_option_and_environment(bare_cli: CliRunner, sim: Simulator, tmp_path: Path) -> None:
    path = _write_config(tmp_path / "elsewhere.toml", _accounts(sim))
    assert bare_cli.ok("--config", str(path), "--account", "sim", "sizes", "-o", "json").json()
    assert bare_cli.ok("--account", "sim", "sizes", "-o", "json", env={"CLOUDKIT_CONFIG": str(path)}).json()
    missing = bare_cli.run("--config", str(tmp_path / "missing.toml"), "--account", "sim", "sizes")
    assert missing.code == 2 and "does not exist" in missing.err
    several = bare_cli.run("--config", str(path), "sizes")
    assert several.code == 2 and "--account" in several.err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_readable_config_file_with_secrets_is_refused(bare_cli: CliRunner, sim: Simulator, home: Path,
                                                        mode: int) -> None:
    path = _write_config(home / ".config" / "cloudkit" / "config.toml", _accounts(sim, default="sim"), mode)
    result = bare_cli.run("--account", "sim", "nodes", "list")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert f"chmod 600 {path}" in result.err and f"{mode:04o}" in result.err
    assert sim.token not in result.out + result.err
    assert sim.requests == []  # nothing was sent


def test_a_readable_config_file_without_secrets_is_fine(bare_cli: CliRunner, home: Path) -> None:
    _write_config(home / ".config" / "cloudkit" / "config.toml",
                  '[accounts.play]\nprovider = "dummy"\n', 0o644)
    assert bare_cli.ok("--account", "play", "sizes", "-o", "json").json()


def test_bad_config_files_are_usage_errors(bare_cli: CliRunner, tmp_path: Path) -> None:
    cases = {
        "not toml [": "not valid TOML",
        '[accounts.x]\nprovider = "digitalocean"\ntokn = "abc"\n': "unknown field(s) tokn",
        '[accounts.x]\ntoken = "abc"\n': "needs provider",
        'default_account = "y"\n[accounts.x]\nprovider = "dummy"\n': "default_account 'y'",
    }
    for index, (text, message) in enumerate(cases.items()):
        path = _write_config(tmp_path / f"c{index}.toml", text)
        result = bare_cli.run("--config", str(path), "--account", "x", "sizes")
        assert result.code == 2, text
        assert message in result.err, (text, result.err)
        assert "abc" not in result.err


def test_base_url_option_beats_the_environment(bare_cli: CliRunner, sim: Simulator) -> None:
    env = {"CLOUDKIT_DIGITALOCEAN_TOKEN": sim.token, "CLOUDKIT_BASE_URL": "http://127.0.0.1:9"}
    assert bare_cli.ok("--base-url", sim.base_url, "locations", "-o", "json", env=env).json()
