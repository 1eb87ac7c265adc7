"""Paged listings: page-number paging fetched concurrently, link following, de-duplication.

A listing is bounded by what its first page can justify and ends on the first short page,
so a server that claims millions of items (or pages) it does not send cannot make cloudkit
run away, and one that repeats its pages is caught after a few requests:

* a page with fewer items than the page size asked for is the last one (a first page that
  short is the only page, unless the provider's stated page count and item total agree on
  that smaller size: a provider that caps the page size it serves is followed at its size);
* no more pages are fetched than the first page's length can justify against the total it
  claims (``ceil(total / len(first page))``), plus one for items added meanwhile;
* a full page that brings no item not seen before means the pages contradict each other
  (the server ignores the page number, say): ``MalformedResponseError``;
* an item listed on two pages (pages shift while servers come and go) is returned once.

This module knows nothing of HTTP: ``Connection.paginate`` and ``Connection.follow_links``
hand it a function that fetches one page.
"""

from __future__ import annotations

import gc
import math
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlencode

from cloudkit.errors import MalformedResponseError

T = TypeVar("T")

__all__ = ["SHELTER_YOUNG_THRESHOLD", "cursor_link", "follow_links", "gc_checkpoint", "gc_paused", "gc_sheltered",
           "item_key", "justified_pages", "paginate"]


def item_key(item: object) -> Hashable | None:
    """What identifies a listed item: a model's ``id``, else a raw dict's id, slug,
    fingerprint or name (None: the item is never treated as a duplicate)."""
    if isinstance(item, dict):
        for name in ("id", "slug", "fingerprint", "name"):
            value = item.get(name)
            if isinstance(value, (int, str)) and not isinstance(value, bool):
                return (name, value)
        return None
    value = getattr(item, "id", None)
    return None if value is None else ("id", value)


def justified_pages(claimed_pages: int | None, first_len: int, page_size: int,
                    total_items: int | None) -> tuple[int, int]:
    """How many pages to fetch in all, and the page size later pages are held to, from what
    the first page shows.

    ``claimed_pages``: the page count the provider states (None: unknown); ``first_len``:
    items on the first page; ``page_size``: the page size asked for; ``total_items``: the
    item count the provider states (None: unknown).

    A first page shorter than asked is the only page, unless the provider's own page count
    and total agree on that smaller size (a provider that caps the page size it serves):
    then its length is the page size. Otherwise no more pages than the total justifies
    against the first page's length, plus one for items added meanwhile.
    """
    if first_len == 0:
        return 1, page_size
    by_total = None
    if total_items is not None and total_items >= 0:
        by_total = math.ceil(total_items / first_len)
    if first_len < page_size:
        capped = claimed_pages is not None and claimed_pages > 1 and by_total == claimed_pages
        return (claimed_pages, first_len) if capped and claimed_pages is not None else (1, page_size)
    if claimed_pages is None:
        return max(1, by_total or 1), page_size
    if by_total is None:
        return max(1, claimed_pages), page_size
    return max(1, min(claimed_pages, by_total + 1)), page_size


class _Collector:
    """Builds the result page by page: transforms items, drops duplicates, spots pages that
    repeat, and says when the listing has ended."""

    def __init__(self, what: str, page_size: int, transform: Callable[[Any], Any] | None,
                 key: Callable[[Any], Hashable | None]) -> None:
        self.what = what
        self.page_size = page_size
        self.transform = transform
        self.key = key
        self.items: list[Any] = []
        self.seen: set[Any] = set()
        self.ended = False

    def add(self, found: Sequence[Any], page: int) -> None:
        built = list(found) if self.transform is None else [self.transform(item) for item in found]
        markers = list(map(self.key, built))
        fresh = set(markers)
        if len(fresh) == len(built) and None not in fresh and self.seen.isdisjoint(fresh):
            # The usual page: every item identified, none seen before (set operations only).
            self.seen |= fresh
            self.items += built
            new = len(built)
        else:
            new = 0
            for item, marker in zip(built, markers, strict=True):
                if marker is not None:
                    if marker in self.seen:
                        continue
                    self.seen.add(marker)
                self.items.append(item)
                new += 1
        gc_checkpoint()
        if len(built) < self.page_size:
            self.ended = True
        elif page > 1 and new == 0:
            raise MalformedResponseError(
                f"listing {self.what}: page {page} repeats items already listed; the pages "
                f"contradict each other, so the listing was stopped")


def paginate(
    fetch: Callable[[int], Any],
    parse: Callable[[Any], Any],
    extract: Callable[[Any], Sequence[Any]],
    total_pages: Callable[[Any, int], int | None],
    *,
    what: str,
    page_size: int,
    first_page: int = 1,
    size_sent: bool = True,
    transform: Callable[[Any], Any] | None = None,
    total_items: Callable[[Any], int | None] | None = None,
    key: Callable[[Any], Hashable | None] = item_key,
    workers: int = 8,
    shelter_gc: bool = False,
    pause_gc: bool = False,
) -> list[Any]:
    """Every item of a page-numbered listing, in order, each passed through ``transform``.

    ``fetch(n)`` gets page ``n`` (whatever the caller's transport returns) and ``parse``
    turns that into the decoded body; the first page is fetched alone, the rest
    concurrently by up to ``workers`` threads, never more than one page per worker ahead of
    the page being built. ``total_pages(first_body, page_size)`` is the page count the
    provider claims and ``total_items(first_body)`` the item count, when it states one;
    ``size_sent=False`` means the listing takes no page size, so the first page's length
    stands for it. See the module docstring for the bounds. ``shelter_gc``: build the listing
    inside :func:`gc_sheltered`, with a checkpoint after every page; ``pause_gc``: inside
    :func:`gc_paused` instead (process-wide; it takes precedence).
    """
    shelter_gc = shelter_gc and not pause_gc
    with gc_paused(pause_gc), gc_sheltered(shelter_gc):
        if shelter_gc:
            parse = _checkpointed(parse)
        first = parse(fetch(first_page))
        found = extract(first)
        size = page_size if size_sent else max(1, len(found))
        claimed = total_pages(first, page_size)
        stated = total_items(first) if total_items is not None else None
        pages, size = justified_pages(claimed, len(found), size, stated)
        collector = _Collector(what, size, transform, key)
        rest = range(first_page + 1, first_page + pages)
        workers = min(workers, len(rest))
        if workers <= 1:
            collector.add(found, 1)
            del first, found
            for number, page in enumerate(rest, start=2):
                if collector.ended:
                    break
                collector.add(extract(parse(fetch(page))), number)
            return collector.items
        from concurrent.futures import Future, ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloudkit-page")
        try:
            ahead = iter(rest)
            pending: deque[Future[Any]] = deque(pool.submit(fetch, page) for page in islice(ahead, workers + 1))
            collector.add(found, 1)  # built while the other pages are on their way
            del first, found
            number = 1
            while pending and not collector.ended:
                fetched = pending.popleft().result()
                for page in islice(ahead, 1):
                    pending.append(pool.submit(fetch, page))
                number += 1
                body = parse(fetched)  # decoded here, not on the fetching thread
                del fetched
                collector.add(extract(body), number)
                del body
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
        return collector.items


def _checkpointed(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse`` followed by a :func:`gc_checkpoint` (a decoded page is as many containers as
    the items built from it)."""
    def parse_then_checkpoint(fetched: Any) -> Any:
        body = parse(fetched)
        gc_checkpoint()
        return body

    return parse_then_checkpoint


def follow_links(
    first: Any,
    fetch_link: Callable[[str], Any],
    extract: Callable[[Any], Sequence[T]],
    next_link: Callable[[Any], str | None],
    *,
    what: str,
    max_pages: int = 10_000,
    key: Callable[[T], Hashable | None] = item_key,
) -> list[T]:
    """Every item of a listing whose pages name the next one (a link or a cursor).

    ``first`` is the first page's body and ``fetch_link(link)`` the body of the page a link
    names. The listing ends when a page names no next page, names one already visited, or
    brings nothing; a page whose items were all listed before raises
    ``MalformedResponseError`` (the pages contradict each other), as does a listing still
    going after ``max_pages`` pages.
    """
    collector = _Collector(what, 1, None, key)
    visited: set[str] = set()
    body = first
    for number in range(1, max_pages + 1):
        found = extract(body)
        if not found:
            return collector.items
        collector.add(found, number)
        link = next_link(body)
        if not link or link in visited:
            return collector.items
        visited.add(link)
        body = fetch_link(link)
    raise MalformedResponseError(f"listing {what} did not end after {max_pages} pages")


def cursor_link(action: str, cursor: Any, params: Mapping[str, Any] | None = None,
                cursor_param: str = "cursor") -> str | None:
    """The request path of the page a cursor names (``action?<params>&cursor=<cursor>``), for
    ``follow_links`` on listings whose pages hand out an opaque cursor instead of a link;
    None when the cursor is empty (the listing has ended) or not text."""
    if not isinstance(cursor, str) or not cursor:
        return None
    return f"{action}?{urlencode({**(params or {}), cursor_param: cursor})}"


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_owned = False
#: While a listing is sheltered, the young generation is collected after this many new
#: containers instead of Python's default 700 (see ``gc_sheltered``).
SHELTER_YOUNG_THRESHOLD = 20_000
#: (the program's thresholds, the raised ones) while ``gc_sheltered`` has raised them.
_gc_thresholds: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None


@contextmanager
def gc_sheltered(enabled: bool = True) -> Iterator[None]:
    """Keep what is built inside the ``with`` block out of the cyclic collector's repeated
    scans, without switching the collector off (when ``enabled``).

    A big listing allocates hundreds of thousands of containers that all survive; left alone,
    the collector scans them again and again as they age (young, middle, then repeated full
    collections over a growing heap), which can cost more than building them. Inside the
    block, each :func:`gc_checkpoint` (``paginate`` calls one after every page) moves every
    object alive at that moment to the collector's permanent generation (``gc.freeze()``), so
    later collections only look at what was made since; on leaving the last block, they go
    back to the oldest generation (``gc.unfreeze()``), where the next full collection sees
    them as usual. Between two checkpoints the young generation is collected after
    ``SHELTER_YOUNG_THRESHOLD`` new containers rather than 700, so that decoding and building
    one page (a few thousand containers, all of them kept) does not scan them several times
    over; the program's thresholds come back when the last block ends, unless it set others
    meanwhile. The collector runs throughout, for every thread: garbage cycles made and
    dropped between two checkpoints are collected as usual; a cycle that was still alive at a
    checkpoint is collected after the listing instead of during it.

    Counted across threads (the last block out unfreezes). Does nothing when the collector is
    disabled or the program keeps objects frozen itself (``gc.get_freeze_count()`` > 0 when
    the first block starts): its own frozen objects are never unfrozen here.
    """
    global _gc_depth, _gc_owned, _gc_thresholds
    if not enabled:
        yield
        return
    with _gc_lock:
        if _gc_depth == 0:
            _gc_owned = gc.isenabled() and gc.get_freeze_count() == 0
            before = gc.get_threshold()
            if _gc_owned and 0 < before[0] < SHELTER_YOUNG_THRESHOLD:  # 0: the program's own choice
                raised = (SHELTER_YOUNG_THRESHOLD, before[1], before[2])
                gc.set_threshold(*raised)
                _gc_thresholds = (before, raised)
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                if _gc_thresholds is not None:
                    before, raised = _gc_thresholds
                    _gc_thresholds = None
                    if gc.get_threshold() == raised:
                        gc.set_threshold(*before)
                if _gc_owned:
                    _gc_owned = False
                    gc.unfreeze()


def gc_checkpoint() -> None:
    """Inside :func:`gc_sheltered`: exempt every object alive now from the collector's scans
    until the sheltered blocks end (outside one, or when it does nothing: nothing)."""
    if _gc_owned:
        gc.freeze()


_pause_depth = 0
_pause_was_enabled = False


@contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the ``with`` block (when ``pause``):
    process-wide, for every thread. ``paginate`` uses it only when asked (``pause_gc``);
    :func:`gc_sheltered` is the default, which keeps the collector running.

    Counted across threads: the first block to enter disables the collector (only when it
    was enabled), the last to leave enables it again, so concurrent listings (several
    accounts at once) never switch it back on under each other. Reference counting goes on
    freeing everything as usual; only the search for reference cycles waits. A collector
    the program disabled itself stays disabled.

    On leaving, the objects that survived the block (the listing: long-lived by nature) are
    moved to the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``), so the young
    collection that would otherwise follow does not scan hundreds of thousands of fresh
    objects that hold no cycles. Skipped when the program keeps objects frozen itself.
    """
    global _pause_depth, _pause_was_enabled
    if not pause:
        yield
        return
    with _gc_lock:
        if _pause_depth == 0:
            _pause_was_enabled = gc.isenabled()
            if _pause_was_enabled:
                gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _pause_was_enabled:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
