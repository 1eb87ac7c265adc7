"""FixtureSet, Route and mock_routes: what a driver author relies on when writing tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from cloudkit.testing.fixtures import FixtureSet, Route, UnmatchedRequestError, mock_routes

HOST = "https://api.toy.example"


@pytest.fixture
def fx(tmp_path: Path) -> FixtureSet:
    (tmp_path / "GET_v1_servers.json").write_text('{"servers": []}')
    (tmp_path / "GET_v1_plans.xml").write_text("<plans/>")
    (tmp_path / "error_502.html").write_text("<html>bad gateway</html>")
    return FixtureSet(tmp_path)


def test_fixture_set_reads_files_and_names_what_it_holds(fx: FixtureSet) -> None:
    assert fx.json("GET_v1_servers.json") == {"servers": []}
    assert fx.text("GET_v1_plans.xml") == "<plans/>"
    assert fx.names("GET_*") == ["GET_v1_plans.xml", "GET_v1_servers.json"]
    assert fx.exists("error_502.html") and not fx.exists("nope.json")
    with pytest.raises(FileNotFoundError, match=r"it holds: GET_v1_plans\.xml, GET_v1_servers\.json, error_502\.html"):
        fx.path("GET_v1_images.json")
    with pytest.raises(FileNotFoundError, match="Path\\(__file__\\)"):
        FixtureSet("no/such/folder")


def test_routes_serve_fixtures_with_the_content_type_of_their_suffix(fx: FixtureSet) -> None:
    routes = [fx.route("GET", "/v1/servers", "GET_v1_servers.json"), fx.route("GET", "/v1/plans", "GET_v1_plans.xml"),
              fx.route("GET", "/v1/broken", "error_502.html", status=502)]
    with mock_routes(HOST, routes) as mock:
        assert requests.get(HOST + "/v1/servers", timeout=5).headers["Content-Type"] == "application/json"
        assert requests.get(HOST + "/v1/plans", timeout=5).headers["Content-Type"] == "application/xml"
        broken = requests.get(HOST + "/v1/broken", timeout=5)
    assert (broken.status_code, broken.headers["Content-Type"]) == (502, "text/html")
    assert [c.request.url for c in mock.calls] == [HOST + "/v1/servers", HOST + "/v1/plans", HOST + "/v1/broken"]
    assert [r.calls for r in routes] == [1, 1, 1]


def test_query_regex_and_times_pick_the_route() -> None:
    routes = [Route("GET", "/v1/servers", {"page": 1}, query={"page": "1"}),
              Route("GET", "/v1/servers", {"page": 2}, query={"page": "2"}),
              Route("GET", r"^/v1/servers/\d+$", {"one": True}),
              Route("POST", "/v1/servers", {"first": True}, times=1),
              Route("POST", "/v1/servers", {"later": True})]
    with mock_routes(HOST, routes):
        assert requests.get(HOST + "/v1/servers?page=2&api_key=k", timeout=5).json() == {"page": 2}
        assert requests.get(HOST + "/v1/servers/42", timeout=5).json() == {"one": True}
        assert requests.post(HOST + "/v1/servers", timeout=5).json() == {"first": True}
        assert requests.post(HOST + "/v1/servers", timeout=5).json() == {"later": True}


def test_unmatched_request_names_itself_and_the_routes_without_secret_values() -> None:
    routes = [Route("GET", "/v1/servers", {}, query={"page": "1"})]
    with mock_routes(HOST, routes), pytest.raises(UnmatchedRequestError) as caught:
        requests.get(HOST + "/v1/servers/7?api_key=secret-value-123", timeout=5)
    text = str(caught.value)
    assert "no mocked route answers GET /v1/servers/7 (query parameters: api_key)" in text
    assert "GET /v1/servers?page=1" in text
    assert "secret-value-123" not in text
    assert isinstance(caught.value, AssertionError)


def test_a_route_can_fail_the_connection() -> None:
    route = Route("GET", "/v1/servers", raises=requests.exceptions.ConnectionError("reset by peer"))
    with mock_routes(HOST, [route]), pytest.raises(requests.exceptions.ConnectionError, match="reset by peer"):
        requests.get(HOST + "/v1/servers", timeout=5)
    assert route.calls == 1
