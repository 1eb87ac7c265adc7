"""Objects a listing repeats, kept once: embedded models (``ModelMemo``) and numbers
(``shared_number``, ``share_ints``). ``cloudkit.parsing`` re-exports them; its ``FieldMap``
kinds ``SHARED_INT``, ``SHARED_NUM`` and ``x_shared_ints`` share numbers inside its readers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from cloudkit.errors import MalformedResponseError

__all__ = ["ModelMemo", "share_ints", "shared_number"]


# -- embedded models a listing repeats ------------------------------------------------------


def _types(value: dict[str, Any]) -> tuple[type, ...]:
    """The JSON types of an object's values, in order (``==`` alone takes True for 1 and 1.0)."""
    return tuple(map(type, value.values()))


def _copier(model: Any) -> Callable[[], Any]:
    """A function returning a fresh copy of a model (a dataclass with an ``extra`` dict): its
    own ``extra`` and its own copy of every list or dict in it."""
    cls = type(model)
    names = [f.name for f in fields(model) if f.init]
    at = names.index("extra")
    # Positional arguments (a keyword call costs more): those before ``extra`` and those after it.
    before = tuple(getattr(model, name) for name in names[:at])
    after = tuple(getattr(model, name) for name in names[at + 1:])
    template = dict(model.extra)
    mutable = tuple(k for k, v in template.items() if isinstance(v, (list, dict)))
    for key in mutable:
        template[key] = template[key].copy()
    copy = template.copy

    if not mutable:
        def fresh() -> Any:
            return cls(*before, copy(), *after)
    elif len(mutable) == 1:  # the usual embedded model (a size's or image's regions): no loop
        only, = mutable

        def fresh() -> Any:
            extra = copy()
            extra[only] = extra[only].copy()
            return cls(*before, extra, *after)
    else:
        def fresh() -> Any:
            extra = copy()
            for key in mutable:
                extra[key] = extra[key].copy()
            return cls(*before, extra, *after)

    return fresh


class ModelMemo:
    """The last parse of an embedded object per key (a droplet's size or image, by slug): a
    listing's items share a few, and checking that an object equals the one parsed before (same
    values, same JSON types) costs a fraction of parsing it again. Each hit is a fresh copy
    (its own ``extra``, lists and dicts). Bounded; not worth pickling (name it in the driver's
    ``transient_attributes``)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._memo: dict[Any, tuple[dict[str, Any], tuple[type, ...], Callable[[], Any]]] = {}

    def parse(self, key: Any, value: dict[str, Any], parse: Callable[[dict[str, Any]], Any]) -> Any:
        """``parse(value)``, or a fresh copy of the parse remembered under ``key`` when ``value``
        is the same object as then. A parse that returns None is not remembered."""
        hit = self._memo.get(key)
        if hit is not None and hit[0] == value and hit[1] == _types(value):
            return hit[2]()
        model = parse(value)
        if model is not None:
            if len(self._memo) >= self.limit:
                self._memo.clear()
            self._memo[key] = (_deep_copy(value), _types(value), _copier(model))
        return model

    def embedded(self, kind: str, value: Any, parse: Callable[[dict[str, Any]], Any]) -> Any:
        """The model of an object embedded in another (a droplet's size or image), remembered
        under ``(kind, its "slug")``: None when ``value`` is not a non-empty object or ``parse``
        raises ``MalformedResponseError`` (one odd sub-object must not hide its parent)."""
        if not isinstance(value, dict) or not value:
            return None
        slug = value.get("slug")
        key = (kind, slug if isinstance(slug, str) else None)
        # parse()'s memo check, inline: every item of a listing comes here once or twice
        hit = self._memo.get(key)
        if hit is not None and hit[0] == value and hit[1] == tuple(map(type, value.values())):
            return hit[2]()
        return self.parse(key, value, functools.partial(_or_none, parse))

    def __len__(self) -> int:
        return len(self._memo)

    def clear(self) -> None:
        """Forget every remembered parse."""
        self._memo.clear()

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModelMemo, (self.limit,))  # a process of its own starts with an empty memo


#: One object per figure a listing repeats (see ``shared_number``); bounded.
_SHARED_INTS: dict[int, int] = {}
_SHARED_FLOATS: dict[float, float] = {}


def shared_number(value: int | float) -> int | float:
    """One shared object for equal numbers of the same type (a type's memory, default alert
    thresholds: the same figures on most nodes of an account). Numbers are immutable, so only
    memory changes; the table is bounded."""
    # Only floats enter the float table: readers look it up by an equal int.
    if type(value) is int:
        table: dict[Any, Any] = _SHARED_INTS
    elif type(value) is float:
        table = _SHARED_FLOATS
    else:
        return value
    shared: int | float | None = table.get(value)
    if shared is None:
        if len(table) > 512:
            table.clear()
        shared = table[value] = value
    return shared


def share_ints(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``obj`` with each of ``keys`` that holds an int replaced by ``shared_number`` of it."""
    table = _SHARED_INTS
    for key in keys:
        value = obj.get(key)
        if type(value) is int:
            shared = table.get(value)
            obj[key] = shared_number(value) if shared is None else shared
    return obj


def _or_none(parse: Callable[[dict[str, Any]], Any], value: dict[str, Any]) -> Any:
    try:
        return parse(value)
    except MalformedResponseError:
        return None


def _deep_copy(value: Any) -> Any:
    """A copy of a decoded JSON value (dicts and lists copied all the way down)."""
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
