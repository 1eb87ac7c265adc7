"""What Linode accepts, checked before anything is sent: labels, tags, ids, passwords, keys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cloudkit.driver import object_id
from cloudkit.errors import ValidationError
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import parse_public_key

_LABEL_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
_PASSWORD_SYMBOLS = "-_.!@#%^*+=~"


def validate_label(label: Any, what: str = "Linode label") -> str:
    """Return ``label`` if it follows Linode's label rules, else raise ValidationError.

    3 to 64 characters; starts with a letter; then letters, digits, ``-``, ``_`` and ``.``;
    never two ``-``, ``_`` or ``.`` in a row (the API's pattern).
    """
    if not isinstance(label, str):
        raise ValidationError(f"{what} must be a string, not {type(label).__name__}")
    problems = []
    if not 3 <= len(label) <= 64:
        problems.append(f"must be 3 to 64 characters long (got {len(label)})")
    if not label[:1].isascii() or not label[:1].isalpha():
        problems.append("must start with a letter (a-z, A-Z)")
    if label and not _LABEL_CHARS.fullmatch(label):
        problems.append("may contain only letters, digits, '-', '_' and '.'")
    for pair in ("--", "__", ".."):
        if pair in label:
            problems.append(f"must not contain {pair!r}")
    if problems:
        raise ValidationError(f"invalid {what} {label[:80]!r}: " + "; ".join(problems))
    return label


def _validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 3 <= len(tag) <= 50:
        shown = repr(tag[:60]) if isinstance(tag, str) else type(tag).__name__
        raise ValidationError(f"a Linode tag must be a string of 3 to 50 characters, not {shown}")
    return tag


def _validate_slug(value: str, kind: str, pattern: re.Pattern[str]) -> str:
    if len(value) > 128 or not pattern.fullmatch(value):
        raise ValidationError(f"invalid Linode {kind} id {value[:80]!r}")
    return value


def _linode_id(node: Node | str | int) -> str:
    """The numeric id of a Linode (Node, id string or int)."""
    value = object_id(node, "node")
    if not value.isdigit() or not value.isascii():
        raise ValidationError(f"a Linode id is a number, not {value[:40]!r}")
    return value


def _validate_root_pass(password: Any) -> str:
    if not isinstance(password, str) or not 7 <= len(password) <= 128:
        raise ValidationError("a Linode root password must be a string of 7 to 128 characters")
    return password


def _public_keys(keys: Iterable[Any]) -> list[str]:
    if isinstance(keys, (str, bytes)):
        raise ValidationError("authorized keys must be a list of public key lines, not one string")
    result = []
    for key in keys:
        if not isinstance(key, str):
            raise ValidationError(f"authorized keys must be strings, not {type(key).__name__}")
        parse_public_key(key)
        result.append(key.strip())
    return result


def _login(
    auth: NodeAuthSSHKey | NodeAuthPassword | None, extra_keys: Iterable[Any] | None,
) -> tuple[list[str], str | None]:
    """(authorized keys, root password) from create/rebuild's ``auth`` and ``ex_authorized_keys``:
    an SSH key in ``auth`` goes first; every key and the password are checked."""
    keys = _public_keys(extra_keys or [])
    if isinstance(auth, NodeAuthSSHKey):
        return _public_keys([auth.pubkey]) + keys, None
    if isinstance(auth, NodeAuthPassword):
        return keys, _validate_root_pass(auth.password)
    if auth is not None:
        raise ValidationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
    return keys, None


def _string_list(values: Any, what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(f"{what} must be a list of strings")
    items = list(values)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValidationError(f"{what} must be a list of non-empty strings")
    return items


def _opt_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False")
    return value


def _opt_number(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{what} must be a non-negative integer")
    return value


def generate_root_password(length: int = 32) -> str:
    """A strong random root password with upper, lower, digit and symbol characters."""
    if length < 12:
        raise ValidationError("generated passwords are at least 12 characters long")
    return generate_password(length, symbols=_PASSWORD_SYMBOLS)
