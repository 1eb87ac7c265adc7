"""Record a driver's HTTP exchanges as scrubbed fixtures, and replay them (VCR-style).

Record once against a real account (or the simulator)::

    from cloudkit.testing.record import record, replay

    with record("cassettes/linode-create", secrets=[token]) as rec:
        driver = get_driver("linode")(token)
        node = driver.create_node("web-1", "g6-nanode-1", "linode/debian12", "us-east",
                                  auth=NodeAuthPassword("...") )
    print(len(rec.exchanges), "exchanges recorded")

and replay in tests, offline::

    with replay("cassettes/linode-create"):
        node = get_driver("linode")("any-token").create_node(...)

Every request sent through :mod:`requests` inside ``record`` is written as two files: the
exchange (``0001_GET_v4_linode_instances.json``: method, path, query, status, a subset of
the response headers, the request body and the response body) and the raw response body
(``0001_GET_v4_linode_instances.body.json``), which a :class:`~cloudkit.testing.fixtures.Route`
can serve as it is. Before anything is written, tokens, passwords, API keys, private keys,
``Authorization`` values and the values of secret-named fields are replaced by ``REDACTED``;
with ``scrub_ips`` every IP address is replaced by a stand-in from the documentation ranges
(the same address always gets the same stand-in, private ones stay private). Secrets are also
learnt from the traffic itself (the ``Authorization`` header, secret query parameters and
secret body fields), and when the block ends every file is scrubbed again with everything
learnt and then searched: a secret left on disk raises :class:`ScrubError`.

``replay`` answers each request with the first recorded exchange not yet played that has
the same method, path and query (secret parameters aside), so identical requests (a poll)
are answered in recorded order and concurrent page fetches in any order. A request the
cassette does not hold raises :class:`CassetteMismatchError` naming it and what was left.
"""

from __future__ import annotations

from cloudkit.testing.record.cassette import FORMAT_VERSION, Exchange, Recording, load_cassette, record
from cloudkit.testing.record.replaying import Player, replay, routes_from_cassette
from cloudkit.testing.record.scrubbing import REDACTED, CassetteMismatchError, Scrubber, ScrubError

__all__ = [
    "FORMAT_VERSION",
    "REDACTED",
    "CassetteMismatchError",
    "Exchange",
    "Player",
    "Recording",
    "ScrubError",
    "Scrubber",
    "load_cassette",
    "record",
    "replay",
    "routes_from_cassette",
]
