"""Simulators in their own processes (``python -m cloudkit.testing.simulator``).

The benchmark never serves the API from its own process: a server sharing the client's GIL
would bill its JSON rendering and socket handling to whichever client is being measured,
and the libcloud and raw-requests baselines would pay a different share than cloudkit.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
from types import TracebackType
from urllib.parse import urlsplit

from bench import _env

__all__ = ["SimProcess", "start_many"]


class SimProcess:
    """One simulated account served by a child process on 127.0.0.1.

    ``SimProcess("linode", seed=10_000, latency=0.03)``; ``with`` starts it and waits for
    its connection details (``base_url``, ``token``), leaving the block stops it.
    """

    def __init__(self, provider: str, *, seed: int = 0, latency: float = 0.0, boot_seconds: float = 0.5,
                 ssh_port: int | None = None, start_timeout: float = 120.0) -> None:
        self.provider = provider
        self.seed = seed
        self.latency = latency
        self.boot_seconds = boot_seconds
        self.ssh_port = ssh_port
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.token = ""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    def start(self) -> SimProcess:
        """Launch the child and wait until it serves."""
        return self.launch().wait_ready()

    def launch(self) -> SimProcess:
        """Launch the child without waiting (see ``wait_ready``)."""
        args = [sys.executable, "-m", "cloudkit.testing.simulator", "--provider", self.provider, "--json",
                "--seed", str(self.seed), "--latency", str(self.latency),
                "--boot-seconds", str(self.boot_seconds), "--action-seconds", "0.1"]
        if self.ssh_port is not None:
            args += ["--ssh-port", str(self.ssh_port)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=_env.child_env(), cwd=_env.ROOT)
        return self

    def wait_ready(self) -> SimProcess:
        """Read the child's connection details (it prints them once it serves)."""
        assert self.proc is not None and self.proc.stdout is not None
        ends = time.monotonic() + self.start_timeout
        line = ""
        while time.monotonic() < ends:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line:
            err = self._stop_and_read_stderr()
            raise RuntimeError(f"the {self.provider} simulator did not start: {err.strip()[-500:]}")
        info = json.loads(line)
        self.base_url = info["base_url"]
        self.token = info["token"]
        if urlsplit(self.base_url).hostname != "127.0.0.1":
            self.stop()
            raise RuntimeError(f"the simulator is not on loopback: {self.base_url}")
        if int(info.get("nodes", -1)) != self.seed:
            self.stop()
            raise RuntimeError(f"the simulator seeded {info.get('nodes')} servers, not {self.seed}")
        return self

    def _stop_and_read_stderr(self) -> str:
        proc = self.proc
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        return err or ""

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 10 s); idempotent."""
        if self.proc is not None:
            self._stop_and_read_stderr()
            self.proc = None

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SimProcess {self.provider} {self.base_url or 'stopped'} seed={self.seed}>"


def start_many(sims: list[SimProcess]) -> list[SimProcess]:
    """Start several simulators (their seeding overlaps); stops the started ones on failure."""
    try:
        for sim in sims:
            sim.launch()
        for sim in sims:
            sim.wait_ready()
    except BaseException:
        for sim in sims:
            sim.stop()
        raise
    return sims
