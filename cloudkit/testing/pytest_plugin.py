"""pytest plugin: the ``cloudkit_simulator`` fixture.

Registered under ``[project.entry-points.pytest11]`` so any project that installs cloudkit
gets it::

    def test_creates_a_server(cloudkit_simulator):
        sim = cloudkit_simulator("digitalocean", boot_seconds=0)
        my_code_that_creates_servers(sim.driver())
        assert sim.node_count() == 1

The factory returns a started :class:`~cloudkit.testing.simulator.Simulator`; every simulator
it made is stopped at teardown. Loading the plugin loads neither the simulator nor any driver
into the test run: they are imported when a test first uses the fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.testing.simulator import Simulator

__all__ = ["cloudkit_simulator"]


@pytest.fixture
def cloudkit_simulator() -> Iterator[Callable[..., Simulator]]:
    """A factory: ``cloudkit_simulator(provider="digitalocean", **options)`` → started Simulator."""
    from cloudkit.testing.simulator import Simulator

    started: list[Simulator] = []

    def factory(provider: str = "digitalocean", **options: Any) -> Simulator:
        sim = Simulator(provider, **options).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
