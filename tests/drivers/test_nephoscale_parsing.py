"""NephoScale parsing under arbitrary JSON: a model or MalformedResponseError, nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from drivers._nephoscale_support import (
    load,
    make_driver,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudkit.drivers.nephoscale import NephoscaleResponse
from cloudkit.errors import MalformedResponseError, ProviderError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize

DRIVER = make_driver()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

PARSERS: dict[str, tuple[Callable[[Any], Any], type, dict[str, Any]]] = {
    "node": (DRIVER._to_node, Node, load("GET_server_cloud.json")["data"][0]),
    "size": (DRIVER._to_size, NodeSize, load("GET_server_type_cloud.json")["data"][0]),
    "image": (DRIVER._to_image, NodeImage, load("GET_image_server.json")["data"][0]),
    "location": (DRIVER._to_location, NodeLocation, load("GET_datacenter_zone.json")["data"][0]),
    "key_pair": (DRIVER._to_key_pair, KeyPair, load("GET_key_sshrsa.json")["data"][0]),
    "password_key": (DRIVER._to_password_key, object, load("GET_key_password.json")["data"][0]),
}


def _check(parse: Callable[[Any], Any], model: type, value: Any) -> None:
    try:
        result = parse(value)
    except MalformedResponseError:
        return
    assert isinstance(result, model)
    assert isinstance(result.id, str) and result.id


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_in_place_of_the_object(kind: str, value: Any) -> None:
    parse, model, _ = PARSERS[kind]
    _check(parse, model, value)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_in_place_of_each_field(kind: str, data: st.DataObject) -> None:
    parse, model, sample = PARSERS[kind]
    obj = dict(sample)
    field = data.draw(st.sampled_from(sorted(obj)))
    if data.draw(st.booleans()):
        obj[field] = data.draw(json_values)
    else:
        del obj[field]
    _check(parse, model, obj)


def test_the_samples_parse() -> None:
    for parse, model, sample in PARSERS.values():
        assert isinstance(parse(sample), model)


@settings(max_examples=150, deadline=None)
@given(body=json_values, status=st.sampled_from([200, 202, 204, 400, 401, 404, 409, 500, 503]))
def test_any_json_body_gives_a_response_or_a_provider_error(body: Any, status: int) -> None:
    raw = json.dumps(body).encode()
    try:
        resp = NephoscaleResponse(status, {"Content-Type": "application/json"}, raw, driver_name="NephoScale")
    except ProviderError as exc:
        assert isinstance(exc.message, str)
        return
    assert 200 <= status < 300
    assert json.dumps(resp.object) == json.dumps(body)  # NaN is not equal to itself


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_any_json_as_a_listing_envelope(body: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DRIVER, "_get", lambda path, params=None: body)
    for call in (DRIVER.list_nodes, DRIVER.list_sizes, DRIVER.list_images, DRIVER.list_locations,
                 DRIVER.list_key_pairs, DRIVER.ex_list_password_keys):
        try:
            result = call()
        except MalformedResponseError:
            continue
        assert isinstance(result, list)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_any_json_as_a_get_node_or_action_reply(body: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DRIVER, "_get", lambda path, params=None: body)
    try:
        node = DRIVER.get_node("150211")
    except (MalformedResponseError, ProviderError):
        pass
    else:
        assert node.id == "150211"
    try:
        DRIVER._job_reply(body, "an action")
    except (MalformedResponseError, ProviderError):
        pass
