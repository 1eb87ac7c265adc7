"""Connection.paginate's ``transform`` and the garbage-collector pause around listings
(cloudkit.paging.gc_paused), against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import BearerTokenConnection
from cloudkit.errors import MalformedResponseError, ServerError
from cloudkit.paging import gc_paused

PAGES = 5


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _gc_enabled_around_each_test():
    was = gc.isenabled()
    gc.enable()
    yield
    assert gc.isenabled(), "a test left the garbage collector disabled"
    if not was:
        gc.disable()


def conn(server: LoopbackServer, **kw) -> BearerTokenConnection:
    return BearerTokenConnection("tok", base_url=server.url, max_retries=0, **kw)


def serve_pages(server: LoopbackServer, pages: int = PAGES, fail_page: int | None = None) -> None:
    def reply(seen):
        page = int(seen.query["page"][0])
        if page == fail_page:
            return Reply(500, {"message": "broken page"})
        return Reply(200, {"items": [{"n": page * 10 + i} for i in range(3)], "pages": pages})

    server.route("GET", "/items", reply)


def extract(body):
    return body["items"]


def total(body, size):
    return body["pages"]


def test_transform_builds_each_item_in_order(server: LoopbackServer) -> None:
    serve_pages(server)
    items = conn(server).paginate("/items", extract, total, page_size=3, transform=lambda d: f"item-{d['n']}")
    assert items == [f"item-{p * 10 + i}" for p in range(1, PAGES + 1) for i in range(3)]
    assert sorted(int(s.query["page"][0]) for s in server.seen) == list(range(1, PAGES + 1))


def test_without_transform_the_raw_items_come_back(server: LoopbackServer) -> None:
    serve_pages(server, pages=1)
    assert conn(server).paginate("/items", extract, total) == [{"n": 10}, {"n": 11}, {"n": 12}]


def test_gc_is_paused_while_pages_are_built_and_restored_after(server: LoopbackServer) -> None:
    serve_pages(server)
    states: list[bool] = []

    def build(item):
        states.append(gc.isenabled())
        return item["n"]

    conn(server).paginate("/items", extract, total, page_size=3, transform=build)
    assert len(states) == PAGES * 3 and not any(states)
    assert gc.isenabled()


def test_pause_gc_false_leaves_the_collector_alone(server: LoopbackServer) -> None:
    serve_pages(server, pages=2)
    states: list[bool] = []
    c = conn(server)
    c.pause_gc = False
    c.paginate("/items", extract, total, page_size=3, transform=lambda item: states.append(gc.isenabled()))
    assert states and all(states)


def test_a_failing_page_raises_and_restores_the_collector(server: LoopbackServer) -> None:
    serve_pages(server, fail_page=3)
    with pytest.raises(ServerError):
        conn(server).paginate("/items", extract, total, page_size=3, transform=lambda item: item)
    assert gc.isenabled()


def test_a_failing_transform_raises_and_restores_the_collector(server: LoopbackServer) -> None:
    serve_pages(server)

    def build(item):
        if item["n"] == 21:
            raise MalformedResponseError("bad item")
        return item

    with pytest.raises(MalformedResponseError):
        conn(server).paginate("/items", extract, total, page_size=3, transform=build)
    assert gc.isenabled()


def test_a_collector_the_program_disabled_stays_disabled(server: LoopbackServer) -> None:
    serve_pages(server, pages=2)
    gc.disable()
    try:
        conn(server).paginate("/items", extract, total, page_size=3)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_listings_keep_the_collector_paused_until_the_last_ends() -> None:
    first_in = threading.Event()
    second_done = threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            first_in.set()
            assert second_done.wait(10)
            seen["first, after the second ended"] = gc.isenabled()

    def second() -> None:
        assert first_in.wait(10)
        with gc_paused():
            seen["second, inside"] = gc.isenabled()
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"second, inside": False, "first, after the second ended": False}
    assert gc.isenabled()


class _Cyclic:
    def __init__(self) -> None:
        self.me = self


def test_objects_built_while_paused_end_up_in_the_oldest_generation() -> None:
    gc.collect()
    with gc_paused():
        built = [{"id": i, "tags": [str(i)]} for i in range(2000)]
        assert gc.get_count()[0] > 2000  # allocations are counted, not collected
    # Promoted without a scan: the young generation no longer holds the listing.
    assert gc.get_count()[0] < 100
    assert gc.get_freeze_count() == 0
    assert len(built) == 2000 and built[5]["tags"] == ["5"]


def test_cyclic_garbage_made_while_paused_is_still_collected() -> None:
    with gc_paused():
        ref = weakref.ref(_Cyclic())
        assert ref() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert ref() is None


def test_objects_the_program_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            junk = [[i] for i in range(100)]
        # Not unfrozen (0) nor frozen again with the new objects: at most what was frozen (other
        # threads of the test run may free some frozen objects meanwhile), and most of it.
        assert frozen // 2 < gc.get_freeze_count() <= frozen
        assert len(junk) == 100
    finally:
        gc.unfreeze()
