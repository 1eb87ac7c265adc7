"""Droplet actions (reboot, power, resize, rebuild, rename, ...) and waiting for them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cloudkit.drivers.digitalocean.base import DigitalOceanAction
from cloudkit.drivers.digitalocean.parsing import DigitalOceanParsing
from cloudkit.drivers.digitalocean.rules import _check_bool, _check_name
from cloudkit.errors import MalformedResponseError, ProviderError, ValidationError, WaitTimeoutError
from cloudkit.models import Node, NodeImage, NodeSize
from cloudkit.parsing import as_dict


class DropletActions(DigitalOceanParsing):
    """Everything done with ``POST /v2/droplets/{id}/actions`` and the actions API."""

    def _act(self, node: Node | str, kind: str, body_extra: Mapping[str, Any] | None, *,
             check: str | None, ex_force: bool, ex_wait: bool) -> bool:
        if check is not None:
            self._check_action(node, check, ex_force)
        self.ex_perform_action(self._droplet_id(node), kind, wait=ex_wait, **(body_extra or {}))
        return True

    def ex_perform_action(self, node: Node | str, action_type: str, *, wait: bool = False,
                          timeout: float = 600.0, **fields: Any) -> DigitalOceanAction | None:
        """POST a droplet action (``{"type": action_type, **fields}``) and return the action
        DigitalOcean reports (None when the answer does not describe one); with ``wait=True``
        poll it until it completes (``ex_wait_for_action``). No state check is made here."""
        droplet_id = self._droplet_id(node)
        if not isinstance(action_type, str) or not re.match(r"^[a-z_0-9]+$", action_type):
            raise ValidationError(f"unknown droplet action type {str(action_type)[:40]!r}")
        response = self.connection.request(
            f"/v2/droplets/{droplet_id}/actions", data={"type": action_type, **fields}, method="POST",
            outcome_hint=f"check droplet {droplet_id}'s recent actions (ex_list_actions) before "
                         f"sending {action_type} again")
        body = response.object
        action: DigitalOceanAction | None = None
        if isinstance(body, dict) and isinstance(body.get("action"), dict):
            if wait:
                action = self._to_action(body["action"])
            else:
                action = self._embedded(body["action"], self._to_action)
        elif wait:
            raise MalformedResponseError(f"POST /v2/droplets/{droplet_id}/actions: no action to wait for",
                                         response.status, driver=self.name)
        if wait and action is not None:
            action = self.ex_wait_for_action(action, timeout=timeout)
        return action

    def reboot_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Reboot gracefully (``reboot`` action)."""
        return self._act(node, "reboot", None, check="reboot_node", ex_force=ex_force, ex_wait=ex_wait)

    def start_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Power a stopped droplet on (``power_on``)."""
        return self._act(node, "power_on", None, check="start_node", ex_force=ex_force, ex_wait=ex_wait)

    def stop_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Shut down gracefully (``shutdown``); ``ex_force=True`` cuts the power (``power_off``)
        and skips the state check."""
        kind = "power_off" if ex_force else "shutdown"
        return self._act(node, kind, None, check="stop_node", ex_force=ex_force, ex_wait=ex_wait)

    def ex_power_cycle_node(self, node: Node | str, ex_force: bool = False, *,
                            ex_wait: bool = False) -> bool:
        """Hard reset (``power_cycle``)."""
        return self._act(node, "power_cycle", None, check="ex_power_cycle_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_rebuild_node(self, node: Node | str, image: NodeImage | str | int | None = None,
                        ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Reinstall from ``image`` (default: the node's current image). The data is lost."""
        if image is None:
            image = node.image if isinstance(node, Node) else None
            if image is None:
                raise ValidationError("ex_rebuild_node needs an image (the node does not name one)")
        ref = self._image_ref(str(image) if isinstance(image, int) else image)
        return self._act(node, "rebuild", {"image": ref}, check="ex_rebuild_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_resize_node(self, node: Node | str, size: NodeSize | str, ex_disk: bool = False,
                       ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Resize a powered-off droplet; ``ex_disk=True`` also grows its disk (permanently)."""
        slug = self._size_slug(size)
        disk = _check_bool(ex_disk, "ex_disk")
        return self._act(node, "resize", {"size": slug, "disk": bool(disk)}, check="ex_resize_node",
                         ex_force=ex_force, ex_wait=ex_wait)

    def ex_rename_node(self, node: Node | str, name: str, ex_force: bool = False, *,
                       ex_wait: bool = False) -> bool:
        """Rename a droplet (its hostname rules apply)."""
        new_name = _check_name(name)
        return self._act(node, "rename", {"name": new_name}, check="ex_rename_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_get_action(self, action: DigitalOceanAction | str | int) -> DigitalOceanAction:
        """One action by id (``GET /v2/actions/{id}``)."""
        action_id = self._action_id(action)
        return self._to_action(self._member(f"/v2/actions/{action_id}", "action"))

    def ex_list_actions(self, node: Node | str | None = None) -> list[DigitalOceanAction]:
        """The account's actions, or one droplet's (newest first, as the API orders them)."""
        path = "/v2/actions" if node is None else f"/v2/droplets/{self._droplet_id(node)}/actions"
        return [self._to_action(item) for item in self._list(path, "actions")]

    def ex_wait_for_action(self, action: DigitalOceanAction | str | int, timeout: float = 600.0,
                           interval: float | None = None) -> DigitalOceanAction:
        """Poll an action until it is ``completed`` and return it. An ``errored`` action raises
        ProviderError; one still running after ``timeout`` seconds raises WaitTimeoutError."""
        action_id = self._action_id(action)
        known = action if isinstance(action, DigitalOceanAction) and action.done else None
        seen: list[DigitalOceanAction] = []

        def finished() -> DigitalOceanAction | None:
            nonlocal known
            current, known = known or self.ex_get_action(action_id), None
            seen[:] = [current]
            if current.status == "errored":
                raise ProviderError(
                    f"DigitalOcean action {current.id} ({current.type}) on {current.resource_type or 'resource'} "
                    f"{current.resource_id or '?'} errored", None, code="errored", driver=self.name)
            return current if current.done else None  # "completed", or an unknown final status

        def timed_out() -> WaitTimeoutError:
            current = seen[0]
            return WaitTimeoutError(
                f"action {current.id} ({current.type}) still {current.status} after {timeout:g}s",
                condition="action completed", last_states={current.id: current.status}, job=current.id)

        period = self.action_poll_interval if interval is None else max(0.0, interval)
        return self.poll_until(finished, timeout=timeout, interval=period, what=f"action {action_id} completed",
                               first_interval=0.5, on_timeout=timed_out)


    # -- libcloud's names for the same things -------------------------------------------------

    def ex_power_on_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``start_node`` (``power_on``)."""
        return self.start_node(node, ex_force)

    def ex_shutdown_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for a graceful ``stop_node`` (``shutdown``)."""
        return self._act(node, "shutdown", None, check="stop_node", ex_force=ex_force, ex_wait=False)

    def ex_hard_reboot(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``ex_power_cycle_node`` (``power_cycle``)."""
        return self.ex_power_cycle_node(node, ex_force)

    def ex_enable_ipv6(self, node: Node | str) -> bool:
        """Give a droplet an IPv6 address (``enable_ipv6`` action)."""
        return self._act(node, "enable_ipv6", None, check=None, ex_force=True, ex_wait=False)

    def ex_change_kernel(self, node: Node | str, kernel_id: int | str) -> bool:
        """Boot a droplet with another kernel next time (``change_kernel``; legacy droplets)."""
        text = str(kernel_id).strip() if isinstance(kernel_id, (int, str)) and not isinstance(kernel_id, bool) else ""
        if not text.isdigit():
            raise ValidationError(f"kernel_id is a number, not {str(kernel_id)[:40]!r}")
        return self._act(node, "change_kernel", {"kernel": int(text)}, check=None, ex_force=True, ex_wait=False)

    def ex_list_events(self) -> list[dict[str, Any]]:
        """The account's actions as the API gives them (libcloud's events); ``ex_list_actions``
        gives them as ``DigitalOceanAction`` objects."""
        return [as_dict(item, "action") for item in self._list("/v2/actions", "actions")]

    def ex_get_event(self, event_id: str | int) -> dict[str, Any]:
        """One action (``GET /v2/actions/{id}``) as the API gives it."""
        return self._member(f"/v2/actions/{self._action_id(event_id)}", "action")
