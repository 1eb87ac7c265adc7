"""Shared bits of the issue-11 tests ("ask the driver"): simulators, drivers with other
credentials, the providers' documented status tables, and the arguments each action needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloudkit import NodeState, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.testing.simulator import Simulator

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"

#: The four real providers (each has a simulator).
PROVIDERS = ("digitalocean", "linode", "hostvirtual", "nephoscale")

#: The one cheap authenticated call each driver's verify_credentials makes (issue 11:
#: DigitalOcean account, Linode profile, the cheapest listing for the other two).
CHECK_CALL = {
    "digitalocean": ("GET", "/v2/account"),
    "linode": ("GET", "/v4/profile"),
    "hostvirtual": ("GET", "/cloud/servers/"),
    "nephoscale": ("GET", "/datacenter/zone/"),
}

S = NodeState

#: Every provider status of the fact sheets (/work/shared/api/*.md, "Node state mapping"
#: and "Node states") → the NodeState the driver must give, plus one status nobody documents.
#: Where a driver chose among the sheet's suggestions, its module docstring records why:
#: HostVirtual STOPPING → STOPPING (cloudkit has that state; the sheet predates it),
#: Linode ``resizing`` (older API versions) → RECONFIGURING, NephoScale ``off`` → STOPPED.
STATUS_TABLE: dict[str, dict[str, NodeState]] = {
    "digitalocean": {"new": S.PENDING, "active": S.RUNNING, "off": S.STOPPED, "archive": S.TERMINATED,
                     "undocumented-status": S.UNKNOWN},
    "linode": {"running": S.RUNNING, "offline": S.STOPPED, "stopped": S.STOPPED, "booting": S.STARTING,
               "rebooting": S.REBOOTING, "shutting_down": S.STOPPING, "provisioning": S.PENDING,
               "busy": S.PENDING, "rebuilding": S.PENDING, "restoring": S.PENDING, "cloning": S.PENDING,
               "migrating": S.MIGRATING, "deleting": S.PENDING, "billing_suspension": S.SUSPENDED,
               "resizing": S.RECONFIGURING, "undocumented-status": S.UNKNOWN},
    "hostvirtual": {"BUILDING": S.PENDING, "PENDING": S.PENDING, "RUNNING": S.RUNNING, "STARTING": S.STARTING,
                    "STOPPING": S.STOPPING, "REBOOTING": S.REBOOTING, "STOPPED": S.STOPPED,
                    "TERMINATED": S.TERMINATED, "TERMINATING": S.TERMINATED, "ERROR": S.ERROR,
                    "UNDOCUMENTED": S.UNKNOWN},
    "nephoscale": {"on": S.RUNNING, "off": S.STOPPED, "unknown": S.UNKNOWN, "undocumented": S.UNKNOWN},
}

_POWER = frozenset({"reboot_node", "start_node", "stop_node"})
_ON = frozenset({"reboot_node", "stop_node", "destroy_node"})
_OFF = frozenset({"start_node", "destroy_node"})
_DESTROY = frozenset({"destroy_node"})
_NONE: frozenset[str] = frozenset()

#: What each state allows, per driver: the issue's rules (start only when stopped; reboot and
#: stop only when running; no power action while pending; nothing once terminated; resize
#: only when off on DigitalOcean; everything while the state is unknown) plus each driver's
#: documented extras. Destroying stays possible while a server is being made (cancelling a
#: create must work). HostVirtual's TERMINATED is an uninstalled OS on a package that is still
#: billed, so it can be cancelled (destroy_node) or rebuilt (ex_build_node).
ACTION_TABLE: dict[str, dict[NodeState, frozenset[str]]] = {
    "digitalocean": {
        S.RUNNING: _ON | {"ex_power_cycle_node", "ex_rebuild_node", "ex_rename_node"},
        S.STOPPED: _OFF | {"ex_resize_node", "ex_rebuild_node", "ex_rename_node"},
        S.PENDING: _DESTROY,
        S.TERMINATED: _NONE,
        S.UNKNOWN: _ON | _OFF | {"ex_power_cycle_node", "ex_rebuild_node", "ex_rename_node", "ex_resize_node"},
    },
    "linode": {
        S.RUNNING: _ON | {"ex_rename_node", "ex_resize_node", "ex_rebuild_node"},
        S.STOPPED: _OFF | {"ex_rename_node", "ex_resize_node", "ex_rebuild_node"},
        **{state: _DESTROY | {"ex_rename_node"} for state in (
            S.PENDING, S.STARTING, S.REBOOTING, S.STOPPING, S.MIGRATING, S.RECONFIGURING, S.SUSPENDED)},
        S.UNKNOWN: _ON | _OFF | {"ex_rename_node", "ex_resize_node", "ex_rebuild_node"},
        S.TERMINATED: _NONE,
    },
    "hostvirtual": {
        S.RUNNING: _ON | {"ex_delete_node"},
        S.STOPPED: _OFF | {"ex_delete_node"},
        S.PENDING: _DESTROY,
        S.STARTING: _DESTROY,
        S.STOPPING: _DESTROY,
        S.REBOOTING: _DESTROY,
        S.TERMINATED: _DESTROY | {"ex_build_node"},
        S.ERROR: _ON | _OFF | {"ex_delete_node", "ex_build_node"},
        S.UNKNOWN: _ON | _OFF | {"ex_delete_node", "ex_build_node"},
    },
    "nephoscale": {
        S.RUNNING: _ON,
        S.STOPPED: _OFF,
        S.PENDING: _DESTROY,
        S.TERMINATED: _NONE,
        S.UNKNOWN: _ON | _OFF,
    },
}


def action_universe(provider: str) -> frozenset[str]:
    """Every state-checked action of a provider's driver."""
    return frozenset().union(*ACTION_TABLE[provider].values()) | _POWER | _DESTROY


#: Values for the required arguments of the ``ex_`` actions, per provider (valid ids, so the
#: only thing that can stop the call before it is sent is the state check).
ACTION_ARGS: dict[str, dict[str, Any]] = {
    "digitalocean": {"size": "s-2vcpu-4gb", "image": "ubuntu-24-04-x64", "name": "renamed-1"},
    "linode": {"size": "g6-standard-2", "image": "linode/debian12", "name": "renamed-1"},
    "hostvirtual": {"image": "3101", "location": "310"},
    "nephoscale": {},
}


def call_action(driver: NodeDriver, provider: str, action: str, node: Any, **kwargs: Any) -> Any:
    """Call ``driver.<action>(node, ...)`` with the arguments that action needs."""
    method = getattr(driver, action)
    wanted = ACTION_ARGS[provider]
    if action in ("ex_resize_node",):
        return method(node, wanted["size"], **kwargs)
    if action in ("ex_rebuild_node",):
        return method(node, wanted["image"], **kwargs)
    if action == "ex_build_node":
        return method(node, wanted["image"], wanted["location"], ex_ssh_key_id="77", **kwargs)
    if action == "ex_rename_node":
        return method(node, wanted["name"], **kwargs)
    return method(node, **kwargs)


def driver_for(sim: Simulator, key: str, secret: str | None = None, **kwargs: Any) -> NodeDriver:
    """A driver for ``sim`` built with other credentials (``secret`` for NephoScale)."""
    cls = get_driver(sim.provider)
    prefix = getattr(cls.connectionCls, "base_path", "") or ""
    kwargs.setdefault("base_url", sim.base_url + prefix)
    if sim.provider == "nephoscale":
        return cls(key, secret if secret is not None else "not-the-password", **kwargs)
    return cls(key, **kwargs)


def add_credentials(sim: Simulator, access: str) -> tuple[str, str | None]:
    """Register another credential with ``access`` ("full", "read", "none"); returns (key, secret)."""
    if sim.provider == "nephoscale":
        user, password = "limited-user", f"limited-password-{access}"
        sim.add_token(f"{user}:{password}", access)
        return user, password
    token = f"limited-token-{access}-0123456789abcdef"
    sim.add_token(token, access)
    return token, None


@contextmanager
def simulator(provider: str, **options: Any) -> Iterator[Simulator]:
    """A started simulator with instant boots and actions that must end without simulator bugs."""
    options.setdefault("boot_seconds", 0.0)
    options.setdefault("action_seconds", 0.0)
    with Simulator(provider, **options) as sim:
        yield sim
        assert sim.server_errors == [], sim.server_errors[0]
