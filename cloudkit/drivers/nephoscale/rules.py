"""Names, ids, key material and the checks NephoScale needs before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloudkit.driver import object_id
from cloudkit.errors import CloudkitError, ProviderError, ValidationError
from cloudkit.redact import redact_exception
from cloudkit.sshkeys import parse_public_key

#: Key group of server (root login) keys.
KEY_GROUP_SERVER = 1
#: Key group of console keys.
KEY_GROUP_CONSOLE = 4

_OK_RESPONSES = frozenset({200, 201, 202, 204})

# Naming rules the provider states (quoted by mist.io's create code).
_NAME_RE = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
_HOSTNAME_RE = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?")
_NUMERIC_RE = re.compile(r"[0-9]+")
_KEY_NAME_MAX = 64


def _numeric_id(value: Any, kind: str) -> str:
    """A NephoScale id (a number) from a model or an id; ValidationError otherwise."""
    ident = object_id(value, kind)
    if not _NUMERIC_RE.fullmatch(ident):
        raise ValidationError(f"NephoScale {kind} ids are numbers, got {ident[:40]!r}")
    return ident


def _check_text(value: Any, pattern: re.Pattern[str], what: str, chars: str, longest: int) -> str:
    """``value`` when it is text matching ``pattern``, else a ValidationError that states the rule."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = value[:70] if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f"invalid NephoScale {what} {shown!r}: it must start with a letter, contain only {chars}, "
            f"end with a letter or digit, and have at most {longest} characters")
    return value


def _check_name(name: Any) -> str:
    return _check_text(name, _NAME_RE, "server name", "letters, digits, '-' and '_'", 64)


def _check_hostname(hostname: Any) -> str:
    return _check_text(hostname, _HOSTNAME_RE, "hostname", "letters, digits and '-'", 15)


def _default_hostname(name: str) -> str:
    """A valid hostname derived from a valid server name ('_' → '-', at most 15 characters)."""
    return name.replace("_", "-")[:15].rstrip("-")


def _key_name(prefix: str, name: str) -> str:
    return f"{prefix}{name}"[:_KEY_NAME_MAX]


def _key_material(public_key: str) -> tuple[str, bytes] | str:
    """What identifies a public key: (type, blob), or the first two words when it does not parse."""
    try:
        kind, blob, _ = parse_public_key(public_key)
    except ValidationError:
        return " ".join(public_key.split()[:2])
    return (kind, blob)


@contextmanager
def _scrubbed(secrets_: tuple[str | None, ...] = (), drop_body: bool = False) -> Iterator[None]:
    """Remove ``secrets_`` (and, with ``drop_body``, the whole body excerpt) from any
    cloudkit error raised inside."""
    try:
        yield
    except CloudkitError as exc:
        redact_exception(exc, secrets_)
        if drop_body and isinstance(exc, ProviderError):
            exc.body = ""
        raise
