"""Recording and checking live traffic: :func:`check_requests` patches ``requests``'
``Session.send`` for the length of a ``with`` block.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

# --------------------------------------------------------------------------- recording traffic
from cloudkit.testing.openapi.spec import SpecMismatchError, _encode_body, redact_url
from cloudkit.testing.openapi.validator import OpenAPIValidator


@dataclass(repr=False)
class RecordedCall:
    """One request sent while :func:`check_requests` was active (and its response status)."""

    method: str
    url: str
    body: bytes | None
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    status: int | None = None
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RecordedCall({self.method} {redact_url(self.url)} -> {self.status})"

    @property
    def path(self) -> str:
        """The URL path as sent."""
        return urllib.parse.urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string, parsed (every value is a list)."""
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query, keep_blank_values=True)

    def json(self) -> Any:
        """The body decoded as JSON (None when there is no body)."""
        return None if self.body is None else json.loads(self.body)


class TrafficRecorder:
    """What :func:`check_requests` yields: the calls seen so far and the mismatches found."""

    def __init__(self, validator: OpenAPIValidator, *, responses_too: bool, raise_immediately: bool) -> None:
        self.validator = validator
        self.responses_too = responses_too
        self.raise_immediately = raise_immediately
        self.active = False
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._mismatches: list[SpecMismatchError] = []
        self._local = threading.local()

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request recorded, in the order they were sent."""
        with self._lock:
            return list(self._calls)

    @property
    def mismatches(self) -> list[SpecMismatchError]:
        """Every mismatch found so far."""
        with self._lock:
            return list(self._mismatches)

    def check(self) -> None:
        """Raise the mismatches found so far, all in one :class:`SpecMismatchError`."""
        mismatches = self.mismatches
        if mismatches:
            raise SpecMismatchError.combine(mismatches)

    # -- hooks called from the patched send

    def _in_flight(self) -> set[int]:
        ids: set[int] | None = getattr(self._local, "ids", None)
        if ids is None:
            ids = set()
            self._local.ids = ids
        return ids

    def _send(self, inner: Callable[..., Any], session: Any, request: Any, **kwargs: Any) -> Any:
        in_flight = self._in_flight()
        if not self.active or id(request) in in_flight:
            return inner(session, request, **kwargs)
        in_flight.add(id(request))
        try:
            call = self._before(request)
            response = inner(session, request, **kwargs)
            self._after(call, response)
            return response
        finally:
            in_flight.discard(id(request))

    def _record_mismatch(self, error: SpecMismatchError) -> None:
        with self._lock:
            self._mismatches.append(error)
        if self.raise_immediately:
            raise error

    def _before(self, request: requests.PreparedRequest) -> RecordedCall:
        method = (request.method or "GET").upper()
        url = request.url or ""
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {str(k): str(v) for k, v in request.headers.items()}
        )
        raw: object = request.body  # typed bytes | str | None, but a stream is possible
        problems: list[str]
        if raw is None or isinstance(raw, bytes | str):
            body = _encode_body(raw)
            problems = self.validator.request_problems(method, url, headers, body)
        else:
            body = None
            problems = ["body: a streamed body cannot be checked against the description"]
        call = RecordedCall(method, url, body, headers, problems=tuple(problems))
        with self._lock:
            self._calls.append(call)
        if problems:
            self._record_mismatch(self.validator._error("request", method, url, None, problems))
        return call

    def _after(self, call: RecordedCall, response: requests.Response) -> None:
        with self._lock:
            call.status = response.status_code
        if not self.responses_too or not 200 <= response.status_code < 300:
            return
        headers = {str(k): str(v) for k, v in response.headers.items()}
        problems = self.validator.response_problems(
            call.method, call.url, response.status_code, headers, response.content
        )
        if problems:
            self._record_mismatch(
                self.validator._error("response", call.method, call.url, response.status_code, problems)
            )


def _patch(owner: Any, name: str, recorder: TrafficRecorder) -> Callable[[], None]:
    """Replace ``owner.name`` (a send function) by a checking wrapper; return the undo."""
    inner = getattr(owner, name)

    def send(session: Any, request: Any, **kwargs: Any) -> Any:
        return recorder._send(inner, session, request, **kwargs)

    setattr(owner, name, send)

    def undo() -> None:
        if getattr(owner, name) is send:  # someone patched on top of us: leave theirs alone
            setattr(owner, name, inner)

    return undo


@contextmanager
def check_requests(
    validator: OpenAPIValidator, *, responses_too: bool = False, raise_immediately: bool = True
) -> Iterator[TrafficRecorder]:
    """Check every request sent through ``requests`` inside the block against ``validator``.

    Works with ``responses`` and ``requests-mock`` (started before or inside the block) and
    with real servers. With ``responses_too`` the 2xx responses are checked as well.

    A mismatch raises :class:`SpecMismatchError` out of ``Session.send`` (unless
    ``raise_immediately=False``; then the request is sent anyway), and every mismatch is raised
    again when the block ends, even if the code under test caught the first raise. Mocks and
    this patch must be stopped in reverse order of starting (as ``with`` blocks are); a wrapper
    left behind by out-of-order stops passes requests through unchecked.
    """
    recorder = TrafficRecorder(validator, responses_too=responses_too, raise_immediately=raise_immediately)
    undo = [_patch(requests.sessions.Session, "send", recorder)]
    # requests-mock's fake send calls the *original* Session.send it captured at import.
    mocker = sys.modules.get("requests_mock.mocker")
    if mocker is not None and hasattr(mocker, "_original_send"):
        undo.append(_patch(mocker, "_original_send", recorder))
    recorder.active = True
    try:
        yield recorder
    except BaseException as exc:
        mismatches = recorder.mismatches
        if mismatches and not (len(mismatches) == 1 and exc is mismatches[0]):
            raise SpecMismatchError.combine(mismatches) from exc
        raise
    finally:
        recorder.active = False
        for step in reversed(undo):
            step()
    recorder.check()
