"""Issue 15, item 3: listings that cannot run away, against a lying server on 127.0.0.1.

A short page ends a listing; no more pages are fetched than the first page justifies against
the total it claims (plus one); pages that contradict each other raise MalformedResponseError
after a few requests, never thousands.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit import get_driver
from cloudkit.errors import MalformedResponseError
from cloudkit.paging import justified_pages

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DROPLET = json.loads((FIXTURES / "digitalocean" / "GET_v2_droplets_401001.json").read_text())["droplet"]
LINODE = json.loads((FIXTURES / "linode" / "GET_v4_linode_instances_page1.json").read_text())["data"][0]

#: More than any bounded listing may send here: the first page, the pages in flight
#: (``page_workers`` + 1), and the one that shows the contradiction, for each listing.
FEW = 2 * (1 + 8 + 1 + 1)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def numbered(template: dict[str, Any], name_field: str, first_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` copies of ``template`` with ids from ``first_id`` and matching names."""
    out = []
    for i in range(count):
        item = copy.deepcopy(template)
        item["id"], item[name_field] = first_id + i, f"node-{first_id + i}"
        out.append(item)
    return out


def droplets(first_id: int, count: int) -> list[dict[str, Any]]:
    return numbered(DROPLET, "name", first_id, count)


def linodes(first_id: int, count: int) -> list[dict[str, Any]]:
    return numbered(LINODE, "label", first_id, count)


def do_driver(server: LoopbackServer) -> Any:
    return get_driver("digitalocean")("tok-paging", base_url=server.url, max_retries=0)


def linode_driver(server: LoopbackServer) -> Any:
    return get_driver("linode")("tok-paging", base_url=server.url, max_retries=0)


def test_a_first_page_claiming_90_million_droplets_is_the_only_page(server: LoopbackServer) -> None:
    body = {"droplets": droplets(1, 2), "links": {}, "meta": {"total": 90_000_000}}
    server.route("GET", "/v2/droplets", lambda seen: Reply(200, body))
    nodes = do_driver(server).list_nodes()
    assert [n.id for n in nodes] == ["1", "2"]
    assert server.count("GET", "/v2/droplets") == 2  # the droplet and the GPU listing, one page each


def test_an_unparseable_last_link_and_a_huge_total_do_not_make_thousands_of_requests(
        server: LoopbackServer) -> None:
    body = {"droplets": droplets(1, 2), "links": {"pages": {"last": "not a url", "next": 7}},
            "meta": {"total": 90_000_000}}
    server.route("GET", "/v2/droplets", lambda seen: Reply(200, body))
    assert len(do_driver(server).list_nodes()) == 2
    assert server.count("GET", "/v2/droplets") <= FEW


def test_full_pages_that_repeat_themselves_raise_after_a_few_requests(server: LoopbackServer) -> None:
    page = {"droplets": droplets(1, 200), "links": {"pages": {"last": f"{server.url}/v2/droplets?page=450000"}},
            "meta": {"total": 90_000_000}}
    server.route("GET", "/v2/droplets", lambda seen: Reply(200, page))
    with pytest.raises(MalformedResponseError, match="contradict"):
        do_driver(server).list_nodes()
    assert server.count("GET", "/v2/droplets") <= FEW


def test_a_linode_page_claiming_200000_pages_does_not_fail_the_listing(server: LoopbackServer) -> None:
    body = {"data": linodes(1, 3), "page": 1, "pages": 200_000, "results": 3}
    server.route("GET", "/v4/linode/instances", lambda seen: Reply(200, body))
    nodes = linode_driver(server).list_nodes()
    assert [n.id for n in nodes] == ["1", "2", "3"]
    assert server.count("GET", "/v4/linode/instances") == 1


def test_linode_pages_that_repeat_raise_after_a_few_requests(server: LoopbackServer) -> None:
    body = {"data": linodes(1, 500), "page": 1, "pages": 200_000, "results": 100_000_000}
    server.route("GET", "/v4/linode/instances", lambda seen: Reply(200, body))
    with pytest.raises(MalformedResponseError, match="contradict"):
        linode_driver(server).list_nodes()
    assert server.count("GET", "/v4/linode/instances") <= FEW


def test_a_short_page_in_the_middle_ends_the_listing(server: LoopbackServer) -> None:
    def answer(seen: Any) -> Reply:
        number = int(seen.query.get("page", ["1"])[0])
        count = 500 if number == 1 else 7  # page 2 is short: the listing ends there
        return Reply(200, {"data": linodes(number * 1000, count), "page": number, "pages": 4, "results": 2000})

    server.route("GET", "/v4/linode/instances", answer)
    nodes = linode_driver(server).list_nodes()
    assert len(nodes) == 507
    assert len({n.id for n in nodes}) == 507


def test_a_server_that_caps_the_page_size_is_followed_when_its_counts_agree(server: LoopbackServer) -> None:
    def answer(seen: Any) -> Reply:
        number = int(seen.query.get("page", ["1"])[0])
        count = 2 if number < 3 else 1  # serves 2 per page whatever is asked: 5 in 3 pages
        return Reply(200, {"droplets": droplets(number * 10, count),
                           "links": {"pages": {"last": f"{server.url}/v2/droplets?page=3"}}, "meta": {"total": 5}})

    server.route("GET", "/v2/droplets", answer)
    nodes = do_driver(server).list_nodes(ex_type="droplets")
    assert [n.id for n in nodes] == ["10", "11", "20", "21", "30"]


@pytest.mark.parametrize(("claimed", "first", "size", "total", "expected"), [
    (None, 0, 200, None, (1, 200)),            # an empty first page
    (3, 2, 200, 90_000_000, (1, 200)),         # short first page, counts that disagree: one page
    (None, 2, 200, 90_000_000, (1, 200)),      # short first page, no page count: one page
    (3, 2, 200, 5, (3, 2)),                    # short first page, counts agree: a capped page size
    (450_000, 200, 200, 400, (3, 200)),        # a page count the total cannot justify: total + 1
    (None, 200, 200, 405, (3, 200)),           # pages from the total alone
    (7, 200, 200, None, (7, 200)),             # pages from the page count alone
    (None, 200, 200, None, (1, 200)),          # nothing said: the first page
])
def test_justified_pages(claimed: int | None, first: int, size: int, total: int | None,
                         expected: tuple[int, int]) -> None:
    assert justified_pages(claimed, first, size, total) == expected
