"""Paging for simulated listings: the window a request asks for (by page number, or by an
item offset for cursor paging), and links.

A provider declares a :class:`PageSpec` (its parameter names, default, bounds) and writes
only its envelope; :meth:`ProviderAPI.paged <cloudkit.testing.simulator.base.ProviderAPI.paged>`
does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from cloudkit.testing.simulator._http import SimRequest

__all__ = ["OffsetPage", "Page", "PageSpec", "page_links"]


@dataclass(frozen=True)
class PageSpec:
    """How a provider pages: ``?page=N&<size_param>=M``."""

    size_param: str
    default: int
    maximum: int
    #: The smallest page size accepted.
    minimum: int = 1
    #: Above ``maximum``: cut down to it (True) or refuse (False).
    clamp: bool = True
    page_param: str = "page"
    #: Error messages for a bad page number and a bad page size.
    page_error: str = "page must be a positive integer"
    size_error: str = "page size is out of range"


@dataclass(frozen=True)
class Page:
    """One page of a listing of ``total`` items."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def end(self) -> int:
        return min(self.total, self.start + self.size)


@dataclass(frozen=True)
class OffsetPage(Page):
    """A page that starts at an item offset rather than a page boundary (cursor paging)."""

    offset: int = 0

    @property
    def start(self) -> int:
        return self.offset


def page_links(base_url: str, request: SimRequest, page: Page, spec: PageSpec) -> dict[str, str]:
    """``first``/``prev``/``next``/``last`` URLs on the simulator (only those that apply)."""
    links: dict[str, str] = {}
    if page.pages <= 1 and page.number <= 1:
        return links
    skip = (spec.page_param, spec.size_param)
    others = [(k, v) for k, vals in request.query.items() if k not in skip for v in vals]
    base = f"{base_url}{request.raw_path}?"

    def url(n: int) -> str:
        return base + urlencode([*others, (spec.page_param, n), (spec.size_param, page.size)])

    if page.number > 1:
        links["first"] = url(1)
        links["prev"] = url(min(page.number - 1, page.pages))
    if page.number < page.pages:
        links["next"] = url(page.number + 1)
        links["last"] = url(page.pages)
    return links
