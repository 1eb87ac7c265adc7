"""The driver conformance suite: one pytest base class that checks a driver keeps the contract.

Point it at a driver factory and a fixture set; every built-in driver runs it, and so
should a third-party one::

    from pathlib import Path
    from cloudkit.testing.conformance import DriverConformance
    from cloudkit.testing.fixtures import FixtureSet, Route

    FX = FixtureSet(Path(__file__).parent / "fixtures")

    class TestAcmeConformance(DriverConformance):
        expected_node_ids = {"101", "102", "103"}      # every node across all listing pages
        create_node_kwargs = {"name": "web-1", "size": "s-1", "image": "debian-12"}

        def make_driver(self, **kwargs):
            return AcmeNodeDriver("acme-test-token-1234", **kwargs)

        def routes(self):
            return [FX.route("GET", "/v1/servers", "GET_v1_servers_page1.json", query={"page": "1"}),
                    ...]

        def error_body(self, status):                  # the provider's error body for a status
            return {"error": {"message": f"failure {status}"}}

        def error_message(self, status):               # the message the driver must surface
            return f"failure {status}"

What it checks: the type each contract method returns (lists of models, ``bool`` for
actions, ``True`` from ``verify_credentials``); every id is a ``str``; states are
``NodeState`` members mapped through ``NODE_STATE_MAP``; sizes carry ram (MB), disk (GB)
and an hourly price or None; ``create_node`` returns a Node; a listing returns every node
exactly once and asks for each page once; actions refuse a state ``NODE_ACTIONS`` forbids
before any request; HTTP 401, 403, 404, 429, 5xx, malformed bodies and network failures
raise the matching cloudkit errors; and no credential given to the driver shows up in a
repr, a log line, an error message or a model's ``extra``.

The host the mocks answer on, the secrets and the listing's first request are read from
the driver itself; override ``base_url``, ``secrets`` or ``list_nodes_route`` only when
that guess is wrong. Provider quirks have switches: ``malformed_bodies`` (a bare ``[]`` is a
valid listing), ``listing_404_is_empty``, ``missing_node_id``, ``allow_unknown_states``,
``actions``. Every failure ends with "How to fix:".

Drivers that declare volumes (``supports("list_volumes")``) also run the storage section
(:mod:`cloudkit.testing.conformance.storage`): ``storage_routes()`` (default ``routes()``)
answers list_volumes, create_volume(**create_volume_kwargs) and attach/detach/destroy; a
cross-region attach must be refused before any request. Drivers without volumes pass it.
"""

from __future__ import annotations

from cloudkit.testing.conformance.actions import ActionChecks
from cloudkit.testing.conformance.base import ERROR_STATUSES, ConformanceBase
from cloudkit.testing.conformance.failures import FailureChecks
from cloudkit.testing.conformance.listings import ListingChecks
from cloudkit.testing.conformance.storage import VOLUME_ACTIONS, StorageChecks

__all__ = ["ERROR_STATUSES", "VOLUME_ACTIONS", "ActionChecks", "ConformanceBase", "DriverConformance",
           "FailureChecks", "ListingChecks", "StorageChecks"]


class DriverConformance(ListingChecks, ActionChecks, FailureChecks, StorageChecks):
    """Subclass as ``Test<Provider>Conformance``; set ``expected_node_ids``,
    ``create_node_kwargs`` and the three methods ``make_driver``, ``routes``, ``error_body``."""
