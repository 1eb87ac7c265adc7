"""The logic of ``NodeDriver.deploy_node`` and ``NodeDriver.probe_node``.

Both take the driver as first argument; the driver methods delegate here. This module
imports paramiko (through :mod:`cloudkit.ssh`) only inside the functions. It builds on
:mod:`cloudkit.deployment` (the steps, :class:`DeployEvent`, :class:`ProbeResult`, also
importable from here), never the other way round.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from cloudkit import secrets_gen
from cloudkit.deployment import EVENT_PHASES, DeployEvent, Deployment, MultiStepDeployment, ProbeResult
from cloudkit.errors import (
    CloudkitError,
    ConfigurationError,
    DeploymentError,
    NotSupportedError,
    SSHAuthenticationError,
    SSHCommandTimeoutError,
    SSHError,
    SSHHostKeyError,
    WaitTimeoutError,
    excerpt,
)
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize

if TYPE_CHECKING:  # pragma: no cover
    import paramiko

    from cloudkit.driver import NodeDriver
    from cloudkit.known_hosts import KnownHosts
    from cloudkit.ssh import SSHClient

__all__ = ["EVENT_PHASES", "DeployEvent", "ProbeResult", "deploy_node", "generate_password", "probe_node"]

log = logging.getLogger("cloudkit.deploy")

_STDERR_TAIL = 2000
_SYMBOLS = "-_.+=@%"


def generate_password(length: int = 24) -> str:
    """A strong random password with upper and lower case letters, digits and a symbol
    (what providers' root-password rules ask for), free of shell and JSON specials."""
    return secrets_gen.generate_password(max(length, 12), symbols=_SYMBOLS)


def _ordered_addresses(ips: Sequence[str]) -> list[str]:
    """IPv4 addresses first, then IPv6; duplicates dropped."""
    seen: list[str] = []
    for ip in [i for i in ips if ":" not in i] + [i for i in ips if ":" in i]:
        if ip and ip not in seen:
            seen.append(ip)
    return seen


def _flatten(deploy: Deployment) -> list[Deployment]:
    if isinstance(deploy, MultiStepDeployment):
        return [leaf for step in deploy.steps for leaf in _flatten(step)]
    return [deploy]


@dataclass
class _Plan:
    """How the new node is created and logged in to."""

    auth: NodeAuthSSHKey | NodeAuthPassword | None
    password: str | None
    provider_password: bool
    how: str


def _choose_auth(driver: NodeDriver, auth: object, pubkey: str | None, ssh_password: str | None) -> _Plan:
    if auth is not None:
        if isinstance(auth, NodeAuthPassword):
            return _Plan(auth, auth.password, False, "the given password")
        if isinstance(auth, NodeAuthSSHKey):
            return _Plan(auth, ssh_password, False, "the given SSH key")
        raise ConfigurationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
    features = driver.features.get("create_node", [])
    if pubkey is not None and "ssh_key" in features:
        return _Plan(NodeAuthSSHKey(pubkey), ssh_password, False, "the SSH key's public half")
    if "password" in features:
        if ssh_password is not None:
            return _Plan(NodeAuthPassword(ssh_password), ssh_password, False, "the given password")
        password = generate_password()
        return _Plan(NodeAuthPassword(password, generated=True), password, False, "a generated password")
    if "generates_password" in features:
        return _Plan(None, ssh_password, True, "the password the provider generates")
    if pubkey is not None or ssh_password is not None:
        return _Plan(None, ssh_password, False, "credentials the image already accepts")
    raise NotSupportedError(
        driver.name, "deploy_node",
        f"the {driver.name} driver can neither install an SSH key nor set a password; "
        f"pass ssh_key= (or ssh_password=) for a login the image already accepts")


class _Run:
    """State of one deploy_node call: emits events, builds errors, cleans up."""

    def __init__(self, driver: NodeDriver, progress: Callable[[DeployEvent], Any] | None,
                 destroy: bool) -> None:
        self.driver = driver
        self.progress = progress
        self.destroy = destroy
        self.started = time.monotonic()
        self.node: Node | None = None

    def emit(self, phase: str, message: str, step: int | None = None, total: int | None = None) -> None:
        event = DeployEvent(phase, self.node, message, step, total, round(time.monotonic() - self.started, 3))
        level = logging.WARNING if phase == "failed" else logging.INFO
        node = f"node {self.node.name} ({self.node.id})" if self.node is not None else "deploy"
        log.log(level, "%s: %s: %s", node, phase, message)
        if self.progress is not None:
            try:
                self.progress(event)
            except Exception:
                log.warning("progress callback failed on the %s event", phase, exc_info=True)

    def fail(self, message: str, phase: str, cause: BaseException | None, *, step: Deployment | None = None,
             exit_status: int | None = None, stderr: str | None = None) -> NoReturn:
        node = self.node
        assert node is not None
        destroyed: bool | None = None
        destroy_error: BaseException | None = None
        if self.destroy:
            try:
                destroyed = bool(self.driver.destroy_node(node))
                outcome = "destroyed" if destroyed else "not destroyed (destroy_node returned False)"
            except Exception as exc:
                destroyed, destroy_error = False, exc
                outcome = f"NOT destroyed: {type(exc).__name__}: {exc}"
            message = f"{message}; node {node.id} {outcome}"
        else:
            message = (f"{message}; node {node.id} is left in place "
                       f"(ex_destroy_on_failure=True destroys it)")
        self.emit("failed", message)
        error = DeploymentError(message, node=node, step=step, phase=phase, exit_status=exit_status,
                                stderr=stderr, destroyed=destroyed, cause=cause, destroy_error=destroy_error)
        if cause is not None:
            raise error from cause
        raise error


def deploy_node(
    driver: NodeDriver,
    name: str | None,
    size: NodeSize | str | None,
    image: NodeImage | str | None,
    location: NodeLocation | str | None,
    deploy: Deployment,
    ssh_key: str | os.PathLike[str] | paramiko.PKey | Sequence[str | os.PathLike[str] | paramiko.PKey]
    | None = None,
    ssh_username: str = "root",
    ssh_port: int = 22,
    ssh_interface: str = "public_ips",
    timeout: float = 600.0,
    ssh_timeout: float = 10.0,
    ex_destroy_on_failure: bool = False,
    progress: Callable[[DeployEvent], Any] | None = None,
    ssh_host_key_policy: str = "accept-new",
    ssh_known_hosts: str | os.PathLike[str] | None = None,
    ssh_password: str | None = None,
    wait_period: float = 3.0,
    ssh_host_keys: KnownHosts | None = None,
    ssh_key_password: str | None = None,
    auth: NodeAuthSSHKey | NodeAuthPassword | None = None,
    ssh_auth_grace: float = 5.0,
    ssh_alternate_usernames: Sequence[str] | None = None,
    max_tries: int = 1,
    at_exit_func: Callable[..., Any] | None = None,
    **create_kwargs: Any,
) -> Node:
    """Create a node, wait until it runs and SSH accepts the login, run ``deploy``, return it.

    Access: with ``ssh_key`` (private key path, text or paramiko key; ``ssh_key_password``
    unlocks it) and a driver whose ``features["create_node"]`` has ``"ssh_key"``, the key's
    public half is installed by the provider. Otherwise, with ``"password"``, a strong
    password is generated (or ``ssh_password`` used) and set; with ``"generates_password"``
    the provider's password (``node.extra["password"]``) is used. ``auth`` overrides the choice.
    ``ssh_key`` may be a list of keys: the first one's public half is installed, and each is
    tried in turn at login, for ``ssh_username`` and then each of ``ssh_alternate_usernames``
    (libcloud's meaning: the next name is tried when the login is refused).
    A password cloudkit generated is put in the returned node's ``extra["password"]``.
    A key that cannot be loaded raises ``SSHAuthenticationError`` before anything is created.

    Time: ``timeout`` bounds the whole call after ``create_node`` returns: the wait for
    RUNNING (polled up to every ``wait_period`` s), the wait for SSH (polled every 0.2 s
    growing to 0.8 s, each attempt bounded by ``ssh_timeout``), and every step. A login the
    server refuses is retried for ``ssh_auth_grace`` s (fresh servers may install keys just
    after sshd starts). A step that raises (not one whose script exits non-zero, nor a
    command timeout) is run again, up to ``max_tries`` runs in all (libcloud's ``max_tries``).
    ``at_exit_func(driver=driver, node=node)`` is registered with :mod:`atexit` once the node
    exists and unregistered when this call returns or raises an ``Exception``, so it runs only
    when the process ends mid-deploy (Ctrl-C), as in libcloud.

    Failure: once the node exists, every failure raises ``DeploymentError`` with ``.node``,
    ``.phase`` (``"wait_running"``, ``"wait_ssh"``, ``"ssh_auth"``, ``"ssh_host_key"`` or
    ``"deploy"``), ``.step``, ``.exit_status``, ``.stderr`` (tail) and ``.cause``. A
    ``WaitTimeoutError`` from the running-wait is converted: it is the ``.cause`` (and
    ``__cause__``), with ``.nodes`` and ``.last_states``; the message names the node and its
    last state. A script step exiting non-zero is a failure. With
    ``ex_destroy_on_failure=True`` the node is destroyed first and ``.destroyed`` (and
    ``.destroy_error``) report the outcome. Errors from ``create_node`` itself propagate as
    they are (no node exists).

    Host keys: the node was created by this call, so it is new by definition: its address
    may be a recycled one still listed in ``~/.ssh/known_hosts`` (or cloudkit's own file)
    with a destroyed server's key, so those files are not consulted for it; only an
    ``ssh_known_hosts`` file given is (``"strict"`` needs one). The key it presents is
    remembered in cloudkit's own known_hosts file, replacing older entries for that address,
    and checked by every later connection (see :mod:`cloudkit.known_hosts`). ``ssh_host_keys``
    (a ``KnownHosts``) overrides which files are used.

    ``progress`` receives a :class:`DeployEvent` per phase; the same events are logged on
    the ``cloudkit.deploy`` logger. Passwords and keys are never logged. A step object keeps
    the outcome of its last run: give each concurrent call its own steps.
    """
    from cloudkit.known_hosts import KnownHosts
    from cloudkit.ssh import HOST_KEY_POLICIES, SSHClient, load_private_key, public_key_line

    if ssh_interface not in ("public_ips", "private_ips"):
        raise ConfigurationError("ssh_interface must be 'public_ips' or 'private_ips'")
    if ssh_host_key_policy not in HOST_KEY_POLICIES:
        raise ConfigurationError(f"ssh_host_key_policy must be one of {', '.join(HOST_KEY_POLICIES)}")
    if ssh_host_key_policy == "strict" and ssh_known_hosts is None:
        raise ConfigurationError("ssh_host_key_policy='strict' needs ssh_known_hosts=")
    if timeout <= 0:
        raise ConfigurationError("timeout must be positive")
    if isinstance(max_tries, bool) or not isinstance(max_tries, int) or max_tries < 1:
        raise ConfigurationError("max_tries must be a positive integer")
    usernames = [ssh_username, *(ssh_alternate_usernames or [])]
    if not all(isinstance(u, str) and u for u in usernames):
        raise ConfigurationError("ssh_username and ssh_alternate_usernames must be non-empty strings")
    if at_exit_func is not None and not callable(at_exit_func):
        raise ConfigurationError("at_exit_func must be callable")
    if not callable(getattr(deploy, "run", None)):
        raise ConfigurationError("deploy must be a Deployment (an object with run(node, client))")
    steps = _flatten(deploy)

    key_sources: list[Any] = (list(ssh_key) if isinstance(ssh_key, (list, tuple))
                              else [] if ssh_key is None else [ssh_key])
    pkeys: list[paramiko.PKey | None] = [load_private_key(k, ssh_key_password) for k in key_sources]
    pkey = pkeys[0] if pkeys else None
    pubkey = public_key_line(pkey) if pkey is not None else None
    plan = _choose_auth(driver, auth, pubkey, ssh_password)

    run = _Run(driver, progress, ex_destroy_on_failure)
    # libcloud's **create_node_kwargs go on to the driver's own ex_ keywords, unknown to mypy here
    node = driver.create_node(name=name, size=size, image=image, location=location, auth=plan.auth,  # type: ignore[arg-type]
                              **create_kwargs)
    run.node = node
    if at_exit_func is not None:
        atexit.register(at_exit_func, driver=driver, node=node)
    interrupted = False
    deadline = time.monotonic() + timeout
    generated = None
    if isinstance(plan.auth, NodeAuthPassword) and plan.auth.generated:
        generated = plan.auth.password
    provider_password = node.extra.get("password") if plan.provider_password else None
    run.emit("created", f"created with {plan.how} on {driver.name}")

    client: SSHClient | None = None
    phase = "wait_running"
    try:
        try:
            pairs = driver.wait_until_running([node], wait_period=wait_period,
                                              timeout=max(deadline - time.monotonic(), 0.0),
                                              ssh_interface=ssh_interface, force_ipv4=False)
        except WaitTimeoutError as exc:
            run.node = exc.nodes[0] if exc.nodes else node
            state = exc.last_states.get(node.id, "unknown")
            run.fail(f"node {node.name} ({node.id}) did not get running with an address on "
                     f"{ssh_interface} within {timeout:g}s (last state: {state}): {exc}", phase, exc)
        node, addresses = pairs[0]
        run.node = node
        if generated is not None:
            node.extra["password"] = generated
        password = plan.password
        if plan.provider_password:
            password = provider_password or node.extra.get("password") or password
            if password is None:
                run.fail("the provider returned no password for the new node", phase, None)
        addresses = _ordered_addresses(addresses)
        run.emit("running", f"running at {', '.join(addresses)}")

        phase = "wait_ssh"
        logins = [(user, key) for user in usernames for key in (pkeys or [None])]
        for number, (ssh_username, login_key) in enumerate(logins, 1):
            client = SSHClient(
                addresses, ssh_port, ssh_username, password=password, key=login_key,
                use_agent=login_key is None and password is None, timeout=ssh_timeout,
                host_key_policy=ssh_host_key_policy, known_hosts=ssh_known_hosts,
                host_keys=ssh_host_keys or KnownHosts.default(ssh_known_hosts, fresh=True),
                auth_grace=ssh_auth_grace if number == 1 else 0.0, deadline=deadline)
            try:
                client.connect(retry_until=deadline)
                break
            except SSHAuthenticationError as exc:
                client.close()
                if number < len(logins):
                    log.info("SSH login as %s refused; trying the next user name or key", ssh_username)
                    continue
                tried = ", ".join(dict.fromkeys(usernames))
                run.fail(f"SSH login as {tried} on {client.hostname}:{ssh_port} failed: {exc}",
                         "ssh_auth", exc)
            except SSHHostKeyError as exc:
                run.fail(f"SSH host key refused: {exc}", "ssh_host_key", exc)
            except SSHError as exc:
                run.fail(f"SSH on port {ssh_port} of {', '.join(addresses)} did not accept a login within "
                         f"{timeout:g}s: {exc}", phase, exc)
        assert client is not None
        run.emit("ssh_ready", f"SSH accepted {ssh_username}@{client.hostname}:{ssh_port} after "
                              f"{client.attempts} attempt(s); host key {client.host_key_fingerprint}")

        phase = "deploy"
        total = len(steps)
        for index, step in enumerate(steps, 1):
            label = f"step {index}/{total} ({step.describe() if hasattr(step, 'describe') else step})"
            if time.monotonic() >= deadline:
                run.fail(f"{label} not started: the {timeout:g}s deadline passed", phase, None, step=step)
            result = _run_step(run, step, node, client, label, max_tries, deadline)
            if isinstance(result, Node):
                node = run.node = result
            status = getattr(step, "exit_status", None)
            if isinstance(status, int) and status != 0:
                stderr = getattr(step, "stderr", None) or ""
                tail = stderr[-_STDERR_TAIL:]
                run.fail(f"{label} exited with status {status}: {excerpt(tail[-300:])}", phase, None,
                         step=step, exit_status=status, stderr=tail)
            run.emit("step", f"{label} done", index, total)
        run.emit("deployed", f"deployed in {time.monotonic() - run.started:.1f}s")
        return node
    except DeploymentError:
        raise
    except Exception as exc:
        run.fail(f"{phase} failed: {type(exc).__name__}: {exc}", phase, exc)
    except BaseException:
        interrupted = True
        log.warning("deploy interrupted: node %s (%s) was created and is left in place", node.name, node.id)
        raise
    finally:
        if client is not None:
            client.close()
        if at_exit_func is not None and not interrupted:
            atexit.unregister(at_exit_func)


def _run_step(run: _Run, step: Deployment, node: Node, client: SSHClient, label: str, max_tries: int,
              deadline: float) -> Node:
    """Run one step, again (up to ``max_tries`` runs) when it raises; a command timeout is final."""
    for attempt in range(1, max_tries + 1):
        try:
            return step.run(node, client)
        except SSHCommandTimeoutError as exc:
            run.fail(f"{label} failed: {type(exc).__name__}: {exc}", "deploy", exc, step=step)
        except (CloudkitError, OSError) as exc:
            if attempt >= max_tries or time.monotonic() >= deadline:
                tries = f" after {attempt} tries" if attempt > 1 else ""
                run.fail(f"{label} failed{tries}: {type(exc).__name__}: {exc}", "deploy", exc, step=step)
            log.info("%s raised %s (try %d of %d); running it again", label, type(exc).__name__,
                     attempt, max_tries)
            if not client.connected:
                client.connect(retry_until=deadline)
    raise AssertionError("unreachable")  # pragma: no cover


def _banner(address: str, port: int, timeout: float) -> str:
    """Connect and read the server's SSH identification line (raises OSError/ValueError)."""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        data = b""
        ends = time.monotonic() + timeout
        while b"\n" not in data and len(data) < 1024 and time.monotonic() < ends:
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("SSH-"):
            return line.strip()
    raise ValueError("no SSH banner received")


def probe_node(
    driver: NodeDriver,
    node: Node,
    ssh_key: str | os.PathLike[str] | paramiko.PKey | None = None,
    ssh_username: str = "root",
    ssh_port: int = 22,
    ssh_interface: str = "public_ips",
    timeout: float = 10.0,
    ssh_password: str | None = None,
    ssh_key_password: str | None = None,
    ssh_host_key_policy: str = "accept-new",
    ssh_known_hosts: str | os.PathLike[str] | None = None,
    ssh_host_keys: KnownHosts | None = None,
) -> ProbeResult:
    """Check once (within ``timeout`` seconds) whether SSH on ``node`` answers and the
    login works; report the node's kernel and uptime line. Never raises for a down host,
    a refused login or an unusable key: the result says what was found."""
    from cloudkit.ssh import SSHClient

    if ssh_interface not in ("public_ips", "private_ips"):
        raise ConfigurationError("ssh_interface must be 'public_ips' or 'private_ips'")
    started = time.monotonic()
    deadline = started + timeout
    addresses = _ordered_addresses(list(getattr(node, ssh_interface, None) or []))
    result = ProbeResult(node, addresses[0] if addresses else None, ssh_port)
    if not addresses:
        result.error = f"node {node.id} has no address on {ssh_interface}"
        return result
    errors = []
    for address in addresses:
        try:
            result.banner = _banner(address, ssh_port, max(deadline - time.monotonic(), 0.05))
        except (OSError, ValueError) as exc:
            errors.append(f"{address}: {getattr(exc, 'strerror', None) or exc or type(exc).__name__}")
            continue
        result.address, result.reachable = address, True
        break
    if not result.reachable:
        result.error = f"SSH not reachable on port {ssh_port}: {'; '.join(errors)}"
        result.elapsed = time.monotonic() - started
        return result
    assert result.address is not None
    client: SSHClient | None = None
    try:
        client = SSHClient(result.address, ssh_port, ssh_username, password=ssh_password, key=ssh_key,
                           passphrase=ssh_key_password, timeout=timeout,
                           host_key_policy=ssh_host_key_policy, known_hosts=ssh_known_hosts,
                           host_keys=ssh_host_keys, keepalive=0, deadline=deadline)
        client.connect()
        result.auth_ok = True
        result.host_key_fingerprint = client.host_key_fingerprint
        out, err, status = client.run("uname -srm; uptime", timeout=max(deadline - time.monotonic(), 0.05))
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        result.detail = " | ".join(lines) if lines else None
        if status != 0 and result.detail is None:
            result.error = f"uname/uptime exited {status}: {excerpt(err)}"
    except (CloudkitError, OSError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    result.elapsed = time.monotonic() - started
    return result
