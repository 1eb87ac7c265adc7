"""What every part of the Linode driver builds on: the request and paging helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cloudkit.driver import NodeDriver
from cloudkit.drivers.linode.connection import API, PAGE_SIZE, LinodeConnection, _page_items, _total_items, _total_pages
from cloudkit.drivers.linode.rules import _linode_id
from cloudkit.models import Node


class LinodeDriverBase(NodeDriver):
    """Requests, listings and paths shared by the Linode driver's parts."""

    connection: LinodeConnection

    # -- helpers ------------------------------------------------------------------------------

    def _get(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.connection.request(API + path, headers=headers).object

    def _paged(self, path: str, headers: Mapping[str, str] | None = None,
               transform: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every item of a paged listing: page 1, then the remaining pages concurrently
        (each item passed through ``transform`` as its page arrives, when given)."""
        return self.connection.paginate(API + path, _page_items, _total_pages, headers=headers,
                                        total_items=_total_items,
                                        page_param="page", size_param="page_size",
                                        page_size=self.connection.page_size or PAGE_SIZE,
                                        transform=transform)

    def _unpaged(self, path: str) -> list[Any]:
        """Listings whose operation declares no paging parameters (``/regions``,
        ``/linode/types``): they still answer with the envelope; further pages, should one
        ever appear, are asked for with ``page``."""
        return self.connection.paginate(API + path, _page_items, _total_pages, size_param=None,
                                        page_size=PAGE_SIZE, total_items=_total_items)

    def _node_path(self, node: Node | str | int, suffix: str = "") -> str:
        return f"{API}/linode/instances/{_linode_id(node)}{suffix}"
