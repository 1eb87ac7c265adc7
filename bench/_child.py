"""What a child process of the memory scenario runs: list every server, report peak RSS (VmHWM).

``BENCH_SIM_TOKEN=... python -m bench._child LIB PROVIDER BASE_URL COUNT`` prints one JSON
line: ``{"peak_rss_mb": ..., "start_rss_mb": ..., "seconds": ..., "count": ...}`` (the token
comes in the environment, not on the command line).
"""

from __future__ import annotations

import json
import os
import sys
import time
from urllib.parse import urlsplit


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(argv: list[str]) -> int:
    lib, provider, base_url, count_text = argv
    token = os.environ["BENCH_SIM_TOKEN"]
    if urlsplit(base_url).hostname != "127.0.0.1":
        print("the memory child only talks to a simulator on 127.0.0.1", file=sys.stderr)
        return 2
    count = int(count_text)
    # Import everything the listing needs first: "start" is a ready client.
    if lib == "cloudkit":
        from cloudkit import get_driver

        driver = get_driver(provider)(token, base_url=base_url)
    else:
        from bench._clients import libcloud_driver
        from bench._sim import SimProcess

        sim = SimProcess(provider)
        sim.base_url, sim.token = base_url, token
        driver = libcloud_driver(sim)
    import requests  # noqa: F401  (both load it; make the baseline include it either way)

    start = _status_mb("VmRSS")
    started = time.perf_counter()
    nodes = driver.list_nodes()
    seconds = time.perf_counter() - started
    if len(nodes) != count or len({str(n.id) for n in nodes}) != count:
        print(f"listed {len(nodes)} servers, not {count} distinct", file=sys.stderr)
        return 1
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec from the forked
    # parent, so a child of a big benchmark process would report the parent's peak.
    peak = _status_mb("VmHWM")
    end = _status_mb("VmRSS")
    print(json.dumps({"peak_rss_mb": peak, "start_rss_mb": start, "end_rss_mb": end, "seconds": seconds,
                      "count": len(nodes)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
