"""Small helpers drivers use to turn provider dicts into models safely.

A provider body that lacks a field, or carries the wrong type, must surface as
``MalformedResponseError`` naming what was wrong, never as a raw ``KeyError`` or
``TypeError``. Drivers wrap each ``_to_node``-style function with ``parser``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import ipaddress
import math
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from cloudkit.errors import CloudkitError, MalformedResponseError

__all__ = [
    "as_dict",
    "as_list",
    "is_private_ip",
    "opt_float",
    "opt_int",
    "parse_datetime",
    "parser",
    "req",
    "req_id",
    "split_ips",
]

P = ParamSpec("P")
R = TypeVar("R")


def parser(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a parsing function: any KeyError/TypeError/ValueError/AttributeError inside
    becomes ``MalformedResponseError("<what>: ...")``."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except CloudkitError:
                raise
            except KeyError as exc:
                raise MalformedResponseError(f"{what}: missing field {exc}") from None
            except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
                raise MalformedResponseError(f"{what}: unexpected value ({type(exc).__name__}: "
                                             f"{str(exc)[:120]})") from None

        return inner

    return wrap


def as_dict(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else MalformedResponseError."""
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    """``value`` if it is a JSON array, else MalformedResponseError."""
    if not isinstance(value, list):
        raise MalformedResponseError(f"{what}: expected an array, got {type(value).__name__}")
    return value


def req(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``obj[key]``, checked to be of ``kind`` (bools are not ints here)."""
    if key not in obj:
        raise MalformedResponseError(f"{what}: missing field '{key}'")
    value = obj[key]
    if type(value) is kind:  # the common case, checked first: listings call this per field
        return value
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise MalformedResponseError(f"{what}: field '{key}' has type bool")
    if not isinstance(value, kinds):
        raise MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")
    return value


def req_id(obj: dict[str, Any], key: str, what: str) -> str:
    """The id in ``obj[key]`` (a number or a non-blank string) as text without surrounding
    blanks; MalformedResponseError when it is missing, of another type or blank."""
    text = str(req(obj, key, (int, str), what)).strip()
    if not text:
        raise MalformedResponseError(f"{what}: field '{key}' is empty")
    return text


def opt_int(value: Any) -> int | None:
    """An int from a number or numeric string, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else None
    if isinstance(value, str):
        try:
            return int(float(value))
        except (ValueError, OverflowError):
            return None
    return None


def opt_float(value: Any) -> float | None:
    """A finite float from a number or numeric string, or None (NaN and infinities, which
    Python's JSON parser lets through, count as no value)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_datetime(value: Any) -> _dt.datetime | None:
    """An aware datetime from ISO 8601 text (``Z`` or an offset; naive times are UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # Fast path (listings parse thousands): Python 3.11 reads a trailing "Z" itself.
        when = _dt.datetime.fromisoformat(value)
    except ValueError:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            when = _dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                when = _dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return None
        return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)
    if when.tzinfo is not None:
        return when
    if len(value) > 10:  # a time part follows the date (date-only forms are 10 characters at most)
        # Naive means UTC: appending the offset gives what when.replace(tzinfo=UTC) does, in a
        # fifth of the time (listings parse thousands of these).
        try:
            aware = _dt.datetime.fromisoformat(value + "+00:00")
        except ValueError:
            aware = None
        if aware is not None and aware.tzinfo is not None:
            return aware
    return when.replace(tzinfo=_dt.UTC)


#: Documentation ranges (RFC 5737, RFC 3849): they stand in for public addresses in examples
#: and fixtures, so they count as public although ``ipaddress`` calls them private.
_DOCUMENTATION_NETS = tuple(ipaddress.ip_network(net) for net in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def is_private_ip(address: str) -> bool:
    """True for RFC 1918 / unique-local / link-local addresses (and other non-global ones,
    except the documentation ranges, which stand in for public addresses)."""
    try:
        ip = ipaddress.ip_address(address.split("/", 1)[0])
    except ValueError:
        return False
    if ip.is_loopback:
        return False  # the simulator's 127.0.0.1 is a node's "public" address
    if any(ip.version == net.version and ip in net for net in _DOCUMENTATION_NETS):
        return False
    return bool(ip.is_private or ip.is_link_local)


def split_ips(addresses: list[str]) -> tuple[list[str], list[str]]:
    """Split addresses into (public, private) lists, keeping their order."""
    public: list[str] = []
    private: list[str] = []
    for address in addresses:
        (private if is_private_ip(address) else public).append(address)
    return public, private
