"""The DigitalOcean parser's inline fast paths give what its checked helpers give: gateway
placeholders in any spelling, netmask types, the embedded size and image memo inline in
``_to_node``, and a listing without repeated droplets returned as built."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cloudkit import paging
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "digitalocean" / "GET_v2_droplets_page1.json"


def droplet() -> dict[str, Any]:
    item: dict[str, Any] = json.loads(FIXTURE.read_text())["droplets"][0]
    return item


def with_network(**fields: Any) -> dict[str, Any]:
    item = droplet()
    net = {"ip_address": "159.203.77.14", "netmask": "255.255.240.0", "gateway": "159.203.64.1", "type": "public"}
    net.update(fields)
    item["networks"] = {"v4": [net], "v6": []}
    return item


@pytest.mark.parametrize(("gateway", "expected"), [
    ("159.203.64.1", "159.203.64.1"),
    ("2604:a880:800:14::1", "2604:a880:800:14::1"),
    ("fe80::1", "fe80::1"),
    ("<nil>", None), ("nil", None), (" NIL ", None), ("null", None), ("None", None), ("", None),
    ("  ", None), (None, None), (7, None), (["x"], None),
])
def test_gateway_placeholders_in_any_spelling(gateway: Any, expected: str | None) -> None:
    node = DigitalOceanNodeDriver("token")._to_node(with_network(gateway=gateway))
    assert node.extra["addresses"][0]["gateway"] == expected


@pytest.mark.parametrize(("netmask", "expected"), [
    ("255.255.240.0", "255.255.240.0"), (64, 64), (True, None), (1.5, None), (None, None), ({}, None),
])
def test_netmask_types(netmask: Any, expected: Any) -> None:
    node = DigitalOceanNodeDriver("token")._to_node(with_network(netmask=netmask))
    assert node.extra["addresses"][0]["netmask"] == expected
    assert type(node.extra["addresses"][0]["netmask"]) is type(expected)


@pytest.mark.parametrize(("kind", "public", "private"), [
    ("public", ["159.203.77.14"], []), ("private", [], ["159.203.77.14"]),
    (None, ["159.203.77.14"], []), ("other", ["159.203.77.14"], []),
])
def test_address_kind(kind: Any, public: list[str], private: list[str]) -> None:
    node = DigitalOceanNodeDriver("token")._to_node(with_network(type=kind))
    assert node.public_ips == public and node.private_ips == private


def test_inline_memo_hits_give_fresh_equal_models() -> None:
    driver = DigitalOceanNodeDriver("token")
    first = driver._to_node(droplet())
    again = driver._to_node(droplet())
    cold = DigitalOceanNodeDriver("token")._to_node(droplet())
    for a, b in ((first, again), (first, cold)):
        assert a.size is not None and b.size is not None and a.image is not None and b.image is not None
        assert (a.size.id, a.size.ram, a.size.price, a.size.extra) == (b.size.id, b.size.ram, b.size.price,
                                                                     b.size.extra)
        assert (a.image.id, a.image.name, a.image.extra) == (b.image.id, b.image.name, b.image.extra)
    assert again.size is not first.size and again.image is not first.image
    assert again.size is not None and first.size is not None
    assert again.size.driver is driver and again.size.extra["regions"] is not first.size.extra["regions"]


def test_missing_or_odd_embedded_objects_fall_back_as_before() -> None:
    driver = DigitalOceanNodeDriver("token")
    driver._to_node(droplet())  # fills the memo
    for value in (None, {}, [], "s-1vcpu-1gb"):
        item = droplet()
        item["image"] = value
        item["size"] = copy.deepcopy(value)
        node = driver._to_node(item)
        assert node.image is None
        assert node.size is not None and node.size.extra.get("partial") is True  # from size_slug


def test_a_listing_item_repeated_on_a_later_page_is_built_once_and_listed_once() -> None:
    driver = DigitalOceanNodeDriver("token")
    page = json.loads(FIXTURE.read_text())["droplets"]
    size = len(page)
    # page 2 repeats page 1's last droplet (pages shift while droplets come and go)
    bodies = {1: {"droplets": page, "meta": {"total": size + 1}},
              2: {"droplets": [page[-1]], "meta": {"total": size + 1}}}
    listed = paging.paginate(bodies.__getitem__, lambda body: body, lambda body: body["droplets"],
                             lambda body, _size: 2, what="droplets", page_size=size,
                             transform=driver._to_node, total_items=lambda body: body["meta"]["total"])
    assert [n.id for n in listed] == [str(item["id"]) for item in page]
