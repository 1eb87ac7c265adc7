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


# --------------------------------------------------------------------- the rule, command by command

SIZE, IMAGE = "s-1vcpu-1gb", "ubuntu-24-04-x64"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """A usable login key, a malformed public key, a directory where a file belongs, a missing path."""
    from cloudkit.sshkeys import generate_key_pair

    private, public = generate_key_pair(comment="exit-status")
    key = tmp_path / "id_ed25519"
    key.write_text(private)
    key.chmod(0o600)
    key.with_name("id_ed25519.pub").write_text(public + "\n")
    bad_pub = tmp_path / "bad.pub"
    bad_pub.write_text("ssh-ed25519 not-base64-at-all!!\n")
    not_a_key = tmp_path / "not-a-key"
    not_a_key.write_text("hello\n")
    return {"key": str(key), "pub": str(key) + ".pub", "bad_pub": str(bad_pub), "dir": str(tmp_path),
            "missing": str(tmp_path / "missing"), "not_a_key": str(not_a_key)}


def _usage_cases(f: dict[str, str]) -> list[list[str]]:
    create = ["nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE]
    deploy = ["nodes", "deploy", "web-1", "--size", SIZE, "--image", IMAGE]
    return [
        ["providers", "--bogus"],
        ["--base-url", "ftp://example.invalid", "nodes", "list"],             # bad base URL
        ["--base-url", "not a url", "sizes"],
        ["nodes", "list", "--output", "xml"],                                  # bad option value
        ["nodes", "show"],                                                     # missing argument
        [*create, "--ssh-key", f["missing"]],                                  # unreadable key file
        [*create, "--ssh-key", f["bad_pub"]],                                  # unusable key file
        [*create, "--wait", "--timeout", "-5"],                                # bad number
        [*deploy, "--ssh-key", f["missing"], "--run", "true"],
        [*deploy, "--ssh-key", f["not_a_key"], "--run", "true"],
        [*deploy, "--ssh-key", f["key"], "--script", f["missing"]],            # unreadable script
        [*deploy, "--ssh-key", f["key"], "--push-key", f["dir"]],
        [*deploy, "--ssh-key", f["key"], "--run", "true", "--port", "70000"],
        [*deploy, "--ssh-key", f["key"]],                                      # nothing to deploy
        ["nodes", "reboot"],
        ["nodes", "stop", "web-1", "--force=yes"],
        ["nodes", "destroy", "web-1"],                                         # no terminal to confirm on
        ["sizes", "--bogus"],
        ["images", "--location"],
        ["locations", "extra"],
        ["keys", "add", "k", f["missing"]],
        ["keys", "add", "k", f["bad_pub"]],
        ["keys", "delete"],
        ["probe", "web-1", "--ssh-key", f["missing"]],
        ["probe", "web-1", "--timeout", "0"],
        ["run", "true", "--nodes", "web-1", "--ssh-key", f["missing"]],
        ["run", "true", "--nodes", "web-1", "--parallel", "0"],
        ["run", "true"],                                                       # no target
        ["--config", f["missing"], "accounts", "list"],                       # config file named, absent
        ["--account", "nosuch", "accounts", "check"],
        ["demo", "--boot-seconds", "soon"],
        ["record", "--provider", "aws", "--out", f["dir"] + "/rec"],
    ]


def test_input_the_user_can_fix_exits_2_and_sends_nothing_billable(cli: CliRunner, sim: Simulator,
                                                                   files: dict[str, str]) -> None:
    cli.ok("nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE, "--wait")
    for argv in _usage_cases(files):
        result = cli.run(*argv)
        assert result.code == 2, (argv, result.err)
        one_line = argv[0] != "record"  # record runs several commands, each saying why it failed
        assert "error: " in result.err and (len(result.err_lines) == 1 or not one_line), (argv, result.err)
        assert sim.node_count() == 1, argv  # nothing was created by a refused command


def test_a_bad_account_base_url_in_accounts_check_all_is_the_users_to_fix(cli: CliRunner, home: Path,
                                                                          sim: Simulator) -> None:
    _config(home, f'[accounts.ok]\nprovider = "digitalocean"\ntoken = "{sim.token}"\nbase_url = "{sim.base_url}"\n'
                  '\n[accounts.typo]\nprovider = "digitalocean"\ntoken = "t"\nbase_url = "htp:/127.0.0.1"\n')
    result = cli.run("accounts", "check", "--all", "-o", "json")
    assert result.code == 2
    rows = {r["account"]: r for r in result.json()}
    assert rows["ok"]["ok"] is True and "base_url must look like" in rows["typo"]["error"]


def test_provider_network_and_wait_failures_exit_1(cli: CliRunner, sim: Simulator, files: dict[str, str]) -> None:
    from cloudkit.testing.sshd import free_port

    closed = str(free_port())
    cli.ok("nodes", "create", "web-1", "--size", SIZE, "--image", IMAGE, "--wait")
    wrong_token = {"CLOUDKIT_DIGITALOCEAN_TOKEN": "wrong-token"}
    ssh = ["--ssh-key", files["key"], "--port", closed]
    cases: list[tuple[list[str], dict[str, str] | None]] = [
        (["nodes", "list"], wrong_token),                                              # 401
        (["nodes", "show", "nope"], None),                                             # not on the account
        (["nodes", "create", "web-2", "--size", "no-such-size", "--image", IMAGE], None),  # the provider's 422
        (["nodes", "create", "web-3", "--size", SIZE, "--image", IMAGE, "--wait", "--timeout", "0.001"], None),
        (["nodes", "deploy", "web-4", "--size", SIZE, "--image", IMAGE, *ssh, "--run", "true",
          "--timeout", "2", "--destroy-on-failure"], None),                            # SSH never answers
        (["nodes", "reboot", "nope"], None),
        (["nodes", "destroy", "nope", "--yes"], None),
        (["sizes"], wrong_token),
        (["images"], wrong_token),
        (["locations"], wrong_token),
        (["keys", "list"], wrong_token),
        (["keys", "delete", "nope", "--yes"], None),
        (["probe", "web-1", *ssh, "--timeout", "1"], None),
        (["run", "true", "--nodes", "web-1", *ssh, "--connect-timeout", "1"], None),
        (["accounts", "check"], wrong_token),
    ]
    for argv, env in cases:
        result = cli.run(*argv, env=env)
        assert result.code == 1, (argv, result.err)
        if argv[0] not in ("probe", "accounts"):  # those two print their verdict as their output
            assert result.err_lines[-1].startswith("cloudkit: error: "), argv
    sim.faults.add("drop_after", method="POST", path="/v2/droplets", count=1)       # the answer is lost
    assert cli.run("nodes", "create", "web-5", "--size", SIZE, "--image", IMAGE).code == 1


def test_a_network_failure_exits_1(cli: CliRunner) -> None:
    from cloudkit.testing.sshd import free_port

    result = cli.run("nodes", "list", "--base-url", f"http://127.0.0.1:{free_port()}")
    assert result.code == 1 and "Connection refused" in result.err
