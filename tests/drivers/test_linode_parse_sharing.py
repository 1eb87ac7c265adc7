"""What the Linode parser shares between nodes (immutable values only) and its fast paths:
the figures a type's Linodes repeat are one object, a never-updated Linode's two timestamps
are one datetime, and a lone address lands in the right list; values never change."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cloudkit.drivers.linode import LinodeNodeDriver
from cloudkit.errors import MalformedResponseError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "linode" / "GET_v4_linode_instances_61234501.json"


def instance(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(FIXTURE.read_text())
    body.update(changes)
    return body


def fresh(**changes: Any) -> dict[str, Any]:
    """The instance as a new JSON decode would give it (new int objects for every number)."""
    data: dict[str, Any] = json.loads(json.dumps(instance(**changes)))
    return data


DRIVER = LinodeNodeDriver("token")


def test_repeated_figures_are_one_object_and_keep_their_values() -> None:
    a, b = DRIVER._to_node(fresh()), DRIVER._to_node(fresh(id=61234599))
    for node in (a, b):
        assert node.extra["specs"] == {"disk": 81920, "gpus": 0, "memory": 4096, "transfer": 4000, "vcpus": 2}
        assert node.extra["alerts"] == {"cpu": 180, "io": 10000, "network_in": 10, "network_out": 10,
                                        "transfer_quota": 80}
        assert node.size is not None
        assert (node.size.ram, node.size.disk, node.size.bandwidth, node.size.vcpus) == (4096, 80, 4000.0, 2)
        assert type(node.size.bandwidth) is float
    assert a.extra["specs"]["disk"] is b.extra["specs"]["disk"]
    assert a.extra["alerts"]["io"] is b.extra["alerts"]["io"]
    assert a.size is not None and b.size is not None and a.size.bandwidth is b.size.bandwidth
    # Containers are still each node's own.
    assert a.extra["specs"] is not b.extra["specs"] and a.size is not b.size
    assert a.size.extra is not b.size.extra and a.extra is not b.extra


def test_a_never_updated_linode_shares_one_datetime() -> None:
    same = DRIVER._to_node(fresh(updated="2024-03-11T09:15:42"))
    assert same.created_at == dt.datetime(2024, 3, 11, 9, 15, 42, tzinfo=dt.UTC)
    assert same.extra["updated"] is same.created_at
    later = DRIVER._to_node(fresh())
    assert later.extra["updated"] == dt.datetime(2024, 10, 21, 7, 0, 12, tzinfo=dt.UTC)
    assert later.created_at == dt.datetime(2024, 3, 11, 9, 15, 42, tzinfo=dt.UTC)
    missing = DRIVER._to_node(fresh(updated=None))
    assert missing.extra["updated"] is None and missing.created_at is not None


@pytest.mark.parametrize(("ipv4", "public", "private"), [
    (["45.79.141.20"], ["45.79.141.20"], []),
    (["192.168.139.17"], [], ["192.168.139.17"]),
    (["192.168.139.17/17"], [], ["192.168.139.17"]),
    (["45.79.141.20/24"], ["45.79.141.20"], []),
    (["45.79.141.20", "192.168.139.17", "10.0.0.2"], ["45.79.141.20"], ["192.168.139.17", "10.0.0.2"]),
    ([], [], []),
    (None, [], []),
])
def test_addresses_are_split_into_public_and_private(ipv4: Any, public: list[str], private: list[str]) -> None:
    node = DRIVER._to_node(fresh(ipv4=ipv4))
    assert node.public_ips == public and node.private_ips == private
    other = DRIVER._to_node(fresh(ipv4=ipv4))
    assert other.public_ips is not node.public_ips and other.private_ips is not node.private_ips


@pytest.mark.parametrize("changes", [
    {"ipv4": ["45.79.141.20", 7]},
    {"ipv4": [7]},
    {"ipv4": "45.79.141.20"},
    {"specs": {"memory": True, "disk": 1, "transfer": 1, "vcpus": 1, "gpus": 0}},
    {"specs": {"memory": 1, "disk": 1, "transfer": "lots", "vcpus": 1, "gpus": 0}},
    {"specs": {"memory": 1, "disk": 1, "transfer": 10**400, "vcpus": 1, "gpus": 0}},
    {"specs": []},
    {"type": 5},
    {"image": ["linode/debian12"]},
    {"status": None},
    {"label": 7},
    {"id": True},
    {"tags": ["a", 1]},
])
def test_odd_values_are_still_malformed(changes: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        DRIVER._to_node(fresh(**changes))


def test_an_odd_region_counts_as_absent() -> None:
    # Issue 17's one rule: a field only copied into ``extra`` (the region) is informational, so a
    # value of another type counts as absent; it raised before, when Linode had its own readers.
    node = DRIVER._to_node(fresh(region=3))
    assert node.extra["location"] is None and node.id == "61234501"


def test_the_fast_paths_give_what_the_checked_paths_give() -> None:
    base = fresh()
    # Exact JSON types take the inline path; equal values of other accepted types (floats for
    # counts) take the helpers' path: both give the same node.
    odd = copy.deepcopy(base)
    odd["specs"] = {"disk": 81920.0, "gpus": 0, "memory": 4096.0, "transfer": 4000.0, "vcpus": 2.0}
    a, b = DRIVER._to_node(base), DRIVER._to_node(odd)
    assert a.size is not None and b.size is not None
    assert (a.size.ram, a.size.disk, a.size.bandwidth, a.size.vcpus) == (b.size.ram, b.size.disk,
                                                                         b.size.bandwidth, b.size.vcpus)
    assert type(b.size.ram) is int and type(b.size.vcpus) is int
    assert (a.id, a.name, a.state, a.public_ips, a.private_ips, a.tags) == (
        b.id, b.name, b.state, b.public_ips, b.private_ips, b.tags)
