"""Scenario 1, per-call overhead: ``list_nodes()`` on a one-page account of 50 servers.

Three contenders take turns, call after call: cloudkit's driver, raw ``requests`` (one
Session, the same GETs cloudkit sends, ``.json()``, no objects built: the floor; on
DigitalOcean that is the droplet page and the GPU droplet page, which every complete listing
needs), and libcloud's driver (one GET: it never lists GPU droplets). Targets: cloudkit / raw
<= 1.25, cloudkit / libcloud <= 0.8.
"""

from __future__ import annotations

from typing import Any

from bench import _clients
from bench._config import Context, log
from bench._report import Row, median, skipped
from bench._sim import SimProcess
from bench._timing import interleave, per_call_ms

NAME = "overhead"


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    count = cfg.overhead_servers
    measure = f"list_nodes, {count} servers (1 page), per call"
    log(f"{NAME} {provider}: {count} servers, {cfg.overhead_rounds} rounds")
    with SimProcess(provider, seed=count) as sim:
        ck = _clients.cloudkit_driver(sim)
        raw = _clients.RawClient(sim)
        contenders: dict[str, Any] = {"cloudkit": ck.list_nodes, "raw": raw.list_all}
        if ctx.libcloud_missing is None:
            lc = _clients.libcloud_driver(sim)
            contenders["libcloud"] = lc.list_nodes

        def check(name: str, result: Any) -> None:
            if len(result) != count:
                raise AssertionError(f"{name} listed {len(result)} servers, not {count}")

        samples = interleave(contenders, cfg.overhead_rounds, warmup=cfg.overhead_warmup, check=check)
        raw.close()
    ms = {name: median(per_call_ms(values)) for name, values in samples.items()}
    rows = [Row(NAME, provider, measure, ms["cloudkit"], "ms", "raw requests", ms["raw"], 1.25,
                samples=cfg.overhead_rounds)]
    if "libcloud" in ms:
        rows.append(Row(NAME, provider, measure, ms["cloudkit"], "ms", "libcloud", ms["libcloud"], 0.8,
                        samples=cfg.overhead_rounds))
    else:
        rows.append(skipped(NAME, provider, measure, str(ctx.libcloud_missing), base="libcloud"))
    return rows
