"""Property tests: Linode parsing functions yield a model or MalformedResponseError for ANY JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from drivers._linode_support import LinodeAPI, linode_api, load, make_driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudkit.drivers.linode import LinodeResponse, _page_items, _total_pages
from cloudkit.errors import MalformedResponseError, ProviderError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

DRIVER = make_driver()
PARSERS: dict[str, tuple[Callable[[Any], Any], type, Any]] = {
    "node": (DRIVER._to_node, Node, load("GET_v4_linode_instances_61234501.json")),
    "size": (DRIVER._to_size, NodeSize, load("GET_v4_linode_types.json")["data"][0]),
    "image": (DRIVER._to_image, NodeImage, load("GET_v4_images_page2.json")["data"][1]),
    "location": (DRIVER._to_location, NodeLocation, load("GET_v4_regions.json")["data"][0]),
    "key": (DRIVER._to_key_pair, KeyPair, load("GET_v4_profile_sshkeys.json")["data"][0]),
}


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


def outcome(parse: Callable[[Any], Any], model: type, value: Any) -> None:
    try:
        result = parse(value)
    except MalformedResponseError:
        return
    assert isinstance(result, model)
    assert isinstance(getattr(result, "id", ""), (str, type(None)))


@pytest.mark.parametrize("kind", list(PARSERS))
@SETTINGS
@given(value=JSON)
def test_any_json_gives_a_model_or_malformed(kind: str, value: Any, api: LinodeAPI) -> None:
    parse, model, _ = PARSERS[kind]
    outcome(parse, model, value)
    assert api.calls == []


@pytest.mark.parametrize("kind", list(PARSERS))
@SETTINGS
@given(data=st.data(), value=JSON)
def test_any_json_in_place_of_a_documented_field(kind: str, data: st.DataObject, value: Any,
                                                 api: LinodeAPI) -> None:
    parse, model, good = PARSERS[kind]
    body = json.loads(json.dumps(good))
    field = data.draw(st.sampled_from(sorted(body)))
    body[field] = value
    outcome(parse, model, body)
    # Nested objects too (specs, price, backups, resolvers, ...).
    nested = [k for k, v in good.items() if isinstance(v, dict) and v]
    if nested:
        outer = data.draw(st.sampled_from(nested))
        body = json.loads(json.dumps(good))
        inner = data.draw(st.sampled_from(sorted(body[outer])))
        body[outer][inner] = value
        outcome(parse, model, body)


@SETTINGS
@given(value=JSON)
def test_listing_envelopes(value: Any, api: LinodeAPI) -> None:
    for fn in (_page_items, lambda body: _total_pages(body, 500)):
        try:
            fn(value)
        except MalformedResponseError:
            pass


@SETTINGS
@given(value=JSON, status=st.sampled_from([400, 401, 403, 404, 429, 500, 503]))
def test_any_error_body_becomes_a_provider_error(value: Any, status: int, api: LinodeAPI) -> None:
    body = json.dumps(value).encode()
    with pytest.raises(ProviderError) as info:
        LinodeResponse(status, {"Content-Type": "application/json"}, body, driver_name="Linode")
    assert info.value.status == status
    assert isinstance(info.value.message, str) and info.value.message


def test_the_documented_bodies_parse() -> None:
    for parse, model, good in PARSERS.values():
        assert isinstance(parse(good), model)
