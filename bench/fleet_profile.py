"""Where the fleet row's time goes: CPU seconds per process for one listing round.

``python -m bench.fleet_profile [digitalocean|linode] [accounts] [servers]`` lists the
accounts (simulators in their own processes, +30 ms a request) on threads and on a warm
``ProcessPoolExecutor(2)``, three rounds each, and prints the wall time with the CPU time of
the parent, of the worker processes and of the simulators (from ``/proc/PID/stat``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor

from bench import _clients
from bench._fleet import job_nodes, job_summary
from bench._sim import SimProcess, start_many


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from cloudkit.parallel import map_drivers

    provider = sys.argv[1] if len(sys.argv) > 1 else "digitalocean"
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    servers = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    sims = start_many([SimProcess(provider, seed=servers, latency=0.03) for _ in range(accounts)])
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))
    try:
        map_drivers(job_summary, [_clients.cloudkit_driver(s) for s in sims], executor=pool)  # warm up
        executors: list[tuple[str, Executor | None]] = [("threads", None), ("processes", pool)]
        for job in (job_nodes, job_summary):
            for name, executor in executors:
                for _ in range(3):
                    drivers = [_clients.cloudkit_driver(s) for s in sims]
                    workers = list(getattr(pool, "_processes", None) or {})
                    sim0 = sum(_cpu(s.proc.pid) for s in sims if s.proc)
                    work0 = sum(_cpu(p) for p in workers)
                    own0, wall0 = time.process_time(), time.perf_counter()
                    results = map_drivers(job, drivers, executor=executor)
                    wall = time.perf_counter() - wall0
                    own = time.process_time() - own0
                    work = sum(_cpu(p) for p in workers) - work0
                    sim = sum(_cpu(s.proc.pid) for s in sims if s.proc) - sim0
                    assert not any(isinstance(r, Exception) for r in results), results
                    print(f"{job.__name__:<12} {name:<10} wall {wall:5.2f} s   CPU: parent {own:5.2f} s, "
                          f"workers {work:5.2f} s, simulators {sim:5.2f} s", flush=True)
    finally:
        pool.shutdown()
        for sim in sims:
            sim.stop()


if __name__ == "__main__":
    main()
