"""Per-object parsing cost of the drivers' ``_to_node`` (µs per node, ``json.loads`` included).

``python -m bench.parse_micro`` prints, for a DigitalOcean droplet and a Linode instance from the
fixtures, the best of five loops of 20,000 fresh decodes and parses, and ``json.loads`` alone for
scale. Run it with ``PYTHONPATH`` pointing at another checkout to compare two versions of the
code in one session (alternate them: the machine's load moves both).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cloudkit import get_driver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = {
    "digitalocean": ("GET_v2_droplets_401001.json", lambda body: body["droplet"]),
    "linode": ("GET_v4_linode_instances_page1.json", lambda body: body["data"][0]),
}


def per_node_us(provider: str, rounds: int = 5, loops: int = 20_000) -> tuple[float, float]:
    """(µs per parse including json.loads, µs per json.loads alone), best of ``rounds``."""
    fixture, pick = CASES[provider]
    raw = json.dumps(pick(json.loads((FIXTURES / provider / fixture).read_text())))
    driver: Any = get_driver(provider)("bench-token")

    def parse() -> float:
        started = time.perf_counter()
        for _ in range(loops):
            driver._to_node(json.loads(raw))
        return (time.perf_counter() - started) / loops * 1e6

    def decode() -> float:
        started = time.perf_counter()
        for _ in range(loops):
            json.loads(raw)
        return (time.perf_counter() - started) / loops * 1e6

    return min(parse() for _ in range(rounds)), min(decode() for _ in range(rounds))


def main() -> None:
    for provider in CASES:
        total, decode = per_node_us(provider)
        print(f"{provider:13} {total:6.2f} µs per node ({decode:.2f} of them json.loads)")


if __name__ == "__main__":
    main()
