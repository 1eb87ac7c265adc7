"""The DigitalOcean driver reuses its parse of the size and image every droplet embeds
(``_embedded_model``): the result must be exactly what a fresh parse gives, and no two
nodes may share a model or a list inside one."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.errors import MalformedResponseError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "digitalocean" / "GET_v2_droplets_page1.json"


def droplets() -> list[dict[str, Any]]:
    return json.loads(FIXTURE.read_text())["droplets"]


def snapshot(node: Any) -> tuple[Any, ...]:
    def model(m: Any) -> Any:
        if m is None:
            return None
        return (type(m).__name__, m.id, m.name, getattr(m, "ram", None), getattr(m, "disk", None),
                getattr(m, "bandwidth", None), getattr(m, "price", None), getattr(m, "vcpus", None),
                repr(m.extra))

    return (node.id, node.name, node.state, node.public_ips, node.private_ips, model(node.size),
            model(node.image), node.created_at, repr(node.extra), node.tags)


def fresh(driver: DigitalOceanNodeDriver, item: Any) -> Any:
    driver._embedded_memo.clear()
    return driver._to_node(item)


def outcome(fn: Any, item: Any) -> Any:
    try:
        return ("node", snapshot(fn(item)))
    except MalformedResponseError as exc:
        return ("error", str(exc))


def test_a_remembered_parse_equals_a_fresh_one() -> None:
    warm = DigitalOceanNodeDriver("token")
    cold = DigitalOceanNodeDriver("token")
    items = droplets() * 3
    assert [snapshot(warm._to_node(i)) for i in items] == [snapshot(fresh(cold, i)) for i in items]
    assert warm._embedded_memo  # the memo was used


def test_nodes_never_share_models_or_their_lists() -> None:
    driver = DigitalOceanNodeDriver("token")
    item = droplets()[0]
    a, b = driver._to_node(item), driver._to_node(copy.deepcopy(item))
    assert a.size is not None and b.size is not None and a.image is not None and b.image is not None
    assert a.size is not b.size and a.image is not b.image
    assert a.size.extra is not b.size.extra and a.image.extra is not b.image.extra
    a.size.extra["regions"].append("mars1")
    a.image.extra["tags"].append("mine")
    c = driver._to_node(copy.deepcopy(item))
    assert "mars1" not in b.size.extra["regions"] and "mars1" not in c.size.extra["regions"]
    assert "mine" not in c.image.extra["tags"]


def test_values_equal_under_eq_but_of_another_json_type_are_parsed_again() -> None:
    driver = DigitalOceanNodeDriver("token")
    item = droplets()[0]
    first = driver._to_node(item)
    assert first.size is not None and first.size.vcpus == 1
    odd = copy.deepcopy(item)
    odd["size"]["vcpus"] = True  # == 1, but not a count of CPUs
    odd["size"]["available"] = 1  # == True, but not a boolean
    second = driver._to_node(odd)
    assert second.size is not None
    assert second.size.vcpus is None and second.size.extra["available"] is None
    assert snapshot(second) == snapshot(fresh(DigitalOceanNodeDriver("token"), odd))


def test_a_changed_size_under_the_same_slug_is_parsed_again() -> None:
    driver = DigitalOceanNodeDriver("token")
    item = droplets()[0]
    driver._to_node(item)
    cheaper = copy.deepcopy(item)
    cheaper["size"]["price_hourly"] = 0.001
    node = driver._to_node(cheaper)
    assert node.size is not None and node.size.price == 0.001


_ODD = [None, True, False, 0, 1, 1.0, 2.5, "", "x", "1", [], {}, ["a", 1], {"a": 1}, float("nan")]


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict):
        out = dict(value)
        for key in list(out):
            roll = rng.random()
            if roll < 0.05:
                del out[key]
            elif roll < 0.12:
                out[key] = rng.choice(_ODD)
            elif roll < 0.5 and depth < 3 and isinstance(out[key], (dict, list)):
                out[key] = _mutate(rng, out[key], depth + 1)
        return out
    if isinstance(value, list):
        out_list = [_mutate(rng, v, depth + 1) if isinstance(v, (dict, list)) else v for v in value]
        if out_list and rng.random() < 0.1:
            out_list[rng.randrange(len(out_list))] = rng.choice(_ODD)
        return out_list
    return value


def test_mutated_bodies_parse_the_same_with_and_without_the_memo() -> None:
    rng = random.Random(9)
    base = droplets()
    warm = DigitalOceanNodeDriver("token")
    cold = DigitalOceanNodeDriver("token")
    for _ in range(3000):
        item = _mutate(rng, rng.choice(base)) if rng.random() < 0.8 else copy.deepcopy(rng.choice(base))
        assert outcome(warm._to_node, item) == outcome(lambda i: fresh(cold, i), item), json.dumps(item)[:400]
