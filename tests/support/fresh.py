"""Test helper: make a driver's ``get_node`` answer, without a request, with the state a node
object already holds, as if the API confirmed it. Refusals are decided on fresh state (the
driver asks the API when the cached state forbids an action); tests that check a refusal
sends nothing use this to stand for the API's answer."""

from __future__ import annotations

import dataclasses
from typing import Any

from cloudkit import Node


def confirm_state(driver: Any, node: Node) -> list[str]:
    """Patch ``driver.get_node`` to return a copy of ``node``; the returned list records the
    ids asked for."""
    asked: list[str] = []

    def get_node(node_id: Any) -> Node:
        asked.append(str(getattr(node_id, "id", node_id)))
        return dataclasses.replace(node, extra=dict(node.extra))

    driver.get_node = get_node
    return asked
