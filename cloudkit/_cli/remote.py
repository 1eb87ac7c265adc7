"""The ``cloudkit`` commands that use SSH: ``nodes deploy``, ``probe`` and ``run``.

paramiko is imported only here, and only when one of these commands runs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudkit._cli import UsageError
from cloudkit._cli.commands import _create_kwargs, _show_node
from cloudkit._cli.context import Context
from cloudkit._cli.output import print_fields, print_json, shown
from cloudkit.errors import CloudkitError

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._deploy import DeployEvent
    from cloudkit.deployment import Deployment
    from cloudkit.models import Node
    from cloudkit.ssh import SSHClient

__all__ = ["cmd_nodes_deploy", "cmd_probe", "cmd_run"]


def _host_key_options(ctx: Context, fresh: bool = False) -> dict[str, Any]:
    """Keyword arguments for deploy_node/probe_node from ``--known-hosts`` and
    ``--host-key-policy``; files are found from the command's environment (HOME, XDG_CONFIG_HOME,
    CLOUDKIT_KNOWN_HOSTS)."""
    import os

    from cloudkit.known_hosts import KnownHosts

    path = getattr(ctx.args, "known_hosts", None)
    policy = getattr(ctx.args, "host_key_policy", None) or "accept-new"
    if path is not None:
        path = os.path.expanduser(path)
        if not os.path.isfile(path):
            raise UsageError(f"--known-hosts {path}: no such file")
    return {"ssh_host_key_policy": policy, "ssh_known_hosts": path,
            "ssh_host_keys": KnownHosts.default(path, fresh=fresh, env=ctx.env)}


def _steps(ctx: Context) -> list[Deployment]:
    from cloudkit.deployment import ScriptDeployment, ScriptFileDeployment, SSHKeyDeployment

    steps: list[Deployment] = []
    for pub in ctx.args.push_key or []:
        from cloudkit._cli.commands import read_public_key

        steps.append(SSHKeyDeployment(read_public_key(pub)))
    for path in ctx.args.script or []:
        steps.append(ScriptFileDeployment(path, delete=True))
    for command in ctx.args.run or []:
        steps.append(ScriptDeployment(command + "\n", delete=True))
    if not steps:
        raise UsageError("nothing to deploy: give --push-key PUBFILE, --script FILE or --run COMMAND")
    return steps


def _check_login_key(ctx: Context) -> None:
    """A ``--ssh-key`` that cannot be read or used is the user's to fix (exit status 2): say so
    before anything is created or connected to."""
    if not ctx.args.ssh_key:
        return
    from cloudkit.errors import SSHAuthenticationError
    from cloudkit.ssh import load_private_key

    try:
        load_private_key(ctx.args.ssh_key)
    except SSHAuthenticationError as exc:
        raise UsageError(f"--ssh-key: {exc}") from None


def cmd_nodes_deploy(ctx: Context) -> int:
    """``nodes deploy NAME --size --image [--location] [--ssh-key KEY] (--push-key|--script|--run)...``:
    create a node, wait for it, run the steps over SSH, show the outcome."""
    from cloudkit.deployment import MultiStepDeployment

    driver = ctx.driver()
    steps = _steps(ctx)
    kwargs = _create_kwargs(ctx)
    _check_login_key(ctx)
    host_keys = _host_key_options(ctx, fresh=True)
    if host_keys["ssh_host_key_policy"] == "strict" and host_keys["ssh_known_hosts"] is None:
        raise UsageError("--host-key-policy strict needs --known-hosts PATH for a node that does not "
                         "exist yet (its key cannot be in any file)")

    def progress(event: DeployEvent) -> None:
        where = f" {event.node.name} ({event.node.id})" if event.node is not None else ""
        if event.node is not None:
            if event.phase == "created":
                ctx.leftovers.created(event.node, f"made by this command, interrupted while deploying"
                                                  f"{' (--destroy-on-failure does not apply)' if destroy else ''}")
            else:
                ctx.leftovers.seen(event.node)
        ctx.progress.note(f"[{event.elapsed:5.1f}s]{where} {event.phase}: {event.message}")

    destroy = bool(ctx.args.destroy_on_failure)
    ctx.progress.note(f"deploying {ctx.args.name} on {driver.name} ({len(steps)} step(s)) ...")
    ctx.leftovers.creating(ctx.args.name)
    node = driver.deploy_node(
        name=ctx.args.name, size=ctx.args.size, image=ctx.args.image, location=ctx.args.location,
        deploy=MultiStepDeployment(steps), ssh_key=ctx.args.ssh_key, ssh_username=ctx.args.user,
        ssh_port=ctx.args.port, timeout=ctx.args.timeout, progress=progress,
        ex_destroy_on_failure=ctx.args.destroy_on_failure, wait_period=2.0, **host_keys, **kwargs)
    outputs: list[dict[str, Any]] = [
        {"step": s.describe(), "exit_status": s.exit_status, "stdout": s.stdout, "stderr": s.stderr}
        for s in steps]
    if ctx.json:
        from cloudkit._cli.output import node_dict

        print_json({"node": node_dict(node), "steps": outputs}, ctx.out)
        return 0
    _show_node(ctx, node)
    for out in outputs:
        if out["stdout"]:
            ctx.out.write(f"--- output of {out['step']} ---\n{out['stdout'].rstrip()}\n")
    return 0


def cmd_probe(ctx: Context) -> int:
    """``probe NODE``: does SSH answer and does the login work? Exit 1 when not."""
    node = ctx.find_node(ctx.args.node)
    _check_login_key(ctx)
    result = ctx.driver().probe_node(node, ssh_key=ctx.args.ssh_key, ssh_username=ctx.args.user,
                                     ssh_port=ctx.args.port, timeout=ctx.args.timeout,
                                     **_host_key_options(ctx))
    data = {"id": node.id, "name": node.name, "address": result.address, "port": result.port,
            "reachable": result.reachable, "auth_ok": result.auth_ok, "banner": result.banner,
            "detail": result.detail, "host_key_fingerprint": result.host_key_fingerprint,
            "error": result.error, "elapsed": round(result.elapsed, 3)}
    if ctx.json:
        print_json(data, ctx.out)
    else:
        print_fields([("node", f"{node.name} ({node.id})"), ("address", f"{result.address}:{result.port}"),
                      ("ssh answers", result.reachable), ("login works", result.auth_ok),
                      ("banner", result.banner), ("system", result.detail),
                      ("host key", result.host_key_fingerprint), ("error", result.error)], ctx.out)
    return 0 if result.reachable and result.auth_ok else 1


@dataclass
class _Outcome:
    node: Node
    address: str | None = None
    exit_status: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    elapsed: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.node.id, "name": self.node.name, "address": self.address,
                "exit_status": self.exit_status, "stdout": self.stdout, "stderr": self.stderr,
                "error": self.error, "elapsed": round(self.elapsed, 3)}


class _Sessions:
    """The open SSH sessions of ``run``, closed from the main thread when Ctrl-C stops it."""

    def __init__(self) -> None:
        self._open: set[SSHClient] = set()
        self._closed = False
        self._lock = threading.Lock()

    def add(self, client: SSHClient) -> bool:
        """Track ``client``; False once the command was interrupted (do not start)."""
        with self._lock:
            if not self._closed:
                self._open.add(client)
            return not self._closed

    @property
    def interrupted(self) -> bool:
        """True once :meth:`close_all` ran."""
        return self._closed

    def discard(self, client: SSHClient) -> None:
        with self._lock:
            self._open.discard(client)

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
            clients, self._open = list(self._open), set()
        for client in clients:
            with contextlib.suppress(Exception):  # best effort: the command is stopping anyway
                client.close()


def _run_one(ctx: Context, node: Node, command: str, sessions: _Sessions,
             host_keys: dict[str, Any]) -> _Outcome:
    from cloudkit.ssh import SSHClient

    outcome = _Outcome(node)
    started = time.monotonic()
    ips = [ip for ip in (node.private_ips if ctx.args.private else node.public_ips) if ip]
    ips = [ip for ip in ips if ":" not in ip] + [ip for ip in ips if ":" in ip]
    if not ips:
        outcome.error = f"node has no {'private' if ctx.args.private else 'public'} address"
        ctx.leftovers.seen(node, f"not run there: {outcome.error}")
        return outcome
    try:
        client = SSHClient(ips, ctx.args.port, ctx.args.user, key=ctx.args.ssh_key,
                           timeout=ctx.args.connect_timeout, command_timeout=ctx.args.timeout,
                           host_key_policy=host_keys["ssh_host_key_policy"],
                           known_hosts=host_keys["ssh_known_hosts"], host_keys=host_keys["ssh_host_keys"],
                           keepalive=0)
    except CloudkitError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
        return outcome
    if not sessions.add(client):
        outcome.error = "interrupted before it started"
        return outcome
    ctx.leftovers.seen(node, "the command was running there (its SSH session is closed now; the command "
                             "itself may still be running)")
    try:
        with client:
            outcome.address = client.hostname
            outcome.stdout, outcome.stderr, outcome.exit_status = client.run(command)
    except (CloudkitError, OSError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        sessions.discard(client)
    outcome.elapsed = time.monotonic() - started
    if sessions.interrupted:  # the note says the command was cut short; keep it
        return outcome
    ctx.leftovers.seen(node, f"the command {'failed: ' + outcome.error if outcome.error else 'finished'}"
                             f"{'' if outcome.exit_status is None else f' with exit status {outcome.exit_status}'}")
    return outcome


def _run_all(ctx: Context, nodes: list[Node], host_keys: dict[str, Any]) -> list[_Outcome]:
    """Run the command on ``nodes`` in parallel. On Ctrl-C, close every open session and stop
    at once (the pool's threads end as their sessions close), then let the interrupt go on."""
    workers = max(1, min(ctx.args.parallel, len(nodes)))
    sessions = _Sessions()
    for node in nodes:
        ctx.leftovers.seen(node, "the command had not started there")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloudkit-run")
    try:
        with ctx.progress.waiting(f"running on {len(nodes)} node(s)"):
            futures = [pool.submit(_run_one, ctx, node, ctx.args.command, sessions, host_keys)
                       for node in nodes]
            pending = set(futures)
            while pending:  # short waits, so that Ctrl-C is seen at once
                _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            outcomes = [future.result() for future in futures]
    except BaseException:
        sessions.close_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return outcomes


def cmd_run(ctx: Context) -> int:
    """``run COMMAND --nodes N... | --tag T``: run over SSH on each node in parallel; output is
    grouped per node; exit 1 unless every node ran it with exit status 0."""
    driver = ctx.driver()
    if ctx.args.tag:
        nodes = driver.list_nodes(tag=ctx.args.tag)
        if not nodes:
            raise UsageError(f"no node carries the tag {ctx.args.tag!r}")
    elif ctx.args.nodes:
        nodes = ctx.find_nodes(ctx.args.nodes)
    else:
        raise UsageError("say where to run it: --nodes NODE... or --tag TAG")
    _check_login_key(ctx)  # an unusable key fails once, before any connection
    outcomes = _run_all(ctx, nodes, _host_key_options(ctx))
    if ctx.json:
        print_json([o.as_dict() for o in outcomes], ctx.out)
    else:
        for o in outcomes:
            status = o.error or f"exit {o.exit_status}"
            ctx.out.write(f"=== {shown(o.node.name)} ({o.node.id}) {o.address or '-'}: {status} ===\n")
            if o.stdout:
                ctx.out.write(o.stdout if o.stdout.endswith("\n") else o.stdout + "\n")
            if o.stderr:
                ctx.out.write("--- stderr ---\n")
                ctx.out.write(o.stderr if o.stderr.endswith("\n") else o.stderr + "\n")
    bad = [o for o in outcomes if o.error or o.exit_status != 0]
    if bad:
        ctx.err.write(f"cloudkit: error: the command failed on {len(bad)} of {len(outcomes)} node(s): "
                      f"{', '.join(o.node.name for o in bad)}\n")
        return 1
    return 0
