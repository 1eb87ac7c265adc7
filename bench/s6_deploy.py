"""Scenario 6, ``deploy_node`` on the simulator with a real OpenSSH sshd.

The simulated server's address is 127.0.0.1 and its SSH port a gate (``bench._gate``, its
own process) in front of a throwaway sshd (``cloudkit.testing.sshd``). The gate stays
closed (connections refused, as on a server still booting) until ``deploy_node`` reports
the node running and has been polling SSH for a while; then it opens, and the time it
opened (T0, the machine's monotonic clock) is what "SSH accepts connections" means here.
The measure is ``return time - T0 - the deployment step's own time`` (upload and run of a
one-line script). The waits before opening are spread over 0.25-1.75 s so the SSH poll is
caught at every phase of its back-off. Target: median <= 1 s.

Then ``deploy_concurrent`` (20) deploys run at once through the open gate: all must succeed.

Needs root, ``useradd`` and ``/usr/sbin/sshd``; otherwise the rows say why they were skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import _clients, _env
from bench._config import Context, log
from bench._report import FAIL, PASS, Row, median, skipped
from bench._sim import SimProcess

NAME = "deploy"


class _Gate:
    def __init__(self, target: int) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bench._gate", str(target)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env.child_env(), cwd=_env.ROOT)
        self.port = int(self._line())

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the SSH gate process exited")
        return line.strip()

    def _say(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._line()

    def open(self) -> float:
        return float(self._say("open").split()[1])

    def close(self) -> None:
        self._say("close")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self._say("quit")
            except (OSError, RuntimeError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _timed_script() -> Any:
    from cloudkit.deployment import ScriptDeployment

    class TimedScript(ScriptDeployment):
        """A ScriptDeployment that records how long its own run took."""

        seconds = 0.0

        def run(self, node: Any, client: Any) -> Any:
            started = time.monotonic()
            try:
                return super().run(node, client)
            finally:
                self.seconds = time.monotonic() - started

    return TimedScript("#!/bin/sh\necho deployed-by-bench\n", delete=True)


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    single = f"deploy_node: SSH ready -> return, minus the step ({cfg.deploy_sequential} deploys)"
    many = f"deploy_node x{cfg.deploy_concurrent} concurrently"
    try:
        from cloudkit.testing.sshd import start_sshd, unavailable_reason
    except ImportError as exc:  # pragma: no cover - the harness ships with cloudkit
        missing = f"cloudkit.testing.sshd is missing: {exc}"
        return [skipped(NAME, provider, single, missing), skipped(NAME, provider, many, missing)]
    reason = unavailable_reason()
    if reason is not None:
        return [skipped(NAME, provider, single, reason), skipped(NAME, provider, many, reason)]
    from cloudkit.sshkeys import generate_key_pair

    log(f"{NAME} {provider}: {cfg.deploy_sequential} timed deploys, then {cfg.deploy_concurrent} at once")
    workdir = Path(tempfile.mkdtemp(prefix="cloudkit-bench-"))
    private, public = generate_key_pair("ed25519", comment="cloudkit-bench")
    key_path = workdir / "id_ed25519"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private)
    sshd = start_sshd(user_prefix="ckb_")
    gate: _Gate | None = None
    sim: SimProcess | None = None
    try:
        sshd.authorize(public)
        gate = _Gate(sshd.port)
        sim = SimProcess(provider, boot_seconds=0.3, ssh_port=gate.port).start()
        driver = _clients.cloudkit_driver(sim)
        size, image = driver.list_sizes()[0], driver.list_images()[0]
        location = driver.list_locations()[0]

        def deploy(name: str, step: Any, progress: Any = None) -> Any:
            return driver.deploy_node(name=name, size=size, image=image, location=location, deploy=step,
                                      ssh_key=str(key_path), ssh_username=sshd.user, ssh_port=gate.port,
                                      timeout=120, ssh_timeout=10, progress=progress)

        latencies: list[float] = []
        steps: list[float] = []
        count = cfg.deploy_sequential
        for index in range(count):
            running = threading.Event()
            outcome: dict[str, Any] = {}
            step = _timed_script()

            def progress(event: Any, running: threading.Event = running) -> None:
                if event.phase == "running":
                    running.set()

            def target(step: Any = step, outcome: dict[str, Any] = outcome, index: int = index,
                       progress: Any = progress, running: threading.Event = running) -> None:
                try:
                    deploy(f"bench-{index}", step, progress)
                    outcome["done"] = time.monotonic()
                except Exception as exc:
                    outcome["error"] = exc
                    running.set()

            worker = threading.Thread(target=target, daemon=True)
            worker.start()
            if not running.wait(60):
                raise RuntimeError("deploy_node never reported the node running")
            time.sleep(0.25 + 1.5 * (index / max(1, count - 1)) if count > 1 else 0.8)
            opened = gate.open()
            worker.join(120)
            gate.close()
            if "error" in outcome:
                raise RuntimeError(f"deploy_node failed: {outcome['error']!r}")
            if "done" not in outcome:
                raise RuntimeError("deploy_node did not return within 120 s of SSH opening")
            latencies.append(outcome["done"] - opened - step.seconds)
            steps.append(step.seconds)

        log(f"{NAME} {provider}: {cfg.deploy_concurrent} concurrent deploys")
        gate.open()
        results: list[Any] = [None] * cfg.deploy_concurrent

        def one(i: int) -> None:
            try:
                results[i] = deploy(f"bench-many-{i}", _timed_script())
            except Exception as exc:
                results[i] = exc

        started = time.monotonic()
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(cfg.deploy_concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        wall = time.monotonic() - started
        errors = [r for r in results if r is None or isinstance(r, Exception)]
        ok = cfg.deploy_concurrent - len(errors)
    finally:
        if gate is not None:
            gate.stop()
        if sim is not None:
            sim.stop()
        sshd.stop()
        key_path.unlink(missing_ok=True)
        workdir.rmdir()
    note = (f"max {max(latencies):.3f} s; deployment step itself (upload + run) median {median(steps):.3f} s; "
            "SSH retried every 0.2 s growing to 0.8 s")
    rows = [Row(NAME, provider, single, median(latencies), "s", "", None, 1.0, samples=len(latencies), note=note)]
    first_error = next((e for e in errors if e is not None), None)
    rows.append(Row(NAME, provider, many, float(ok), "", "", None, None, verdict=PASS if not errors else FAIL,
                    samples=1, note=f"{ok}/{cfg.deploy_concurrent} succeeded in {wall:.1f} s"
                    + (f"; first error: {first_error!r}"[:300] if first_error is not None else "")))
    return rows
