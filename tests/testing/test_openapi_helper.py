"""Tests of cloudkit.testing.openapi: the OpenAPI request/response checking test helper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock
import responses

from cloudkit.testing.openapi import (
    OpenAPIValidator,
    SpecMismatchError,
    check_requests,
    validate_body,
)

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"
DO_SPEC = SPECS / "digitalocean-compute.schema.json"
LINODE_SPEC = SPECS / "linode-compute.schema.json"
DO = "https://api.digitalocean.com"
LINODE = "https://api.linode.com"
TOKEN = "dop_v1_not-a-real-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
METHODS = ("get", "put", "post", "delete", "patch")

GOOD_DROPLET = {"name": "web-1", "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64"}
GOOD_LINODE = {
    "label": "web-1",
    "type": "g6-nanode-1",
    "region": "us-east",
    "image": "linode/debian11",
    "root_pass": "Str0ng-But-Fake-Passw0rd!",
}


def _doc(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _mismatch(func: Any, *args: Any) -> SpecMismatchError:
    with pytest.raises(SpecMismatchError) as info:
        func(*args)
    return info.value


def _example_value(param: dict[str, Any]) -> str:
    """A concrete value for a path parameter, from the parameter's own example or schema."""
    schema = param.get("schema", {})
    for value in (param.get("example"), schema.get("example"), schema.get("default")):
        if value is not None:
            return str(value)
    if schema.get("enum"):
        return str(schema["enum"][0])
    return "1" if schema.get("type") == "integer" else "example"


def _concrete(doc: dict[str, Any], template: str, method: str) -> str:
    item = doc["paths"][template]
    params = [*item.get("parameters", []), *item[method].get("parameters", [])]
    path = template
    for param in params:
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", _example_value(param))
    return path


def _examples(content: dict[str, Any]) -> list[tuple[str, Any]]:
    media = content.get("application/json", {})
    if "example" in media:
        return [("example", media["example"])]
    if "examples" in media:
        return [(name, ex["value"]) for name, ex in media["examples"].items()]
    if "example" in media.get("schema", {}):
        return [("schema example", media["schema"]["example"])]
    return []


def _response_examples() -> list[Any]:
    cases = []
    for spec in (DO_SPEC, LINODE_SPEC):
        doc = _doc(spec)
        for template, item in doc["paths"].items():
            for method in METHODS:
                for status, response in item.get(method, {}).get("responses", {}).items():
                    if not status.startswith("2"):
                        continue
                    for name, body in _examples(response.get("content", {})):
                        case_id = f"{spec.name.split('-')[0]} {method.upper()} {template} {status} {name}"
                        cases.append(pytest.param(spec, method, template, int(status), body, id=case_id))
    return cases


def _request_examples() -> list[Any]:
    cases = []
    for spec, host in ((DO_SPEC, DO), (LINODE_SPEC, LINODE)):
        doc = _doc(spec)
        for template, item in doc["paths"].items():
            for method in METHODS:
                body_spec = item.get(method, {}).get("requestBody")
                if not body_spec:
                    continue
                for name, body in _examples(body_spec["content"]):
                    url = host + _concrete(doc, template, method)
                    case_id = f"{spec.name.split('-')[0]} {method.upper()} {template} {name}"
                    cases.append(pytest.param(spec, method, url, body, id=case_id))
    return cases


# ----------------------------------------------------------------------------- DigitalOcean


def test_digitalocean_list_request_passes(do_validator: OpenAPIValidator) -> None:
    url = f"{DO}/v2/droplets?page=1&per_page=200"
    assert do_validator.request_problems("GET", url, AUTH) == []
    do_validator.validate_request("GET", url, AUTH, None)
    # The same request against a local simulator maps onto the spec's server by path.
    do_validator.validate_request("GET", "http://127.0.0.1:8765/v2/droplets?page=2&per_page=200", AUTH)


def test_digitalocean_create_request_passes(do_validator: OpenAPIValidator) -> None:
    do_validator.validate_request("POST", f"{DO}/v2/droplets", JSON_AUTH, json.dumps(GOOD_DROPLET))
    do_validator.validate_request("POST", f"{DO}/v2/droplets", JSON_AUTH, GOOD_DROPLET)
    with_charset = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    do_validator.validate_request("POST", f"{DO}/v2/droplets", with_charset, GOOD_DROPLET)


def test_mismatch_is_an_assertion_error(do_validator: OpenAPIValidator) -> None:
    error = _mismatch(do_validator.validate_request, "GET", f"{DO}/v2/droplets?per_page=abc", AUTH, None)
    assert isinstance(error, AssertionError)
    assert error.method == "GET"
    assert error.problems == ("query parameter 'per_page': Failed to cast value to integer type: abc",)


def test_digitalocean_bad_query_type_is_named(do_validator: OpenAPIValidator) -> None:
    error = _mismatch(
        do_validator.validate_request, "GET", f"{DO}/v2/droplets?page=1&per_page=abc", AUTH, None
    )
    message = str(error)
    assert message.startswith("request GET https://api.digitalocean.com/v2/droplets?page=1&per_page=abc")
    assert "digitalocean-compute.schema.json" in message
    assert "query parameter 'per_page'" in message and "integer" in message


def test_digitalocean_query_out_of_range_and_every_problem_listed(do_validator: OpenAPIValidator) -> None:
    url = f"{DO}/v2/droplets?page=0&per_page=201&page_size=50"
    problems = do_validator.request_problems("GET", url, AUTH)
    assert len(problems) == 3
    assert any("'page'" in p and "minimum of 1" in p for p in problems)
    assert any("'per_page'" in p and "maximum of 200" in p for p in problems)
    assert "query parameter 'page_size' is not declared by the operation" in problems


def test_digitalocean_create_without_size_fails(do_validator: OpenAPIValidator) -> None:
    body = {k: v for k, v in GOOD_DROPLET.items() if k != "size"}
    error = _mismatch(do_validator.validate_request, "POST", f"{DO}/v2/droplets", JSON_AUTH, body)
    message = str(error)
    assert "request POST https://api.digitalocean.com/v2/droplets does not match" in message
    assert "'size' is a required property" in message
    # both create forms (one droplet / several) are explained
    assert "alternative 1:" in message and "alternative 2:" in message


def test_digitalocean_unknown_path_and_method(do_validator: OpenAPIValidator) -> None:
    error = _mismatch(do_validator.validate_request, "GET", f"{DO}/v2/dropletz", AUTH, None)
    assert "GET" in str(error) and "/v2/dropletz" in str(error)
    assert error.problems == ("no path in the OpenAPI description matches this URL",)
    error = _mismatch(do_validator.validate_request, "DELETE", f"{DO}/v2/sizes", AUTH, None)
    assert error.problems == ("the path exists but documents no DELETE operation",)


def test_digitalocean_path_parameter_type(do_validator: OpenAPIValidator) -> None:
    do_validator.validate_request("GET", f"{DO}/v2/droplets/3164444", AUTH)
    problems = do_validator.request_problems("GET", f"{DO}/v2/droplets/web-1", AUTH)
    assert problems == ["path parameter 'droplet_id': Failed to cast value to integer type: web-1"]


def test_digitalocean_missing_token(do_validator: OpenAPIValidator) -> None:
    problems = do_validator.request_problems("GET", f"{DO}/v2/droplets", {})
    assert problems == ["credentials missing or malformed: the operation requires bearer_auth"]


def test_digitalocean_misspelt_body_field_and_body_on_get(do_validator: OpenAPIValidator) -> None:
    body = {**GOOD_DROPLET, "ssh_key": [289794]}
    problems = do_validator.request_problems("POST", f"{DO}/v2/droplets", JSON_AUTH, body)
    assert problems == ["body.ssh_key: field is not declared by the request body schema"]
    lenient = OpenAPIValidator(DO_SPEC, allow_undeclared_body_fields=True, allow_undeclared_query=True)
    assert lenient.request_problems("POST", f"{DO}/v2/droplets", JSON_AUTH, body) == []
    assert lenient.request_problems("GET", f"{DO}/v2/droplets?page_size=3", AUTH) == []
    problems = do_validator.request_problems("GET", f"{DO}/v2/droplets", JSON_AUTH, {"page": 1})
    assert problems == ["body: the operation takes no request body but one was sent"]


def test_digitalocean_body_content_type_and_json(do_validator: OpenAPIValidator) -> None:
    problems = do_validator.request_problems("POST", f"{DO}/v2/droplets", AUTH, GOOD_DROPLET)
    assert problems == ["body: sent without a Content-Type header (documented: application/json)"]
    form = {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}
    problems = do_validator.request_problems("POST", f"{DO}/v2/droplets", form, "name=web-1")
    assert problems == [
        "body: Content-Type 'application/x-www-form-urlencoded' is not documented "
        "(documented: application/json)"
    ]
    problems = do_validator.request_problems("POST", f"{DO}/v2/droplets", JSON_AUTH, b"{not json")
    assert problems == ["body: could not be decoded as its Content-Type says"]


def test_digitalocean_droplet_actions(do_validator: OpenAPIValidator) -> None:
    url = f"{DO}/v2/droplets/3164444/actions"
    do_validator.validate_request("POST", url, JSON_AUTH, {"type": "power_off"})
    do_validator.validate_request("POST", url, JSON_AUTH, {"type": "resize", "size": "s-2vcpu-2gb"})
    problems = do_validator.request_problems("POST", url, JSON_AUTH, {"type": "explode"})
    assert len(problems) == 1 and "discriminator" in problems[0] and "explode" in problems[0]
    problems = do_validator.request_problems("POST", url, JSON_AUTH, {"type": "resize", "size": 5})
    assert problems == ["body.size: expected type 'string', got number"]


def test_digitalocean_percent_encoded_path_parameter(do_validator: OpenAPIValidator) -> None:
    do_validator.validate_request("GET", f"{DO}/v2/tags/env%3Aprod", AUTH)
    problems = do_validator.request_problems("GET", f"{DO}/v2/tags/my%20tag", AUTH)
    assert len(problems) == 1 and problems[0].startswith("path parameter 'tag_id': 'my tag' does not match")


# ----------------------------------------------------------------------------- Linode


def test_linode_list_request_passes(linode_validator: OpenAPIValidator) -> None:
    linode_validator.validate_request("GET", f"{LINODE}/v4/linode/instances?page=1&page_size=500", AUTH)
    linode_validator.validate_request("GET", "http://127.0.0.1:9/v4/linode/instances?page=3", AUTH)
    linode_validator.validate_request("GET", f"{LINODE}/v4beta/linode/instances", AUTH)
    with_filter = {**AUTH, "X-Filter": json.dumps({"label": "web-1"})}
    linode_validator.validate_request("GET", f"{LINODE}/v4/linode/instances", with_filter)


def test_linode_bad_requests_fail(linode_validator: OpenAPIValidator) -> None:
    problems = linode_validator.request_problems("GET", f"{LINODE}/v4/linode/instances?page_size=1000", AUTH)
    assert problems == ["query parameter 'page_size': 1000 is greater than the maximum of 500"]
    problems = linode_validator.request_problems("GET", f"{LINODE}/v3/linode/instances", AUTH)
    assert problems == ["path parameter 'apiVersion': 'v3' is not one of ['v4', 'v4beta']"]
    bad_filter = {**AUTH, "X-Filter": "{label"}
    problems = linode_validator.request_problems("GET", f"{LINODE}/v4/linode/instances", bad_filter)
    assert problems == ["header parameter 'X-Filter': value could not be decoded as application/json"]


def test_linode_missing_token_is_caught(linode_validator: OpenAPIValidator) -> None:
    # Linode also accepts OAuth2, which openapi-core does not check by itself.
    problems = linode_validator.request_problems("GET", f"{LINODE}/v4/linode/instances", {})
    assert problems == [
        "credentials missing or malformed: the operation requires personalAccessToken or oauth"
    ]
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert linode_validator.request_problems("GET", f"{LINODE}/v4/linode/instances", basic) != []


def test_linode_create_request(linode_validator: OpenAPIValidator) -> None:
    url = f"{LINODE}/v4/linode/instances"
    linode_validator.validate_request("POST", url, JSON_AUTH, GOOD_LINODE)
    bad = {"label": "x", "type": 5, "root_pass": "hunter2x!", "bogus": True}
    error = _mismatch(linode_validator.validate_request, "POST", url, JSON_AUTH, bad)
    message = str(error)
    assert "request POST https://api.linode.com/v4/linode/instances does not match" in message
    assert "body: 'region' is a required property" in error.problems
    assert "body.type: expected type 'string', got number" in error.problems
    assert "body: Additional properties are not allowed ('bogus' was unexpected)" in error.problems
    assert any(p.startswith("body.label: 'x' is too short") for p in error.problems)
    # the secret is described but never echoed
    assert "hunter2x!" not in message
    assert TOKEN not in message


def test_linode_image_ids_with_slash(linode_validator: OpenAPIValidator) -> None:
    linode_validator.validate_request("GET", f"{LINODE}/v4/images/linode/debian11", AUTH)
    linode_validator.validate_request("GET", f"{LINODE}/v4/images/linode%2Fdebian11", AUTH)


def test_linode_open_responses(linode_spec: Path) -> None:
    doc = _doc(linode_spec)
    example = doc["paths"]["/{apiVersion}/linode/instances/{linodeId}"]["get"]["responses"]["200"]
    body = {**example["content"]["application/json"]["example"], "added_in_2031": True}
    validate_body(OpenAPIValidator(linode_spec), "GET", "/v4/linode/instances/123", 200, body)
    closed = OpenAPIValidator(linode_spec, open_responses=False)
    with pytest.raises(SpecMismatchError, match="'added_in_2031' was unexpected"):
        validate_body(closed, "GET", "/v4/linode/instances/123", 200, body)
    # request bodies stay closed either way
    assert OpenAPIValidator(linode_spec).request_problems(
        "POST", f"{LINODE}/v4/linode/instances", JSON_AUTH, {**GOOD_LINODE, "added_in_2031": 1}
    ) == ["body: Additional properties are not allowed ('added_in_2031' was unexpected)"]


# ----------------------------------------------------------------------------- spec examples


@pytest.mark.parametrize(("spec", "method", "template", "status", "body"), _response_examples())
def test_every_spec_response_example_validates(
    spec: Path, method: str, template: str, status: int, body: Any
) -> None:
    # A template path (`/v2/droplets/{droplet_id}`) is accepted for stored bodies.
    validate_body(OpenAPIValidator(spec), method, template, status, body)


@pytest.mark.parametrize(("spec", "method", "url", "body"), _request_examples())
def test_every_spec_request_example_validates(spec: Path, method: str, url: str, body: Any) -> None:
    OpenAPIValidator(spec).validate_request(method, url, JSON_AUTH, body)


@pytest.mark.parametrize(
    ("spec", "method", "template", "path", "status", "name"),
    [
        (DO_SPEC, "get", "/v2/droplets", "/v2/droplets?page=1&per_page=200", 200, "All Droplets"),
        (DO_SPEC, "get", "/v2/sizes", "/v2/sizes", 200, "schema example"),
        (DO_SPEC, "get", "/v2/regions", "/v2/regions", 200, "schema example"),
        (DO_SPEC, "get", "/v2/account/keys", "/v2/account/keys", 200, "schema example"),
        (DO_SPEC, "get", "/v2/images", "/v2/images?type=distribution", 200, "Distribution"),
        (DO_SPEC, "post", "/v2/droplets", "/v2/droplets", 202, "Single Droplet Create Response"),
        (LINODE_SPEC, "get", "/{apiVersion}/linode/instances", "/v4/linode/instances", 200, None),
        (LINODE_SPEC, "get", "/{apiVersion}/linode/types", "/v4/linode/types", 200, None),
        (LINODE_SPEC, "get", "/{apiVersion}/regions", "/v4/regions", 200, None),
        (LINODE_SPEC, "post", "/{apiVersion}/linode/instances", "/v4/linode/instances", 200, None),
    ],
)
def test_spec_examples_validate_as_responses(
    spec: Path, method: str, template: str, path: str, status: int, name: str | None
) -> None:
    content = _doc(spec)["paths"][template][method]["responses"][str(status)]["content"]
    body = dict(_examples(content))[name or "example"]
    validator = OpenAPIValidator(spec)
    host = DO if spec == DO_SPEC else LINODE
    validator.validate_response(method, host + path, status, {"Content-Type": "application/json"}, body)
    validate_body(validator, method, path, status, json.dumps(body))


def test_response_status_and_body_problems(do_validator: OpenAPIValidator) -> None:
    headers = {"Content-Type": "application/json"}
    do_validator.validate_response("DELETE", f"{DO}/v2/droplets/3164444", 204, {}, None)
    error = _mismatch(
        do_validator.validate_response, "GET", f"{DO}/v2/droplets/1", 200, headers, {"droplet": {"id": 1}}
    )
    assert str(error).startswith("response 200 to GET https://api.digitalocean.com/v2/droplets/1 does not")
    assert "body.droplet: 'name' is a required property" in error.problems
    assert error.status == 200
    # a body without Content-Type is taken as JSON (requests-mock's json= sends none)
    problems = do_validator.response_problems("GET", f"{DO}/v2/droplets", 200, {}, b'{"droplets": []}')
    assert problems == ["body: 'meta' is a required property"]
    text = {"Content-Type": "text/plain"}
    problems = do_validator.response_problems("GET", f"{DO}/v2/droplets", 200, text, b"hello")
    assert problems == ["body: Content-Type 'text/plain' is not documented (documented: application/json)"]
    problems = do_validator.response_problems("GET", f"{DO}/v2/droplets", 200, headers, b"")
    assert problems == ["body: missing (the documented response has content)"]
    # DigitalOcean documents a `default` error response: 422 bodies are checked against it
    assert (
        do_validator.response_problems(
            "POST", f"{DO}/v2/droplets", 422, headers, {"id": "unprocessable_entity", "message": "bad"}
        )
        == []
    )


def test_validate_body_from_file(tmp_path: Path, do_validator: OpenAPIValidator) -> None:
    doc = _doc(DO_SPEC)
    good = doc["paths"]["/v2/sizes"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "example"
    ]
    fixture = tmp_path / "sizes.json"
    fixture.write_text(json.dumps(good))
    validate_body(do_validator, "GET", "/v2/sizes", 200, fixture)
    bad = tmp_path / "sizes_bad.json"
    bad.write_text(json.dumps({"sizes": [{"slug": 1}], "meta": {"total": 1}}))
    with pytest.raises(SpecMismatchError) as info:
        validate_body(do_validator, "GET", "/v2/sizes", 200, bad)
    message = str(info.value)
    assert message.startswith("stored 200 body (from sizes_bad.json) for GET /v2/sizes does not match")
    assert "body.sizes[0].slug: expected type 'string', got number" in message


def test_specs_are_loaded_once_per_file(do_spec: Path, linode_spec: Path) -> None:
    first = OpenAPIValidator(do_spec, "http://127.0.0.1:1")
    second = OpenAPIValidator(str(do_spec), "http://127.0.0.1:2")
    assert first.api is second.api
    assert OpenAPIValidator(linode_spec).api is not OpenAPIValidator(linode_spec, open_responses=False).api
    assert first.load_seconds > 0


def test_server_url_prefix_and_foreign_host(do_spec: Path) -> None:
    validator = OpenAPIValidator(do_spec, "http://127.0.0.1:5000/digitalocean/")
    validator.validate_request("GET", "http://127.0.0.1:5000/digitalocean/v2/droplets?per_page=200", AUTH)
    problems = validator.request_problems("GET", "http://127.0.0.1:5001/v2/droplets?api_key=s3cr3t", AUTH)
    assert problems == ["URL is outside the API base URL http://127.0.0.1:5000/digitalocean"]
    error = _mismatch(
        validator.validate_request, "GET", "http://127.0.0.1:5001/v2/droplets?api_key=s3cr3t", AUTH
    )
    assert "s3cr3t" not in str(error) and "api_key=REDACTED" in str(error)
    assert "s3cr3t" not in repr(validator)


# ----------------------------------------------------------------------------- check_requests


def _droplets_example() -> Any:
    media = _doc(DO_SPEC)["paths"]["/v2/droplets"]["get"]["responses"]["200"]["content"]["application/json"]
    return media["examples"]["All Droplets"]["value"]


def test_check_requests_under_responses(do_validator: OpenAPIValidator) -> None:
    original_send = requests.sessions.Session.send
    with responses.RequestsMock() as mock, check_requests(do_validator, responses_too=True) as traffic:
        mock.get(f"{DO}/v2/droplets", json=_droplets_example())
        mock.post(f"{DO}/v2/droplets", json={"droplet": {"id": 1}}, status=422)
        session = requests.Session()
        session.headers.update(AUTH)
        assert session.get(f"{DO}/v2/droplets", params={"page": 1, "per_page": 200}).status_code == 200
        # error statuses are not checked against the success schema
        assert session.post(f"{DO}/v2/droplets", json=GOOD_DROPLET).status_code == 422
    assert requests.sessions.Session.send is original_send
    calls = traffic.calls
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("GET", "/v2/droplets", 200),
        ("POST", "/v2/droplets", 422),
    ]
    assert calls[0].query == {"page": ["1"], "per_page": ["200"]}
    assert calls[0].body is None and calls[1].json() == GOOD_DROPLET
    assert calls[1].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(calls[1])
    assert traffic.mismatches == []


@pytest.mark.parametrize("checker_first", [True, False], ids=["checker-outer", "responses-outer"])
def test_bad_request_fails_in_either_activation_order(
    do_validator: OpenAPIValidator, checker_first: bool
) -> None:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.get(re.compile(rf"{DO}/v2/droplets.*"), json=_droplets_example())
    checker = check_requests(do_validator)
    outer, inner = (checker, mock) if checker_first else (mock, checker)
    with pytest.raises(SpecMismatchError) as info, outer, inner:
        requests.get(f"{DO}/v2/droplets?per_page=abc", headers=AUTH, timeout=5)
    assert "request GET https://api.digitalocean.com/v2/droplets?per_page=abc" in str(info.value)
    assert "query parameter 'per_page'" in str(info.value)
    # raised from send itself: the mock never saw the request
    assert len(mock.calls) == 0


def test_mismatch_fails_even_when_the_driver_swallows_it(do_validator: OpenAPIValidator) -> None:
    with pytest.raises(SpecMismatchError) as info, responses.RequestsMock() as mock:
        mock.get(f"{DO}/v2/droplets", json=_droplets_example())
        with check_requests(do_validator) as traffic:
            try:  # a driver catching every exception
                requests.get(f"{DO}/v2/droplets?per_page=500", headers=AUTH, timeout=5)
            except Exception:
                pass
            requests.get(f"{DO}/v2/droplets", headers=AUTH, timeout=5)
    assert "per_page" in str(info.value) and "maximum of 200" in str(info.value)
    assert len(traffic.calls) == 2 and len(traffic.mismatches) == 1


def test_mismatch_fails_when_the_driver_converts_it(do_validator: OpenAPIValidator) -> None:
    with pytest.raises(SpecMismatchError) as info, check_requests(do_validator):
        try:
            requests.get(f"{DO}/v2/nowhere", headers=AUTH, timeout=5)
        except AssertionError as exc:
            raise RuntimeError("provider error") from exc
    assert "no path in the OpenAPI description" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_raise_later_sends_the_request_and_reports_all(do_validator: OpenAPIValidator) -> None:
    with responses.RequestsMock() as mock:
        mock.get(re.compile(rf"{DO}/v2/.*"), json={"droplets": []})
        with pytest.raises(SpecMismatchError) as info:
            with check_requests(do_validator, raise_immediately=False) as traffic:
                requests.get(f"{DO}/v2/droplets?per_page=abc", headers=AUTH, timeout=5)
                requests.get(f"{DO}/v2/droplets", timeout=5)
        assert len(mock.calls) == 2
    error = info.value
    assert str(error).startswith("2 HTTP exchanges did not match the OpenAPI description")
    assert len(error.mismatches) == 2 and len(traffic.mismatches) == 2
    assert "bearer_auth" in str(error)


def test_bad_response_is_reported_when_responses_too(do_validator: OpenAPIValidator) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{DO}/v2/droplets/7", json={"droplet": {"id": "seven"}})
        with check_requests(do_validator) as traffic:
            requests.get(f"{DO}/v2/droplets/7", headers=AUTH, timeout=5)
        assert traffic.calls[0].status == 200
        with pytest.raises(SpecMismatchError) as info, check_requests(do_validator, responses_too=True):
            requests.get(f"{DO}/v2/droplets/7", headers=AUTH, timeout=5)
    assert str(info.value).startswith("response 200 to GET https://api.digitalocean.com/v2/droplets/7")
    assert "body.droplet.id: expected type 'integer', got string" in str(info.value)


@pytest.mark.parametrize("checker_first", [True, False], ids=["checker-outer", "mocker-outer"])
def test_check_requests_under_requests_mock(linode_validator: OpenAPIValidator, checker_first: bool) -> None:
    mocker = requests_mock.Mocker()
    mocker.get(f"{LINODE}/v4/linode/instances", json={"data": [], "page": 1, "pages": 1, "results": 0})
    checker = check_requests(linode_validator, responses_too=True)
    outer, inner = (checker, mocker) if checker_first else (mocker, checker)
    with pytest.raises(SpecMismatchError, match="page_size") as info, outer as first, inner as second:
        traffic = first if checker_first else second
        response = requests.get(f"{LINODE}/v4/linode/instances?page_size=500", headers=AUTH, timeout=5)
        assert response.json()["results"] == 0
        requests.get(f"{LINODE}/v4/linode/instances?page_size=5000", headers=AUTH, timeout=5)
    assert "5000 is greater than the maximum of 500" in str(info.value)
    assert mocker.call_count == 1
    # recorded exactly once, although requests-mock's own send wrapper is involved
    assert [c.url for c in traffic.calls] == [
        f"{LINODE}/v4/linode/instances?page_size=500",
        f"{LINODE}/v4/linode/instances?page_size=5000",
    ]


def test_check_requests_against_a_loopback_server(loopback: Any, do_spec: Path) -> None:
    loopback.route("GET", "/v2/droplets", 200, _droplets_example())
    loopback.route("DELETE", "/v2/droplets/3164444", 204, None)
    loopback.route("GET", "/v2/droplets/7", 200, {"droplet": {"id": 7}})
    validator = OpenAPIValidator(do_spec, loopback.url)
    with check_requests(validator, responses_too=True) as traffic:
        session = requests.Session()
        session.headers.update(AUTH)
        droplets = session.get(f"{loopback.url}/v2/droplets", params={"per_page": 200}, timeout=5).json()
        assert droplets["meta"]["total"] == len(droplets["droplets"])
        assert session.delete(f"{loopback.url}/v2/droplets/3164444", timeout=5).status_code == 204
    assert [(c.method, c.path, c.status) for c in traffic.calls] == [
        ("GET", "/v2/droplets", 200),
        ("DELETE", "/v2/droplets/3164444", 204),
    ]
    # the server got what was checked
    assert [(m, p) for m, p, _ in loopback.received] == [
        ("GET", "/v2/droplets?per_page=200"),
        ("DELETE", "/v2/droplets/3164444"),
    ]
    with pytest.raises(SpecMismatchError, match=r"body\.droplet: 'name' is a required property"):
        with check_requests(validator, responses_too=True):
            requests.get(f"{loopback.url}/v2/droplets/7", headers=AUTH, timeout=5)
    with pytest.raises(SpecMismatchError, match="credentials missing"):
        with check_requests(validator):
            requests.get(f"{loopback.url}/v2/droplets", timeout=5)
    assert len(loopback.received) == 3  # the request without a token was never sent


def test_concurrent_requests_are_all_recorded(loopback: Any, linode_spec: Path) -> None:
    loopback.route("GET", "/v4/linode/instances", 200, {"data": [], "page": 1, "pages": 1, "results": 0})
    validator = OpenAPIValidator(linode_spec, loopback.url)
    pages = list(range(1, 41))
    session = requests.Session()
    session.headers.update(AUTH)
    barrier = threading.Barrier(8)

    def fetch(page: int) -> int:
        if page <= 8:
            barrier.wait(timeout=10)  # make the first requests really overlap
        url = f"{loopback.url}/v4/linode/instances"
        return session.get(url, params={"page": page, "page_size": 500}, timeout=5).status_code

    with check_requests(validator, responses_too=True) as traffic, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(fetch, pages))
    assert statuses == [200] * len(pages)
    calls = traffic.calls
    assert len(calls) == len(pages)
    assert sorted(int(c.query["page"][0]) for c in calls) == pages
    assert all(c.status == 200 and not c.problems for c in calls)


def test_concurrent_mismatches_are_all_reported(do_validator: OpenAPIValidator) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(re.compile(rf"{DO}/v2/droplets.*"), json=_droplets_example())

        def fetch(page: int) -> None:
            requests.get(f"{DO}/v2/droplets", params={"page": page, "per_page": "x"}, headers=AUTH, timeout=5)

        with pytest.raises(SpecMismatchError) as info:
            with check_requests(do_validator) as traffic, ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(fetch, page) for page in range(1, 13)]
                errors = [f.exception() for f in futures]
        assert all(isinstance(e, SpecMismatchError) for e in errors)
    assert len(traffic.calls) == 12
    assert len(info.value.mismatches) == 12
    assert str(info.value).startswith("12 HTTP exchanges did not match")


def test_streamed_body_is_reported(do_validator: OpenAPIValidator) -> None:
    with pytest.raises(SpecMismatchError, match="streamed body"), check_requests(do_validator):
        requests.post(f"{DO}/v2/droplets", data=iter([b"{}"]), headers=JSON_AUTH, timeout=5)


def test_send_is_restored_after_a_failure(do_validator: OpenAPIValidator) -> None:
    original = requests.sessions.Session.send
    with pytest.raises(ValueError, match="unrelated"), check_requests(do_validator):
        assert requests.sessions.Session.send is not original
        raise ValueError("unrelated")
    assert requests.sessions.Session.send is original


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, cloudkit.testing; "
        "names = ('openapi_core', 'jsonschema', 'cloudkit.testing.openapi'); "
        "heavy = [m for m in names if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
