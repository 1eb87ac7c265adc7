"""Scrub credentials from an exception, its attributes and its whole chain.

A hostile or careless server may copy the request into its error body and headers: the
token, an API key in the query string (URL-encoded, ``+`` and ``/`` quoted or not), a Basic
``Authorization`` value (base64 of ``user:password``). ``secret_forms`` lists every form in
which a credential can come back; ``scrub_exception`` removes each from everything an error
carries (``args``, ``message``, ``body``, ``headers``, notes, nested errors such as
``cause``) and from every exception on its ``__cause__`` / ``__context__`` chain. A chained
exception that cannot be cleaned (a ``requests`` error holding the prepared request, or
whose text still shows a secret) is cut from the chain, and a context hidden with
``raise ... from None`` is dropped, so no debugger, logger or traceback printer finds it.

``Connection`` applies it to every error of ``request`` and ``paginate`` (all drivers).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from cloudkit.redact import REDACTED, SECRET_HEADERS

__all__ = ["scrub_exception", "scrub_text", "secret_forms"]

#: Secrets shorter than this are not scrubbed (they would mangle ordinary words).
MIN_SECRET = 4
#: How many exceptions of one chain are looked at, at most.
MAX_CHAIN = 32
#: Attributes of foreign exceptions that hold the request (URL, headers) itself.
_REQUEST_ATTRS = ("request", "response", "pool", "url", "_request")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _encodings(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote(secret, safe="/"), quote(secret, safe="/:@"),
             quote_plus(secret), quote_plus(secret, safe="/"), secret.replace("+", " "),
             secret.replace("/", "\\/"), json.dumps(secret)[1:-1]}
    for form in list(forms):
        if "%" in form:
            forms.add(_lower_hex(form))
    return forms


def _lower_hex(text: str) -> str:
    return _PERCENT.sub(lambda m: m.group(0).lower(), text)


def secret_forms(secrets: Iterable[str | None], basic: Iterable[tuple[str, str]] = ()) -> tuple[str, ...]:
    """Every form in which ``secrets`` (and the Basic credentials ``basic``, pairs of user
    and password) can be echoed back, longest first."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            forms |= _encodings(secret)
    for user, password in basic:
        if not password:
            continue
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        forms |= {token, token.rstrip("="), base64.urlsafe_b64encode(f"{user}:{password}".encode())
                  .decode("ascii").rstrip("=")}
        forms |= _encodings(token)
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True))


def scrub_text(text: str, forms: tuple[str, ...]) -> str:
    """``text`` with every form replaced, and a secret cut off at its end (an excerpt that
    stops half-way through one) replaced too."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return _scrub_tail(text, forms)


def _scrub_tail(text: str, forms: tuple[str, ...]) -> str:
    core = text[:-3] if text.endswith("...") else text
    suffix = text[len(core):]
    for form in forms:
        for size in range(len(form) - 1, MIN_SECRET - 1, -1):
            if core.endswith(form[:size]):
                return core[:-size] + REDACTED + suffix
    return text


def _scrub_value(value: Any, forms: tuple[str, ...], found: list[BaseException], depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub_text(value, forms)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
        cleaned = scrub_text(text, forms)
        return value if cleaned == text else cleaned.encode()
    if isinstance(value, BaseException):
        found.append(value)
        return value
    if depth > 4:
        return value
    if isinstance(value, dict):
        scrubbed = {_scrub_value(k, forms, found, depth + 1):
                    (REDACTED if isinstance(k, str) and k.lower() in SECRET_HEADERS
                     else _scrub_value(v, forms, found, depth + 1)) for k, v in value.items()}
        return value if scrubbed == value else scrubbed
    if type(value) in (list, tuple):
        items = [_scrub_value(v, forms, found, depth + 1) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    return value


def _scrub_one(exc: BaseException, forms: tuple[str, ...], found: list[BaseException]) -> None:
    exc.args = tuple(_scrub_value(a, forms, found) for a in exc.args)
    for name, value in list(vars(exc).items()):
        cleaned = _scrub_value(value, forms, found)
        if cleaned is not value:
            try:
                setattr(exc, name, cleaned)
            except (AttributeError, TypeError):
                pass
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        exc.__notes__ = [scrub_text(n, forms) if isinstance(n, str) else n for n in notes]


def _leaks(exc: BaseException, forms: tuple[str, ...]) -> bool:
    try:
        text = f"{exc!s} {exc!r} {vars(exc)!r}"
    except Exception:
        return True
    return any(form in text for form in forms)


def _is_ours(exc: BaseException) -> bool:
    return type(exc).__module__.split(".", 1)[0] == "cloudkit"


def _cleanable(exc: BaseException, forms: tuple[str, ...]) -> bool:
    if _is_ours(exc):
        return True
    if any(getattr(exc, attr, None) is not None for attr in _REQUEST_ATTRS):
        return False
    return not _leaks(exc, forms)


def scrub_exception(exc: BaseException, forms: tuple[str, ...]) -> BaseException:
    """Remove every form of every credential from ``exc`` and its chain, in place."""
    if not forms:
        return exc
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < MAX_CHAIN:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        nested: list[BaseException] = []
        _scrub_one(current, forms, nested)
        todo.extend(nested)
        if current.__suppress_context__:
            current.__context__ = None  # hidden by ``raise ... from None``: carry nothing
        for link in ("__cause__", "__context__"):
            linked = getattr(current, link)
            if linked is None:
                continue
            if _cleanable(linked, forms):
                _scrub_one(linked, forms, [])
                if _cleanable(linked, forms):
                    todo.append(linked)
                    continue
            setattr(current, link, None)
            if link == "__cause__":
                current.__suppress_context__ = True
    return exc
