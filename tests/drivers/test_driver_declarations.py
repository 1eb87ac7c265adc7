"""What each built-in driver declares for the CLI (credential names, demo defaults)."""

from __future__ import annotations

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.drivers.linode import LinodeNodeDriver
from cloudkit.drivers.nephoscale import NephoscaleNodeDriver


def test_base_defaults() -> None:
    assert NodeDriver.credential_names == ("KEY", "SECRET")
    assert NodeDriver.demo_defaults == {}


@pytest.mark.parametrize(("cls", "names", "demo"), [
    (DigitalOceanNodeDriver, ("TOKEN",), {}),
    (LinodeNodeDriver, ("TOKEN",), {}),
    (HostVirtualNodeDriver, ("KEY",), {"name": "cloudkit-demo-1.example.com"}),
    (NephoscaleNodeDriver, ("USER", "PASSWORD"), {}),
])
def test_builtin_declarations(cls: type[NodeDriver], names: tuple[str, ...], demo: dict[str, str]) -> None:
    assert cls.credential_names == names
    assert cls.demo_defaults == demo
