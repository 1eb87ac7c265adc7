"""A bounded wait for the storage methods until ``NodeDriver.poll_until`` (issue 17a) lands.

Same signature and meaning as the agreed ``NodeDriver.poll_until(check, *, timeout,
interval=..., what=...)``: call ``check`` until it returns something truthy and return that;
raise ``WaitTimeoutError`` naming ``what`` once ``timeout`` seconds have passed. The only
``time.sleep`` the storage code reaches; to be replaced by the driver's ``poll_until``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from cloudkit.errors import WaitTimeoutError

__all__ = ["poll_until"]

T = TypeVar("T")


def poll_until(check: Callable[[], T | None], *, timeout: float, interval: float = 3.0,
               what: str = "the provider") -> T:
    """``check()``'s first truthy value, polling quickly at first and then every ``interval``
    seconds; WaitTimeoutError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + max(0.0, timeout)
    delay = min(0.25, interval)
    while True:
        result = check()
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(f"waiting for {what}: not done within {timeout:g}s", condition=what)
        time.sleep(min(delay, remaining))
        delay = min(interval, max(delay * 1.6, 0.01)) if interval > 0 else 0.0
