"""Helpers for testing cloudkit drivers and code that uses them.

Import the submodules you need; this package imports nothing heavy on its own:

- :mod:`cloudkit.testing.openapi` checks every HTTP request (and optionally response) a
  driver sends during a test against the provider's OpenAPI description.
- :mod:`cloudkit.testing.simulator` serves a stateful fake of a provider's API on 127.0.0.1;
  ``cloudkit.testing.simulate(provider)`` (loaded on first use) wraps it moto-style::

      with cloudkit.testing.simulate(Provider.DIGITAL_OCEAN) as cloud:
          cloud.driver.list_sizes()

- :mod:`cloudkit.testing.pytest_plugin` provides the ``cloudkit_simulator`` fixture.
- :mod:`cloudkit.testing.fixtures` serves fixture files with ``responses`` (``FixtureSet``,
  ``Route``, ``mock_routes``).
- :mod:`cloudkit.testing.conformance` is the driver conformance suite (``DriverConformance``).
- :mod:`cloudkit.testing.record` records a driver's HTTP exchanges as scrubbed fixtures and
  replays them (``record``, ``replay``, ``routes_from_cassette``).

Writing a driver for a new provider: ``cloudkit new-driver NAME`` and ``docs/writing-a-driver.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.testing.simulator.session import simulate as simulate

__all__ = ["simulate"]


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from cloudkit.testing.simulator.session import simulate

        return simulate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
