"""``cloudkit nodes ...`` against the simulated DigitalOcean account, JSON output parsed."""

from __future__ import annotations

import time
from collections.abc import Callable

from _cli_support import CliRunner, Terminal

from cloudkit.testing.simulator import Simulator

CREATE = ("nodes", "create", "--size", "s-1vcpu-1gb", "--image", "ubuntu-24-04-x64", "--location", "nyc1")


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Power actions finish a moment after the API accepted them (as on the real cloud)."""
    ends = time.monotonic() + seconds
    while not check():
        if time.monotonic() > ends:
            return False
        time.sleep(0.02)
    return True


def _create(cli: CliRunner, name: str, *extra: str) -> dict:
    result = cli.ok(*CREATE[:2], name, *CREATE[2:], *extra, "-o", "json")
    node = result.json()
    assert node["name"] == name
    return node


def test_node_lifecycle_with_json_output(cli: CliRunner, sim: Simulator) -> None:
    node = _create(cli, "web-1", "--wait", "--tag", "web")
    assert node["state"] == "running"
    assert node["public_ips"] == ["127.0.0.1"]
    assert node["tags"] == ["web"]
    assert node["provider"] == "digitalocean"
    assert {"id", "name", "state", "public_ips", "private_ips", "size", "image", "created_at"} <= set(node)
    assert "stop_node" in node["actions"] and "start_node" not in node["actions"]

    other = _create(cli, "db-1")
    listed = cli.ok("nodes", "list", "--output", "json").json()
    assert {n["id"] for n in listed} == {node["id"], other["id"]}
    assert [n["name"] for n in cli.ok("nodes", "list", "--tag", "web", "-o", "json").json()] == ["web-1"]

    shown = cli.ok("nodes", "show", "web-1", "-o", "json").json()  # by name
    assert shown["id"] == node["id"]
    assert cli.ok("-o", "json", "nodes", "show", node["id"]).json()["name"] == "web-1"  # by id, option first

    stopped = cli.ok("nodes", "stop", "web-1", "-o", "json").json()
    assert stopped == [{"id": node["id"], "name": "web-1", "action": "stop", "ok": True, "error": None}]
    assert _eventually(lambda: sim.node_status(node["id"]) == "off")
    assert cli.ok("nodes", "start", node["id"], "-o", "json").json()[0]["ok"] is True
    assert _eventually(lambda: sim.node_status(node["id"]) == "active")

    destroyed = cli.ok("nodes", "destroy", "web-1", "db-1", "--yes", "-o", "json").json()
    assert [d["ok"] for d in destroyed] == [True, True]
    assert sim.node_count() == 0


def test_table_output_is_readable(cli: CliRunner) -> None:
    _create(cli, "web-1", "--wait")
    table = cli.ok("nodes", "list").out.splitlines()
    assert table[0].split()[:3] == ["ID", "NAME", "STATE"]
    assert "web-1" in table[1] and "running" in table[1] and "127.0.0.1" in table[1]
    shown = cli.ok("nodes", "show", "web-1").out
    assert "allowed actions:" in shown and "reboot_node" in shown
    assert cli.ok("nodes", "reboot", "web-1").out.startswith("rebooted web-1 (")


def test_create_wait_shows_progress_on_stderr(cli: CliRunner) -> None:
    result = cli.ok(*CREATE[:2], "web-1", *CREATE[2:], "--wait", "-o", "json")
    assert result.json()["state"] == "running"  # stdout is only the JSON
    assert "waiting for web-1" in result.err and "done in" in result.err


def test_an_action_the_state_forbids_is_refused_before_any_request(cli: CliRunner, sim: Simulator) -> None:
    node = _create(cli, "web-1", "--wait")
    sim.reset_requests()
    result = cli.run("nodes", "start", "web-1")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "start_node is not allowed" in result.err and "--force" in result.err
    assert not [r for r in sim.requests if r.method == "POST"]
    assert sim.node_status(node["id"]) == "active"


def test_destroy_asks_and_refuses_without_a_terminal(cli: CliRunner, sim: Simulator) -> None:
    _create(cli, "web-1")
    refused = cli.run("nodes", "destroy", "web-1")
    assert refused.code == 2
    assert "--yes" in refused.err and len(refused.err_lines) == 1
    declined = cli.run("nodes", "destroy", "web-1", stdin=Terminal("no\n"))
    assert declined.code == 1 and "nothing was destroyed" in declined.err
    assert sim.node_count() == 1
    accepted = cli.run("nodes", "destroy", "web-1", stdin=Terminal("yes\n"))
    assert accepted.code == 0, accepted.err
    assert "Destroy 1 node(s)" in accepted.err and "web-1" in accepted.out
    assert sim.node_count() == 0


def test_unknown_and_ambiguous_nodes(cli: CliRunner) -> None:
    missing = cli.run("nodes", "show", "nope")
    assert missing.code == 1 and "no node with id or name 'nope'" in missing.err
    _create(cli, "twin")
    _create(cli, "twin")
    ambiguous = cli.run("nodes", "reboot", "twin")
    assert ambiguous.code == 2 and "several nodes are named 'twin'" in ambiguous.err


def test_several_nodes_report_each_outcome(cli: CliRunner) -> None:
    running = _create(cli, "web-1", "--wait")
    pending = _create(cli, "web-2")  # still booting: stop is not allowed yet
    result = cli.run("nodes", "stop", running["id"], pending["id"], "-o", "json")
    assert result.code == 1
    rows = {r["name"]: r for r in result.json()}
    assert rows["web-1"]["ok"] is True
    assert rows["web-2"]["ok"] is False and "not allowed" in rows["web-2"]["error"]


def test_a_generated_root_password_is_shown_only_when_asked(home: object) -> None:
    with Simulator("linode", boot_seconds=0.1) as linode:
        driver = linode.driver()
        runner = CliRunner({"HOME": str(home), "CLOUDKIT_LINODE_TOKEN": linode.token,
                            "CLOUDKIT_BASE_URL": linode.base_url})
        args = ["--size", driver.list_sizes()[0].id, "--image", driver.list_images()[0].id,
                "--location", driver.list_locations()[0].id, "-o", "json"]
        hidden = runner.ok("nodes", "create", "web-1", *args)
        assert "it is not shown (--show-password prints it once)" in hidden.err
        assert "password" not in hidden.out  # not in the JSON either
        shown = runner.ok("nodes", "create", "web-2", *args, "--show-password")
        line = next(x for x in shown.err_lines if x.startswith("root password of web-2"))
        assert len(line.rsplit(": ", 1)[1]) >= 12
        assert "password" not in shown.out
