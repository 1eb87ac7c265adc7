"""Property tests: arbitrary JSON in place of documented fields.

Each driver's parsing functions (``_to_node``, ``_to_size``, ...) get a documented body from
``fixtures/<provider>/`` with some of its fields (at any depth) replaced by arbitrary JSON
values or removed, or an arbitrary JSON value instead of the whole object. The only
outcomes allowed are a well-formed model or ``MalformedResponseError``: never a raw
``KeyError``/``TypeError``/..., never a model with a wrong-typed field. The public
methods get the same treatment over a mocked HTTP answer.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudkit.driver import NodeDriver
from cloudkit.errors import MalformedResponseError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.providers import get_driver

#: A default bound for every test here.
pytestmark = pytest.mark.timeout(60)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HTTP_PROPERTY = settings(PROPERTY, max_examples=25)

# -- arbitrary JSON -------------------------------------------------------------------------

TRICKY_VALUES: list[Any] = [
    None, True, False, "", " ", "0", "-1", "1e400", "NaN", "-Infinity", "null", "true", "{}", "[]", "\x00",
    "\u202e", "\ud800", "9" * 40, "a" * 5000, "2024-13-45T99:99:99Z", "192.168.0.1", "::1", "256.1.1.1",
    "../../etc/passwd", 10**30, -(10**30), 2**63, -1, 0, 1.5, -0.0, 1e308, float("nan"), float("inf"),
    float("-inf"), [], {}, [None], [1, "a"], {"": None}, {"id": None},
]
_TRICKY = st.sampled_from(TRICKY_VALUES)
_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=20)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                  _TEXT, _TRICKY)
JSON = st.recursive(_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8)
#: What replaces a field: often one of the tricky values, else any JSON.
REPLACEMENT = st.one_of(_TRICKY, JSON)


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 4) -> list[tuple[Any, ...]]:
    """Every key path into ``value`` (dict keys and list indices) up to ``depth`` deep."""
    found: list[tuple[Any, ...]] = []
    if depth == 0:
        return found
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value[:3]))
    else:
        return found
    for key, child in items:
        path = (*prefix, key)
        found.append(path)
        found.extend(_paths(child, path, depth - 1))
    return found


def _apply(obj: Any, path: tuple[Any, ...], delete: bool, value: Any) -> None:
    parent = obj
    for key in path[:-1]:
        if isinstance(parent, dict) and key in parent:
            parent = parent[key]
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            parent = parent[key]
        else:
            return  # an earlier change replaced this branch
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        if delete:
            del parent[last]
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if delete:
            del parent[last]
        else:
            parent[last] = value


def mutations(sample: Any) -> st.SearchStrategy[Any]:
    """``sample`` with 1 to 4 of its fields (any depth) replaced by arbitrary JSON or removed."""
    paths = _paths(sample)
    top = [p for p in paths if len(p) == 1]

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        obj = copy.deepcopy(sample)
        chosen = draw(st.lists(st.sampled_from(top) | st.sampled_from(paths), min_size=1, max_size=4))
        for path in chosen:
            delete = draw(st.integers(0, 4)) == 0
            _apply(obj, path, delete, None if delete else draw(REPLACEMENT))
        return obj

    return build()


# -- documented samples ---------------------------------------------------------------------


def _load(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / name).read_text())


def _first(provider: str, name: str, key: str | None = None) -> Any:
    body = _load(provider, name)
    if key is not None:
        body = body[key]
    if isinstance(body, dict) and key is None:
        return next(iter(body.values()))
    return body[0]


@dataclass(frozen=True)
class Case:
    provider: str
    parser: str
    sample: Any
    model: type

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.parser}"


CASES = [
    Case("digitalocean", "_to_node", _load("digitalocean", "GET_v2_droplets_401001.json")["droplet"], Node),
    Case("digitalocean", "_to_size", _first("digitalocean", "GET_v2_sizes.json", "sizes"), NodeSize),
    Case("digitalocean", "_to_image", _first("digitalocean", "GET_v2_images.json", "images"), NodeImage),
    Case("digitalocean", "_to_location", _first("digitalocean", "GET_v2_regions.json", "regions"), NodeLocation),
    Case("digitalocean", "_to_key_pair", _first("digitalocean", "GET_v2_account_keys.json", "ssh_keys"), KeyPair),
    Case("digitalocean", "_to_action", _load("digitalocean", "GET_v2_actions_2290020001_completed.json")["action"],
         object),
    Case("linode", "_to_node", _load("linode", "GET_v4_linode_instances_61234501.json"), Node),
    Case("linode", "_to_size", _first("linode", "GET_v4_linode_types.json", "data"), NodeSize),
    Case("linode", "_to_image", _load("linode", "GET_v4_images_linode_debian12.json"), NodeImage),
    Case("linode", "_to_location", _first("linode", "GET_v4_regions.json", "data"), NodeLocation),
    Case("linode", "_to_key_pair", _first("linode", "GET_v4_profile_sshkeys.json", "data"), KeyPair),
    Case("hostvirtual", "_to_node", _load("hostvirtual", "GET_cloud_server.json"), Node),
    Case("hostvirtual", "_to_size", _first("hostvirtual", "GET_cloud_sizes.json"), NodeSize),
    Case("hostvirtual", "_to_image", _first("hostvirtual", "GET_cloud_images.json"), NodeImage),
    Case("hostvirtual", "_to_location", _first("hostvirtual", "GET_cloud_locations.json"), NodeLocation),
    Case("hostvirtual", "_to_key_pair", _first("hostvirtual", "GET_server_sshkeys.json"), KeyPair),
    Case("hostvirtual", "_to_package", _first("hostvirtual", "GET_cloud_packages.json"), dict),
    Case("hostvirtual", "_to_job", _load("hostvirtual", "GET_cloud_serverjob.json"), dict),
    Case("nephoscale", "_to_node", _first("nephoscale", "GET_server_cloud.json", "data"), Node),
    Case("nephoscale", "_to_size", _first("nephoscale", "GET_server_type_cloud.json", "data"), NodeSize),
    Case("nephoscale", "_to_image", _first("nephoscale", "GET_image_server.json", "data"), NodeImage),
    Case("nephoscale", "_to_location", _first("nephoscale", "GET_datacenter_zone.json", "data"), NodeLocation),
    Case("nephoscale", "_to_key_pair", _first("nephoscale", "GET_key_sshrsa.json", "data"), KeyPair),
    Case("nephoscale", "_to_password_key", _first("nephoscale", "GET_key_password.json", "data"), object),
]

_DRIVERS: dict[str, NodeDriver] = {}


def driver_for(provider: str) -> NodeDriver:
    if provider not in _DRIVERS:
        args = ("user", "not-a-real-password") if provider == "nephoscale" else ("not-a-real-token-1234",)
        _DRIVERS[provider] = get_driver(provider)(*args, max_retries=0)
    return _DRIVERS[provider]


# -- what a well-formed model looks like ----------------------------------------------------


def _strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _opt_num(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and math.isfinite(value))


def check_model(result: Any, model: type) -> None:
    assert isinstance(result, model), f"expected {model.__name__}, got {type(result).__name__}"
    if isinstance(result, (Node, NodeSize, NodeImage, NodeLocation)):
        assert isinstance(result.id, str) and result.id.strip(), f"bad id {result.id!r}"
        assert isinstance(result.name, str), f"bad name {result.name!r}"
        assert isinstance(result.extra, dict)
    if isinstance(result, Node):
        assert isinstance(result.state, NodeState)
        assert _strs(result.public_ips) and _strs(result.private_ips), (result.public_ips, result.private_ips)
        assert _strs(result.tags), result.tags
        assert result.created_at is None or (isinstance(result.created_at, dt.datetime)
                                             and result.created_at.tzinfo is not None)
        if result.size is not None:
            check_model(result.size, NodeSize)
        if result.image is not None:
            check_model(result.image, NodeImage)
    if isinstance(result, NodeSize):
        assert isinstance(result.ram, int) and not isinstance(result.ram, bool), result.ram
        assert isinstance(result.disk, (int, float)) and not isinstance(result.disk, bool), result.disk
        assert _opt_num(result.price), result.price
        assert _opt_num(result.bandwidth), result.bandwidth
        assert result.vcpus is None or (isinstance(result.vcpus, int) and not isinstance(result.vcpus, bool))
    if isinstance(result, NodeLocation):
        assert result.country is None or isinstance(result.country, str)
    if isinstance(result, KeyPair):
        assert isinstance(result.name, str) and isinstance(result.public_key, str)
        assert result.id is None or (isinstance(result.id, str) and result.id.strip())
        assert result.fingerprint is None or isinstance(result.fingerprint, str)
        assert result.private_key is None


def outcome(call: Callable[[], Any], model: type) -> str:
    """Run ``call``: "model" (well formed) or "malformed"; anything else fails the test."""
    try:
        result = call()
    except MalformedResponseError as exc:
        assert str(exc), "a MalformedResponseError must say what was wrong"
        return "malformed"
    check_model(result, model)
    return "model"


# -- the parsers ----------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_documented_sample_parses(case: Case) -> None:
    parse = getattr(driver_for(case.provider), case.parser)
    assert outcome(lambda: parse(copy.deepcopy(case.sample)), case.model) == "model"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_field_with_every_tricky_value(case: Case) -> None:
    """Exhaustive over the sample's fields (any depth): each one removed, and each one
    replaced in turn by every value of ``TRICKY_VALUES``."""
    parse = getattr(driver_for(case.provider), case.parser)
    seen = set()
    for path in _paths(case.sample):
        for delete, value in [(True, None), *((False, v) for v in TRICKY_VALUES)]:
            body = copy.deepcopy(case.sample)
            _apply(body, path, delete, value)
            try:
                seen.add(outcome(lambda body=body: parse(body), case.model))
            except AssertionError as exc:
                what = "removed" if delete else f"set to {value!r:.60}"
                raise AssertionError(f"{case.id}: field {path} {what}: {exc}") from None
    assert seen == {"model", "malformed"} or seen == {"model"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fields_replaced_by_arbitrary_json(case: Case) -> None:
    parse = getattr(driver_for(case.provider), case.parser)

    @PROPERTY
    @given(body=mutations(case.sample))
    def run(body: Any) -> None:
        outcome(lambda: parse(body), case.model)

    run()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_arbitrary_json_instead_of_the_object(case: Case) -> None:
    parse = getattr(driver_for(case.provider), case.parser)

    @PROPERTY
    @given(body=JSON)
    def run(body: Any) -> None:
        outcome(lambda: parse(body), case.model)

    run()


# -- the public methods over a mocked answer ------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    provider: str
    method: str
    url: str  # regex of the request URL
    envelope: Callable[[Any], Any]  # item (possibly mutated) → the whole answer
    sample: Any
    call: Callable[[NodeDriver], Any]
    model: type

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.method}"


_BASE = {"digitalocean": "https://api.digitalocean.com", "linode": "https://api.linode.com",
         "hostvirtual": "https://vapi.vr.org", "nephoscale": "https://api.nephoscale.com"}


def _linode_page(item: Any) -> Any:
    return {"data": [item], "page": 1, "pages": 1, "results": 1}


def _nepho_page(item: Any) -> Any:
    return {"success": True, "response": 200, "subcode": 0, "message": "ok", "data": [item], "total_count": 1}


def _do_page(key: str) -> Callable[[Any], Any]:
    return lambda item: {key: [item], "links": {}, "meta": {"total": 1}}


ENDPOINTS = [
    Endpoint("digitalocean", "list_nodes", r".*/v2/droplets\?.*", _do_page("droplets"),
             _load("digitalocean", "GET_v2_droplets_401001.json")["droplet"], lambda d: d.list_nodes(), Node),
    Endpoint("digitalocean", "get_node", r".*/v2/droplets/401001$", lambda item: {"droplet": item},
             _load("digitalocean", "GET_v2_droplets_401001.json")["droplet"], lambda d: [d.get_node("401001")], Node),
    Endpoint("digitalocean", "list_sizes", r".*/v2/sizes\?.*", _do_page("sizes"),
             _first("digitalocean", "GET_v2_sizes.json", "sizes"), lambda d: d.list_sizes(), NodeSize),
    Endpoint("linode", "list_nodes", r".*/v4/linode/instances\?.*", _linode_page,
             _load("linode", "GET_v4_linode_instances_61234501.json"), lambda d: d.list_nodes(), Node),
    Endpoint("linode", "get_node", r".*/v4/linode/instances/61234501$", lambda item: item,
             _load("linode", "GET_v4_linode_instances_61234501.json"), lambda d: [d.get_node("61234501")], Node),
    Endpoint("linode", "list_locations", r".*/v4/regions.*", _linode_page,
             _first("linode", "GET_v4_regions.json", "data"), lambda d: d.list_locations(), NodeLocation),
    Endpoint("hostvirtual", "list_nodes", r".*/cloud/servers/\?.*", lambda item: [item],
             _load("hostvirtual", "GET_cloud_server.json"), lambda d: d.list_nodes(), Node),
    Endpoint("hostvirtual", "list_sizes", r".*/cloud/sizes/\?.*", lambda item: [item],
             _first("hostvirtual", "GET_cloud_sizes.json"), lambda d: d.list_sizes(), NodeSize),
    Endpoint("hostvirtual", "list_key_pairs", r".*/server/sshkeys.*", lambda item: [item],
             _first("hostvirtual", "GET_server_sshkeys.json"), lambda d: d.list_key_pairs(), KeyPair),
    Endpoint("nephoscale", "list_nodes", r".*/server/cloud/$", _nepho_page,
             _first("nephoscale", "GET_server_cloud.json", "data"), lambda d: d.list_nodes(), Node),
    Endpoint("nephoscale", "list_images", r".*/image/server/$", _nepho_page,
             _first("nephoscale", "GET_image_server.json", "data"), lambda d: d.list_images(), NodeImage),
    Endpoint("nephoscale", "list_key_pairs", r".*/key/sshrsa/$", _nepho_page,
             _first("nephoscale", "GET_key_sshrsa.json", "data"), lambda d: d.list_key_pairs(), KeyPair),
]


def _serve(endpoint: Endpoint, body: Any) -> str:
    driver = driver_for(endpoint.provider)
    text = json.dumps(body, allow_nan=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(endpoint.url), body=text, status=200,
                 content_type="application/json")

        try:
            results = endpoint.call(driver)
        except MalformedResponseError as exc:
            assert str(exc)
            return "malformed"
        assert isinstance(results, list)
        for item in results:
            check_model(item, endpoint.model)
        return "model"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_public_methods_over_mutated_answers(endpoint: Endpoint) -> None:
    assert _serve(endpoint, endpoint.envelope(copy.deepcopy(endpoint.sample))) == "model"

    @HTTP_PROPERTY
    @given(item=mutations(endpoint.sample))
    def run(item: Any) -> None:
        _serve(endpoint, endpoint.envelope(item))

    run()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_public_methods_over_arbitrary_answers(endpoint: Endpoint) -> None:
    """Whatever JSON the whole answer is, the caller gets models or MalformedResponseError."""

    @HTTP_PROPERTY
    @given(body=JSON)
    def run(body: Any) -> None:
        _serve(endpoint, body)

    run()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("raw", [b"{", b"[1, 2", b"<html><body>Bad gateway</body></html>", b"\xff\xfe\x00",
                                 b'{"data": [1, 2, 3]' + b" " * 10, b"nul", b'"just a string"', b"1e999999"])
@pytest.mark.parametrize("provider", ["digitalocean", "linode", "hostvirtual", "nephoscale"])
def test_bodies_that_are_not_json_are_malformed(provider: str, raw: bytes) -> None:
    driver = driver_for(provider)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(re.escape(_BASE[provider]) + ".*"), body=raw, status=200,
                 content_type="application/json")
        with pytest.raises(MalformedResponseError) as info:
            driver.list_nodes()
    assert str(info.value)
    if raw.startswith((b"{", b"[", b"<", b"\xff", b"nul")):  # not JSON at all: the HTTP layer says so
        assert info.value.status == 200
