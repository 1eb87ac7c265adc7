"""Count every account's servers per state on a Dask cluster: each account is listed in a worker
process, and only its summary travels back.

Runs against the built-in simulator with --simulate (no account needed), on a LocalCluster of
worker processes on this machine; --scheduler ADDRESS uses an existing Dask cluster instead
(its workers need cloudkit installed, and this script importable: run it from its folder).

    pip install "cloudkit-compute[dask]"
    python examples/fleet_inventory.py --simulate
    CLOUDKIT_TOKENS="tok1 tok2 ..." python examples/fleet_inventory.py --provider digitalocean

Each driver is pickled to a worker with its token: send them only to workers you trust.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from contextlib import ExitStack

from cloudkit import CloudkitError, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.parallel import map_drivers


def summarise(driver: NodeDriver) -> dict[str, int]:
    """Runs on a Dask worker (a module-level function, so it pickles): servers per state."""
    return dict(Counter(node.state.value for node in driver.list_nodes()))


def report(names: list[str], results: list[dict[str, int] | Exception]) -> int:
    totals: Counter[str] = Counter()
    failures = 0
    for name, result in zip(names, results, strict=True):
        if isinstance(result, CloudkitError):
            print(f"{name:<24} error: {result}")
            failures += 1
            continue
        if isinstance(result, BaseException):
            raise result
        totals.update(result)
        states = ", ".join(f"{state} {count}" for state, count in sorted(result.items())) or "(no servers)"
        print(f"{name:<24} {sum(result.values()):>6} servers: {states}")
    print(f"{'total':<24} {sum(totals.values()):>6} servers: "
          + (", ".join(f"{state} {count}" for state, count in sorted(totals.items())) or "-"))
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulate", action="store_true",
                        help="list simulated accounts (two simulators, eight accounts, one refused token)")
    parser.add_argument("--provider", default="digitalocean", help="provider of the CLOUDKIT_TOKENS accounts")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    args = parser.parse_args(argv)
    try:
        import distributed
    except ImportError:
        print('this example needs Dask: pip install "cloudkit-compute[dask]"', file=sys.stderr)
        return 2
    with ExitStack() as stack:
        names: list[str] = []
        drivers: list[NodeDriver] = []
        if args.simulate:
            from cloudkit.testing import simulate

            for provider, servers in (("digitalocean", 40), ("linode", 25)):
                cloud = stack.enter_context(simulate(provider, boot_seconds=0, nodes=servers))
                for number in range(4):
                    token = cloud.token if (provider, number) != ("linode", 3) else "revoked-token"
                    names.append(f"{provider}-{number + 1}")
                    drivers.append(get_driver(provider)(token, base_url=cloud.base_url, max_retries=0))
        else:
            tokens = os.environ.get("CLOUDKIT_TOKENS", "").split()
            if not tokens:
                print("set CLOUDKIT_TOKENS (space-separated), or pass --simulate", file=sys.stderr)
                return 2
            cls = get_driver(args.provider)
            names = [f"{args.provider}-{number + 1}" for number in range(len(tokens))]
            drivers = [cls(token) for token in tokens]
        if args.scheduler:
            client = stack.enter_context(distributed.Client(args.scheduler))
        else:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=args.workers, threads_per_worker=4, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=40))
            client = stack.enter_context(distributed.Client(cluster))
        results = map_drivers(summarise, drivers, executor=client.get_executor())
        return report(names, results)


if __name__ == "__main__":
    sys.exit(main())
