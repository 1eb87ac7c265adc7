"""``python -m cloudkit.testing.simulator --provider digitalocean [--port N] [--seed N] ...``

Serves one simulated account until interrupted (Ctrl-C or SIGTERM). Prints the base URL and
credentials first (``--json``: one JSON line), so another process (a benchmark, a demo) can
read them and connect.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from cloudkit.testing.simulator.core import PROVIDERS, Simulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cloudkit.testing.simulator",
                                     description="Serve a simulated cloud provider API on loopback.")
    parser.add_argument("--provider", required=True, choices=sorted(PROVIDERS))
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--token", help="API token to accept (default: generated; NephoScale: the password)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="start with N running servers")
    parser.add_argument("--seed-tag", help="tag the seeded servers (DigitalOcean, Linode)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S", help="seconds added to every request")
    parser.add_argument("--boot-seconds", type=float, default=0.5, metavar="S")
    parser.add_argument("--action-seconds", type=float, default=0.2, metavar="S")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 5xx")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="share of connections dropped unanswered")
    parser.add_argument("--random-seed", type=int, help="make the fault choices repeatable")
    parser.add_argument("--ssh-port", type=int, help="where the servers' SSH is reachable")
    parser.add_argument("--record", action="store_true", help="keep a log of requests in memory")
    parser.add_argument("--json", action="store_true", help="print the connection details as one JSON line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    faults: dict[str, Any] = {"error_rate": args.error_rate, "rate_limit_rate": args.rate_limit_rate,
                              "drop_rate": args.drop_rate, "seed": args.random_seed}
    try:
        sim = Simulator(args.provider, token=args.token, host=args.host, port=args.port,
                        boot_seconds=args.boot_seconds, action_seconds=args.action_seconds,
                        latency=args.latency, faults=faults, ssh_port=args.ssh_port,
                        record_requests=args.record)
        started = time.perf_counter()
        if args.seed:
            sim.seed_nodes(args.seed, tag=args.seed_tag)
        sim.start()
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    key, secret = sim.credentials
    info = {"provider": sim.provider, "base_url": sim.base_url, "token": sim.token, "key": key,
            "secret": secret, "nodes": sim.node_count(), "pid": _pid()}
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"provider: {sim.provider}")
        print(f"base_url: {sim.base_url}")
        if secret is not None:
            print(f"username: {key}")
            print(f"password: {secret}")
        else:
            print(f"token: {sim.token}")
        print(f"nodes: {info['nodes']} (seeded in {time.perf_counter() - started:.2f}s)")
        print("serving; press Ctrl-C to stop", flush=True)
    done = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
