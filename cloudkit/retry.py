"""The retry policy: what is retried, how often, and how long to wait.

Modelled on the ``Retry`` class of the HTTP library under requests: a value object that
owns the decision. ``RetryPolicy.wait_before_retry(error, ...)`` answers, for one failed
try, whether to try again and after how many seconds:

* 429 (``RateLimitError``) and failures to connect (the request never left) are retried for
  every method;
* 5xx (500/502/503/504 by default) and failures after the request was sent only for
  idempotent requests, so a POST that may have reached the server is never repeated (a
  create must not make two servers);
* a TLS failure, any other status, and anything not a cloudkit transport or server error is
  never retried;
* backoff is exponential with full jitter, a server's ``Retry-After`` (or rate-limit reset)
  is honoured as given, and no retry starts once the budget would be crossed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from cloudkit.errors import NetworkError, RateLimitError, ServerError, TLSError
from cloudkit.response import parse_retry_after

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "is_idempotent", "retry_after_header"]

#: Methods that may be repeated without changing the outcome (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def is_idempotent(method: str, idempotent: bool | None = None) -> bool:
    """``idempotent`` when given (a provider's POST that is safe to repeat may say so), else
    whether ``method`` is idempotent."""
    return method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how often and how long cloudkit waits between tries.

    ``max_retries`` extra tries at most (0 turns retrying off), waits of
    ``backoff_base * 2**attempt`` seconds with full jitter capped at ``backoff_max``,
    a server's ``Retry-After`` honoured as given, and no retry once ``budget`` seconds
    have passed since the first try (a wait that would cross it is not started).
    """

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 16.0
    budget: float = 60.0
    idempotent_statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        import random  # imported on first use: importing cloudkit stays quick

        if retry_after is not None:
            # The server said when; add a little jitter so many clients do not stampede.
            return retry_after + random.uniform(0, min(0.25, retry_after * 0.1 + 0.05))
        cap = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return random.uniform(cap / 2, cap)

    def retryable(self, error: BaseException, *, method: str, idempotent: bool | None = None) -> bool:
        """Whether ``error`` (the failure of one try of a ``method`` request) may be retried
        at all, whatever the count and the time spent."""
        safe = is_idempotent(method, idempotent)
        if isinstance(error, RateLimitError):
            return True
        if isinstance(error, ServerError):
            return safe and error.status in self.idempotent_statuses
        if isinstance(error, TLSError):
            return False
        if isinstance(error, NetworkError):
            return safe or not error.sent
        return False

    def wait_before_retry(self, error: BaseException, *, method: str, idempotent: bool | None = None,
                          attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before trying again after ``error``, or None when the request must
        not be retried: ``attempt`` is the 0-based number of the try that failed and
        ``elapsed`` the seconds since the first try started."""
        if attempt >= self.max_retries or not self.retryable(error, method=method, idempotent=idempotent):
            return None
        retry_after: float | None = None
        if isinstance(error, RateLimitError):
            retry_after = error.retry_after
        elif isinstance(error, ServerError):
            retry_after = retry_after_header(error.headers)
        wait = self.backoff(attempt, retry_after)
        if elapsed + wait > self.budget:
            return None
        return wait

    def with_options(self, *, max_retries: int | None = None, budget: float | None = None) -> RetryPolicy:
        """A copy with ``max_retries`` and/or ``budget`` changed (None keeps the value)."""
        policy = self
        if max_retries is not None:
            policy = replace(policy, max_retries=max_retries)
        if budget is not None:
            policy = replace(policy, budget=float(budget))
        return policy


def retry_after_header(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` header among ``headers`` (any case), or None."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            return parse_retry_after(value)
    return None
