"""Provider enum, get_driver, register_driver, entry-point plugins, lazy imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cloudkit
from cloudkit import DriverNotFoundError, Provider, get_driver, register_driver, unregister_driver
from cloudkit.driver import NodeDriver
from cloudkit.drivers.dummy import DummyNodeDriver


def test_provider_is_a_str_enum() -> None:
    assert Provider.DIGITAL_OCEAN == "digitalocean"
    assert isinstance(Provider.LINODE, str)
    assert {p.value for p in Provider} == {"digitalocean", "linode", "hostvirtual", "nephoscale", "hetzner", "vultr",
                                           "dummy"}


def test_get_driver_by_enum_name_and_any_case() -> None:
    assert get_driver(Provider.DUMMY) is DummyNodeDriver
    assert get_driver("dummy") is DummyNodeDriver
    assert get_driver(" DUMMY ") is DummyNodeDriver


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(DriverNotFoundError) as info:
        get_driver("nosuchcloud")
    text = str(info.value)
    assert "nosuchcloud" in text
    for name in ("digitalocean", "linode", "hostvirtual", "nephoscale", "dummy"):
        assert name in text


def test_register_driver_at_run_time() -> None:
    register_driver("my-dummy", "cloudkit.drivers.dummy", "DummyNodeDriver")
    try:
        assert get_driver("my-dummy") is DummyNodeDriver
        assert "my-dummy" in cloudkit.known_providers()
    finally:
        unregister_driver("my-dummy")
    with pytest.raises(DriverNotFoundError):
        get_driver("my-dummy")


def test_register_driver_with_a_wrong_class_fails_clearly() -> None:
    register_driver("broken", "cloudkit.models", "Node")
    try:
        with pytest.raises(DriverNotFoundError, match="not a cloudkit NodeDriver"):
            get_driver("broken")
    finally:
        unregister_driver("broken")


def _make_plugin(root: Path) -> None:
    (root / "acme_cloud_plugin.py").write_text(textwrap.dedent("""
        from cloudkit.drivers.dummy import DummyNodeDriver

        class AcmeNodeDriver(DummyNodeDriver):
            name = "Acme"
            type = "acme"
    """))
    dist = root / "acme_cloud_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cloud-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[cloudkit.drivers]\nacme = acme_cloud_plugin:AcmeNodeDriver\n")


def test_installed_plugin_is_found_through_its_entry_point(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _make_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = get_driver("acme")
    assert issubclass(cls, NodeDriver) and cls.name == "Acme"
    assert "acme" in cloudkit.known_providers()


def test_plugin_found_from_a_fresh_interpreter(tmp_path: Path) -> None:
    _make_plugin(tmp_path)
    code = "from cloudkit import get_driver; print(get_driver('acme').__name__)"
    env_path = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r}); {code}"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "AcmeNodeDriver"


def test_import_cloudkit_loads_no_driver_no_paramiko_no_requests() -> None:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import cloudkit"],
                         capture_output=True, text=True, check=True)
    modules = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line}
    assert "cloudkit" in modules
    assert not any(m.startswith("cloudkit.drivers.") for m in modules), modules
    assert not any(m.split(".")[0] in {"paramiko", "requests", "urllib3", "cryptography"} for m in modules)
    assert not any(m.startswith(("cloudkit.deployment", "cloudkit.ssh", "cloudkit.cli")) for m in modules)


def test_get_driver_imports_only_that_driver() -> None:
    code = ("import sys, cloudkit; cloudkit.get_driver('dummy'); "
            "print(sorted(m for m in sys.modules if m.startswith('cloudkit.drivers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['cloudkit.drivers.dummy']"
