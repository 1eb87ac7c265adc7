"""The Provider enum and the driver registry.

Built-in drivers are imported only when asked for. Third-party packages add drivers
without any code change here by declaring an entry point in the group
``cloudkit.drivers`` (``acme = "cloudkit_acme.driver:AcmeNodeDriver"``); code can also
call ``register_driver`` at run time.
"""

from __future__ import annotations

import importlib
import threading
from enum import StrEnum
from typing import TYPE_CHECKING

from cloudkit.errors import DriverNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver

__all__ = [
    "ENTRY_POINT_GROUP",
    "Provider",
    "builtin_providers",
    "check_provider",
    "get_driver",
    "known_providers",
    "register_driver",
    "unregister_driver",
]

ENTRY_POINT_GROUP = "cloudkit.drivers"


class Provider(StrEnum):
    """Built-in providers; ``get_driver`` also takes plain names."""

    DIGITAL_OCEAN = "digitalocean"
    LINODE = "linode"
    HOSTVIRTUAL = "hostvirtual"
    NEPHOSCALE = "nephoscale"
    HETZNER = "hetzner"
    VULTR = "vultr"
    DUMMY = "dummy"


_BUILTIN: dict[str, tuple[str, str]] = {
    Provider.DIGITAL_OCEAN.value: ("cloudkit.drivers.digitalocean", "DigitalOceanNodeDriver"),
    Provider.LINODE.value: ("cloudkit.drivers.linode", "LinodeNodeDriver"),
    Provider.HOSTVIRTUAL.value: ("cloudkit.drivers.hostvirtual", "HostVirtualNodeDriver"),
    Provider.NEPHOSCALE.value: ("cloudkit.drivers.nephoscale", "NephoscaleNodeDriver"),
    Provider.HETZNER.value: ("cloudkit.drivers.hetzner", "HetznerNodeDriver"),
    Provider.VULTR.value: ("cloudkit.drivers.vultr", "VultrNodeDriver"),
    Provider.DUMMY.value: ("cloudkit.drivers.dummy", "DummyNodeDriver"),
}

_registered: dict[str, tuple[str, str]] = {}
_lock = threading.Lock()


def _normalise(provider: Provider | str) -> str:
    if isinstance(provider, Provider):
        return provider.value
    if not isinstance(provider, str) or not provider.strip():
        raise DriverNotFoundError(f"provider must be a Provider or a name, not {provider!r}")
    return provider.strip().lower()


def _entry_points() -> dict[str, str]:
    from importlib import metadata  # imported here: it costs ~30 ms at start-up

    return {ep.name.lower(): ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def builtin_providers() -> list[str]:
    """The built-in provider names, real providers first and the in-memory ``dummy`` last.

    Everything that lists the built-in drivers (the CLI, the scaffold, the README tables)
    derives it from here, so a new provider needs only its ``Provider`` member and registry line.
    """
    return sorted(_BUILTIN, key=lambda name: name == Provider.DUMMY.value)


def known_providers() -> list[str]:
    """Every provider name get_driver can resolve now (built-in, registered, plugins)."""
    return sorted(set(_BUILTIN) | set(_registered) | set(_entry_points()))


def _unknown(name: str) -> DriverNotFoundError:
    return DriverNotFoundError(f"unknown provider {name!r} (known: {', '.join(known_providers())})")


def check_provider(provider: Provider | str) -> str:
    """The normalised name of ``provider`` when ``get_driver`` knows it (nothing is imported);
    ``DriverNotFoundError`` listing the known names otherwise."""
    name = _normalise(provider)
    if name in _registered or name in _BUILTIN or name in _entry_points():
        return name
    raise _unknown(name)


def register_driver(name: str, module: str, classname: str) -> None:
    """Make ``get_driver(name)`` return ``module.classname`` (imported when first asked for).

    Registering a built-in name replaces it, which lets tests substitute a driver.
    """
    key = _normalise(name)
    with _lock:
        _registered[key] = (module, classname)


def unregister_driver(name: str) -> None:
    """Undo ``register_driver``."""
    with _lock:
        _registered.pop(_normalise(name), None)


def _load(module: str, classname: str, name: str) -> type[NodeDriver]:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise DriverNotFoundError(f"driver for {name!r} could not be imported from {module}: {exc}") from exc
    from cloudkit.driver import NodeDriver

    cls = getattr(mod, classname, None)
    if not (isinstance(cls, type) and issubclass(cls, NodeDriver)):
        raise DriverNotFoundError(f"{module}.{classname} is not a cloudkit NodeDriver (for {name!r})")
    return cls


def get_driver(provider: Provider | str) -> type[NodeDriver]:
    """The driver class for ``provider`` (a Provider member or its name, any case)."""
    name = _normalise(provider)
    spec = _registered.get(name) or _BUILTIN.get(name)
    if spec is not None:
        return _load(spec[0], spec[1], name)
    target = _entry_points().get(name)
    if target is not None:
        module, _, classname = target.partition(":")
        if not classname:
            raise DriverNotFoundError(f"entry point {name!r} in {ENTRY_POINT_GROUP} must be 'module:Class'")
        return _load(module.strip(), classname.strip(), name)
    raise _unknown(name)
