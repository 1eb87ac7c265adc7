"""``simulate()``: a moto-style context manager giving a driver wired to a fresh fake account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cloudkit.testing.simulator.core import RecordedRequest, Simulator
from cloudkit.testing.simulator.faults import Faults

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver

__all__ = ["SimulatedCloud", "simulate"]


class SimulatedCloud:
    """What ``simulate()`` yields: the simulator, a driver for it, and how to reach it."""

    def __init__(self, simulator: Simulator, driver_options: dict[str, Any] | None = None) -> None:
        self.simulator = simulator
        self._driver_options = dict(driver_options or {})
        self._driver: NodeDriver | None = None

    def __repr__(self) -> str:
        return f"<SimulatedCloud {self.simulator.provider} {self.simulator.base_url}>"

    @property
    def driver(self) -> NodeDriver:
        """A cloudkit driver wired to the simulated account (created on first use)."""
        if self._driver is None:
            self._driver = self.simulator.driver(**self._driver_options)
        return self._driver

    def new_driver(self, **kwargs: Any) -> NodeDriver:
        """Another driver for the same account (e.g. with other timeouts or retries)."""
        return self.simulator.driver(**{**self._driver_options, **kwargs})

    @property
    def provider(self) -> str:
        return self.simulator.provider

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @property
    def token(self) -> str:
        return self.simulator.token

    @property
    def credentials(self) -> tuple[str, str | None]:
        return self.simulator.credentials

    @property
    def faults(self) -> Faults:
        return self.simulator.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.simulator.requests

    def node_count(self) -> int:
        return self.simulator.node_count()

    def close(self) -> None:
        if self._driver is not None:
            self._driver.connection.close()
            self._driver = None


@contextmanager
def simulate(provider: str, *, driver_options: dict[str, Any] | None = None,
             **options: Any) -> Iterator[SimulatedCloud]:
    """Run a fresh simulated account of ``provider`` for the duration of a ``with`` block.

    ::

        with simulate(Provider.DIGITAL_OCEAN) as cloud:
            sizes = cloud.driver.list_sizes()

    ``options`` go to :class:`Simulator` (``boot_seconds``, ``latency``, ``faults``,
    ``nodes``, ...); ``driver_options`` to the driver (``timeout``, ``max_retries``, ...).
    The account comes with the provider's sizes, images and locations.
    """
    sim = Simulator(provider, **options)
    sim.start()
    cloud = SimulatedCloud(sim, driver_options)
    try:
        yield cloud
    finally:
        cloud.close()
        sim.stop()
