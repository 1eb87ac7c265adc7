"""libcloud 3.9.1's DigitalOcean v2 and Linode v4 driver surface, read from libcloud itself,
held against cloudkit's drivers; unsupported methods; models' positional order; uuid; api_version."""

from __future__ import annotations

import hashlib
import inspect
import re
import types
from typing import Any

import pytest
import responses
from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.base import NodeDriver as LibcloudBase
from libcloud.compute.drivers.digitalocean import DigitalOcean_v2_NodeDriver
from libcloud.compute.drivers.linode import LinodeNodeDriverV4

from cloudkit import get_driver
from cloudkit.driver import NodeDriver
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.drivers.linode import LinodeNodeDriver
from cloudkit.errors import ConfigurationError, NotSupportedError
from cloudkit.models import Node, NodeImage, NodeLocation, NodeSize, NodeState

PAIRS = [(DigitalOcean_v2_NodeDriver, DigitalOceanNodeDriver), (LinodeNodeDriverV4, LinodeNodeDriver)]
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def public_methods(cls: type) -> list[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))
                  and not isinstance(getattr(cls, n), type))


def test_the_two_libcloud_classes_have_92_public_methods() -> None:
    assert [len(public_methods(lc)) for lc, _ in PAIRS] == [48, 44]


@pytest.mark.parametrize(("libcloud_cls", "cloudkit_cls"), PAIRS, ids=["digitalocean", "linode"])
def test_every_libcloud_method_and_keyword_exists_on_cloudkit(libcloud_cls: type, cloudkit_cls: type) -> None:
    problems = []
    for name in public_methods(libcloud_cls):
        ours = getattr(cloudkit_cls, name, None)
        if ours is None or not callable(ours):
            problems.append(f"{name}: missing")
            continue
        theirs = inspect.signature(getattr(libcloud_cls, name)).parameters
        mine = inspect.signature(ours).parameters
        has_var_kw = any(p.kind is p.VAR_KEYWORD for p in mine.values())
        if has_var_kw and not any(p.kind is p.VAR_KEYWORD for p in theirs.values()):
            problems.append(f"{name}: takes **kwargs where libcloud names its parameters")
        for pname, param in theirs.items():
            if param.kind not in _NAMED or pname == "self":
                continue
            if pname not in mine or mine[pname].kind not in _NAMED:
                problems.append(f"{name}: no keyword {pname!r}")
    assert problems == []


def _dummy_args(method: Any) -> list[Any]:
    params = list(inspect.signature(method).parameters.values())  # bound: no self
    return ["1" for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]


def _instance(provider: str) -> NodeDriver:
    cls = get_driver(provider)
    try:
        return cls("key-for-tests")
    except (ConfigurationError, TypeError):
        return cls("user-for-tests", "password-for-tests")


@pytest.mark.parametrize("provider", ["digitalocean", "linode", "hostvirtual", "nephoscale"])
def test_every_libcloud_base_method_exists_and_unsupported_ones_raise_the_reason_before_any_request(
        provider: str) -> None:
    driver = _instance(provider)
    names = set(public_methods(LibcloudBase))
    for lc, ck in PAIRS:
        if ck.type == provider:
            names |= set(public_methods(lc))
    unsupported = [n for n in sorted(names) if not driver.supports(n)]
    assert "copy_image" in unsupported
    storage = {"list_volumes", "create_volume", "attach_volume", "create_image", "delete_image"}
    if provider in ("digitalocean", "linode"):  # issue 19: block storage and images are implemented
        assert not storage & set(unsupported)
    else:
        assert storage <= set(unsupported)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for name in sorted(names):
            method = getattr(driver, name)
            assert callable(method), name
            if name in unsupported:
                reason = driver.supports(name).reason
                assert reason
                with pytest.raises(NotImplementedError) as info:
                    method(*_dummy_args(method))
                assert isinstance(info.value, NotSupportedError)
                assert str(info.value) == reason, name
        assert len(mock.calls) == 0


def test_storage_reasons() -> None:
    # Issue 19 implemented storage on DigitalOcean and Linode (the promise changed): they now
    # support it, Linode says why it has no volume snapshots, the other providers still say
    # "not implemented yet".
    driver = DigitalOceanNodeDriver("t")
    assert driver.supports("list_volumes") and driver.supports("ex_list_floating_ips")
    assert driver.supports("delete_volume_snapshot") and driver.supports("create_image")
    linode = LinodeNodeDriver("t")
    assert linode.supports("ex_clone_volume") and linode.supports("ex_share_address")
    assert linode.supports("ex_list_disks") and linode.supports("ex_get_node")
    assert "no volume snapshots" in linode.supports("create_volume_snapshot").reason
    for provider in ("hostvirtual", "nephoscale"):
        other = _instance(provider)
        assert "not implemented yet in cloudkit" in other.supports("list_volumes").reason
        assert "not implemented yet in cloudkit" in other.supports("create_image").reason


def test_models_take_libcloud_positional_order() -> None:
    driver = DigitalOceanNodeDriver("t")
    size = NodeSize("s-1", "small", 1024, 25, 1.0, 0.01, driver, {"k": 1})
    assert (size.extra, size.driver, size.vcpus) == ({"k": 1}, driver, None)
    image = NodeImage("7", "debian", driver, {"slug": "d"})
    assert image.extra == {"slug": "d"}
    location = NodeLocation("nyc1", "New York 1", "US", driver, {"available": True})
    assert (location.country, location.extra) == ("US", {"available": True})
    node = Node("1", "web", NodeState.RUNNING, ["203.0.113.1"], [], driver, size, image, {"a": 1}, None)
    assert (node.size, node.image, node.extra, node.created_at, node.tags) == (size, image, {"a": 1}, None, [])


@pytest.mark.parametrize("cls", [DigitalOceanNodeDriver, LinodeNodeDriver])
def test_uuid_matches_libcloud(cls: type[NodeDriver]) -> None:
    driver = cls("t")
    ours = Node("3164444", "web", NodeState.RUNNING, [], [], driver)
    # libcloud's uuid needs only the driver's type (its DigitalOcean class cannot be built offline)
    lib_cls = DigitalOcean_v2_NodeDriver if cls is DigitalOceanNodeDriver else LinodeNodeDriverV4
    lib_driver = types.SimpleNamespace(type=lib_cls.type)
    theirs = LibcloudNode("3164444", "web", "running", [], [], lib_driver)
    assert ours.uuid == ours.get_uuid() == theirs.uuid == theirs.get_uuid()
    assert ours.uuid == hashlib.sha1(f"3164444:{cls.type}".encode()).hexdigest()


def test_api_version() -> None:
    assert DigitalOceanNodeDriver("t").api_version == "v2"
    assert DigitalOceanNodeDriver("t", api_version="v2").api_version == "v2"
    assert LinodeNodeDriver("t").api_version == "v4"
    assert LinodeNodeDriver("t", api_version="4.0").api_version == "4.0"
    with pytest.raises(ConfigurationError, match=re.escape("'v4', '4.0'")):
        LinodeNodeDriver("t", api_version="3.0")
    with pytest.raises(ConfigurationError, match="'v2'"):
        DigitalOceanNodeDriver("t", api_version="v1")
    with pytest.raises(ConfigurationError, match="omit api_version"):
        get_driver("hostvirtual")("k", api_version="v1")
