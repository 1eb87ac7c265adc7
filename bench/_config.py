"""Sizes and repetitions of each scenario, full and ``--quick``."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    quick: bool = False
    # 1. per-call overhead
    overhead_servers: int = 50
    overhead_rounds: int = 300
    overhead_warmup: int = 20
    # 2. large account
    large_servers: int = 10_000
    large_latency: float = 0.030
    large_rounds: int = 7
    large_libcloud_rounds: int = 3
    # 3. start-up
    startup_servers: int = 50
    startup_rounds: int = 10
    # 4. memory
    memory_servers: int = 100_000
    memory_rounds: int = 3
    # 5. fan-out
    fanout_accounts: int = 8
    fanout_servers: int = 50
    fanout_latency: float = 0.030
    fanout_rounds: int = 15
    fanout_info_latency: float | None = 0.100
    # 5. fan-out, fleet row: threads vs processes vs Dask
    fleet_accounts: int = 16
    fleet_servers: int = 3_000
    fleet_rounds: int = 5
    # 6. deploy_node
    deploy_sequential: int = 7
    deploy_concurrent: int = 20


FULL = Config()

QUICK = Config(
    quick=True,
    overhead_rounds=20, overhead_warmup=3,
    large_servers=1_000, large_rounds=1, large_libcloud_rounds=1,
    startup_rounds=1,
    memory_servers=2_000, memory_rounds=1,
    fanout_rounds=2, fanout_info_latency=None,
    fleet_accounts=4, fleet_servers=300, fleet_rounds=1,
    deploy_sequential=1, deploy_concurrent=4,
)


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Context:
    """What every scenario needs to know besides its sizes."""

    config: Config
    libcloud_missing: str | None
