"""A local simulator of the providers' HTTP APIs, for tests, demos and benchmarks.

>>> from cloudkit.testing.simulator import Simulator
>>> with Simulator("digitalocean", boot_seconds=0.1) as sim:      # doctest: +SKIP
...     driver = sim.driver()
...     node = driver.create_node("web-1", size="s-1vcpu-1gb", image="ubuntu-24-04-x64")

Each provider (``digitalocean``, ``linode``, ``hostvirtual``, ``nephoscale``) is a stateful
fake account speaking the provider's paths, auth, bodies, paging and error shapes, served by a
real HTTP/1.1 server on 127.0.0.1 in a daemon thread. Faults (latency, 5xx, 429 storms,
dropped connections, slow or malformed answers) are set with ``sim.faults``; see
:mod:`cloudkit.testing.simulator.faults`. ``python -m cloudkit.testing.simulator`` serves one
from the command line. Stdlib only; nothing here imports ``requests`` or a driver until asked.
"""

from __future__ import annotations

from cloudkit.testing.simulator.core import PROVIDERS, RecordedRequest, Simulator
from cloudkit.testing.simulator.faults import FaultRule, Faults
from cloudkit.testing.simulator.session import SimulatedCloud, simulate

__all__ = ["PROVIDERS", "FaultRule", "Faults", "RecordedRequest", "SimulatedCloud", "Simulator", "simulate"]
