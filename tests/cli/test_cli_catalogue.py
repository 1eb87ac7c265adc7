"""``cloudkit sizes|images|locations`` and ``cloudkit keys ...`` against the simulator."""

from __future__ import annotations

from pathlib import Path

from _cli_support import CliRunner

from cloudkit.sshkeys import fingerprint_md5, generate_key_pair
from cloudkit.testing.simulator import Simulator


def test_sizes_images_locations_as_json(cli: CliRunner, sim: Simulator) -> None:
    driver = sim.driver()
    sizes = cli.ok("sizes", "-o", "json").json()
    assert [s["id"] for s in sizes] == [s.id for s in driver.list_sizes()]
    first = sizes[0]
    assert {"id", "name", "vcpus", "ram", "disk", "price"} <= set(first)
    assert isinstance(first["ram"], int) and isinstance(first["price"], float)
    images = cli.ok("images", "--output", "json").json()
    assert [i["id"] for i in images] == [i.id for i in driver.list_images()]
    locations = cli.ok("locations", "-o", "json").json()
    assert [loc["id"] for loc in locations] == [loc.id for loc in driver.list_locations()]
    assert all(set(loc) >= {"id", "name", "country"} for loc in locations)
    in_nyc1 = cli.ok("sizes", "--location", "nyc1", "-o", "json").json()
    assert {s["id"] for s in in_nyc1} == {s.id for s in driver.list_sizes(location="nyc1")}


def test_catalogue_tables(cli: CliRunner) -> None:
    sizes = cli.ok("sizes").out.splitlines()
    assert sizes[0].split() == ["ID", "NAME", "VCPUS", "RAM", "MB", "DISK", "GB", "PRICE/HOUR", "CURRENCY"]
    assert any("s-1vcpu-1gb" in line for line in sizes[1:])
    assert cli.ok("images").out.splitlines()[0].split() == ["ID", "NAME"]
    assert "nyc1" in cli.ok("locations").out


def test_keys_add_list_delete(cli: CliRunner, tmp_path: Path) -> None:
    _, public = generate_key_pair(comment="me@laptop")
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text(public + "\n")
    added = cli.ok("keys", "add", "laptop", str(pub), "-o", "json").json()
    assert added["name"] == "laptop"
    assert added["fingerprint"] == fingerprint_md5(public)
    listed = cli.ok("keys", "list", "-o", "json").json()
    assert [(k["name"], k["fingerprint"]) for k in listed] == [("laptop", fingerprint_md5(public))]
    assert "laptop" in cli.ok("keys", "list").out

    refused = cli.run("keys", "delete", "laptop")
    assert refused.code == 2 and "--yes" in refused.err
    deleted = cli.ok("keys", "delete", "laptop", "--yes", "-o", "json").json()
    assert deleted["deleted"] is True
    assert cli.ok("keys", "list", "-o", "json").json() == []


def test_keys_add_refuses_a_private_key_without_its_public_half(cli: CliRunner, tmp_path: Path) -> None:
    private, _ = generate_key_pair()
    key = tmp_path / "id_ed25519"
    key.write_text(private)
    result = cli.run("keys", "add", "laptop", str(key))
    assert result.code == 2
    assert "cannot read a public key" in result.err
    assert "PRIVATE" not in result.err and "PRIVATE" not in result.out
