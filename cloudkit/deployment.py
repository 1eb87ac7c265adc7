"""Deployment steps run over SSH on a new node (names as in ``libcloud.compute.deployment``).

Each step's ``run(node, client)`` does its work through a connected
:class:`cloudkit.ssh.SSHClient` and returns the node. Steps that run a command keep its
``stdout``, ``stderr`` and ``exit_status``; they do not raise for a non-zero exit status
(``deploy_node`` treats one as a failure and stops there). Reprs never show script text or
key material.

Importing this module (and the step classes) loads no paramiko: the SSH client is loaded
when a step needs it (an ``SSHKeyDeployment`` deriving a public key, a deployment running).
"""

from __future__ import annotations

import os
import secrets
import shlex
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cloudkit.errors import ConfigurationError, SSHAuthenticationError
from cloudkit.models import Node
from cloudkit.sshkeys import parse_public_key

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.ssh import SSHClient

__all__ = [
    "EVENT_PHASES",
    "DeployEvent",
    "Deployment",
    "FileDeployment",
    "MultiStepDeployment",
    "ProbeResult",
    "SSHKeyDeployment",
    "ScriptDeployment",
    "ScriptFileDeployment",
]

#: Phases reported to ``progress`` (in order): the node exists, it runs with an address,
#: SSH accepted the login, one step finished, everything finished; or it failed.
EVENT_PHASES = ("created", "running", "ssh_ready", "step", "deployed", "failed")


@dataclass(frozen=True)
class DeployEvent:
    """One progress report of ``deploy_node``: ``phase`` (see ``EVENT_PHASES``), the node
    (as last seen), a message without secrets, ``step``/``total`` for step events, and the
    seconds since ``deploy_node`` started."""

    phase: str
    node: Node | None
    message: str
    step: int | None = None
    total: int | None = None
    elapsed: float = 0.0


@dataclass
class ProbeResult:
    """What ``probe_node`` found. ``reachable``: an SSH server answered on ``address``;
    ``auth_ok``: the login worked; ``detail``: the kernel/uptime line the node reported;
    ``error``: why something did not work."""

    node: Node
    address: str | None
    port: int
    reachable: bool = False
    auth_ok: bool = False
    banner: str | None = None
    detail: str | None = None
    error: str | None = None
    host_key_fingerprint: str | None = None
    elapsed: float = 0.0


class Deployment(ABC):
    """One deployment step. ``exit_status`` is set by steps that run a command."""

    exit_status: int | None = None
    stdout: str | None = None
    stderr: str | None = None

    @abstractmethod
    def run(self, node: Node, client: SSHClient) -> Node:
        """Do this step on ``node`` through the connected ``client``; return the node."""

    def describe(self) -> str:
        """A short, secret-free description for progress messages."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def _read_value(value: str | IO[str], what: str) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "read"):
        text = value.read()
        if isinstance(text, str):
            return text
    raise ConfigurationError(f"{what} must be a string or a text file object")


class SSHKeyDeployment(Deployment):
    """Add a public key to the login user's ``~/.ssh/authorized_keys``.

    ``key`` is an OpenSSH public key line, a file object holding one, a ``.pub`` path, or a
    private key (path or text) whose public half is derived. ``~/.ssh`` is created with mode
    0700 and the file with 0600; a key already present (same key data, whatever its comment)
    is not added again.
    """

    def __init__(self, key: str | IO[str]) -> None:
        from cloudkit.ssh import public_key_line  # paramiko: only when a key is given

        text = _read_value(key, "key").strip()
        try:
            line = public_key_line(text)
        except SSHAuthenticationError as exc:
            raise ConfigurationError(
                f"key is neither a public key line nor a usable key file: {exc}") from None
        kind, _, _ = parse_public_key(line)
        self.key = line
        self.key_type = kind

    def describe(self) -> str:
        return f"SSHKeyDeployment {self.key_type}"

    def _script(self) -> str:
        blob = shlex.quote(self.key.split()[1])
        line = shlex.quote(self.key)
        return (
            'umask 077; d="$HOME/.ssh"; f="$d/authorized_keys"; '
            'mkdir -p "$d" && chmod 700 "$d" && touch "$f" && chmod 600 "$f" || exit 1; '
            f'if grep -qF -- {blob} "$f"; then exit 0; fi; '
            'if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi; '
            f'printf "%s\\n" {line} >> "$f"'
        )

    def run(self, node: Node, client: SSHClient) -> Node:
        """Append the key (once) over ``client``; keeps stdout, stderr and exit_status."""
        self.stdout, self.stderr, self.exit_status = client.run(f"/bin/sh -c {shlex.quote(self._script())}")
        return node


class ScriptDeployment(Deployment):
    """Upload ``script`` and run it with ``args`` (each shell-quoted).

    The script is written (mode 0700) to ``name``, relative to the login user's home unless
    absolute (default: a random ``cloudkit_deploy_XXXXXXXX.sh``), then executed; a ``#!``
    line picks the interpreter, ``sh`` runs it otherwise. ``sudo=True`` runs it through
    ``sudo -n`` when the login user is not root. ``timeout`` bounds the run (``deploy_node``
    also caps it by its overall deadline). ``delete=True`` removes the file afterwards.
    After ``run``, ``stdout``, ``stderr`` and ``exit_status`` hold the outcome.
    """

    def __init__(self, script: str, args: Sequence[str] | None = None, name: str | None = None,
                 delete: bool = False, sudo: bool = False, timeout: float | None = None) -> None:
        if not isinstance(script, str):
            raise ConfigurationError("script must be a string")
        if isinstance(args, str):
            raise ConfigurationError("args must be a list of strings, not one string")
        self.script = script
        self.args = [str(a) for a in args] if args else []
        self.name = name or f"cloudkit_deploy_{secrets.token_hex(4)}.sh"
        self.delete = delete
        self.sudo = sudo
        self.timeout = timeout
        self.stdout: str | None = None
        self.stderr: str | None = None
        self.exit_status: int | None = None

    def describe(self) -> str:
        return f"{type(self).__name__} {self.name}"

    def command(self) -> str:
        """The shell command that runs the uploaded script."""
        path = self.name[2:] if self.name.startswith("~/") else self.name
        target = shlex.quote(path if path.startswith("/") else f"./{path}")
        cmd = " ".join([target, *(shlex.quote(a) for a in self.args)])
        if self.delete:
            cmd = f"{cmd}; rc=$?; rm -f {target}; exit $rc"
        return cmd

    def run(self, node: Node, client: SSHClient) -> Node:
        """Upload and run the script; keeps stdout, stderr and exit_status."""
        client.put(self.name, self.script, mode=0o700)
        self.stdout, self.stderr, self.exit_status = client.run(
            self.command(), timeout=self.timeout, sudo=self.sudo)
        return node


class ScriptFileDeployment(ScriptDeployment):
    """A :class:`ScriptDeployment` whose script is read from the local file ``script_file``."""

    def __init__(self, script_file: str | os.PathLike[str], args: Sequence[str] | None = None,
                 name: str | None = None, delete: bool = False, sudo: bool = False,
                 timeout: float | None = None) -> None:
        path = Path(os.path.expanduser(os.fspath(script_file)))
        try:
            script = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read script file {path}: {exc.strerror or type(exc).__name__}") from None
        self.script_file = str(path)
        super().__init__(script, args=args, name=name, delete=delete, sudo=sudo, timeout=timeout)


class FileDeployment(Deployment):
    """Upload the local file ``source`` to ``target`` over SFTP.

    ``mode`` defaults to the local file's permission bits. A relative ``target`` (or one
    starting ``~/``) is relative to the login user's home.
    """

    def __init__(self, source: str | os.PathLike[str], target: str, mode: int | None = None) -> None:
        self.source = os.path.expanduser(os.fspath(source))
        if not os.path.isfile(self.source):
            raise ConfigurationError(f"local file {self.source} does not exist")
        self.target = target
        self.mode = mode if mode is not None else os.stat(self.source).st_mode & 0o7777

    def describe(self) -> str:
        return f"FileDeployment {self.target}"

    def run(self, node: Node, client: SSHClient) -> Node:
        """Upload the file."""
        client.put(self.target, local_path=self.source, mode=self.mode)
        return node


class MultiStepDeployment(Deployment):
    """Several steps run in order. On its own, ``run`` runs every step (as libcloud does);
    ``deploy_node`` runs them one by one and stops at the first failing one."""

    def __init__(self, add: Deployment | Iterable[Deployment] | None = None, *,
                 steps: Iterable[Deployment] | None = None) -> None:
        self.steps: list[Deployment] = []
        if add is not None:
            self.add(add)
        if steps is not None:
            self.add(steps)

    def add(self, add: Deployment | Iterable[Deployment]) -> None:
        """Append a step or several."""
        items = [add] if isinstance(add, Deployment) else list(add)
        for item in items:
            if not isinstance(item, Deployment):
                raise ConfigurationError(f"deployment steps must be Deployment objects, not "
                                         f"{type(item).__name__}")
        self.steps.extend(items)

    def describe(self) -> str:
        return f"MultiStepDeployment of {len(self.steps)} steps"

    def run(self, node: Node, client: SSHClient) -> Node:
        """Run every step in order."""
        for step in self.steps:
            node = step.run(node, client)
        return node
