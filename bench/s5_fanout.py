"""Scenario 5, fan-out: ``list_nodes()`` over 8 accounts at once against one account.

Eight simulated accounts of 50 servers (scenario 1's account), each its own simulator
process (its own token and servers), each adding the same 30 ms per request as scenario 2.
cloudkit lists all eight with ``cloudkit.parallel.map_drivers``; the baseline is the same
listing of one account. Fresh drivers every round (cold connection pools) on both sides.
Target: <= 1.3.

For scale: the eight listings one after the other, and the fan-out against an API adding
100 ms per request (information rows).

The fleet row (``bench/_fleet.py``): 16 accounts of 3,000 servers on threads, on a
``ProcessPoolExecutor`` and on a Dask ``LocalCluster``, side by side; target: the best
process-based run <= 0.85 of the thread run.
"""

from __future__ import annotations

from typing import Any

from bench import _clients, _fleet
from bench._config import Context, log
from bench._report import INFO, Row, median
from bench._sim import SimProcess, start_many
from bench._timing import interleave, per_call_ms

NAME = "fanout"


def _measure(provider: str, ctx: Context, latency: float, in_turn: bool) -> dict[str, float]:
    from cloudkit.parallel import map_drivers

    cfg = ctx.config
    accounts, count = cfg.fanout_accounts, cfg.fanout_servers
    log(f"{NAME} {provider}: {accounts} accounts x {count} servers, +{latency * 1000:g} ms, "
        f"{cfg.fanout_rounds} rounds")
    sims = start_many([SimProcess(provider, seed=count, latency=latency) for _ in range(accounts)])
    try:
        def one() -> Any:
            return [_clients.cloudkit_driver(sims[0]).list_nodes()]

        def fan_out() -> Any:
            return map_drivers(lambda d: d.list_nodes(), [_clients.cloudkit_driver(s) for s in sims])

        def one_after_another() -> Any:
            return [_clients.cloudkit_driver(s).list_nodes() for s in sims]

        def check(name: str, result: Any) -> None:
            want = 1 if name == "one" else accounts
            if len(result) != want:
                raise AssertionError(f"{name}: {len(result)} results, not {want}")
            for listing in result:
                if isinstance(listing, Exception):
                    raise AssertionError(f"{name}: an account failed: {listing!r}")
                if len(listing) != count or len({n.id for n in listing}) != count:
                    raise AssertionError(f"{name}: an account listed {len(listing)} servers, not {count}")

        contenders: dict[str, Any] = {"one": one, "fan_out": fan_out}
        if in_turn:
            contenders["in_turn"] = one_after_another
        samples = interleave(contenders, cfg.fanout_rounds, warmup=1, check=check)
    finally:
        for sim in sims:
            sim.stop()
    return {name: median(per_call_ms(values)) for name, values in samples.items()}


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    accounts, count, n = cfg.fanout_accounts, cfg.fanout_servers, cfg.fanout_rounds
    measure = f"list_nodes, {accounts} accounts x {count} servers, +{cfg.fanout_latency * 1000:g} ms/request"
    ms = _measure(provider, ctx, cfg.fanout_latency, in_turn=not cfg.quick)
    rows = [Row(NAME, provider, measure, ms["fan_out"], "ms", "one account", ms["one"], 1.3, samples=n,
                note="cloudkit.parallel.map_drivers; fresh drivers each round")]
    if "in_turn" in ms:
        rows.append(Row(NAME, provider, measure, ms["fan_out"], "ms", f"{accounts} accounts one after another",
                        ms["in_turn"], None, verdict=INFO, samples=n))
    if cfg.fanout_info_latency is not None:
        slow = _measure(provider, ctx, cfg.fanout_info_latency, in_turn=False)
        rows.append(Row(NAME, provider, f"list_nodes, {accounts} accounts x {count} servers, "
                        f"+{cfg.fanout_info_latency * 1000:g} ms/request", slow["fan_out"], "ms", "one account",
                        slow["one"], None, verdict=INFO, samples=n,
                        note="the same with a slower API: the network's share grows, the GIL's shrinks"))
    rows.extend(_fleet.run(provider, ctx))
    return rows
