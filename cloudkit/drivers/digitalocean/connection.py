"""DigitalOcean's connection (bearer token), its error mapping and its paging rules."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from cloudkit.connection import BearerTokenConnection
from cloudkit.parsing import opt_float, opt_int
from cloudkit.response import JsonResponse, parse_retry_after

API_HOST = "api.digitalocean.com"
#: The largest page the API serves.
PAGE_SIZE = 200


class DigitalOceanResponse(JsonResponse):
    """Maps DigitalOcean error bodies (``{"id", "message"}``) to cloudkit errors."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        if isinstance(body, dict):
            code = body.get("id")
            code_text = code if isinstance(code, str) and code.strip() else None
            message = body.get("message")
            if isinstance(message, str) and message.strip():
                return message.strip(), code_text
            error = body.get("error")  # POST /v2/tags answers {"error", "messages", "root_causes"}
            if isinstance(error, str) and error.strip():
                return error.strip(), code_text
            if code_text:
                return code_text, code_text
        return self._fallback_message(), None

    def retry_after(self) -> float | None:
        """``Retry-After`` when sent; else, once the hourly allowance is spent
        (``ratelimit-remaining: 0``), the time until ``ratelimit-reset``."""
        seconds = parse_retry_after(self.header("retry-after"))
        if seconds is not None:
            return seconds
        remaining = self.header("ratelimit-remaining")
        if remaining is not None and remaining.strip() not in ("0", ""):
            return None  # a burst limit: back off briefly instead of waiting for the reset
        reset = opt_float(self.header("ratelimit-reset"))
        if reset is None:
            return None
        return max(0.0, reset - time.time()) if reset > 1e9 else max(0.0, reset)


class DigitalOceanConnection(BearerTokenConnection):
    """Bearer-token connection to api.digitalocean.com."""

    host = API_HOST
    responseCls = DigitalOceanResponse


def _page_number(link: Any) -> int | None:
    if not isinstance(link, str):
        return None
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("page")
    number = opt_int(values[0]) if values else None
    return number if number is not None and number >= 1 else None


def _total_pages(first: Any, _page_size: int) -> int | None:
    """The page count a listing's first page claims (``links.pages.last``), if any."""
    if not isinstance(first, dict):
        return None
    links = first.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    return _page_number(pages.get("last")) if isinstance(pages, dict) else None


def _total_items(first: Any) -> int | None:
    """The item count a listing's first page claims (``meta.total``), if any."""
    meta = first.get("meta") if isinstance(first, dict) else None
    return opt_int(meta.get("total")) if isinstance(meta, dict) else None
