""":func:`replay` (answer requests from a cassette, in recorded order per request) and
:func:`routes_from_cassette` (a cassette as :class:`~cloudkit.testing.fixtures.Route` objects).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# -- replaying ----------------------------------------------------------------------------------
from cloudkit.testing.record.cassette import Exchange, _comparable, _patch_send, load_cassette
from cloudkit.testing.record.scrubbing import REDACTED, CassetteMismatchError, _is_secret_name


class Player:
    """What ``replay`` yields: answers requests from the cassette; ``played`` and ``unused``
    say how far it got."""

    def __init__(self, exchanges: Sequence[Exchange], name: str) -> None:
        self.exchanges = list(exchanges)
        self.name = name
        self.played: list[Exchange] = []
        self._lock = threading.Lock()

    @property
    def unused(self) -> list[Exchange]:
        """Recorded exchanges no request has asked for yet."""
        with self._lock:
            played = {id(e) for e in self.played}
            return [e for e in self.exchanges if id(e) not in played]

    def take(self, method: str, url: str) -> Exchange:
        """The first unplayed exchange answering ``method url``; CassetteMismatchError if none."""
        parts = urlsplit(url)
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        with self._lock:
            played = {id(e) for e in self.played}
            for exchange in self.exchanges:
                if id(exchange) not in played and exchange.matches(method, parts.path or "/", query):
                    self.played.append(exchange)
                    return exchange
            left = [e for e in self.exchanges if id(e) not in played]
        shown_query = "&".join(f"{k}={REDACTED if _is_secret_name(k) else v}" for k, v in parse_qsl(parts.query))
        nearby = "\n    ".join(f"{e.file.name if e.file else e.seq}: {e.describe()}" for e in left[:8]) or "(none)"
        raise CassetteMismatchError(
            f"request {method} {parts.path}{'?' + shown_query if shown_query else ''} is not in cassette "
            f"{self.name} ({len(left)} of {len(self.exchanges)} exchanges left):\n    {nearby}\n"
            "  Record the flow again, or fix the request the code sends.")

    def respond(self, request: Any) -> Any:
        """A ``requests.Response`` for ``request``, built from the cassette."""
        import requests
        from requests.structures import CaseInsensitiveDict

        exchange = self.take(str(request.method), str(request.url))
        response = requests.Response()
        response.status_code = exchange.status
        response.headers = CaseInsensitiveDict({**exchange.headers, "Content-Length": str(len(exchange.body))})
        response._content = exchange.body
        # requests has no public way to build a Response whose body is already read;
        # without this flag it would try to stream from .raw a second time.
        response._content_consumed = True  # type: ignore[attr-defined]  # requests' private flag: the body is set
        response.raw = io.BytesIO(exchange.body)
        response.url = str(request.url)
        response.request = request
        response.encoding = None
        response.elapsed = _dt.timedelta(0)
        try:
            response.reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            response.reason = ""
        return response


@contextmanager
def replay(cassette_dir: str | Path, *, allow_unused: bool = False) -> Iterator[Player]:
    """Answer every request sent through ``requests`` inside the block from a cassette.

    Nothing reaches the network. A request the cassette does not hold raises
    ``CassetteMismatchError`` (an AssertionError) from the sending call; exchanges left
    unplayed raise it when the block ends, unless ``allow_unused``.
    """
    import requests

    player = Player(load_cassette(cassette_dir), str(cassette_dir))

    def hook(inner: Callable[..., Any], session: Any, request: Any, **kwargs: Any) -> Any:
        return player.respond(request)

    undo = _patch_send(requests.sessions.Session, hook)
    try:
        yield player
    finally:
        undo()
    left = player.unused
    if left and not allow_unused:
        names = ", ".join(e.file.name if e.file else str(e.seq) for e in left[:8])
        raise CassetteMismatchError(f"{len(left)} recorded exchange(s) of {cassette_dir} were never replayed: "
                                    f"{names}; the code sent fewer requests than when it was recorded "
                                    "(pass allow_unused=True if that is expected)")


def routes_from_cassette(cassette_dir: str | Path, *, repeat_last: bool = False) -> list[Any]:
    """The cassette as ``cloudkit.testing.fixtures.Route`` objects, to feed ``mock_routes`` or a
    ``DriverConformance`` class. Each answers once, in recorded order; with ``repeat_last`` the
    last answer to each distinct request keeps answering (a suite calls a listing many times)."""
    from cloudkit.testing.fixtures import Route

    exchanges = load_cassette(cassette_dir)
    last: dict[tuple[str, str, str], int] = {}
    for index, exchange in enumerate(exchanges):
        last[_request_key(exchange)] = index
    routes: list[Any] = []
    for index, exchange in enumerate(exchanges):
        query = {k: v[0] for k, v in _comparable(exchange.query).items() if v}
        headers = {k: v for k, v in exchange.headers.items() if k.lower() != "content-type"}
        keeps = repeat_last and last[_request_key(exchange)] == index
        routes.append(Route(exchange.method, exchange.path, exchange.body_file, status=exchange.status,
                            headers=headers, query=query, times=None if keeps else 1,
                            content_type=exchange.content_type or "application/json"))
    # A Route's query matches any request that carries at least its parameters: the most
    # specific routes go first, so ``?type=gpus&page=1`` is not answered by ``?page=1``.
    routes.sort(key=lambda route: -len(route.query))
    return routes


def _request_key(exchange: Exchange) -> tuple[str, str, str]:
    return exchange.method, exchange.path.rstrip("/"), json.dumps(_comparable(exchange.query), sort_keys=True)
