"""``cloudkit volumes``, ``snapshots`` and ``images create`` against the simulated DigitalOcean
account (and the refusal on providers without volumes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _cli_support import CliRunner, Terminal

from cloudkit.testing.simulator import Simulator


def test_volume_lifecycle(cli: CliRunner, sim: Simulator) -> None:
    [node_id] = sim.seed_nodes(1)
    assert cli.ok("volumes", "list").out.strip() == "(no volumes)"
    created = cli.ok("volumes", "create", "data-1", "--size", "10", "--location", "nyc3", "-o", "json").json()
    assert created["size"] == 10 and created["region"] == "nyc3" and created["attached_to"] == []
    out = cli.ok("volumes", "attach", "data-1", node_id).out
    assert f"attached volume data-1 ({created['id']}) to node-1 ({node_id})" in out
    [row] = cli.ok("volumes", "list", "-o", "json").json()
    assert row["attached_to"] == [node_id] and row["state"] == "inuse"
    table = cli.ok("volumes", "list").out.splitlines()
    assert table[0].split() == ["ID", "NAME", "SIZE", "GB", "STATE", "REGION", "ATTACHED", "TO"]
    assert node_id in table[1]

    # destroying an attached volume: refused by the driver (exit 2), unless --detach
    refused = cli.run("volumes", "destroy", "data-1", "--yes")
    assert refused.code == 2 and "attached to droplet" in refused.err
    assert cli.ok("volumes", "detach", created["id"]).out.startswith("detached volume data-1")

    snap = cli.ok("snapshots", "create", "data-1", "nightly", "-o", "json").json()
    assert snap["name"] == "nightly"
    assert [s["id"] for s in cli.ok("snapshots", "list", "data-1", "-o", "json").json()] == [snap["id"]]
    assert "nightly" in cli.ok("snapshots", "list", "data-1").out
    no = cli.run("snapshots", "destroy", snap["id"])  # no terminal to ask on
    assert no.code == 2 and "--yes" in no.err
    cli.ok("snapshots", "destroy", snap["id"], "--yes")
    assert cli.ok("snapshots", "list", "data-1").out.strip() == "(no snapshots)"

    cli.ok("volumes", "attach", "data-1", "node-1", "--no-wait")
    for _ in range(200):  # the attach completes after action_seconds (bounded: 200 short polls)
        if cli.ok("volumes", "list", "-o", "json").json()[0]["attached_to"]:
            break
        time.sleep(0.02)
    declined = cli.run("volumes", "destroy", "data-1", "--detach", stdin=Terminal("no\n"))
    assert declined.code == 1 and "nothing was destroyed" in declined.err
    cli.ok("volumes", "destroy", "data-1", "--detach", stdin=Terminal("yes\n"))
    assert cli.ok("volumes", "list", "-o", "json").json() == []


def test_cross_region_attach_is_exit_2_with_no_request(cli: CliRunner, sim: Simulator) -> None:
    sim.seed_nodes(1, region="sfo3", name_prefix="far")
    cli.ok("volumes", "create", "data-1", "--size", "10", "--location", "nyc3")
    before = len(sim.requests)
    result = cli.run("volumes", "attach", "data-1", "far-1")
    assert result.code == 2 and "region nyc3" in result.err and "sfo3" in result.err
    assert all(r.method == "GET" for r in sim.requests[before:])  # only the listings that find them
    assert [line for line in result.err_lines if line.startswith("cloudkit: error")] == [result.err_lines[-1]]


def test_images_create_and_list(cli: CliRunner, sim: Simulator) -> None:
    sim.seed_nodes(1)
    image = cli.ok("images", "create", "node-1", "golden", "-o", "json").json()
    assert image["name"] == "golden" and image["id"]
    assert "golden" in cli.ok("images").out  # the plain listing still works
    pending = cli.ok("images", "create", "node-1", "golden-2", "--no-wait")
    assert "not waited for" in pending.out


def test_control_characters_are_escaped_and_json_has_no_token(cli: CliRunner, sim: Simulator) -> None:
    with sim.api.lock:
        sim.seed_nodes(1)
    cli.ok("volumes", "create", "data-1", "--size", "10", "--location", "nyc3")
    with sim.api.lock:
        volume = next(iter(sim.api.volumes.values()))  # type: ignore[attr-defined]  # the DigitalOcean simulator's API
        volume["description"] = "evil\x1b[2Jtext"
        volume["name"] = "data-1\x1b[31m"
    table = cli.ok("volumes", "list").out
    assert "\x1b" not in table and "\\x1b[31m" in table
    out = cli.ok("volumes", "list", "-o", "json").out
    assert sim.token not in out and "\x1b" not in out


def test_bad_input_is_exit_2(cli: CliRunner) -> None:
    assert cli.run("volumes", "create", "data-1", "--size", "ten").code == 2
    missing = cli.run("volumes", "create", "data-1", "--size", "10")
    assert missing.code == 2 and "--location" in missing.err
    gone = cli.run("volumes", "detach", "nope")
    assert gone.code == 1 and "no volume with id or name 'nope'" in gone.err


def test_provider_failure_is_exit_1(cli: CliRunner, sim: Simulator) -> None:
    sim.faults.queue("500", "500", "500", "500", "500", "500")
    result = cli.run("volumes", "list")
    assert result.code == 1 and len(result.err_lines) == 1


@pytest.mark.parametrize("provider", ["hostvirtual", "nephoscale", "hetzner", "vultr"])
def test_providers_without_volumes_say_so(provider: str, home: Path) -> None:
    cli = CliRunner({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "CLOUDKIT_PROVIDER": provider,
                     "CLOUDKIT_BASE_URL": "http://127.0.0.1:9", **{
                         f"CLOUDKIT_{provider.upper()}_{name}": "placeholder-credential-1234"
                         for name in ("TOKEN", "KEY", "USER", "PASSWORD", "SECRET", "API_KEY")}})
    for argv in (("volumes", "list"), ("volumes", "create", "v", "--size", "10", "--location", "x"),
                 ("snapshots", "list", "v"), ("images", "create", "n", "img")):
        result = cli.run(*argv)
        assert result.code == 2, (argv, result.err)
        assert len(result.err_lines) == 1 and "cannot" in result.err and "not implemented" in result.err
