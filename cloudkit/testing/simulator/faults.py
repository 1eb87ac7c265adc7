"""Fault injection for the simulator: latency, error statuses, 429 storms, dropped
connections, slow and malformed answers. Thread-safe; change it while requests run.

Fault kinds (the ``kind`` of a rule or of a queued fault):

=================  ==========================================================================
``"500"``...       answer with that HTTP status (any 4xx/5xx) and the provider's error body;
                   the request is not carried out
``"5xx"``          a status picked from ``statuses`` (default 500, 502, 503, 504)
``"429"``          rate limited: the provider's error body, its rate-limit headers and
                   ``Retry-After: retry_after``; not carried out
``"drop"``         close the connection without an answer; not carried out
``"reset"``        like drop, but with a TCP reset
``"drop_after"``   carry the request out (a create really creates), then close without an
                   answer: the client cannot know whether it happened
``"slow"``         carry it out, then wait ``seconds`` before answering (past a read timeout)
``"truncated"``    carry it out, answer with the body cut in half (Content-Length matches)
``"incomplete"``   carry it out, announce the full length, send half, close
``"html"``         answer an HTML error page with status ``status`` (default 200); not carried out
``"delay"``        add ``seconds`` of latency and go on (combines with the other kinds)
``"ok"``           (queue only) answer this request normally
=================  ==========================================================================

Each rule may be limited to a ``method`` and a ``path`` (an exact path, or a glob such as
``"/v2/droplets*"``), to a ``count`` of uses, and fire with probability ``rate``.
``queue(...)`` adds one-shot faults used in order by the next matching requests.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["FAULT_KINDS", "FaultRule", "Faults"]

FAULT_KINDS = frozenset({
    "5xx", "429", "drop", "reset", "drop_after", "slow", "truncated", "incomplete", "html", "delay", "ok",
})
_ALIASES = {"drop_after_receipt": "drop_after", "malformed": "truncated", "timeout": "slow",
            "rate_limit": "429", "error": "5xx"}
DEFAULT_STATUSES = (500, 502, 503, 504)


def _normalise_kind(kind: str | int) -> str:
    text = str(kind).strip().lower()
    text = _ALIASES.get(text, text)
    if text.isdigit():
        status = int(text)
        if not 400 <= status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, got {status}")
        return text
    if text not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(FAULT_KINDS))} "
                         "or an HTTP status such as '503'")
    return text


@dataclass(eq=False)
class FaultRule:
    """One fault: what happens, how often, to which requests."""

    kind: str
    rate: float = 1.0
    count: int | None = None
    method: str | None = None
    path: str | None = None
    statuses: tuple[int, ...] = DEFAULT_STATUSES
    status: int | None = None
    retry_after: float = 1.0
    seconds: float = 5.0
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.kind = _normalise_kind(self.kind)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be 0 or more")
        self.method = self.method.upper() if self.method else None
        self.statuses = tuple(int(s) for s in self.statuses) or DEFAULT_STATUSES
        if self.kind.isdigit():
            self.status = int(self.kind)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request (ignores rate and count)."""
        if self.method is not None and self.method != method:
            return False
        if self.path is not None:
            if any(c in self.path for c in "*?["):
                return fnmatchcase(path, self.path)
            return path == self.path or path.rstrip("/") == self.path.rstrip("/")
        return True


#: Options of ``Faults.configure`` → (fault kind, extra rule fields it controls).
_RATE_OPTIONS = {
    "error_rate": "5xx",
    "rate_limit_rate": "429",
    "drop_rate": "drop",
    "drop_after_receipt_rate": "drop_after",
    "slow_rate": "slow",
    "malformed_rate": "truncated",
    "html_rate": "html",
}
_SETTINGS = {"latency", "error_statuses", "retry_after", "slow_seconds", "malformed_kind", "seed",
             "method", "path"}


class Faults:
    """The faults a simulator applies. Every method is safe to call from any thread.

    ``Faults(latency=0.03, error_rate=0.1)`` or later ``faults.configure(...)``:

    - ``latency``: seconds added to every request;
    - ``error_rate`` (with ``error_statuses``), ``rate_limit_rate`` (with ``retry_after``),
      ``drop_rate``, ``drop_after_receipt_rate``, ``slow_rate`` (with ``slow_seconds``),
      ``malformed_rate`` (with ``malformed_kind``: "truncated", "incomplete" or "html"),
      ``html_rate``: the share of requests that get that fault;
    - ``method`` / ``path``: limit those rate faults to matching requests;
    - ``seed``: make the random choices repeatable.
    """

    def __init__(self, **options: Any) -> None:
        self._lock = threading.Lock()
        self._latency = 0.0
        self._queue: list[FaultRule] = []
        self._rules: list[FaultRule] = []
        self._rate_rules: dict[str, FaultRule] = {}
        self._settings: dict[str, Any] = {
            "error_statuses": DEFAULT_STATUSES, "retry_after": 1.0, "slow_seconds": 5.0,
            "malformed_kind": "truncated", "method": None, "path": None,
        }
        self._rates: dict[str, float] = {}
        self._random = random.Random()
        self.applied: Counter[str] = Counter()
        self.configure(**options)

    # -- configuration ------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds added before every request is handled."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be 0 or more")
        self._latency = float(seconds)

    def configure(self, **options: Any) -> Faults:
        """Set latency and the rate-based faults (see the class docstring); returns self."""
        unknown = set(options) - set(_RATE_OPTIONS) - _SETTINGS
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        with self._lock:
            if "latency" in options:
                self.latency = options["latency"]
            if "seed" in options and options["seed"] is not None:
                self._random.seed(options["seed"])
            for name in ("error_statuses", "retry_after", "slow_seconds", "malformed_kind", "method", "path"):
                if name in options:
                    self._settings[name] = options[name]
            if "malformed_kind" in options and options["malformed_kind"] not in (
                    "truncated", "incomplete", "html"):
                raise ValueError("malformed_kind must be 'truncated', 'incomplete' or 'html'")
            for name in _RATE_OPTIONS:
                if name in options:
                    rate = float(options[name])
                    if not 0.0 <= rate <= 1.0:
                        raise ValueError(f"{name} must be between 0 and 1")
                    self._rates[name] = rate
            self._rebuild_rate_rules()
        return self

    def _rebuild_rate_rules(self) -> None:
        s = self._settings
        rules: dict[str, FaultRule] = {}
        for name, kind in _RATE_OPTIONS.items():
            rate = self._rates.get(name, 0.0)
            if rate <= 0:
                continue
            if name == "malformed_rate":
                kind = s["malformed_kind"]
            rules[name] = FaultRule(kind, rate=rate, method=s["method"], path=s["path"],
                                    statuses=tuple(s["error_statuses"]), retry_after=s["retry_after"],
                                    seconds=s["slow_seconds"])
        self._rate_rules = rules

    def add(self, kind: str | int, *, rate: float = 1.0, count: int | None = None, method: str | None = None,
            path: str | None = None, statuses: Iterable[int] = DEFAULT_STATUSES, status: int | None = None,
            retry_after: float = 1.0, seconds: float = 5.0) -> FaultRule:
        """Add a rule (kept until removed, or until ``count`` uses); returns it."""
        rule = FaultRule(str(kind), rate=rate, count=count, method=method, path=path,
                         statuses=tuple(statuses), status=status, retry_after=retry_after, seconds=seconds)
        with self._lock:
            self._rules.append(rule)
        return rule

    def queue(self, *kinds: str | int, method: str | None = None, path: str | None = None,
              retry_after: float = 1.0, seconds: float = 5.0, status: int | None = None) -> list[FaultRule]:
        """Answer the next matching requests with these faults, one each, then behave normally.

        ``queue("503", "503")``: the next two requests get 503. ``"ok"`` lets one through.
        """
        rules = [FaultRule(str(k), count=1, method=method, path=path, retry_after=retry_after,
                           seconds=seconds, status=status) for k in kinds]
        with self._lock:
            self._queue.extend(rules)
        return rules

    def storm(self, count: int, *, retry_after: float = 1.0, method: str | None = None,
              path: str | None = None) -> FaultRule:
        """A 429 storm: the next ``count`` matching requests are rate limited."""
        return self.add("429", count=count, retry_after=retry_after, method=method, path=path)

    def remove(self, rule: FaultRule) -> None:
        """Remove a rule added with ``add`` / ``storm`` (or a queued fault not used yet)."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)
            if rule in self._queue:
                self._queue.remove(rule)

    def clear(self) -> None:
        """No faults and no latency from now on (the ``applied`` counts stay)."""
        with self._lock:
            self._queue.clear()
            self._rules.clear()
            self._rates.clear()
            self._rate_rules = {}
            self._latency = 0.0

    @property
    def pending(self) -> int:
        """How many queued one-shot faults are still waiting."""
        with self._lock:
            return len(self._queue)

    def snapshot(self) -> dict[str, Any]:
        """The current configuration, for display."""
        with self._lock:
            return {
                "latency": self._latency,
                **{k: v for k, v in self._rates.items() if v},
                "rules": [(r.kind, r.rate, r.count, r.method, r.path) for r in self._rules],
                "queued": [r.kind for r in self._queue],
            }

    # -- used by the simulator ----------------------------------------------------------------

    def delay_for(self, method: str, path: str) -> float:
        """Latency plus any matching "delay" rules, in seconds."""
        if not self._rules:
            return self._latency
        extra = 0.0
        with self._lock:
            for rule in self._rules:
                if rule.kind == "delay" and rule.matches(method, path) and self._fires(rule):
                    extra += rule.seconds
                    self._use(rule)
            self._prune()
        return self._latency + extra

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The fault to apply to this request, if any (consumes queued and counted ones)."""
        if not (self._queue or self._rules or self._rate_rules):
            return None
        with self._lock:
            for rule in self._queue:
                if rule.matches(method, path):
                    self._queue.remove(rule)
                    rule.hits += 1
                    if rule.kind == "ok":
                        return None
                    self.applied[rule.kind] += 1
                    return rule
            chosen: FaultRule | None = None
            for rule in self._rules:
                if rule.kind == "delay" or not rule.matches(method, path):
                    continue
                if self._fires(rule):
                    chosen = rule
                    break
            if chosen is None:
                for rule in self._rate_rules.values():
                    if rule.matches(method, path) and self._fires(rule):
                        chosen = rule
                        break
            if chosen is not None:
                self._use(chosen)
                self._prune()
                self.applied[chosen.kind] += 1
            return chosen

    def _fires(self, rule: FaultRule) -> bool:
        if rule.count is not None and rule.hits >= rule.count:
            return False
        return rule.rate >= 1.0 or self._random.random() < rule.rate

    def _use(self, rule: FaultRule) -> None:
        rule.hits += 1

    def _prune(self) -> None:
        if any(r.count is not None and r.hits >= r.count for r in self._rules):
            self._rules = [r for r in self._rules if r.count is None or r.hits < r.count]

    def status_for(self, rule: FaultRule) -> int:
        """The HTTP status a status-kind rule answers with."""
        if rule.status is not None and rule.kind != "html":
            return rule.status
        with self._lock:
            return self._random.choice(rule.statuses)


def faults_from(options: Mapping[str, Any] | Faults | None, latency: float = 0.0) -> Faults:
    """A Faults object from constructor options (a mapping, a Faults, or None)."""
    if isinstance(options, Faults):
        if latency:
            options.latency = latency
        return options
    opts = dict(options or {})
    if latency and "latency" not in opts:
        opts["latency"] = latency
    return Faults(**opts)
