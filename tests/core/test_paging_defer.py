"""Connection.paginate decodes every page on the thread that builds the items (the fetching
threads leave bodies unparsed), keeps error mapping where it was, and leaves a Connection
subclass that wraps request() parsing inside its own request()."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import BearerTokenConnection
from cloudkit.errors import InvalidCredsError, MalformedResponseError, NotFoundError
from cloudkit.response import JsonResponse, Response

PAGES = 6


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def serve_pages(server: LoopbackServer, broken: int | None = None) -> None:
    def reply(seen: Any) -> Reply:
        page = int(seen.query["page"][0])
        if page == broken:
            return Reply(200, b'{"items": [1, 2')  # cut off mid-body
        return Reply(200, {"items": [page * 10 + i for i in range(3)], "pages": PAGES})

    server.route("GET", "/items", reply)


def extract(body: Any) -> list[Any]:
    return body["items"]


def total(body: Any, size: int) -> int:
    return int(body["pages"])


@pytest.fixture
def parse_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of every JSON body parse."""
    seen: list[int] = []
    real = JsonResponse.parse_body

    def spy(self: JsonResponse) -> Any:
        seen.append(threading.get_ident())
        return real(self)

    monkeypatch.setattr(JsonResponse, "parse_body", spy)
    return seen


def test_every_page_is_decoded_on_the_calling_thread(server: LoopbackServer, parse_threads: list[int]) -> None:
    serve_pages(server)
    conn = BearerTokenConnection("tok", base_url=server.url, max_retries=0)
    items = conn.paginate("/items", extract, total, page_size=3, transform=lambda n: n + 1)
    assert items == [p * 10 + i + 1 for p in range(1, PAGES + 1) for i in range(3)]
    assert server.count("GET", "/items") == PAGES
    assert parse_threads == [threading.get_ident()] * PAGES


def test_a_page_that_does_not_parse_still_raises_malformed(server: LoopbackServer) -> None:
    serve_pages(server, broken=4)
    conn = BearerTokenConnection("tok", base_url=server.url, max_retries=0)
    with pytest.raises(MalformedResponseError, match="not valid JSON"):
        conn.paginate("/items", extract, total, page_size=3)


def test_error_statuses_are_still_raised_by_the_request(server: LoopbackServer) -> None:
    def reply(seen: Any) -> Reply:
        if seen.query["page"][0] == "3":
            return Reply(404, {"message": "page gone"})
        return Reply(200, {"items": [1], "pages": 4})

    server.route("GET", "/items", reply)
    conn = BearerTokenConnection("tok", base_url=server.url, max_retries=0)
    with pytest.raises(NotFoundError, match="page gone"):
        conn.paginate("/items", extract, total, page_size=1)


def test_a_connection_that_wraps_request_gets_parsed_answers(server: LoopbackServer) -> None:
    serve_pages(server)
    inside: list[bool] = []

    class Wrapping(BearerTokenConnection):
        def request(self, *args: Any, **kwargs: Any) -> Response:
            resp = super().request(*args, **kwargs)
            inside.append(resp.object is not None)  # already parsed here
            return resp

    conn = Wrapping("tok", base_url=server.url, max_retries=0)
    items = conn.paginate("/items", extract, total, page_size=3)
    assert len(items) == 3 * PAGES
    assert inside == [True] * PAGES


def test_a_deferred_response_checks_its_status_at_once_and_parses_on_demand() -> None:
    resp = JsonResponse(200, {"Content-Type": "application/json"}, b'{"a": [1, 2]}', defer_parse=True)
    assert resp.object is None
    assert resp.parse() == {"a": [1, 2]}
    assert resp.object == {"a": [1, 2]}
    with pytest.raises(InvalidCredsError):
        JsonResponse(401, {}, b'{"message": "no"}', defer_parse=True)
    broken = JsonResponse(200, {}, b"{nope", defer_parse=True)
    with pytest.raises(MalformedResponseError):
        broken.parse()


def test_request_defer_parse_returns_the_body_unparsed(server: LoopbackServer) -> None:
    server.script("GET", "/one", default=Reply(200, {"x": 1}))
    conn = BearerTokenConnection("tok", base_url=server.url, max_retries=0)
    resp = conn.request("/one", defer_parse=True)
    assert resp.object is None and resp.body == b'{"x": 1}'
    assert resp.parse() == {"x": 1}
    assert conn.request("/one").object == {"x": 1}  # the default is unchanged


def test_a_connection_that_overrides_request_with_its_own_signature_pages(
        server: LoopbackServer, parse_threads: list[int]) -> None:
    """No identity check on request(): a subclass whose request() takes only libcloud's
    positional arguments still pages, and its pages are still decoded on the calling thread."""
    serve_pages(server)
    seen: list[str] = []

    class Narrow(BearerTokenConnection):
        def request(self, action: str, params: Any = None, data: Any = None,  # type: ignore[override]  # libcloud's narrower signature, on purpose
                    headers: Any = None, method: str = "GET") -> Response:
            seen.append(action)
            return super().request(action, params, data, headers, method)

    conn = Narrow("tok", base_url=server.url, max_retries=0)
    items = conn.paginate("/items", extract, total, page_size=3)
    assert items == [p * 10 + i for p in range(1, PAGES + 1) for i in range(3)]
    assert seen == ["/items"] * PAGES
    assert parse_threads == [threading.get_ident()] * PAGES
    # Outside a listing, the same connection parses on arrival as before.
    server.script("GET", "/one", default=Reply(200, {"x": 1}))
    assert conn.request("/one").object == {"x": 1}


def test_a_late_parsed_response_parses_on_first_read_once(parse_threads: list[int]) -> None:
    resp = JsonResponse(200, {}, b'{"a": 1}', defer_parse=True)
    resp.parse_when_read()
    assert parse_threads == []
    assert resp.object == {"a": 1} and resp.object is resp.parse()
    assert len(parse_threads) == 1
    broken = JsonResponse(200, {}, b"{nope", defer_parse=True)
    broken.parse_when_read()
    with pytest.raises(MalformedResponseError):
        broken.object  # noqa: B018  (reading it is what raises)
