"""Create a server, wait for SSH, install a web page on it, and clean up if anything fails.

    python examples/deploy_web_server.py --provider digitalocean --key ~/.ssh/id_ed25519 \\
        --size s-1vcpu-1gb --image ubuntu-24-04-x64 --location ams3

Credentials come from the environment: CLOUDKIT_DIGITALOCEAN_TOKEN, CLOUDKIT_LINODE_TOKEN,
CLOUDKIT_HOSTVIRTUAL_KEY, or CLOUDKIT_NEPHOSCALE_USER + CLOUDKIT_NEPHOSCALE_PASSWORD;
CLOUDKIT_BASE_URL sends the requests elsewhere (a simulator, a proxy). With --simulate it runs
against the built-in simulator of the provider, with a throwaway local sshd (root and OpenSSH's
sshd needed) playing the new server: no account, nothing leaves the machine, and the page is
written to the login user's home instead of installing nginx. Size, image and location default
to the cheapest size, an Ubuntu or Debian image and the first location listed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cloudkit import CloudkitError, DeploymentError, get_driver
from cloudkit.deployment import Deployment, MultiStepDeployment, ScriptDeployment, SSHKeyDeployment
from cloudkit.driver import NodeDriver

#: The providers this example knows: the variables holding their key (and secret).
CREDENTIALS: dict[str, tuple[str, str | None]] = {
    "digitalocean": ("CLOUDKIT_DIGITALOCEAN_TOKEN", None),
    "linode": ("CLOUDKIT_LINODE_TOKEN", None),
    "hostvirtual": ("CLOUDKIT_HOSTVIRTUAL_KEY", None),
    "nephoscale": ("CLOUDKIT_NEPHOSCALE_USER", "CLOUDKIT_NEPHOSCALE_PASSWORD"),
}

SCRIPT = """#!/bin/sh
set -e
apt-get update -q && apt-get install -y -q nginx
echo '<h1>Deployed by cloudkit</h1>' > /var/www/html/index.html
systemctl restart nginx
"""

#: On the simulator the "server" is a local sshd and its login user: no packages, no root.
SIMULATED_SCRIPT = """#!/bin/sh
set -e
mkdir -p "$HOME/www"
echo '<h1>Deployed by cloudkit</h1>' > "$HOME/www/index.html"
echo "page written to $HOME/www/index.html (simulated: nginx not installed)"
"""


def build_driver(provider: str) -> NodeDriver | None:
    """The driver for a real account (or CLOUDKIT_BASE_URL), None when credentials are missing."""
    key_var, secret_var = CREDENTIALS[provider]
    key = os.environ.get(key_var)
    secret = os.environ.get(secret_var) if secret_var else None
    if not key or (secret_var and not secret):
        return None
    options: dict[str, Any] = {}
    if os.environ.get("CLOUDKIT_BASE_URL"):
        options["base_url"] = os.environ["CLOUDKIT_BASE_URL"]
    cls = get_driver(provider)
    return cls(key, secret, **options) if secret else cls(key, **options)


def choose(driver: NodeDriver, size: str | None, image: str | None, location: str | None,
           ) -> tuple[str, str, str | None]:
    """The size, image and location asked for, or sensible ones from the account's listings."""
    if location is None:
        locations = driver.list_locations()
        location = locations[0].id if locations else None
    if size is None:
        size = min(driver.list_sizes(), key=lambda s: (s.price is None, s.price or 0.0, s.ram)).id
    if image is None:
        images = driver.list_images()
        preferred = [i for i in images if any(w in (i.name or "").lower() for w in ("ubuntu", "debian"))]
        image = (preferred or images)[0].id
    return size, image, location


def simulated(stack: ExitStack, provider: str) -> tuple[NodeDriver, str, dict[str, Any]]:
    """A simulated account whose servers' SSH is a throwaway local sshd; returns the driver, a
    login key made for the run, and the SSH options that reach that sshd."""
    from cloudkit.sshkeys import generate_key_pair
    from cloudkit.testing import simulate
    from cloudkit.testing.sshd import start_sshd

    sshd = start_sshd(user_prefix="ckweb_")  # RuntimeError saying why when it cannot
    stack.callback(sshd.stop)
    private, public = generate_key_pair(comment="deploy-web-server-example")
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cloudkit-example-")))
    key = workdir / "id_ed25519"
    key.write_text(private)
    key.chmod(0o600)
    sshd.authorize(public)  # as the provider would install the key given at creation
    cloud = stack.enter_context(simulate(provider, boot_seconds=0.5, action_seconds=0.1, ssh_port=sshd.port))
    options: dict[str, Any] = {"ssh_username": sshd.user, "ssh_port": sshd.port}
    if provider == "nephoscale":
        options["ex_poll_interval"] = 0.2  # NephoScale's create polls for the new server
    return cloud.driver, str(key), options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--provider", required=True, choices=sorted(CREDENTIALS))
    parser.add_argument("--key", help="private key; its public half is installed (made up with --simulate)")
    parser.add_argument("--size")
    parser.add_argument("--image")
    parser.add_argument("--location")
    parser.add_argument("--name", help="server name (default web-1; web-1.example.com on HostVirtual)")
    parser.add_argument("--teammate-key", help="a public key file to authorize as well")
    parser.add_argument("--simulate", action="store_true", help="run against the local simulator")
    args = parser.parse_args(argv)
    name = args.name or ("web-1.example.com" if args.provider == "hostvirtual" else "web-1")

    with ExitStack() as stack:
        options: dict[str, Any] = {}
        if args.simulate:
            try:
                driver, key, options = simulated(stack, args.provider)
            except RuntimeError as exc:
                print(f"--simulate needs a local sshd: {exc}", file=sys.stderr)
                return 2
            script = SIMULATED_SCRIPT
        else:
            found = build_driver(args.provider)
            if found is None or not args.key:
                key_var, secret_var = CREDENTIALS[args.provider]
                needed = key_var + (f" and {secret_var}" if secret_var else "")
                print(f"set {needed} and pass --key (or use --simulate)", file=sys.stderr)
                return 2
            driver, key, script = found, args.key, SCRIPT
        try:
            size, image, location = choose(driver, args.size, args.image, args.location)
        except CloudkitError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        steps: list[Deployment] = [ScriptDeployment(script, name="install-web-page.sh", timeout=600)]
        if args.teammate_key:
            with open(os.path.expanduser(args.teammate_key), encoding="utf-8") as fh:
                steps.insert(0, SSHKeyDeployment(fh.read()))
        try:
            node = driver.deploy_node(name=name, size=size, image=image, location=location,
                                      deploy=MultiStepDeployment(steps), ssh_key=key, ex_destroy_on_failure=True,
                                      progress=lambda event: print(f"  {event.phase}: {event.message}"),
                                      **options)
        except DeploymentError as exc:
            print(f"deployment failed ({exc.phase}): {exc}; server destroyed: {exc.destroyed}", file=sys.stderr)
            return 1
        except CloudkitError as exc:  # the provider refused, or could not be reached: nothing was deployed
            print(f"error: {exc}", file=sys.stderr)
            return 1
        output = (steps[-1].stdout or "").strip() if isinstance(steps[-1], ScriptDeployment) else ""
        if output:
            print(f"  {output}")
        where = "has the page" if args.simulate else f"http://{node.public_ips[0]}/ is serving"
        print(f"{node.name} ({node.id}, {driver.name}) at {node.public_ips[0]}: {where}")
        if args.simulate:
            driver.destroy_node(node)
            print(f"destroyed {node.name}: the simulated account is left as it was found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
