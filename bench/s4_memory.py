"""Scenario 4, memory: peak RSS of a fresh process that lists 100,000 servers.

Each library lists the whole simulated account in its own fresh child process
(``bench._child``), which reports its peak RSS (``VmHWM`` from /proc/self/status):
everything the process ever held, interpreter and imports included. Not ``ru_maxrss``:
Linux carries that over ``exec`` from the forked parent, so every child would report the
benchmark's own peak. Target: cloudkit <= 0.7 of libcloud.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench import _env
from bench._config import Context, log
from bench._report import INFO, Row, median, skipped
from bench._sim import SimProcess
from bench._timing import interleave

NAME = "memory"


def _child(lib: str, sim: SimProcess) -> dict[str, Any]:
    env = _env.child_env()
    env["BENCH_SIM_TOKEN"] = sim.token
    done = subprocess.run([sys.executable, "-m", "bench._child", lib, sim.provider, sim.base_url, str(sim.seed)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=_env.ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{lib} memory child failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    count = cfg.memory_servers
    log(f"{NAME} {provider}: {count} servers, {cfg.memory_rounds} round(s)")
    measure = f"peak RSS, process listing {count:,} servers"
    with SimProcess(provider, seed=count) as sim:
        results: dict[str, list[dict[str, Any]]] = {"cloudkit": [], "libcloud": []}
        contenders = {"cloudkit": lambda: results["cloudkit"].append(_child("cloudkit", sim))}
        if ctx.libcloud_missing is None:
            contenders["libcloud"] = lambda: results["libcloud"].append(_child("libcloud", sim))
        interleave(contenders, cfg.memory_rounds)
    peak = {lib: median([r["peak_rss_mb"] for r in rs]) for lib, rs in results.items() if rs}
    start = {lib: median([r["start_rss_mb"] for r in rs]) for lib, rs in results.items() if rs}
    secs = {lib: median([r["seconds"] for r in rs]) for lib, rs in results.items() if rs}
    n = cfg.memory_rounds
    if "libcloud" not in peak:
        return [Row(NAME, provider, measure, peak["cloudkit"], "MB", "", None, None, verdict=INFO, samples=n,
                    note=f"RSS before listing {start['cloudkit']:.1f} MB"),
                skipped(NAME, provider, measure, str(ctx.libcloud_missing), base="libcloud")]
    return [
        Row(NAME, provider, measure, peak["cloudkit"], "MB", "libcloud", peak["libcloud"], 0.7, samples=n,
            note=f"RSS before listing: cloudkit {start['cloudkit']:.1f} MB, libcloud {start['libcloud']:.1f} MB; "
                 f"listing took cloudkit {secs['cloudkit']:.2f} s, libcloud {secs['libcloud']:.2f} s"),
        Row(NAME, provider, f"RSS growth while listing {count:,} servers", peak["cloudkit"] - start["cloudkit"],
            "MB", "libcloud", peak["libcloud"] - start["libcloud"], None, verdict=INFO, samples=n,
            note="peak minus RSS of the ready client"),
    ]
