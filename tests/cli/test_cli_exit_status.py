"""One exit-status rule for every command: 2 for input the user can fix (options, arguments,
environment, config file, local files), 1 for provider, network and wait failures; an unknown
provider is named before anything else is looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit import known_providers
from cloudkit.testing.simulator import Simulator


def _unknown_aws() -> str:
    return f"cloudkit: error: unknown provider 'aws' (known: {', '.join(known_providers())})"


def _config(home: Path, text: str) -> Path:
    path = home / ".config" / "cloudkit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("argv", [
    ["--provider", "aws", "nodes", "list"],
    ["nodes", "list", "--provider", "AWS"],
    ["--provider", "aws", "nodes", "create", "web-1", "--size", "s", "--image", "i", "--ssh-key", "/nonexistent"],
    ["--provider", "aws", "--base-url", "not a url", "sizes"],
    ["--provider", "aws", "--account", "nosuch", "keys", "list"],
    ["--provider", "aws", "accounts", "check"],
    ["--provider", "aws", "demo", "--no-ssh"],
    ["--provider", "aws", "providers"],
])
def test_an_unknown_provider_is_named_before_anything_else(bare_cli: CliRunner, argv: list[str]) -> None:
    # no credentials at all, a missing account, a bad URL, an unreadable key: the name comes first
    result = bare_cli.run(*argv)
    assert result.code == 2, result.err
    assert result.err_lines == [_unknown_aws()]
    assert result.out == ""


def test_an_unknown_provider_from_the_environment(bare_cli: CliRunner) -> None:
    for env in ({"CLOUDKIT_PROVIDER": "aws"}, {"CLOUDKIT_PROVIDER": "aws", "CLOUDKIT_AWS_KEY": "k"},
                {"CLOUDKIT_PROVIDER": "aws", "CLOUDKIT_DIGITALOCEAN_TOKEN": "t"}):
        result = bare_cli.run("nodes", "list", env=env)
        assert (result.code, result.err_lines) == (2, [_unknown_aws()]), env


def test_an_unknown_provider_in_the_config_file(bare_cli: CliRunner, home: Path, sim: Simulator) -> None:
    _config(home, 'default_account = "cloud"\n\n[accounts.cloud]\nprovider = "aws"\n\n'  # no credentials
                  f'[accounts.sim]\nprovider = "digitalocean"\ntoken = "{sim.token}"\n'
                  f'base_url = "{sim.base_url}"\n')
    for argv in (["nodes", "list"], ["--account", "cloud", "nodes", "list"], ["accounts", "check", "--all"],
                 ["--account", "cloud", "accounts", "check"]):
        result = bare_cli.run(*argv)
        assert (result.code, result.err_lines, result.out) == (2, [_unknown_aws()], ""), argv
    # the other account still works, and the list shows both without judging them
    assert bare_cli.ok("--account", "sim", "nodes", "list", "-o", "json").json() == []
    listed = bare_cli.ok("accounts", "list", "-o", "json").json()
    assert {a["name"]: a["provider"] for a in listed} == {"cloud": "aws", "sim": "digitalocean"}
