"""Connection.paginate's ``transform`` and the garbage collector around listings: the default
shelter (cloudkit.paging.gc_sheltered: the collector keeps running, what a listing built so
far is frozen at each page boundary) and the opt-in process-wide pause (gc_paused,
``Connection.pause_gc = True``), against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import BearerTokenConnection
from cloudkit.errors import MalformedResponseError, ServerError
from cloudkit.paging import SHELTER_YOUNG_THRESHOLD, gc_checkpoint, gc_paused, gc_sheltered

PAGES = 5


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _gc_enabled_around_each_test():
    was = gc.isenabled()
    thresholds = gc.get_threshold()
    gc.enable()
    yield
    assert gc.isenabled(), "a test left the garbage collector disabled"
    assert gc.get_threshold() == thresholds, "a test left the collector's thresholds changed"
    assert gc.get_freeze_count() == 0, "a test left objects frozen"
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


def test_the_collector_runs_while_pages_are_built_and_earlier_pages_are_frozen(server: LoopbackServer) -> None:
    serve_pages(server)
    states: list[tuple[bool, int]] = []

    def build(item):
        states.append((gc.isenabled(), gc.get_freeze_count()))
        return item["n"]

    conn(server).paginate("/items", extract, total, page_size=3, transform=build)
    assert len(states) == PAGES * 3
    assert all(enabled for enabled, _ in states)  # never switched off, for any thread
    assert all(frozen > 0 for _, frozen in states)  # checkpoints froze what was built before
    assert gc.isenabled() and gc.get_freeze_count() == 0  # all back in the oldest generation


def test_gc_is_paused_while_pages_are_built_and_restored_after_when_opted_in(server: LoopbackServer) -> None:
    serve_pages(server)
    states: list[bool] = []

    def build(item):
        states.append(gc.isenabled())
        return item["n"]

    c = conn(server)
    c.pause_gc = True
    c.paginate("/items", extract, total, page_size=3, transform=build)
    assert len(states) == PAGES * 3 and not any(states)
    assert gc.isenabled()


def test_pause_gc_false_leaves_the_collector_alone(server: LoopbackServer) -> None:
    serve_pages(server, pages=2)
    states: list[bool] = []
    c = conn(server)
    assert c.pause_gc is False  # opt-in: the default never switches the collector off
    c.pause_gc = False
    c.paginate("/items", extract, total, page_size=3, transform=lambda item: states.append(gc.isenabled()))
    assert states and all(states)


def test_shelter_gc_false_leaves_the_collector_alone(server: LoopbackServer) -> None:
    serve_pages(server, pages=2)
    states: list[tuple[bool, int]] = []
    c = conn(server)
    c.shelter_gc = False
    c.paginate("/items", extract, total, page_size=3,
               transform=lambda item: states.append((gc.isenabled(), gc.get_freeze_count())))
    assert states and all(enabled and frozen == 0 for enabled, frozen in states)


def test_a_failing_page_raises_and_restores_the_collector(server: LoopbackServer) -> None:
    serve_pages(server, fail_page=3)
    with pytest.raises(ServerError):
        conn(server).paginate("/items", extract, total, page_size=3, transform=lambda item: item)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_failing_transform_raises_and_restores_the_collector(server: LoopbackServer) -> None:
    serve_pages(server)

    def build(item):
        if item["n"] == 21:
            raise MalformedResponseError("bad item")
        return item

    with pytest.raises(MalformedResponseError):
        conn(server).paginate("/items", extract, total, page_size=3, transform=build)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_the_program_disabled_stays_disabled(server: LoopbackServer) -> None:
    serve_pages(server, pages=2)
    gc.disable()
    try:
        frozen: list[int] = []
        conn(server).paginate("/items", extract, total, page_size=3,
                              transform=lambda item: frozen.append(gc.get_freeze_count()))
        assert not gc.isenabled()
        assert frozen and not any(frozen)  # nothing frozen behind the program's back either
    finally:
        gc.enable()


def test_concurrent_listings_keep_the_shelter_until_the_last_ends() -> None:
    first_in = threading.Event()
    second_done = threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with gc_sheltered():
            first_in.set()
            assert second_done.wait(10)
            gc_checkpoint()
            seen["first, after the second ended"] = (gc.isenabled(), gc.get_freeze_count() > 0)

    def second() -> None:
        assert first_in.wait(10)
        with gc_sheltered():
            gc_checkpoint()
            seen["second, inside"] = (gc.isenabled(), gc.get_freeze_count() > 0)
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"second, inside": (True, True), "first, after the second ended": (True, True)}
    assert gc.isenabled() and gc.get_freeze_count() == 0


class _Cyclic:
    def __init__(self) -> None:
        self.me = self


def test_objects_built_while_sheltered_end_up_in_the_oldest_generation() -> None:
    gc.collect()
    with gc_sheltered():
        built = [{"id": i, "tags": [str(i)]} for i in range(2000)]
        gc_checkpoint()
        assert gc.get_freeze_count() >= 4000  # out of every scan until the block ends
        assert gc.get_count()[0] < 100
    # Unfrozen into the oldest generation: the young generation no longer holds the listing.
    assert gc.get_count()[0] < 100
    assert gc.get_freeze_count() == 0
    assert len(built) == 2000 and built[5]["tags"] == ["5"]
    assert gc.is_tracked(built[0]) and any(obj is built for obj in gc.get_objects(generation=2))


def test_cyclic_garbage_made_while_sheltered_is_still_collected() -> None:
    with gc_sheltered():
        ref = weakref.ref(_Cyclic())
        assert ref() is not None  # a cycle: reference counting alone cannot free it
        gc.collect()  # the collector still works inside a listing
        assert ref() is None
        kept = _Cyclic()
        later = weakref.ref(kept)
        gc_checkpoint()  # alive at a page boundary: frozen with the listing
        del kept
    gc.collect()
    assert later() is None  # collected once the listing is over


def test_another_threads_cyclic_garbage_is_collected_during_a_listing() -> None:
    refs: list[weakref.ref[_Cyclic]] = []

    def churn() -> None:
        for _ in range(50):
            refs.append(weakref.ref(_Cyclic()))

    with gc_sheltered():
        gc_checkpoint()
        worker = threading.Thread(target=churn)
        worker.start()
        worker.join(10)
        assert gc.isenabled()
        gc.collect()
        assert len(refs) == 50 and all(ref() is None for ref in refs)


def test_the_young_threshold_is_raised_while_sheltered_and_restored_after() -> None:
    before = gc.get_threshold()
    with gc_sheltered():
        assert gc.get_threshold() == (SHELTER_YOUNG_THRESHOLD, before[1], before[2])
        with gc_sheltered():  # a second listing at once: still raised, restored only by the last
            pass
        assert gc.get_threshold()[0] == SHELTER_YOUNG_THRESHOLD
    assert gc.get_threshold() == before


def test_young_collections_still_run_while_sheltered() -> None:
    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with gc_sheltered():
            gc_checkpoint()
            ref = weakref.ref(_Cyclic())  # garbage at once, but only the collector can free it
            kept = [[i] for i in range(3 * SHELTER_YOUNG_THRESHOLD)]  # no gc.collect(): the threshold decides
            assert ref() is None
    finally:
        gc.callbacks.remove(count)
    assert 2 <= len(runs) <= 6  # every 20,000 containers or so, not every 700
    assert len(kept) == 3 * SHELTER_YOUNG_THRESHOLD


def test_thresholds_the_program_chose_are_kept() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(50_000, before[1], before[2])  # higher already: left alone
        with gc_sheltered():
            assert gc.get_threshold()[0] == 50_000
        assert gc.get_threshold()[0] == 50_000
        gc.set_threshold(700, before[1], before[2])
        with gc_sheltered():
            gc.set_threshold(1_000, 5, 5)  # the program changes them during a listing: its change stays
        assert gc.get_threshold() == (1_000, 5, 5)
    finally:
        gc.set_threshold(*before)


def test_objects_the_program_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_sheltered():
            junk = [[i] for i in range(100)]
            gc_checkpoint()
            assert gc.get_freeze_count() == frozen  # the program's freeze is left alone
        assert gc.get_freeze_count() == frozen
        assert len(junk) == 100
    finally:
        gc.unfreeze()


# -- the opt-in pause (gc_paused) ---------------------------------------------------------------

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


def test_objects_the_program_froze_stay_frozen_while_paused() -> None:
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
