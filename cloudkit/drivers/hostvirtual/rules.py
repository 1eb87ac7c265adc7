"""Small field readers, units and checks the HostVirtual driver needs."""

from __future__ import annotations

import math
import re
from typing import Any

from cloudkit.errors import ProviderError, ValidationError
from cloudkit.models import NodeLocation
from cloudkit.parsing import opt_float, opt_int

_NO_TAGS = "HostVirtual's API has no tags (Node.tags is always empty)"

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PLAN_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_AMOUNT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(I?B)?\s*", re.IGNORECASE)
_UNIT_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_FAILED_STATUSES = frozenset({"error", "fail", "failed", "failure"})


def _flag(value: Any) -> bool | None:
    """HostVirtual flags are "0"/"1" strings (sometimes ints or bools)."""
    if isinstance(value, bool):
        return value
    number = opt_int(value)
    return None if number is None else number != 0


def _amount(value: Any, unit: str) -> float | None:
    """``"2048MB"``, ``"40GB"``, ``"1.5TB"`` (or a bare number, already in ``unit``) in ``unit``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = _AMOUNT.fullmatch(value)
        if match is None:
            return None
        number = float(match.group(1))
        prefix = match.group(2).upper()
        if prefix or match.group(3):  # a bare number is already in ``unit``; "B" alone is bytes
            number *= 1024.0 ** (_UNIT_POWER[prefix] - _UNIT_POWER[unit[0]])
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _country(name: str) -> str | None:
    """The text after the first comma of ``"LAX - Los Angeles, CA"`` (None without a comma)."""
    if "," not in name:
        return None
    region = name.split(",", 1)[1].strip()
    return region or None


def _location_sort_key(location: NodeLocation) -> tuple[int, int, str]:
    return (0, int(location.id), "") if location.id.isdigit() else (1, 0, location.id)


def _check_fqdn(name: Any) -> str:
    """Refuse names HostVirtual would refuse: it wants a fully qualified domain name."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("node name is required: a fully qualified domain name such as "
                              "'web1.example.com'")
    host = name[:-1] if name.endswith(".") else name
    labels = host.split(".")
    if len(name) > 255 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValidationError(
            f"HostVirtual node names must be fully qualified domain names such as 'web1.example.com' "
            f"(at least two dot-separated labels of 1-63 letters, digits or hyphens, no hyphen at "
            f"either end, 255 characters at most); got {name[:80]!r}")
    return name


def _seconds(value: Any, default: float, what: str) -> float:
    """A non-negative number of seconds (``default`` when None)."""
    if value is None:
        return default
    number = opt_float(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise ValidationError(f"{what} must be a number of seconds (0 or more), not {value!r}")
    return number


def _reply_ok(body: Any, what: str, driver: str) -> bool:
    """Action replies are ``{"status": "success"}``; refuse an explicit failure status."""
    if isinstance(body, dict):
        status = body.get("status")
        if isinstance(status, str) and status.strip().lower() in _FAILED_STATUSES:
            message = body.get("message")
            detail = f": {message[:300]}" if isinstance(message, str) and message else ""
            raise ProviderError(f"{what} answered status {status!r}{detail}", driver=driver)
    return True
