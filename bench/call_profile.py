"""Where one ``list_nodes()`` call's time goes: the overhead scenario's call, profiled by module.

``python -m bench.call_profile [digitalocean|linode] [calls]`` lists a one-page account of 50
servers (a simulator in its own process, as scenario 1 uses) ``calls`` times (300 by default)
under cProfile, after 20 warm-up calls, with the raw-requests floor measured the same way, and
prints each side's time split by where the code lives: cloudkit's shared layer, the driver,
requests/urllib3/http.client, the JSON decoder and the rest. cProfile inflates Python code
against C, so read the shares, not the times.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import _clients
from bench._sim import SimProcess

#: (label, test on a profiled function's file name), first match wins.
GROUPS: list[tuple[str, Callable[[str], bool]]] = [
    ("cloudkit driver", lambda f: "/cloudkit/drivers/" in f),
    ("cloudkit compiled readers", lambda f: f.startswith(("<FieldMap", "<AddressEntries"))),
    ("cloudkit models", lambda f: f.endswith("/cloudkit/models.py")),
    ("cloudkit shared layer", lambda f: "/cloudkit/" in f),
    ("requests", lambda f: "/requests/" in f),
    ("urllib3", lambda f: "/urllib3/" in f),
    ("http.client, email headers, socket", lambda f: any(p in f for p in ("/http/", "/email/", "socket.py",
                                                                        "selectors.py"))),
    ("json", lambda f: "/json/" in f),
    ("os.environ, netrc, proxies (requests)", lambda f: f == "<frozen os>" or any(
        p in f for p in ("/os.py", "netrc.py", "urllib/request.py"))),
    ("typing protocols (requests' isinstance)", lambda f: f.endswith("/typing.py")),
]


def _split(stats: pstats.Stats) -> dict[str, float]:
    totals: dict[str, float] = {}
    raw: Any = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table here, untyped
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        label = "builtins (C: sockets, JSON scanner, dict methods)" if filename == "~" else next(
            (label for label, test in GROUPS if test(filename)), "other Python")
        totals[label] = totals.get(label, 0.0) + tottime
    return totals


def _profile(call: Callable[[], Any], calls: int) -> tuple[float, dict[str, float]]:
    for _ in range(20):
        call()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(calls):
        call()
    profile.disable()
    wall = (time.perf_counter() - started) / calls * 1000
    return wall, _split(pstats.Stats(profile))


def main() -> None:
    provider = sys.argv[1] if len(sys.argv) > 1 else "linode"
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with SimProcess(provider, seed=50) as sim:
        driver = _clients.cloudkit_driver(sim)
        raw = _clients.RawClient(sim)
        try:
            for name, call in (("cloudkit list_nodes()", driver.list_nodes), ("raw requests", raw.list_all)):
                wall, totals = _profile(call, calls)
                whole = sum(totals.values()) or 1.0
                print(f"{name}: {wall:.2f} ms per call under the profiler")
                for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
                    print(f"  {label:52} {seconds / calls * 1000:6.3f} ms  {seconds / whole:6.1%}")
        finally:
            raw.close()


if __name__ == "__main__":
    main()
