"""Print every server on several accounts at once, with its hourly price.

Runs against real accounts with credentials in the environment, or against the built-in
simulator with --simulate (no account needed):

    python examples/inventory.py --simulate
    CLOUDKIT_DIGITALOCEAN_TOKEN=... CLOUDKIT_LINODE_TOKEN=... python examples/inventory.py

CLOUDKIT_BASE_URL sends the requests elsewhere (a simulator or a proxy serving one provider).
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack

from cloudkit import CloudkitError, Node, Provider, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.parallel import map_drivers

TOKENS = {Provider.DIGITAL_OCEAN: "CLOUDKIT_DIGITALOCEAN_TOKEN", Provider.LINODE: "CLOUDKIT_LINODE_TOKEN"}


def hourly_price(node: Node, prices: dict[str, float | None]) -> str:
    """The node's hourly price: from its size, else from the account's size list."""
    price = node.size.price if node.size else None
    if price is None and node.size is not None:
        price = prices.get(node.size.id)
    return f"${price:.4f}/h" if price is not None else "-"


def nodes_and_prices(driver: NodeDriver) -> tuple[list[Node], dict[str, float | None]]:
    return driver.list_nodes(), {size.id: size.price for size in driver.list_sizes()}


def report(drivers: list[NodeDriver]) -> int:
    """List every account's nodes concurrently; print one block per account."""
    failures = 0
    for driver, result in zip(drivers, map_drivers(nodes_and_prices, drivers), strict=True):
        print(f"== {driver.name}")
        if isinstance(result, CloudkitError):
            print(f"   error: {result}")
            failures += 1
            continue
        if isinstance(result, BaseException):
            raise result
        nodes, prices = result
        for node in nodes:
            print(f"   {node.id:>12}  {node.name:<20} {node.state.value:<10} "
                  f"{', '.join(node.public_ips) or '-':<18} {hourly_price(node, prices)}")
        if not nodes:
            print("   (no servers)")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulate", action="store_true", help="use the local simulator, seeded with servers")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        drivers: list[NodeDriver] = []
        if args.simulate:
            from cloudkit.testing import simulate

            for provider in TOKENS:
                cloud = stack.enter_context(simulate(provider, boot_seconds=0))
                cloud.simulator.seed_nodes(3)
                drivers.append(cloud.driver)
        else:
            base_url = os.environ.get("CLOUDKIT_BASE_URL")
            for provider, variable in TOKENS.items():
                if os.environ.get(variable):
                    options = {"base_url": base_url} if base_url else {}
                    drivers.append(get_driver(provider)(os.environ[variable], **options))
            if not drivers:
                print(f"set {' or '.join(TOKENS.values())}, or pass --simulate", file=sys.stderr)
                return 2
        return report(drivers)


if __name__ == "__main__":
    sys.exit(main())
