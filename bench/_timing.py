"""Interleaved timing: every contender is measured in the same rounds, in rotating order.

On a shared, noisy machine a burst of load hits whichever contender happens to run; taking
turns (A B C, B C A, C A B, ...) spreads that over all of them, and the medians of the
per-call times shrug off the bursts that remain.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench import _env


def interleave(contenders: Mapping[str, Callable[[], Any]], rounds: int, *, warmup: int = 0,
               check: Callable[[str, Any], None] | None = None) -> dict[str, list[float]]:
    """Call each contender once per round (order rotating); return seconds per call.

    ``warmup`` untimed rounds first. ``check(name, result)`` sees every result (outside
    the timed section) and raises when one is wrong.
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            result = contenders[name]()
            if check is not None:
                check(name, result)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            fn = contenders[name]
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            if check is not None:
                check(name, result)
            del result
            samples[name].append(elapsed)
    return samples


def run_process(code: str, timeout: float = 300.0) -> float:
    """Seconds a fresh ``python -c code`` takes from start to exit (fails loudly on error)."""
    import sys

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=_env.child_env(), cwd=_env.ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child process failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return elapsed


def per_call_ms(samples: Sequence[float]) -> list[float]:
    return [s * 1000.0 for s in samples]
