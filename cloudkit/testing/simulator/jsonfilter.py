"""JSON filters on listings (Linode's ``X-Filter`` style): ``{"field": value}``, ``+and``/``+or``,
operators ``+contains``/``+neq``/``+gt``/``+gte``/``+lt``/``+lte``, dotted field names.

Generic: a provider says which fields may be filtered and reads its items through a getter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from cloudkit.testing.simulator._http import SimRequest

__all__ = ["FilterError", "check_fields", "dotted", "getter", "matches", "parse", "sort_key"]


class FilterError(ValueError):
    """The filter is malformed (the provider answers 400 with this message)."""


def parse(request: SimRequest, header: str = "x-filter") -> dict[str, Any] | None:
    """The filter object in ``header`` (None when absent)."""
    raw = request.headers.get(header)
    if not raw:
        return None
    try:
        flt = json.loads(raw)
    except ValueError:
        raise FilterError("Invalid JSON in X-Filter header") from None
    if not isinstance(flt, dict):
        raise FilterError("X-Filter must be a JSON object")
    return flt


def check_fields(flt: Any, allowed: Collection[str]) -> None:
    """Refuse unknown operators and fields that may not be filtered on."""
    if not isinstance(flt, dict):
        raise FilterError("filter must be an object")
    for key, value in flt.items():
        if key in ("+and", "+or"):
            if not isinstance(value, list):
                raise FilterError(f"{key} must be a list")
            for item in value:
                check_fields(item, allowed)
        elif key.startswith("+"):
            raise FilterError(f"Unknown filter operator {key}")
        elif key not in allowed:
            raise FilterError(f"Cannot filter on {key}")


def dotted(obj: Any, name: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"`` (None where a part is missing)."""
    for part in name.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def getter(obj: dict[str, Any]) -> Callable[[str], Any]:
    """A field reader over a plain JSON object."""
    return lambda name: dotted(obj, name)


def sort_key(value: Any) -> tuple[int, Any]:
    """Order None < numbers < strings without comparing across kinds."""
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def _compare(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return all(_operator(actual, op, arg) for op, arg in wanted.items())
    if isinstance(actual, list):
        return wanted in actual
    return bool(actual == wanted)


def _operator(actual: Any, op: str, arg: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    if op == "+contains":
        return any(isinstance(v, str) and str(arg).lower() in v.lower() for v in values)
    if op == "+neq":
        return arg not in values
    if op in ("+gt", "+gte", "+lt", "+lte"):
        try:
            a, b = float(actual), float(arg)
        except (TypeError, ValueError):
            return False
        return {"+gt": a > b, "+gte": a >= b, "+lt": a < b, "+lte": a <= b}[op]
    return False


def matches(flt: dict[str, Any], get: Callable[[str], Any]) -> bool:
    """Whether the item read by ``get`` passes the filter."""
    for key, value in flt.items():
        if key == "+and":
            if not all(matches(item, get) for item in value):
                return False
        elif key == "+or":
            if not any(matches(item, get) for item in value):
                return False
        elif key.startswith("+"):
            continue
        elif not _compare(get(key), value):
            return False
    return True
