"""``cloudkit.field_maps``: a compiled reader gives what the kinds' checked readers give.

Every kind takes its usual JSON type inline and sends anything else through its checked reader
(``cloudkit.parsing``); the two paths must agree on every value, including the ones a hostile
server sends. The other tests pin the reader's shape: embedded objects, present-only fields,
``extra_first`` and the refusal of a body that is not an object.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudkit.address_entries import X_ADDRESS, X_TEXT_INT
from cloudkit.errors import MalformedResponseError
from cloudkit.field_maps import (
    ADDRESSES,
    INT,
    NUM,
    OBJECT,
    REQ_ID,
    REQ_TEXT,
    SHARED_INT,
    SHARED_NUM,
    SLUG,
    TEXT,
    TEXTS,
    TOKEN,
    X_ANY,
    X_INT,
    X_INTS,
    X_NUM,
    X_SHARED,
    X_TEXT,
    X_TEXTS,
    X_TOKEN,
    FieldMap,
    Kind,
)

CHECKED = [REQ_ID, REQ_TEXT, TOKEN, TEXT, SLUG, INT, SHARED_INT, NUM, SHARED_NUM, TEXTS, ADDRESSES, OBJECT,
           X_TEXT, X_TOKEN, X_INT, X_NUM, X_TEXTS, X_INTS, X_ADDRESS, X_TEXT_INT]


class Text(str):
    """A str subclass: never taken inline (exact types only), so it tests the checked path."""


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**53 - 2, max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", " ", " a ", "10.0.0.1", "45.1.2.3/24", "<nil>", "fd00::1", "7"]),
    st.builds(Text, st.sampled_from(["", "x", " 8.8.8.8 "])))
JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "cpu"]), inner, max_size=3)),
    max_leaves=6)
ABSENT = object()


def _outcome(read: Any) -> tuple[str, Any]:
    try:
        return "value", read()
    except MalformedResponseError:
        return "refused", None


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("kind", CHECKED, ids=lambda kind: kind.name)
@settings(max_examples=100, deadline=None)
@given(value=st.one_of(st.just(ABSENT), JSON))
def test_compiled_reader_agrees_with_the_checked_reader(kind: Kind, value: Any) -> None:
    obj = {} if value is ABSENT else {"f": value}
    reader = FieldMap("thing", {"f": kind})
    assert kind.check is not None
    check = kind.check
    expected = _outcome(lambda: check(copy.deepcopy(obj), "f", "thing"))
    compiled = _outcome(lambda: reader.read(copy.deepcopy(obj))["f"])
    assert compiled[0] == expected[0], (value, compiled, expected)
    assert _same(compiled[1], expected[1]), (value, compiled, expected)
    present = FieldMap("thing", {"f": kind}, present_only=True)
    got = _outcome(lambda: present.read(copy.deepcopy(obj)))
    if value is ABSENT:
        assert got == ("value", {})
    else:
        assert got[0] == expected[0] and (got[1] is None or _same(got[1]["f"], expected[1]))


@pytest.mark.parametrize("body", [None, [], "text", 7, [{"id": 1}]])
def test_a_body_that_is_not_an_object_is_refused_by_every_reader(body: Any) -> None:
    plain = FieldMap("thing", {"id": REQ_ID}, extra={"x": X_ANY})
    present = FieldMap("thing", {"id": X_ANY}, present_only=True)
    for read in (plain.read, plain.values, present.read, lambda b: present.read_into(b, {})):
        with pytest.raises(MalformedResponseError, match="thing: expected an object"):
            read(body)


class CountingDict(dict[str, Any]):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.asked: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.append(key)
        return super().get(key, default)


def test_an_embedded_object_is_fetched_once_for_all_its_fields() -> None:
    reader = FieldMap("node", {"specs": OBJECT, "memory": (("specs", "memory"), SHARED_INT),
                               "disk": (("specs", "disk"), INT)},
                      extra={"cpus": (("specs", "vcpus"), X_INT), "region": (("region", "slug"), X_TEXT)})
    body = CountingDict({"specs": {"memory": 2048, "disk": 50, "vcpus": 2}, "region": "not an object"})
    assert reader.values(body) == ({"memory": 2048, "disk": 50, "vcpus": 2}, 2048, 50,
                                   {"cpus": 2, "region": None})
    assert body.asked.count("specs") == 2  # the declared field itself, and once for its three inner fields
    assert body.asked.count("region") == 1
    with pytest.raises(MalformedResponseError, match="disk"):
        reader.values({"specs": {"disk": "large"}})


def test_extra_first_starts_the_extra_dict_in_its_order() -> None:
    reader = FieldMap("node", {"status": TOKEN, "region": X_TOKEN},
                      extra_first={"status": "status", "when": None, "location": "region"},
                      extra={"group": X_SHARED, "backups": X_ANY}, extra_present_only=True)
    status, region, extra = reader.values({"status": "running", "region": "us-east", "backups": None})
    assert (status, region) == ("running", "us-east")
    assert list(extra.items()) == [("status", "running"), ("when", None), ("location", "us-east"),
                                   ("backups", None)]
    _, _, extra = reader.values({"status": "off", "group": "web"})
    assert extra == {"status": "off", "when": None, "location": None, "group": "web"}
    full = FieldMap("node", {"status": TOKEN}, extra_first={"s": "status"}, extra={"n": X_INT})
    assert full.values({"status": "up", "n": 3}) == ("up", {"s": "up", "n": 3})


@pytest.mark.parametrize(("options", "message"), [
    ({"extra_first": {"x": "missing"}}, "not declared"),
    ({"extra_first": {"x": "status"}, "extra": {"x": X_ANY}}, "both in extra_first and extra"),
    ({"present_only": True, "extra_first": {"x": None}}, "no extra fields"),
    ({"present_only": True, "extra": {"x": X_ANY}}, "no extra fields"),
])
def test_contradictory_declarations_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FieldMap("node", {"status": TOKEN}, **options)


def test_present_only_fields_keep_null_and_skip_absent() -> None:
    reader = FieldMap("node", {"group": X_SHARED, "backups": X_ANY, "gone": X_ANY}, present_only=True)
    out = {"first": 1}
    assert reader.read_into({"group": "web", "backups": None}, out) is out
    assert out == {"first": 1, "group": "web", "backups": None}
    with pytest.raises(TypeError):
        reader.values({})
    with pytest.raises(TypeError):
        FieldMap("node", {"id": REQ_ID}).read_into({}, {})


def test_readers_are_compiled_on_first_use() -> None:
    reader = FieldMap("node", {"id": REQ_ID, "tags": TEXTS})
    assert "values" not in vars(reader) and "read" not in vars(reader)  # importing a driver compiles nothing
    assert reader.values({"id": 7, "tags": ["a"]}) == ("7", ["a"])
    assert {"read", "values", "read_into"} <= set(vars(reader))  # compiled once, kept on the instance
    assert reader.read({"id": "x"}) == {"id": "x", "tags": []}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reader.nope  # noqa: B018 - the attribute access is the test
    with pytest.raises(ValueError, match="not declared"):  # a bad declaration still fails at once
        FieldMap("node", {"id": REQ_ID}, extra_first={"x": "missing"})
