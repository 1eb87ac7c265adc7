"""A node's addresses given as objects grouped by family (DigitalOcean's ``networks``), read by
one compiled reader, and the kinds of the fields such entries carry (a gateway, a netmask)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cloudkit.addresses import is_private_ip
from cloudkit.field_maps import CompiledOnUse, Kind, _lenient, _statements, compile_reader

__all__ = ["X_ADDRESS", "X_TEXT_INT", "AddressEntries", "opt_address", "opt_text_or_int"]

#: What APIs send for "no address" (a network without a gateway), compared stripped and lower-cased.
_NO_ADDRESS = frozenset({"", "<nil>", "nil", "null", "none"})
_DIGITS = frozenset("0123456789")


def opt_address(value: Any) -> str | None:
    """Address text as it is (a gateway), or None for other types and for the placeholders
    APIs send when there is none (``""``, ``"nil"``, ``"<nil>"``, ``"null"``, ``"none"``, in any
    case, blanks around)."""
    if not isinstance(value, str) or value.strip().lower() in _NO_ADDRESS:
        return None
    return value


def opt_text_or_int(value: Any) -> str | int | None:
    """Text or an integer as it is (a netmask: dotted text, or a prefix length), or None
    (bools and other types)."""
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


#: Informational address text (``opt_address``: None for "no address" placeholders). Text that
#: starts with a digit is an address, never a placeholder, and a placeholder as sent ("<nil>")
#: is known without the check.
X_ADDRESS = Kind("info address", "(v if v[:1] in _DIGITS else None if v in _NO_ADDRESS else {c}(obj, {k}, what)) "
                 "if type(v) is str else None if v is None else {c}(obj, {k}, what)", _lenient(opt_address),
                 names=(("_DIGITS", _DIGITS), ("_NO_ADDRESS", _NO_ADDRESS)))
#: Informational text or integer as it is (``opt_text_or_int``).
X_TEXT_INT = Kind("info text or int", "v if type(v) is str or type(v) is int else {c}(obj, {k}, what)",
                  _lenient(opt_text_or_int))


class AddressEntries(CompiledOnUse):
    """Address entries grouped by family, ``{family: [entry, ...]}``, read by one compiled
    ``split(groups)`` into (public addresses, private addresses, normalised entries).

    Each entry is an object with its address under ``address`` (text, blanks stripped; an entry
    without one, or that is not an object, is skipped), its ``kind`` ("public" or "private";
    anything else is decided by the one rule, ``is_private_ip``, and the entry says so) and the
    ``fields`` (read by their kinds). A normalised entry is ``{family_key: family, kind: ...,
    address: ..., <fields>}``; an address appears once in the public or private list."""

    _compiled = ("split",)
    split: Callable[[Any], tuple[list[str], list[str], list[dict[str, Any]]]]

    def __init__(self, what: str, families: tuple[str, ...], *, address: str, kind: str,
                 fields: Mapping[str, Kind], family_key: str = "family") -> None:
        self.what = what
        specs = list(fields.items())
        lines = []
        for i, (key, field_kind) in enumerate(specs):
            lines += [f"                v = get({key!r})", *_statements(field_kind, f"r{i}", f"c{i}", repr(key), 16)]
        entry = ", ".join([f"{family_key!r}: family", f"{kind!r}: kind", f"{address!r}: address",
                           *(f"{key!r}: r{i}" for i, (key, _) in enumerate(specs))])
        inner = f"""    def split(groups):
        public = []
        private = []
        entries = []
        if not isinstance(groups, dict):
            return public, private, entries
        for family in {families!r}:
            listed = groups.get(family)
            if not listed or not isinstance(listed, list):
                continue
            for obj in listed:
                if not isinstance(obj, dict):
                    continue
                get = obj.get
                address = get({address!r})
                if not isinstance(address, str):
                    continue
                address = address.strip()
                if not address:
                    continue
                kind = get({kind!r})
                if kind == "public":
                    target = public
                elif kind == "private":
                    target = private
                else:
                    kind = "private" if _private(address) else "public"
                    target = private if kind == "private" else public
                if address not in target:
                    target.append(address)
{chr(10).join(lines)}
                entries.append({{{entry}}})
        return public, private, entries
"""
        checks = [field_kind.check for _, field_kind in specs]
        private_kind = Kind("address rule", "", names=(("_private", is_private_ip),))
        params = "".join(f"c{i}, " for i in range(len(checks)))
        self._source = (f"AddressEntries {what}", f"{params}what", inner, "split", [*checks, what],
                        [(None, field_kind) for _, field_kind in specs] + [(None, private_kind)])

    def _compile(self) -> dict[str, Any]:
        return {"split": compile_reader(*self._source)}
