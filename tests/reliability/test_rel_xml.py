"""Hostile XML through the ``XmlResponse`` path: entity-expansion bombs, external entities
and external DTDs are refused with ``MalformedResponseError``, quickly, in little memory,
without reading local files or fetching anything."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from support.loopback import LoopbackServer, Reply

from cloudkit.connection import Connection
from cloudkit.errors import MalformedResponseError, ServerError
from cloudkit.response import XmlResponse

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

XML = {"Content-Type": "application/xml"}

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<servers><server><name>&lol9;</name></server></servers>"""

QUADRATIC = ('<?xml version="1.0"?>\n<!DOCTYPE q [<!ENTITY a "' + "x" * 50_000 + '">]>\n<servers>'
             + "&a;" * 5_000 + "</servers>")

SECRET_FILE_MARK = "cloudkit-local-secret-3f9a"


class XmlConnection(Connection):
    """A connection whose API answers XML (no cloudkit driver speaks XML today)."""

    host = "api.example.invalid"
    responseCls = XmlResponse


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def server(_shared_server: LoopbackServer) -> LoopbackServer:
    """The module's loopback server, with no scripted replies and nothing seen yet."""
    _shared_server.replies.clear()
    _shared_server.seen.clear()
    return _shared_server


@pytest.fixture
def local_secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_FILE_MARK + "\n")
    return path


def _conn(server: LoopbackServer) -> XmlConnection:
    return XmlConnection("token-not-used", base_url=server.url, max_retries=0, timeout=(2, 5))


def _fetch(conn: XmlConnection, path: str = "/servers") -> tuple[BaseException | None, float, int]:
    tracemalloc.start()
    started = time.monotonic()
    try:
        conn.request(path)
    except Exception as exc:  # returned for the test to check
        return exc, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        if tracemalloc.is_tracing():
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return None, time.monotonic() - started, peak


@pytest.mark.timeout(20)
def test_plain_xml_still_parses(server: LoopbackServer) -> None:
    server.script("GET", "/servers", Reply(200, "<servers><server><name>web-1</name></server></servers>",
                                           headers=XML))
    root = _conn(server).request("/servers").object
    assert isinstance(root, Element)
    assert root.findtext("server/name") == "web-1"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("body", [BILLION_LAUGHS, QUADRATIC], ids=["billion-laughs", "quadratic-blowup"])
def test_entity_expansion_bombs_are_refused_fast_and_small(server: LoopbackServer, body: str) -> None:
    server.script("GET", "/servers", Reply(200, body, headers=XML))
    error, seconds, peak = _fetch(_conn(server))
    assert isinstance(error, MalformedResponseError), error
    assert "refused for safety" in str(error)
    assert seconds < 2.0
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"
    assert "lollollol" not in str(error) and "xxxxxxxxxx" * 100 not in str(error)


@pytest.mark.timeout(20)
def test_external_entity_is_not_resolved(server: LoopbackServer, local_secret: Path) -> None:
    body = (f'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY leak SYSTEM "file://{local_secret}">]>\n'
            "<servers><server><name>&leak;</name></server></servers>")
    server.script("GET", "/servers", Reply(200, body, headers=XML))
    error, _, _ = _fetch(_conn(server))
    assert isinstance(error, MalformedResponseError)
    assert "refused for safety" in str(error)
    assert SECRET_FILE_MARK not in f"{error} {error!r} {vars(error)}"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["external-dtd", "parameter-entity"])
def test_nothing_is_fetched_for_an_external_dtd(server: LoopbackServer, kind: str) -> None:
    dtd_url = f"{server.url}/evil.dtd"
    server.script("GET", "/evil.dtd", Reply(200, '<!ENTITY leak "fetched">', headers=XML))
    if kind == "external-dtd":
        body = f'<?xml version="1.0"?>\n<!DOCTYPE servers SYSTEM "{dtd_url}">\n<servers>&leak;</servers>'
    else:
        body = (f'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY % ext SYSTEM "{dtd_url}"> %ext;]>\n'
                "<servers>&leak;</servers>")
    server.script("GET", "/servers", Reply(200, body, headers=XML))
    error, _, _ = _fetch(_conn(server))
    assert isinstance(error, MalformedResponseError)
    assert server.count("GET", "/evil.dtd") == 0, "the parser must never fetch an external DTD"


@pytest.mark.timeout(20)
def test_a_bomb_in_an_error_body_is_not_expanded_either(server: LoopbackServer) -> None:
    """An error answer is read for its message through the same safe parser; the bomb is
    refused there too and the error is the plain status mapping."""

    class MessageXmlResponse(XmlResponse):
        def parse_error(self) -> tuple[str, str | None]:
            root = self.xml_error_body()
            if root is not None and root.findtext("message"):
                return str(root.findtext("message")), None
            return self._fallback_message(), None

    class Conn(XmlConnection):
        responseCls = MessageXmlResponse

    server.script("GET", "/servers", Reply(500, BILLION_LAUGHS.replace("servers", "error"), headers=XML))
    conn = Conn("token-not-used", base_url=server.url, max_retries=0, timeout=(2, 5))
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        conn.request("/servers")
    assert time.monotonic() - started < 4.0  # generous: expanding the entities would take ages
    assert info.value.status == 500
    assert "lollollol" not in str(info.value)
