"""Check HTTP traffic against a provider's OpenAPI 3 description, for tests.

A driver test turns the check on around the code under test::

    from cloudkit.testing.openapi import OpenAPIValidator, check_requests

    validator = OpenAPIValidator(SPECS / "digitalocean-compute.schema.json")
    with check_requests(validator, responses_too=True) as traffic:
        driver.list_nodes()
    assert [call.path for call in traffic.calls] == ["/v2/droplets"]

Every request sent through :mod:`requests` inside the ``with`` block (``responses`` or
``requests-mock`` mocks, or a real server on loopback) is checked: path, method, path and query
parameters, credentials the operation requires, and the JSON body. A mismatch raises
:class:`SpecMismatchError` (an ``AssertionError``) out of ``Session.send`` at once, so its
traceback points at the driver line that built the request and nothing is sent; and it is raised
again when the block ends, so a driver that swallows exceptions cannot hide it.

Beyond what openapi-core checks, a request also fails when it carries a query parameter the
operation does not declare, a body on an operation that takes none, or a top-level JSON body
field that no schema of the operation's body names (APIs silently ignore misspelt fields).
Each check can be turned off per validator.

Fixture files are checked with :func:`validate_body`.
"""

from __future__ import annotations

from cloudkit.testing.openapi.spec import SpecMismatchError, open_response_schemas, redact_url
from cloudkit.testing.openapi.traffic import RecordedCall, TrafficRecorder, check_requests
from cloudkit.testing.openapi.validator import OpenAPIValidator, validate_body

__all__ = [
    "OpenAPIValidator",
    "RecordedCall",
    "SpecMismatchError",
    "TrafficRecorder",
    "check_requests",
    "open_response_schemas",
    "redact_url",
    "validate_body",
]
