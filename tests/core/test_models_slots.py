"""The models are slotted dataclasses: no per-instance __dict__, no ad-hoc attributes, and
everything a user does with them (fields, replace, copy, pickle, driver methods) still works."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.models import (
    KeyPair,
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
)

MODELS = [
    Node(7, "web", "running", ["203.0.113.7"], [], extra={"k": 1}, tags=["a"]),
    NodeSize(1, "small", 1024, 25, 1.0, 0.01, vcpus=1),
    NodeImage(2, "debian"),
    NodeLocation("ams3", "Amsterdam", "NL"),
    KeyPair("me", "ssh-ed25519 AAAA me", None, private_key="-----BEGIN-----", id=9),
    NodeAuthSSHKey("ssh-ed25519 AAAA me"),
    NodeAuthPassword("hunter2-secret"),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_models_have_no_instance_dict_and_refuse_ad_hoc_attributes(model: object) -> None:
    assert not hasattr(model, "__dict__")
    with pytest.raises(AttributeError):
        model.not_a_field = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_fields_replace_copy_and_pickle_still_work(model: object) -> None:
    names = [f.name for f in dataclasses.fields(model)]  # type: ignore[arg-type]
    assert names
    twin = dataclasses.replace(model)  # type: ignore[type-var]
    for clone in (twin, copy.copy(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(clone) is type(model)
        assert [getattr(clone, n) for n in names] == [getattr(model, n) for n in names]


def test_conversions_still_happen_in_post_init() -> None:
    node = MODELS[0]
    assert isinstance(node, Node)
    assert node.id == "7" and node.state is NodeState.RUNNING
    assert NodeSize(1, "s", 1, 1, None, None).id == "1"
    assert NodeImage(2, "i").id == "2" and NodeLocation(3, "l", None).id == "3"
    assert KeyPair("k", "ssh-ed25519 AAAA", None, id=5).id == "5"
    assert KeyPair("k", "ssh-ed25519 AAAA", None).id is None
    shared = NodeImage("x", "x")
    assert shared.extra == {} and shared.extra is not NodeImage("x", "x").extra


def test_bound_nodes_still_reach_their_driver() -> None:
    driver = DummyNodeDriver()
    size, image, location = driver.list_sizes()[0], driver.list_images()[0], driver.list_locations()[0]
    node = driver.create_node(name="web-1", size=size, image=image, location=location)
    assert node.driver is driver and node.size is not None and node.size.driver is driver
    assert node.reboot() is True
    assert node.destroy() is True and driver.list_nodes() == []
    assert "hunter2" not in repr(MODELS[6]) and "BEGIN" not in repr(MODELS[4])
