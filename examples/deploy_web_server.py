"""Create a server, wait for SSH, install a web page on it, and clean up if anything fails.

    python examples/deploy_web_server.py --provider digitalocean --key ~/.ssh/id_ed25519 \\
        --size s-1vcpu-1gb --image ubuntu-24-04-x64 --location ams3

(token from CLOUDKIT_<PROVIDER>_TOKEN). `cloudkit demo` shows the same flow on the simulator.
"""

from __future__ import annotations

import argparse
import os
import sys

from cloudkit import DeploymentError, get_driver
from cloudkit.deployment import MultiStepDeployment, ScriptDeployment, SSHKeyDeployment

SCRIPT = """#!/bin/sh
set -e
apt-get update -q && apt-get install -y -q nginx
echo '<h1>Deployed by cloudkit</h1>' > /var/www/html/index.html
systemctl restart nginx
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", required=True)
    parser.add_argument("--key", required=True, help="private key; its public half is installed")
    parser.add_argument("--size", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--location")
    parser.add_argument("--name", default="web-1")
    parser.add_argument("--teammate-key", help="a public key file to authorize as well")
    args = parser.parse_args(argv)

    token = os.environ.get(f"CLOUDKIT_{args.provider.upper()}_TOKEN")
    if not token:
        print(f"set CLOUDKIT_{args.provider.upper()}_TOKEN", file=sys.stderr)
        return 2
    driver = get_driver(args.provider)(token)
    steps = MultiStepDeployment([ScriptDeployment(SCRIPT, name="install-nginx.sh", timeout=600)])
    if args.teammate_key:
        with open(os.path.expanduser(args.teammate_key), encoding="utf-8") as fh:
            steps = MultiStepDeployment([SSHKeyDeployment(fh.read()), *steps.steps])
    try:
        node = driver.deploy_node(name=args.name, size=args.size, image=args.image, location=args.location,
                                  deploy=steps, ssh_key=args.key, ex_destroy_on_failure=True,
                                  progress=lambda event: print(f"  {event}"))
    except DeploymentError as exc:
        print(f"deployment failed ({exc.phase}): {exc}; server destroyed: {exc.destroyed}", file=sys.stderr)
        return 1
    print(f"http://{node.public_ips[0]}/ is serving on {node.name} ({node.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
