"""Field maps: a provider's fields declared once (name -> kind) and compiled into one reader.

Listings build thousands of models. ``FieldMap`` compiles a declaration once into one function
that reads every field, taking each kind's usual JSON type inline and sending any other value
through the kind's checked reader from ``cloudkit.parsing`` (which decides what it means, by
the rule written there, or raises ``MalformedResponseError`` naming the field). Both paths give
the same result; only the cost differs. Drivers declare their fields and stay plain; the speed
lives here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from cloudkit.addresses import split_ips, split_texts
from cloudkit.parsing import (
    as_dict,
    int_field,
    int_items,
    num_field,
    obj_field,
    opt_float,
    opt_int,
    opt_text,
    req,
    req_id,
    slug_field,
    str_field,
    str_items,
    strs_field,
)
from cloudkit.sharing import _SHARED_FLOATS, _SHARED_INTS, shared_number

__all__ = [
    "ADDRESSES", "INT", "NUM", "OBJECT", "REQ_ID", "REQ_TEXT", "SHARED_INT", "SHARED_NUM", "SLUG", "TEXT",
    "TEXTS", "TOKEN", "X_ANY", "X_FLAG", "X_INT", "X_INTS", "X_NUM", "X_OBJECT", "X_SHARED", "X_TEXT",
    "X_TEXTS", "X_TOKEN", "CompiledOnUse", "FieldMap", "Kind", "compile_reader", "x_shared_ints",
]


class Kind:
    """How one kind of field is read. ``inline`` is a Python expression on ``v`` (the value,
    None when absent) that takes the kind's usual JSON type as it is and otherwise calls
    ``{c}(obj, {k}, what)``: ``check``, the kind's documented reader, which decides what any
    other value means or raises. Both paths give the same result; only the cost differs.
    ``block``, when given, replaces ``{r} = inline``: statements that set ``{r}`` (kinds that
    also store a shared number back into ``obj``). ``names``: (name, value) pairs the code uses
    beyond the compiler's own."""

    # A plain class, not a dataclass: importing a driver makes these, and stays quick.
    __slots__ = ("block", "check", "inline", "name", "names")

    def __init__(self, name: str, inline: str, check: Callable[[Mapping[str, Any], str, str], Any] | None = None,
                 block: str = "", names: tuple[tuple[str, Any], ...] = ()) -> None:
        self.name = name
        self.inline = inline
        self.check = check
        self.block = block
        self.names = names

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


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
TEXTS = Kind("texts", "(v[:] if not v or _all_str(v) else {c}(obj, {k}, what)) if type(v) is list "
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
X_TEXTS = Kind("info texts", "(v[:] if type(v) is list and _all_str(v) else {c}(obj, {k}, what)) if v else []",
               _lenient(str_items))
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
    "isinstance": isinstance, "dict": dict, "_as_dict": as_dict}


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


def _read_lines(fields: Mapping[str, tuple[Source, Kind]], first: int, present_only: bool,
                outers: dict[str, str]) -> list[str]:
    """The statements reading ``fields`` into ``r<first>``, ``r<first + 1>`` ... (present-only:
    storing each present one into ``out``). ``outers``: embedded objects already fetched (key ->
    variable), shared by the calls for one reader so that each is fetched once."""
    lines: list[str] = []
    for i, (out, (key, kind)) in enumerate(fields.items(), first):
        if present_only:
            if not isinstance(key, str):
                raise ValueError("a present-only field is read from the object itself")
            # ``in`` and ``[]`` are opcodes: quicker than a ``get`` call, most of all for absent keys
            lines += [f"        if {key!r} in obj:", f"            v = obj[{key!r}]",
                      *_statements(kind, f"r{i}", f"c{i}", repr(key), 12), f"            out[{out!r}] = r{i}"]
        elif isinstance(key, str):
            lines += [f"        v = get({key!r})", *_statements(kind, f"r{i}", f"c{i}", repr(key), 8)]
        else:  # (outer, inner): a field of an embedded object; absent when that is not an object
            outer, inner = key
            name = outers.get(outer)
            if name is None:
                name = outers[outer] = f"o{len(outers)}"
                lines += [f"        {name} = get({outer!r})", f"        if type({name}) is not dict:",
                          f"            {name} = {{}}"]
            lines += [f"        v = {name}.get({inner!r})", *_statements(kind, f"r{i}", f"c{i}", repr(inner), 8, name)]
    return lines


#: The first lines of every reader: an object that is not a dict is refused (``as_dict``).
_PROLOGUE = "        if type(obj) is not dict:\n            obj = _as_dict(obj, what)\n        get = obj.get\n"


class CompiledOnUse:
    """Readers compiled on first use, so that importing a driver compiles nothing: a subclass's
    ``_compile()`` returns the attributes it makes, all named in ``_compiled``."""

    _compiled: ClassVar[tuple[str, ...]] = ()

    def _compile(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name not in type(self)._compiled:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        made = self._compile()
        self.__dict__.update(made)  # from now on found without __getattr__
        return made[name]


class FieldMap(CompiledOnUse):
    """Fields declared once (output name -> kind, or -> (source, kind), the source a key or
    ``(key, inner key)`` for a field of an embedded object) and compiled into one reader:
    ``read(obj)`` gives a new dict of the fields, ``values(obj)`` a tuple in declaration order.
    With ``extra`` (more fields, read as ``read`` reads them, or only those ``obj`` has with
    ``extra_present_only``), ``values`` ends with one more item: a new dict of those, which
    starts with the entries of ``extra_first`` when given (output key -> the declared field whose
    value it repeats, or None: a place, in that order, for a value the caller computes). With
    ``present_only``, ``read`` keeps only the keys ``obj`` has, and ``read_into(obj, out)`` puts
    them into ``out`` (and returns it). Every reader raises ``MalformedResponseError`` for an
    ``obj`` that is not a JSON object."""

    _compiled = ("read", "values", "read_into")
    read: Callable[[Any], dict[str, Any]]
    values: Callable[[Any], tuple[Any, ...]]
    read_into: Callable[[Any, dict[str, Any]], dict[str, Any]]

    def __init__(self, what: str, declared: Mapping[str, Kind | tuple[Source, Kind]], *,
                 present_only: bool = False, extra: Mapping[str, Kind | tuple[Source, Kind]] | None = None,
                 extra_present_only: bool = False, extra_first: Mapping[str, str | None] | None = None) -> None:
        self.what = what
        self.fields = _normalised(declared)
        self.extra = _normalised(extra or {})
        first = dict(extra_first or {})
        if present_only and (self.extra or first):
            raise ValueError("a present-only FieldMap has no extra fields")
        if unknown := [name for name in first.values() if name is not None and name not in self.fields]:
            raise ValueError(f"extra_first repeats fields that are not declared: {unknown}")
        if both := sorted(set(first) & set(self.extra)):
            raise ValueError(f"keys both in extra_first and extra: {both}")
        n = len(self.fields)
        checks = [kind.check for _, kind in (*self.fields.values(), *self.extra.values())]
        outers: dict[str, str] = {}
        body = "\n".join(_read_lines(self.fields, 0, present_only, outers))
        results = [f"{out!r}: r{i}" for i, out in enumerate(self.fields)]
        params = "".join(f"c{i}, " for i in range(len(checks)))
        if present_only:
            inner = (f"    def read_into(obj, out):\n{_PROLOGUE}{body}\n        return out\n"
                     f"    def read(obj):\n        return read_into(obj, {{}})\n")
            names = "read, None, read_into"
        else:
            tail = "".join(f"r{i}, " for i in range(n))
            base = body
            if self.extra or first:
                index = {out: i for i, out in enumerate(self.fields)}
                head = [f"{key!r}: {'None' if name is None else f'r{index[name]}'}" for key, name in first.items()]
                extra_body = "\n".join(_read_lines(self.extra, n, extra_present_only, outers))
                if extra_present_only:
                    body += "\n        out = {" + ", ".join(head) + "}\n" + extra_body
                else:
                    body += "\n" + extra_body + "\n        out = {" + ", ".join(
                        [*head, *(f"{out!r}: r{i}" for i, out in enumerate(self.extra, n))]) + "}"
                tail += "out, "
            inner = (f"    def read(obj):\n{_PROLOGUE}{base}\n        return {{{', '.join(results)}}}\n"
                     f"    def values(obj):\n{_PROLOGUE}{body}\n        return ({tail})\n")
            names = "read, values, None"
        self._source = (f"FieldMap {what}", f"{params}what", inner, names, [*checks, what],
                        (*self.fields.values(), *self.extra.values()))

    def _compile(self) -> dict[str, Any]:
        read, values, read_into = compile_reader(*self._source)
        return {"read": read, "values": values or self._no_values, "read_into": read_into or self._no_read_into}

    @staticmethod
    def _no_values(obj: Any) -> tuple[Any, ...]:
        raise TypeError("a present_only FieldMap has no values()")

    @staticmethod
    def _no_read_into(obj: Any, out: dict[str, Any]) -> dict[str, Any]:
        raise TypeError("only a present_only FieldMap has read_into()")


def _normalised(declared: Mapping[str, Kind | tuple[Source, Kind]]) -> dict[str, tuple[Source, Kind]]:
    return {out: spec if isinstance(spec, tuple) else (out, spec) for out, spec in declared.items()}
