"""Property tests: HostVirtual's parsing functions turn ANY JSON into a model or a
MalformedResponseError, never a raw KeyError/TypeError/ValueError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from drivers._hostvirtual_support import load, make_driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver, HostVirtualResponse, _amount, _check_fqdn
from cloudkit.errors import MalformedResponseError, ProviderError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize

DRIVER: HostVirtualNodeDriver = make_driver()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

PARSERS: dict[str, tuple[Callable[[Any], Any], type, Any]] = {
    "server": (DRIVER._to_node, Node, load("GET_cloud_servers.json")[0]),
    "plan": (DRIVER._to_size, NodeSize, load("GET_cloud_sizes.json")[0]),
    "image": (DRIVER._to_image, NodeImage, load("GET_cloud_images.json")[0]),
    "location": (DRIVER._to_location, NodeLocation, load("GET_cloud_locations_pre2017_array.json")[0]),
    "key": (DRIVER._to_key_pair, KeyPair, load("GET_server_sshkeys.json")[0]),
    "package": (DRIVER._to_package, dict, load("GET_cloud_packages.json")[2]),
    "job": (DRIVER._to_job, dict, load("GET_cloud_serverjob.json")),
}


def outcome(parse: Callable[[Any], Any], model: type, data: Any) -> None:
    try:
        result = parse(data)
    except MalformedResponseError:
        return
    assert isinstance(result, model)
    if isinstance(result, (Node, NodeSize, NodeImage, NodeLocation)):
        assert isinstance(result.id, str) and result.id
    if isinstance(result, Node):
        assert all(isinstance(ip, str) for ip in result.public_ips + result.private_ips)
        assert result.tags == []
    if isinstance(result, NodeSize):
        assert isinstance(result.ram, int) and isinstance(result.disk, int)
        assert result.price is None or result.price >= 0


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_values)
def test_any_json(kind: str, data: Any) -> None:
    parse, model, _ = PARSERS[kind]
    outcome(parse, model, data)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pick=st.integers(min_value=0, max_value=50), value=json_values, drop=st.booleans())
def test_documented_fields_replaced_by_any_json(kind: str, pick: int, value: Any, drop: bool) -> None:
    parse, model, example = PARSERS[kind]
    data = dict(example)
    field = sorted(data)[pick % len(data)]
    if drop:
        del data[field]
    else:
        data[field] = value
    outcome(parse, model, data)


def test_the_examples_themselves_parse() -> None:
    for parse, model, example in PARSERS.values():
        assert isinstance(parse(example), model)


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 412, 429, 500, 502]),
       body=json_values | st.binary(max_size=64).map(lambda b: b))
def test_response_class_with_any_body(status: int, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        HostVirtualResponse(status, {"Content-Type": "application/json"}, raw, driver_name="HostVirtual")
    except ProviderError as exc:  # MalformedResponseError included
        assert isinstance(exc.message, str)
        if status >= 400:
            assert exc.status is not None


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_name_check_refuses_or_accepts(text: str) -> None:
    try:
        assert _check_fqdn(text) == text
    except ValidationError as exc:
        assert exc.status is None


@settings(max_examples=200, deadline=None)
@given(value=json_values, unit=st.sampled_from(["MB", "GB"]))
def test_amount_is_a_finite_number_or_none(value: Any, unit: str) -> None:
    result = _amount(value, unit)
    assert result is None or (result >= 0 and result != float("inf"))
