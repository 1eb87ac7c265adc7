"""Where things are, what child processes get, and whether the baselines are installed."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

#: The repository root (the directory holding ``cloudkit/`` and ``bench/``).
ROOT = Path(__file__).resolve().parent.parent

LIBCLOUD_VERSION = "3.9.1"


def child_env() -> dict[str, str]:
    """The environment for child processes: ours, with the repository on ``PYTHONPATH``.

    Nothing else is changed: proxy variables, ``REQUESTS_CA_BUNDLE`` and ``NETRC`` reach
    every client exactly as the user set them (requests, and so cloudkit, honour them).
    """
    env = dict(os.environ)
    parts = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(ROOT)]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def libcloud_missing() -> str | None:
    """Why the libcloud baseline cannot run (one line), or None when it can."""
    try:
        import libcloud
    except ImportError:
        return ("Apache libcloud is not installed: pip install 'apache-libcloud==3.9.1' "
                "(or pip install '.[bench]')")
    version = getattr(libcloud, "__version__", "?")
    if version != LIBCLOUD_VERSION:
        return None if os.environ.get("BENCH_ANY_LIBCLOUD") else (
            f"libcloud {version} is installed; the benchmark is written for {LIBCLOUD_VERSION} "
            "(set BENCH_ANY_LIBCLOUD=1 to use it anyway)")
    return None


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "?"
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    try:
        import requests

        requests_version = requests.__version__
    except ImportError:
        requests_version = "-"
    try:
        import libcloud

        libcloud_version = str(libcloud.__version__)
    except ImportError:
        libcloud_version = "-"
    return {
        "nproc": str(os.cpu_count() or "?"),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "requests": requests_version,
        "libcloud": libcloud_version,
        "load average (1, 5, 15 min) at start": load,
        "git": _git_head(),
    }


def _git_head() -> str:
    """The commit measured, marked when cloudkit/ has changes not committed yet."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "cloudkit"],
                               capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    if not head:
        return "?"
    return head + (" + uncommitted changes in cloudkit/" if dirty else "")
