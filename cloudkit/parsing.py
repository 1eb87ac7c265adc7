"""The field readers every driver uses to turn provider dicts into models safely.

A provider body that lacks a field, or carries the wrong type, must surface as
``MalformedResponseError`` naming what was wrong, never as a raw ``KeyError`` or
``TypeError``. Drivers wrap each ``_to_node``-style function with ``parser``.

**The rule**, one per kind of field, the same in every driver:

1. *Required fields* (``req``, ``req_id``, the kinds ``REQ_ID`` and ``REQ_TEXT``): missing,
   null or of another JSON type raises ``MalformedResponseError`` naming the field.
2. *Model fields*, optional fields a model's own attributes are made from (a node's addresses,
   tags, size and image ids, a size's figures): ``str_field``, ``slug_field``, ``int_field``,
   ``num_field``, ``strs_field``, ``obj_field`` and the kinds ``TEXT``, ``SLUG``, ``INT``,
   ``NUM``, ``TEXTS``, ``OBJECT``. Absent or null gives None (``[]``/``{}`` for arrays and
   objects); a present value of another JSON type raises (a bool is never a number; a float
   is an int only as a count, truncated; numbers must be finite). Wrong data in a model is worse
   than an error that names the field.
3. *Informational fields*, copied into ``extra`` and nothing else: ``opt_text``, ``opt_int``,
   ``opt_float``, ``opt_flag``, ``opt_id``, ``str_items``, ``int_items`` and the kinds
   ``X_TEXT``, ``X_INT``, ``X_NUM``, ``X_FLAG``, ``X_TEXTS``, ``X_INTS``, ``X_OBJECT``,
   ``X_ANY``: lenient, a value of another type counts as absent (None, or the item is dropped)
   and numbers may come as numeric text (HostVirtual and NephoScale send them so). A surprise
   in a field the library only passes along must not hide the node.

Each rule's kinds (``REQ_ID``, ``TEXT``, ``X_TEXT`` ...) live in ``cloudkit.field_maps``, where
``FieldMap`` compiles a declaration of fields into one fast reader for listings.
``ModelMemo`` remembers the parse of embedded objects a listing repeats (a droplet's size and
image).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from cloudkit.addresses import PRIVATE_NETWORKS, is_private_ip, split_ips
from cloudkit.errors import CloudkitError, MalformedResponseError
from cloudkit.sharing import ModelMemo, share_ints, shared_number

__all__ = [
    "PRIVATE_NETWORKS",
    "ModelMemo",
    "as_dict",
    "as_list",
    "int_field",
    "int_items",
    "is_private_ip",
    "num_field",
    "obj_field",
    "opt_flag",
    "opt_float",
    "opt_id",
    "opt_int",
    "opt_obj",
    "opt_text",
    "parse_datetime",
    "parser",
    "req",
    "req_id",
    "share_ints",
    "shared_number",
    "slug_field",
    "split_ips",
    "str_field",
    "str_items",
    "strs_field",
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


def req(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
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


def req_id(obj: Mapping[str, Any], key: str, what: str) -> str:
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
    if len(value) == 19:  # the usual naive text ("2024-03-11T09:15:42", Linode's): one parse, as UTC
        try:
            utc = _dt.datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass  # not that form: the general path below decides
        else:
            if utc.tzinfo is not None:
                return utc
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


# -- rule 3: informational fields (lenient) -------------------------------------------------


def opt_text(value: Any) -> str | None:
    """Non-empty text, or None."""
    return value if isinstance(value, str) and value else None


def opt_flag(value: Any) -> bool | None:
    """A JSON boolean, or None."""
    return value if isinstance(value, bool) else None


def opt_id(value: Any) -> str | None:
    """An id (a number or text) as text without surrounding blanks, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None


def opt_obj(value: Any) -> dict[str, Any] | None:
    """A JSON object, or None."""
    return value if isinstance(value, dict) else None


def str_items(value: Any) -> list[str]:
    """The text items of an array (others dropped); [] for anything else."""
    if not value or not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def int_items(value: Any) -> list[int]:
    """The integer items of an array (others, bools included, dropped); [] for anything else."""
    if not value or not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]


# -- rule 2: model fields (strict) ----------------------------------------------------------


def _wrong(what: str, key: str, value: Any) -> MalformedResponseError:
    return MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")


def str_field(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """``obj[key]`` as text; None when absent or null; MalformedResponseError for other types."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _wrong(what, key, value)


def slug_field(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """An id given as text (a type, an image): without surrounding blanks, interned (a listing
    repeats a few), None when absent, null or blank; MalformedResponseError for other types."""
    value = str_field(obj, key, what)
    if value is None:
        return None
    value = value.strip()
    return sys.intern(value) if value and type(value) is str else (value or None)


def int_field(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    """A JSON number as an int (a float truncated); None when absent or null;
    MalformedResponseError for bools, text, other types and non-finite numbers."""
    value = obj.get(key)
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(what, key, value)
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedResponseError(f"{what}: field '{key}' is not a finite number")
    return int(value)


def num_field(obj: Mapping[str, Any], key: str, what: str) -> float | None:
    """A finite JSON number as a float; None when absent or null; MalformedResponseError
    otherwise (bools, text, NaN, infinities and ints too large for a float included)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(what, key, value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise MalformedResponseError(f"{what}: field '{key}' is not a finite number")
    return number


def strs_field(obj: Mapping[str, Any], key: str, what: str) -> list[str]:
    """A JSON array of text as a new list; [] when absent or null; MalformedResponseError for
    anything else or an item that is not text."""
    value = obj.get(key)
    if value is None:
        return []
    as_list(value, f"{what}.{key}")
    for item in value:
        if not isinstance(item, str):
            raise MalformedResponseError(f"{what}: {key} holds a {type(item).__name__}")
    return list(value)


def obj_field(obj: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    """A JSON object (itself, not a copy); {} when absent or null; MalformedResponseError
    for anything else."""
    value = obj.get(key)
    if value is None:
        return {}
    return as_dict(value, f"{what}.{key}")
