"""Fixtures for the simulator tests: one fresh simulated account per test, per provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _sim_support import Api

from cloudkit.testing.simulator import Simulator


def _started(provider: str, **options: object) -> Iterator[Simulator]:
    sim = Simulator(provider, boot_seconds=0.05, action_seconds=0.05, **options)  # type: ignore[arg-type]
    with sim:
        yield sim
    assert sim.server_errors == [], sim.server_errors[0]


def _opened(sim: Simulator) -> Iterator[Api]:
    api = Api(sim)
    yield api
    api.close()


@pytest.fixture
def do_sim() -> Iterator[Simulator]:
    yield from _started("digitalocean")


@pytest.fixture
def linode_sim() -> Iterator[Simulator]:
    yield from _started("linode")


@pytest.fixture
def hv_sim() -> Iterator[Simulator]:
    yield from _started("hostvirtual")


@pytest.fixture
def nepho_sim() -> Iterator[Simulator]:
    yield from _started("nephoscale")


@pytest.fixture
def do_api(do_sim: Simulator) -> Iterator[Api]:
    yield from _opened(do_sim)


@pytest.fixture
def linode_api(linode_sim: Simulator) -> Iterator[Api]:
    yield from _opened(linode_sim)


@pytest.fixture
def hv_api(hv_sim: Simulator) -> Iterator[Api]:
    yield from _opened(hv_sim)


@pytest.fixture
def nepho_api(nepho_sim: Simulator) -> Iterator[Api]:
    yield from _opened(nepho_sim)
