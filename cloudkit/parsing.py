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

Listings build thousands of models: ``FieldMap`` compiles a declaration (field name -> kind)
once into one function that reads every field, accepting each kind's usual JSON type inline and
sending any other value through the kind's checked reader. Drivers declare their fields and
stay plain; the speed lives here. ``ModelMemo`` remembers the parse of embedded objects a
listing repeats (a droplet's size and image).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from cloudkit.addresses import PRIVATE_NETWORKS, is_private_ip, split_ips, split_texts
from cloudkit.errors import CloudkitError, MalformedResponseError
from cloudkit.sharing import _SHARED_FLOATS, _SHARED_INTS, ModelMemo, share_ints, shared_number

__all__ = [
    "ADDRESSES",
    "INT",
    "NUM",
    "OBJECT",
    "PRIVATE_NETWORKS",
    "REQ_ID",
    "REQ_TEXT",
    "SHARED_INT",
    "SHARED_NUM",
    "SLUG",
    "TEXT",
    "TEXTS",
    "TOKEN",
    "X_ANY",
    "X_FLAG",
    "X_INT",
    "X_INTS",
    "X_NUM",
    "X_OBJECT",
    "X_SHARED",
    "X_TEXT",
    "X_TEXTS",
    "X_TOKEN",
    "FieldMap",
    "Kind",
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
    "x_shared_ints",
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


# -- field maps: the rule, compiled ---------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one kind of field is read. ``inline`` is a Python expression on ``v`` (the value,
    None when absent) that takes the kind's usual JSON type as it is and otherwise calls
    ``{c}(obj, {k}, what)``: ``check``, the kind's documented reader, which decides what any
    other value means or raises. Both paths give the same result; only the cost differs.
    ``block``, when given, replaces ``{r} = inline``: statements that set ``{r}`` (kinds that
    also store a shared number back into ``obj``). ``names``: (name, value) pairs the code uses
    beyond the compiler's own."""

    name: str
    inline: str
    check: Callable[[Mapping[str, Any], str, str], Any] | None = None
    block: str = ""
    names: tuple[tuple[str, Any], ...] = ()


def _lenient(convert: Callable[[Any], Any]) -> Callable[[Mapping[str, Any], str, str], Any]:
    def check(obj: Mapping[str, Any], key: str, what: str) -> Any:
        return convert(obj.get(key))
    return check


def _required_text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value: str = req(obj, key, str, what)
    return value


def _all_str(items: list[Any]) -> bool:
    for item in items:  # quicker than all() over a generator for the short lists of a node
        if type(item) is not str:
            return False
    return True


def _shared_num_field(obj: Any, key: str, what: str) -> float | None:
    if type(obj.get(key)) is int:
        obj[key] = shared_number(obj[key])
    number = num_field(obj, key, what)
    return None if number is None else float(shared_number(number))


def _split_field(obj: Mapping[str, Any], key: str, what: str) -> tuple[list[str], list[str]]:
    return split_ips(strs_field(obj, key, what), drop_prefix=True)


#: Statements that make ``s`` the shared object of the int ``x`` and store it in ``o[k]``.
_SHARE = """s = _ints.get(x)
if s is None:
    s = _share(x)
o[k] = s"""


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


REQ_ID = Kind("required id", "str(v) if type(v) is int else {c}(obj, {k}, what)", req_id)
REQ_TEXT = Kind("required text", "v if type(v) is str else {c}(obj, {k}, what)", _required_text)
#: Required text a listing repeats (a status): one interned object.
TOKEN = Kind("required token", "_intern(v) if type(v) is str else {c}(obj, {k}, what)", _required_text)
TEXT = Kind("text", "v if type(v) is str or v is None else {c}(obj, {k}, what)", str_field)
SLUG = Kind("slug", "(_intern(v.strip()) or None) if type(v) is str else {c}(obj, {k}, what)", slug_field)
INT = Kind("int", "v if type(v) is int or v is None else {c}(obj, {k}, what)", int_field)
#: An int a listing repeats (a type's memory): as ``INT``, and the one shared object of it
#: (``shared_number``) also replaces it in the object read.
SHARED_INT = Kind("int, shared", "", int_field, f"""if type(v) is int:
    {_indent(_SHARE, 4).replace("x", "v").replace("o[k]", "obj[{k}]")}
    {{r}} = s
else:
    {{r}} = {{c}}(obj, {{k}}, what)""")
NUM = Kind("number", "float(v) if type(v) is int and -_EXACT <= v <= _EXACT else {c}(obj, {k}, what)", num_field)
#: A number a listing repeats (a type's transfer): as ``NUM``, the float shared, and an int in the
#: object read replaced by its shared object.
SHARED_NUM = Kind("number, shared", "", _shared_num_field, f"""if type(v) is int and -_EXACT <= v <= _EXACT:
    {_indent(_SHARE, 4).replace("x", "v").replace("o[k]", "obj[{k}]")}
    {{r}} = _floats.get(s)
    if {{r}} is None:
        {{r}} = _share(float(s))
else:
    {{r}} = {{c}}(obj, {{k}}, what)""")
TEXTS = Kind("texts", "([*v] if not v or _all_str(v) else {c}(obj, {k}, what)) if type(v) is list "
             "else {c}(obj, {k}, what)", strs_field)
#: A JSON array of addresses (strict, as ``TEXTS``) as ``split_ips(..., drop_prefix=True)``
#: gives it: (public, private) lists by the one rule, ``/prefix`` suffixes dropped.
ADDRESSES = Kind("addresses", "_split(v) or {c}(obj, {k}, what)", _split_field)
OBJECT = Kind("object", "v if type(v) is dict else {c}(obj, {k}, what)", obj_field)
X_TEXT = Kind("info text", "v if type(v) is str and v else {c}(obj, {k}, what)", _lenient(opt_text))
#: Informational text a listing repeats (a region): interned.
X_TOKEN = Kind("info token", "_intern(v) if type(v) is str and v else {c}(obj, {k}, what)", _lenient(opt_text))
X_INT = Kind("info int", "v if type(v) is int else {c}(obj, {k}, what)", _lenient(lambda v: opt_int(v)))
X_NUM = Kind("info number", "v if type(v) is float and v - v == 0.0 else {c}(obj, {k}, what)",
             _lenient(lambda v: opt_float(v)))
X_FLAG = Kind("info flag", "v if type(v) is bool else None")
X_TEXTS = Kind("info texts", "{c}(obj, {k}, what) if v else []", _lenient(str_items))
X_INTS = Kind("info ints", "{c}(obj, {k}, what) if v else []", _lenient(int_items))
X_OBJECT = Kind("info object", "v if type(v) is dict else None")
X_ANY = Kind("info value", "v")
#: Any value as it is, text a listing repeats interned (a hypervisor, a group).
X_SHARED = Kind("info value, shared text", "_intern(v) if type(v) is str else v")


def x_shared_ints(*keys: str) -> Kind:
    """Any value as it is; in an object, each int under ``keys`` replaced by its shared object
    (``share_ints``: thresholds most nodes repeat)."""
    shares = "".join(f"""
    x = v.get({key!r})
    if type(x) is int:
        {_indent(_SHARE, 8).replace("o[k]", f"v[{key!r}]")}""" for key in keys)
    return Kind(f"info value, shared ints {keys}", "", None, "{r} = v\nif isinstance(v, dict):" + shares)


#: The names a compiled reader may use (closure cells, not global or builtin look-ups).
_READER_NAMES: dict[str, Any] = {
    "_intern": sys.intern, "_EXACT": 2**53, "_all_str": _all_str, "_split": split_texts, "_share": shared_number,
    "_ints": _SHARED_INTS, "_floats": _SHARED_FLOATS, "type": type, "str": str, "float": float,
    "isinstance": isinstance, "dict": dict,
    "_ABSENT": object()}


def compile_reader(label: str, params: str, inner: str, returned: str, args: list[Any],
                   fields: Any) -> Any:
    """Run ``def factory(<params>, <reader names>): <inner>; return <returned>`` (our own source)
    and call it with ``args``, the reader names and the names the ``(source, kind)`` fields'
    kinds bring: every name the readers use is a closure cell (no global or builtin look-ups)."""
    names = dict(_READER_NAMES)
    for _, kind in fields:
        names.update(kind.names)
    source = f"def factory({params}, {', '.join(names)}):\n{inner}    return {returned}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<{label}>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["factory"](*args, *names.values())


def _statements(kind: Kind, result: str, check: str, key: str, indent: int, obj: str = "obj") -> list[str]:
    if kind.block:
        text = kind.block.replace("{r}", result).replace("{c}", check).replace("{k}", key)
    else:
        text = f"{result} = " + kind.inline.format(c=check, k=key)
    if obj != "obj":  # a field of an embedded object: the kinds' code names the object read ``obj``
        text = text.replace("obj", obj)
    return [" " * indent + line for line in text.split("\n")]


Source = str | tuple[str, str]


def _read_lines(fields: Mapping[str, tuple[Source, Kind]], first: int, present_only: bool) -> list[str]:
    """The statements reading ``fields`` into ``r<first>``, ``r<first + 1>`` ... (present-only:
    storing each present one into ``out``)."""
    lines: list[str] = []
    for i, (out, (key, kind)) in enumerate(fields.items(), first):
        if present_only:
            if not isinstance(key, str):
                raise ValueError("a present-only field is read from the object itself")
            # one look-up, not ``in`` and then ``[]``: _ABSENT is no JSON value
            lines += [f"        v = get({key!r}, _ABSENT)", "        if v is not _ABSENT:",
                      *_statements(kind, f"r{i}", f"c{i}", repr(key), 12), f"            out[{out!r}] = r{i}"]
        elif isinstance(key, str):
            lines += [f"        v = get({key!r})", *_statements(kind, f"r{i}", f"c{i}", repr(key), 8)]
        else:  # (outer, inner): a field of an embedded object; absent when that is not an object
            outer, inner = key
            lines += [f"        o{i} = get({outer!r})", f"        if type(o{i}) is not dict:",
                      f"            o{i} = {{}}", f"        v = o{i}.get({inner!r})",
                      *_statements(kind, f"r{i}", f"c{i}", repr(inner), 8, f"o{i}")]
    return lines


class FieldMap:
    """Fields declared once (output name -> kind, or -> (source, kind), the source a key or
    ``(key, inner key)`` for a field of an embedded object) and compiled into one reader:
    ``read(obj)`` gives a new dict of the fields, ``values(obj)`` a tuple in declaration order.
    With ``extra`` (more fields, read as ``read`` reads them, or only
    those ``obj`` has with ``extra_present_only``), ``values`` ends with one more item: a new dict
    of those. With ``present_only``, ``read`` keeps only the keys ``obj`` has, and
    ``read_into(obj, out)`` puts them into ``out`` (and returns it)."""

    def __init__(self, what: str, declared: Mapping[str, Kind | tuple[Source, Kind]], *,
                 present_only: bool = False, extra: Mapping[str, Kind | tuple[Source, Kind]] | None = None,
                 extra_present_only: bool = False) -> None:
        self.what = what
        self.fields = _normalised(declared)
        self.extra = _normalised(extra or {})
        if present_only and self.extra:
            raise ValueError("a present-only FieldMap has no extra fields")
        n = len(self.fields)
        checks = [kind.check for _, kind in (*self.fields.values(), *self.extra.values())]
        body = "\n".join(_read_lines(self.fields, 0, present_only))
        results = [f"{out!r}: r{i}" for i, out in enumerate(self.fields)]
        params = "".join(f"c{i}, " for i in range(len(checks)))
        if present_only:
            inner = (f"    def read_into(obj, out):\n        get = obj.get\n{body}\n        return out\n"
                     f"    def read(obj):\n        return read_into(obj, {{}})\n")
            names = "read, None, read_into"
        else:
            tail = "".join(f"r{i}, " for i in range(n))
            base = body
            if self.extra:
                extra_body = "\n".join(_read_lines(self.extra, n, extra_present_only))
                if extra_present_only:
                    body += "\n        out = {}\n" + extra_body
                else:
                    body += "\n" + extra_body + "\n        out = {" + ", ".join(
                        f"{out!r}: r{i}" for i, out in enumerate(self.extra, n)) + "}"
                tail += "out, "
            inner = (f"    def read(obj):\n        get = obj.get\n{base}\n        return {{{', '.join(results)}}}\n"
                     f"    def values(obj):\n        get = obj.get\n{body}\n        return ({tail})\n")
            names = "read, values, None"
        read, values, read_into = compile_reader(f"FieldMap {what}", f"{params}what", inner, names,
                                                 [*checks, what], (*self.fields.values(), *self.extra.values()))
        self.read: Callable[[Mapping[str, Any]], dict[str, Any]] = read
        self.values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = values or self._no_values
        self.read_into: Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]] = (
            read_into or self._no_read_into)

    @staticmethod
    def _no_values(obj: Mapping[str, Any]) -> tuple[Any, ...]:
        raise TypeError("a present_only FieldMap has no values()")

    @staticmethod
    def _no_read_into(obj: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        raise TypeError("only a present_only FieldMap has read_into()")


def _normalised(declared: Mapping[str, Kind | tuple[Source, Kind]]) -> dict[str, tuple[Source, Kind]]:
    return {out: spec if isinstance(spec, tuple) else (out, spec) for out, spec in declared.items()}
