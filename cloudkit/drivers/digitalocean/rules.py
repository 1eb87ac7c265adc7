"""What DigitalOcean accepts, checked before any request is sent: names, tags, slugs, flags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cloudkit.errors import ValidationError

# Client-side rules, from DigitalOcean's API description.
_NAME_RE = re.compile(r"^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$")
_TAG_RE = re.compile(r"^[a-zA-Z0-9_\-:]+$")
_SLUG_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._\-]*$")
_REGION_RE = re.compile(r"^[a-z0-9]+$")
_FINGERPRINT_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$")
_MAX_NAME = 255
_MAX_USER_DATA = 64 * 1024


def _check_name(name: Any, what: str = "droplet name") -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} must be a non-empty string")
    if len(name) > _MAX_NAME:
        raise ValidationError(f"{what} is longer than {_MAX_NAME} characters")
    if not _NAME_RE.match(name):
        raise ValidationError(
            f"{what} {name[:60]!r} is not a valid hostname: use letters, digits, '.' and '-', "
            "starting and ending with a letter or digit (no spaces or underscores)")
    return name


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag:
        raise ValidationError("tag must be a non-empty string")
    if len(tag) > _MAX_NAME or not _TAG_RE.match(tag):
        raise ValidationError(f"tag {tag[:60]!r} is invalid: use up to {_MAX_NAME} letters, digits, "
                              "'_', '-' and ':'")
    return tag


def _merge_create_attr(attr: Mapping[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """libcloud's ``ex_create_attr`` folded into create_node's own arguments (``given``)."""
    if not isinstance(attr, Mapping):
        raise ValidationError("ex_create_attr must be a dict of droplet fields")
    merged = dict(given)
    for key, value in attr.items():
        if key not in given:
            raise ValidationError(f"ex_create_attr: DigitalOcean takes no droplet field {str(key)[:40]!r} here "
                                  f"(known: {', '.join(sorted(given))})")
        if given[key] is not None:
            raise ValidationError(f"{key} is given twice (in ex_create_attr and as ex_{key})")
        merged[key] = value
    return merged


def _check_bool(value: Any, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValidationError(f"{what} must be True or False, not {type(value).__name__}")
