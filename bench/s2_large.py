"""Scenario 2, a large account: 10,000 servers, 30 ms added by the simulator to every request.

DigitalOcean pages hold 200 servers (50 pages), Linode pages 500 (20 pages). Every
listing is checked to hold every server exactly once (the ids of a raw listing).

Ideal (from the issue), computed from numbers taken in the same run:

    max(RTT + ceil((pages - 1) / 8) * RTT,   RTT + T_seq)

where RTT is raw requests fetching and decoding page 1 from the simulator *with* the added
latency, and T_seq raw requests fetching and decoding every page on one thread from a
second simulator holding the same account *without* added latency. Targets: cloudkit /
libcloud <= 0.25 (4x faster), cloudkit / ideal <= 1.5.

Two interleaved passes: cloudkit with the ideal's parts (more rounds: the ideal ratio is
the tight one), then cloudkit with libcloud (fewer rounds: stock libcloud asks Linode for
25 servers a page, one page after another, so one listing takes seconds). A third libcloud
variant with Linode's page size raised to 500 is shown for information.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench import _clients
from bench._config import Context, log
from bench._report import INFO, Row, median, skipped
from bench._sim import SimProcess, start_many
from bench._timing import interleave, per_call_ms

NAME = "large"


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    count = cfg.large_servers
    latency_ms = cfg.large_latency * 1000
    measure = f"list_nodes, {count:,} servers, +{latency_ms:g} ms/request"
    log(f"{NAME} {provider}: {count} servers, latency {latency_ms:g} ms")
    slow, flat = start_many([SimProcess(provider, seed=count, latency=cfg.large_latency),
                             SimProcess(provider, seed=count, latency=0.0)])
    try:
        raw_slow = _clients.RawClient(slow)
        raw_flat = _clients.RawClient(flat)
        expected = sorted(_clients.node_ids(raw_flat.list_all()))
        if len(expected) != count or len(set(expected)) != count:
            raise AssertionError(f"the simulator listed {len(expected)} servers, not {count} distinct")
        pages = raw_flat.pages(raw_flat.page(1))

        def check(name: str, result: Any) -> None:
            if name in ("rtt",):
                return
            ids = sorted(_clients.node_ids(result))
            if ids != expected:
                missing = len(set(expected) - set(ids))
                raise AssertionError(f"{name} listed {len(ids)} servers ({len(set(ids))} distinct, "
                                     f"{missing} missing), not each of {count} exactly once")

        def cloudkit() -> Any:
            return _clients.cloudkit_driver(slow).list_nodes()  # a fresh driver: cold pool

        first: dict[str, Callable[[], Any]] = {
            "cloudkit": cloudkit,
            "rtt": lambda: raw_slow.page(1),
            "seq": raw_flat.list_all,
        }
        samples = interleave(first, cfg.large_rounds, warmup=1, check=check)
        ms = {name: median(per_call_ms(values)) for name, values in samples.items()}
        rtt, seq = ms["rtt"], ms["seq"]
        batches = math.ceil((pages - 1) / 8)
        ideal = max(rtt + batches * rtt, rtt + seq)
        rows = [Row(NAME, provider, measure, ms["cloudkit"], "ms", "ideal", ideal, 1.5,
                    samples=cfg.large_rounds,
                    note=f"{pages} pages; RTT {rtt:.1f} ms; raw sequential no-latency fetch+decode {seq:.1f} ms; "
                         f"ideal = max({1 + batches} RTT, RTT + that)")]

        if ctx.libcloud_missing is not None:
            rows.append(skipped(NAME, provider, measure, ctx.libcloud_missing, base="libcloud"))
            return rows
        second: dict[str, Callable[[], Any]] = {
            "cloudkit": cloudkit,
            "libcloud": lambda: _clients.libcloud_driver(slow).list_nodes(),
        }
        if provider == "linode":
            second["libcloud500"] = lambda: _clients.libcloud_driver(slow, page_size=500).list_nodes()
        log(f"{NAME} {provider}: against libcloud, {cfg.large_libcloud_rounds} rounds")
        samples2 = interleave(second, cfg.large_libcloud_rounds, check=check)
        ms2 = {name: median(per_call_ms(values)) for name, values in samples2.items()}
        rows.append(Row(NAME, provider, measure, ms2["cloudkit"], "ms", "libcloud", ms2["libcloud"], 0.25,
                        samples=cfg.large_libcloud_rounds,
                        note="libcloud fetches pages one after another"
                             + (" (Linode: 25 servers a page, hard-coded)" if provider == "linode" else "")))
        if "libcloud500" in ms2:
            rows.append(Row(NAME, provider, measure, ms2["cloudkit"], "ms", "libcloud, page_size 500",
                            ms2["libcloud500"], None, verdict=INFO, samples=cfg.large_libcloud_rounds,
                            note="libcloud's connection subclassed to ask for 500 a page (not a libcloud option)"))
        return rows
    finally:
        slow.stop()
        flat.stop()
