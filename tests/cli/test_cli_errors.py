"""Exit statuses, one-line errors, ``--debug``, and secrets that are never printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _cli_support import CliRunner

from cloudkit.testing.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]


def test_usage_errors_exit_2_with_one_line(cli: CliRunner) -> None:
    for argv in (["frobnicate"], ["nodes"], ["nodes", "create", "x"], ["nodes", "list", "--output", "xml"],
                 ["sizes", "--bogus"]):
        result = cli.run(*argv)
        assert result.code == 2, argv
        assert len(result.err_lines) == 1, (argv, result.err)
        assert result.err.startswith("cloudkit") and "error:" in result.err
        assert result.out == ""


def test_help_and_version_exit_0(cli: CliRunner) -> None:
    helped = cli.run("--help")
    assert helped.code == 0 and "nodes" in helped.out and "demo" in helped.out
    assert cli.run("nodes", "deploy", "--help").code == 0
    version = cli.run("--version")
    assert version.code == 0 and version.out.startswith("cloudkit ")


def test_provider_errors_exit_1_with_one_line(cli: CliRunner, sim: Simulator) -> None:
    result = cli.run("nodes", "list", env={"CLOUDKIT_DIGITALOCEAN_TOKEN": "wrong-token-123"})
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "HTTP 401" in result.err and "CLOUDKIT_DIGITALOCEAN_TOKEN" in result.err
    assert "wrong-token-123" not in result.err
    bad_size = cli.run("nodes", "create", "web-1", "--size", "no-such-size", "--image", "ubuntu-24-04-x64")
    assert bad_size.code == 1 and len(bad_size.err_lines) == 2  # progress line + the error
    assert bad_size.err_lines[-1].startswith("cloudkit: error: ")


def test_a_lost_create_answer_says_what_to_look_for(cli: CliRunner, sim: Simulator) -> None:
    sim.faults.add("drop_after", method="POST", path="/v2/droplets", count=1)
    result = cli.run("nodes", "create", "web-1", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64")
    assert result.code == 1
    assert result.err_lines[-1].startswith("cloudkit: error: ")
    assert "may have been carried out" in result.err_lines[-1] and "'web-1'" in result.err_lines[-1]
    assert sim.node_count() == 1  # it was created, and not a second time


def test_debug_shows_a_traceback_and_requests_but_never_the_token(cli: CliRunner, sim: Simulator) -> None:
    token = sim.token
    fine = cli.ok("--debug", "nodes", "list")
    assert "GET http://127.0.0.1" in fine.err  # DEBUG logging is on
    assert token not in fine.out + fine.err
    failing = cli.run("nodes", "show", "nope", "--debug")
    assert failing.code == 1
    assert "Traceback" in failing.err and "NotFoundError" in failing.err
    assert token not in failing.out + failing.err
    plain = cli.run("nodes", "show", "nope")
    assert "Traceback" not in plain.err


def test_a_secret_is_never_printed_even_when_an_error_carries_it(cli: CliRunner, sim: Simulator) -> None:
    token = sim.token
    # the token as a node name: whatever echoes it back is redacted
    for argv in (["nodes", "show", token], ["--debug", "nodes", "show", token],
                 ["--debug", "-o", "json", "nodes", "create", token, "--size", "s-1vcpu-1gb",
                  "--image", "ubuntu-24-04-x64"]):
        result = cli.run(*argv)
        assert token not in result.out + result.err, argv
        assert "<redacted>" in result.out + result.err, argv


def test_json_output_holds_no_password(cli: CliRunner) -> None:
    from cloudkit._cli.output import safe_extra

    assert safe_extra({"password": "x", "root_pass": "y", "api_key": "z", "nested": {"token": "t", "ok": 1},
                       "private_key": "k", "region": "nyc1"}) == {"nested": {"ok": 1}, "region": "nyc1"}


def test_importing_the_cli_loads_no_driver_http_or_ssh_stack() -> None:
    code = ("import sys, cloudkit.cli; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('requests', 'urllib3', 'paramiko', 'cryptography') or m.startswith('cloudkit.drivers.')]; "
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_new_driver_is_wired_into_the_command(bare_cli: CliRunner, tmp_path: Path) -> None:
    result = bare_cli.ok("new-driver", "acme", "--path", str(tmp_path))
    assert (tmp_path / "cloudkit-acme" / "pyproject.toml").is_file()
    assert "created" in result.out
    assert bare_cli.run("new-driver", "--help").code == 0
