"""Linode's connection (bearer token), its error mapping, paging envelope and OAuth scopes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cloudkit.connection import BearerTokenConnection
from cloudkit.errors import MalformedResponseError
from cloudkit.parsing import as_dict, as_list, req
from cloudkit.response import JsonResponse, parse_retry_after

API = "/v4"
#: Largest page the API hands out (``page_size`` 25..500).
PAGE_SIZE = 500


class LinodeResponse(JsonResponse):
    """Linode answers: ``{"errors": [{"reason": ..., "field": ...}]}`` on failure."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            parts = []
            for err in errors:
                if not isinstance(err, dict):
                    continue
                reason = err.get("reason")
                text = str(reason) if reason not in (None, "") else "(no reason given)"
                field = err.get("field")
                parts.append(f"{field}: {text}" if field not in (None, "") else text)
            if parts:
                return "; ".join(parts), None
        return self._fallback_message(), None

    def retry_after(self) -> float | None:
        """``Retry-After`` seconds, else until ``X-RateLimit-Reset`` (epoch seconds, UTC)."""
        seconds = parse_retry_after(self.header("retry-after"))
        if seconds is not None:
            return seconds
        reset = self.header("x-ratelimit-reset")
        if reset:
            try:
                return max(0.0, float(reset) - time.time())
            except ValueError:
                return None
        return None


class LinodeConnection(BearerTokenConnection):
    """``Authorization: Bearer <token>`` to api.linode.com."""

    host = "api.linode.com"
    responseCls = LinodeResponse


def _page_items(body: Any) -> list[Any]:
    page = as_dict(body, "Linode listing")
    return as_list(req(page, "data", list, "Linode listing"), "Linode listing data")


def _total_pages(body: Any, _page_size: int) -> int:
    pages = as_dict(body, "Linode listing").get("pages", 1)
    if isinstance(pages, bool) or not isinstance(pages, int):
        raise MalformedResponseError(f"Linode listing: 'pages' has type {type(pages).__name__}")
    return max(1, pages)


def _total_items(body: Any) -> int | None:
    results = as_dict(body, "Linode listing").get("results")
    return results if isinstance(results, int) and not isinstance(results, bool) else None


#: The OAuth scopes the driver's methods need: nodes are managed (read_write), images
#: read, and SSH keys and tags (``account``) managed.
NEEDED_SCOPES = ("linodes:read_write", "images:read_only", "account:read_write")
_SCOPE_LEVELS = {"read_only": 1, "read_write": 2}


def missing_scopes(header: str | None, needed: Sequence[str]) -> list[str]:
    """The ``needed`` scopes an ``X-OAuth-Scopes`` value does not grant (``*`` grants all;
    ``read_write`` includes ``read_only``). No header: nothing is known to be missing."""
    if header is None or not header.strip():
        return []
    granted: dict[str, int] = {}
    for scope in header.replace(",", " ").split():
        if scope == "*":
            return []
        area, _, level = scope.partition(":")
        granted[area] = max(granted.get(area, 0), _SCOPE_LEVELS.get(level, 0))
    missing = []
    for scope in needed:
        area, _, level = scope.partition(":")
        if granted.get(area, 0) < _SCOPE_LEVELS[level]:
            missing.append(scope)
    return missing
