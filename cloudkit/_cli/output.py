"""Rendering for the ``cloudkit`` command: plain tables for people, JSON for programs.

JSON output is a list of objects (one per node, size, ...) or a single object for
``show``-style commands; it never holds a secret: ``extra`` fields whose name suggests one
(password, token, secret, private key, API key) are dropped.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize

__all__ = [
    "Column",
    "image_dict",
    "key_dict",
    "location_dict",
    "node_dict",
    "print_json",
    "print_table",
    "safe_extra",
    "shown",
    "size_dict",
]

_SECRET_NAME = re.compile(r"(?i)pass|secret|token|private|api_?key|credential")


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data with secret-looking keys removed."""
    if depth > 6:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items() if not _SECRET_NAME.search(str(k))}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "id"):
        return str(value.id)
    return str(value)


def safe_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """A model's ``extra`` without secrets, JSON-ready."""
    result = _plain(extra)
    return result if isinstance(result, dict) else {}


def _location_of(node: Node) -> str | None:
    for key in ("location", "region", "datacenter", "zone"):
        value = node.extra.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping) and isinstance(value.get("slug") or value.get("id"), (str, int)):
            return str(value.get("slug") or value.get("id"))
    return None


def node_dict(node: Node) -> dict[str, Any]:
    """A node as JSON-ready data (no secrets)."""
    return {
        "id": node.id,
        "name": node.name,
        "state": node.state.value,
        "public_ips": list(node.public_ips),
        "private_ips": list(node.private_ips),
        "size": node.size.id if node.size is not None else None,
        "image": node.image.id if node.image is not None else None,
        "location": _location_of(node),
        "created_at": node.created_at.isoformat() if node.created_at is not None else None,
        "tags": list(node.tags),
        "provider": getattr(node.driver, "type", None),
        "extra": safe_extra(node.extra),
    }


def size_dict(size: NodeSize) -> dict[str, Any]:
    """A size as JSON-ready data."""
    return {"id": size.id, "name": size.name, "vcpus": size.vcpus, "ram": size.ram, "disk": size.disk,
            "bandwidth": size.bandwidth, "price": size.price,
            "currency": size.extra.get("currency") or "USD" if size.price is not None else None,
            "extra": safe_extra(size.extra)}


def image_dict(image: NodeImage) -> dict[str, Any]:
    """An image as JSON-ready data."""
    return {"id": image.id, "name": image.name, "extra": safe_extra(image.extra)}


def location_dict(location: NodeLocation) -> dict[str, Any]:
    """A location as JSON-ready data."""
    return {"id": location.id, "name": location.name, "country": location.country,
            "extra": safe_extra(location.extra)}


def key_dict(pair: KeyPair) -> dict[str, Any]:
    """A stored key as JSON-ready data (public half only)."""
    return {"name": pair.name, "id": pair.id, "fingerprint": pair.fingerprint,
            "public_key": pair.public_key, "extra": safe_extra(pair.extra)}


def print_json(data: object, stream: IO[str] | None = None) -> None:
    """Write ``data`` as indented JSON."""
    out = stream or sys.stdout
    out.write(json.dumps(data, indent=2, default=str) + "\n")


@dataclass(frozen=True)
class Column:
    """A table column: its header and how to get the cell text from a row dict."""

    header: str
    get: Callable[[Mapping[str, Any]], Any]
    align: str = "<"


_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(value: object) -> str:
    """``value`` as text safe to print on a terminal: control characters (escape sequences,
    carriage returns, newlines, bidirectional overrides) written as visible escapes, as
    JSON output writes them, so a provider-supplied name cannot drive the terminal."""
    text = str(value)
    if text.isprintable():
        return text
    import unicodedata

    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in _CONTROL_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.5f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value) or "-"
    return shown(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, empty: str = "(none)",
                stream: IO[str] | None = None) -> None:
    """Write ``rows`` as an aligned plain-text table (``empty`` when there are none)."""
    out = stream or sys.stdout
    if not rows:
        out.write(empty + "\n")
        return
    cells = [[_text(col.get(row)) for col in columns] for row in rows]
    widths = [max(len(col.header), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    lines = [_line([shown(c.header) for c in columns], widths, columns)]
    lines += [_line(r, widths, columns) for r in cells]
    out.write("\n".join(lines) + "\n")


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, as_json: bool,
               empty: str = "(none)", stream: IO[str] | None = None) -> None:
    """``rows`` as JSON (``-o json``) or as a table (``empty`` when there are none)."""
    if as_json:
        print_json(list(rows), stream)
    else:
        print_table(rows, columns, empty=empty, stream=stream)


def _line(values: Iterable[str], widths: Sequence[int], columns: Sequence[Column]) -> str:
    parts = [f"{v:{col.align}{w}}" for v, w, col in zip(values, widths, columns, strict=True)]
    return "  ".join(parts).rstrip()


def print_fields(pairs: Sequence[tuple[str, Any]], stream: IO[str] | None = None) -> None:
    """Write ``label: value`` lines, labels aligned."""
    out = stream or sys.stdout
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        out.write(f"{shown(label) + ':':<{width + 1}} {_text(value)}\n")


def key(name: str) -> Callable[[Mapping[str, Any]], Any]:
    """A column getter reading ``row[name]``."""
    return lambda row: row.get(name)


NODE_COLUMNS = (
    Column("ID", key("id")),
    Column("NAME", key("name")),
    Column("STATE", key("state")),
    Column("PUBLIC IPS", key("public_ips")),
    Column("SIZE", key("size")),
    Column("IMAGE", key("image")),
    Column("TAGS", key("tags")),
)
SIZE_COLUMNS = (
    Column("ID", key("id")),
    Column("NAME", key("name")),
    Column("VCPUS", key("vcpus"), ">"),
    Column("RAM MB", key("ram"), ">"),
    Column("DISK GB", key("disk"), ">"),
    Column("PRICE/HOUR", key("price"), ">"),
    Column("CURRENCY", key("currency")),
)
IMAGE_COLUMNS = (Column("ID", key("id")), Column("NAME", key("name")))
LOCATION_COLUMNS = (Column("ID", key("id")), Column("NAME", key("name")), Column("COUNTRY", key("country")))
KEY_COLUMNS = (Column("NAME", key("name")), Column("ID", key("id")), Column("FINGERPRINT", key("fingerprint")))
