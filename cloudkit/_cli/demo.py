"""``cloudkit demo``: the whole flow against a local simulator, no account needed.

It starts the simulator of a provider (DigitalOcean unless ``--provider`` says otherwise)
on 127.0.0.1 and, when it can (root and OpenSSH's sshd), a throwaway sshd standing in for
the new server's SSH. Then it does what a user would do against a real cloud, showing the
equivalent ``cloudkit`` command for each step: list sizes, images and locations; store an
SSH key; create a server, wait for it and deploy a key and a script over SSH; run a command
on it; list servers; destroy it. Without sshd the SSH steps are skipped, with one line
saying why. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudkit._cli import UsageError
from cloudkit._cli.context import Context
from cloudkit._cli.output import (
    IMAGE_COLUMNS,
    KEY_COLUMNS,
    LOCATION_COLUMNS,
    NODE_COLUMNS,
    SIZE_COLUMNS,
    Column,
    image_dict,
    key_dict,
    location_dict,
    node_dict,
    print_table,
    size_dict,
)

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._deploy import DeployEvent
    from cloudkit.driver import NodeDriver
    from cloudkit.models import Node, NodeImage, NodeLocation, NodeSize
    from cloudkit.testing.sshd import SSHServer

__all__ = ["run_demo"]

SHOWN = 5  # rows of each catalogue listing shown
#: The demo server's name, unless the driver's ``demo_defaults`` give another (HostVirtual
#: wants a fully qualified domain name).
NAME = "cloudkit-demo-1"

SCRIPT = """#!/bin/sh
# what a real deployment would do: install and configure something
set -e
echo "hello from $(hostname), deployed by cloudkit as $(whoami)" > "$HOME/hello.txt"
echo "script ran on $(uname -sr); wrote $HOME/hello.txt"
"""


class _Demo:
    def __init__(self, ctx: Context, provider: str) -> None:
        self.ctx = ctx
        self.out = ctx.out
        self.provider = provider
        self.started = time.monotonic()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def command(self, text: str, note: str = "") -> None:
        self.say()
        self.say(f"$ cloudkit {text}" + (f"    # {note}" if note else ""))

    def table(self, rows: list[dict[str, Any]], columns: Sequence[Column], what: str) -> None:
        print_table(rows[:SHOWN], columns, empty=f"(no {what})", stream=self.out)
        if len(rows) > SHOWN:
            self.say(f"... and {len(rows) - SHOWN} more {what}")


def _pick(driver: NodeDriver) -> tuple[NodeLocation, NodeSize, NodeImage, list[NodeSize], list[NodeImage],
                                         list[NodeLocation]]:
    """The listings, and a sensible location, size (cheapest) and image (Ubuntu or Debian)."""
    locations = driver.list_locations()
    sizes = driver.list_sizes()
    images = driver.list_images()
    if not (locations and sizes and images):
        raise UsageError("the simulated account offers no sizes, images or locations")
    location = locations[0]
    try:
        offered = driver.list_sizes(location=location) or sizes
    except Exception:  # a provider without per-location sizes: any size will do
        offered = sizes
    size = min(offered, key=lambda s: (s.price is None, s.price or 0.0, s.ram))
    def label(image: NodeImage) -> str:
        return f"{image.name} {image.extra.get('distribution') or ''}".lower()

    preferred = [i for i in images if any(w in label(i) for w in ("ubuntu", "debian"))]
    return location, size, (preferred or images)[0], sizes, images, locations


def _start_sshd(demo: _Demo, stack: ExitStack) -> tuple[SSHServer | None, str]:
    """The throwaway sshd (stopped when ``stack`` closes) and a line saying what happened."""
    skipped = "the deployment steps over SSH are left out"
    if demo.ctx.args.no_ssh:
        return None, f"SSH: skipped (--no-ssh); {skipped}"
    from cloudkit.testing.sshd import start_sshd, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        return None, f"SSH: skipped: {reason}; {skipped}"
    try:
        server = start_sshd(user_prefix="ckdemo_")
    except RuntimeError as exc:
        return None, f"SSH: skipped: the throwaway sshd did not start ({' '.join(str(exc).split())[:200]})"
    stack.callback(server.stop)
    return server, (f"SSH: a throwaway OpenSSH server on 127.0.0.1:{server.port} plays the new server's SSH "
                    f"(login user {server.user}, removed at the end)")


def _keys(workdir: Path) -> tuple[Path, str, Path]:
    """A login key (private file + public line) and a teammate's public key file."""
    from cloudkit.sshkeys import generate_key_pair

    private, public = generate_key_pair("ed25519", comment="cloudkit-demo")
    login = workdir / "id_ed25519"
    fd = os.open(login, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private)
    login.with_name("id_ed25519.pub").write_text(public + "\n")
    _, teammate_public = generate_key_pair("ed25519", comment="teammate@cloudkit-demo")
    teammate = workdir / "teammate.pub"
    teammate.write_text(teammate_public + "\n")
    return login, public, teammate


def run_demo(ctx: Context) -> int:
    """Run the demo; returns the exit status."""
    from cloudkit.providers import Provider, check_provider

    provider = check_provider(ctx.option("provider") or Provider.DIGITAL_OCEAN)
    try:
        from cloudkit.testing.simulator import PROVIDERS, simulate
    except ImportError as exc:  # pragma: no cover - the simulator ships with cloudkit
        raise UsageError(f"the simulator cannot be loaded: {exc}") from None
    if provider not in PROVIDERS:
        raise UsageError(f"no simulator for {provider!r}; choose one of {', '.join(sorted(PROVIDERS))}")
    demo = _Demo(ctx, provider)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cloudkit-demo-")))
        sshd, ssh_line = _start_sshd(demo, stack)
        try:
            cloud = stack.enter_context(simulate(
                provider, boot_seconds=max(0.0, ctx.args.boot_seconds), action_seconds=0.2,
                ssh_port=sshd.port if sshd is not None else None))
        except ImportError as exc:
            raise UsageError(f"the {provider} simulator is not available: {exc}") from None
        driver = cloud.driver
        demo.say(f"{driver.name} simulated on {cloud.base_url}: a fresh account, no credentials of yours, "
                 f"nothing leaves this machine.")
        demo.say(ssh_line)
        demo.say(f"Against your real account you would run the same commands after: {_env_hint(provider)}")
        _flow(demo, driver, sshd, workdir)
        elapsed = time.monotonic() - demo.started
    demo.say()
    demo.say(f"Demo finished in {elapsed:.1f}s; the simulator"
             + (" and the throwaway sshd are" if sshd is not None else " is") + " gone. "
             "Next: 'cloudkit --help', and 'cloudkit providers' for what each driver can do.")
    return 0


def _env_hint(provider: str) -> str:
    from cloudkit._cli.config import env_names

    key, secret = env_names(provider)
    return f"export {key}=..." + (f" {secret}=..." if secret else "")


def _flow(demo: _Demo, driver: NodeDriver, sshd: SSHServer | None, workdir: Path) -> None:
    location, size, image, sizes, images, locations = _pick(driver)
    demo.command("sizes", "machine types and hourly prices")
    demo.table([size_dict(s) for s in sizes], SIZE_COLUMNS, "sizes")
    demo.command("images")
    demo.table([image_dict(i) for i in images], IMAGE_COLUMNS, "images")
    demo.command("locations")
    demo.table([location_dict(loc) for loc in locations], LOCATION_COLUMNS, "locations")

    login, public, teammate = _keys(workdir)
    demo.command(f"keys add cloudkit-demo {login}.pub", "store your public key on the account")
    pair = driver.import_key_pair_from_string("cloudkit-demo", public)
    demo.say(f"added key {pair.name} (fingerprint {pair.fingerprint or '-'})")

    extra: dict[str, Any] = dict(driver.demo_defaults)
    name = extra.pop("name", NAME)
    extra.update(_fast_create(driver))
    if sshd is not None:
        node = _deploy(demo, driver, sshd, name, size, image, location, login, teammate, extra)
    else:
        demo.command(f"nodes create {name} --size {size.id} --image {image.id} --location {location.id} "
                     f"--ssh-key {login}.pub --wait")
        from cloudkit.models import NodeAuthSSHKey

        node = driver.create_node(name=name, size=size, image=image, location=location,
                                  auth=NodeAuthSSHKey(public), **extra)
        demo.say(f"created {node.name} ({node.id}), state {node.state.value}")
        with demo.ctx.progress.waiting(f"waiting for {node.name} to be running"):
            [(node, addresses)] = driver.wait_until_running([node], timeout=60, wait_period=1.0)
        demo.say(f"{node.name} is {node.state.value} at {', '.join(addresses)}")

    demo.command("nodes list")
    print_table([node_dict(n) for n in driver.list_nodes()], NODE_COLUMNS, empty="(no nodes)", stream=demo.out)

    if sshd is not None:
        _run_command(demo, driver, sshd, node.id, login)

    demo.command(f"nodes destroy {name} --yes")
    driver.destroy_node(driver.get_node(node.id))
    demo.say(f"destroyed {node.name} ({node.id})")
    demo.command("keys delete cloudkit-demo --yes")
    for stored in driver.list_key_pairs():
        driver.delete_key_pair(stored)
        demo.say(f"deleted key {stored.name}")
    demo.command("nodes list")
    _wait_gone(driver, node.id)
    print_table([node_dict(n) for n in driver.list_nodes()], NODE_COLUMNS, empty="(no nodes)", stream=demo.out)
    demo.command("keys list")
    print_table([key_dict(k) for k in driver.list_key_pairs()], KEY_COLUMNS, empty="(no keys)", stream=demo.out)


def _fast_create(driver: NodeDriver) -> dict[str, Any]:
    """create_node options that suit a local simulator (NephoScale polls for its new server)."""
    import inspect

    params = inspect.signature(driver.create_node).parameters
    return {"ex_poll_interval": 0.2} if "ex_poll_interval" in params else {}


def _wait_gone(driver: NodeDriver, node_id: str, seconds: float = 10.0) -> None:
    """Some providers take a moment to drop a destroyed server from the listing."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends and any(n.id == node_id for n in driver.list_nodes()):
        time.sleep(0.2)


def _deploy(demo: _Demo, driver: NodeDriver, sshd: SSHServer, name: str, size: NodeSize, image: NodeImage,
            location: NodeLocation, login: Path, teammate: Path, extra: dict[str, Any]) -> Node:
    from cloudkit.deployment import MultiStepDeployment, ScriptDeployment, SSHKeyDeployment

    script = SCRIPT
    demo.command(f"nodes deploy {name} --size {size.id} --image {image.id} --location {location.id} "
                 f"--ssh-key {login} --push-key {teammate} --script setup.sh --user {sshd.user} "
                 f"--port {sshd.port}")
    demo.say("(the simulated server's SSH is the throwaway sshd; it accepts the key given at creation)")
    sshd.authorize(login.with_name("id_ed25519.pub").read_text())
    steps = [SSHKeyDeployment(teammate.read_text()), ScriptDeployment(script, name="setup.sh", delete=True)]

    def progress(event: DeployEvent) -> None:
        demo.say(f"  [{event.elapsed:4.1f}s] {event.phase}: {event.message}")

    node = driver.deploy_node(name=name, size=size, image=image, location=location,
                              deploy=MultiStepDeployment(steps), ssh_key=str(login), ssh_username=sshd.user,
                              ssh_port=sshd.port, timeout=60, ssh_timeout=5, wait_period=1.0,
                              progress=progress, ex_destroy_on_failure=True, **extra)
    output = (steps[1].stdout or "").strip()
    if output:
        demo.say("  script output: " + output.replace("\n", "\n                 "))
    return node


def _run_command(demo: _Demo, driver: NodeDriver, sshd: SSHServer, node_id: str, login: Path) -> None:
    from cloudkit.ssh import SSHClient

    node = driver.get_node(node_id)
    command = "cat ~/hello.txt; echo \"$(wc -l < ~/.ssh/authorized_keys) keys may log in\""
    demo.command(f"run {shlex.quote(command)} --nodes {node.name} --ssh-key {login} --user {sshd.user} "
                 f"--port {sshd.port}")
    with SSHClient(node.public_ips, sshd.port, sshd.user, key=str(login), timeout=5, keepalive=0) as client:
        out, err, status = client.run(command, timeout=20)
    demo.say(f"=== {node.name} ({node.id}) {client.hostname}: exit {status} ===")
    demo.say(out.rstrip())
    if err.strip():
        demo.say("--- stderr ---\n" + err.rstrip())
