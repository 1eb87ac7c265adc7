"""Result rows, targets and the printed table."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PASS, MISS, SKIP, INFO, FAIL = "PASS", "MISS", "SKIP", "info", "FAIL"


def median(values: Sequence[float]) -> float:
    """The median (the benchmark never reports means: the machines are noisy)."""
    return float(statistics.median(values))


@dataclass
class Row:
    """One line of the results table.

    ``value`` is cloudkit's median; ``base``/``base_value`` the baseline it is compared
    with in the same run; ``ratio`` is always cloudkit / baseline (lower is better), and
    ``target`` the largest ratio (or, with no baseline, the largest value) that passes.
    """

    scenario: str
    provider: str
    measure: str
    value: float | None
    unit: str
    base: str = ""
    base_value: float | None = None
    target: float | None = None
    verdict: str = ""
    note: str = ""
    samples: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.base_value is None or self.base_value <= 0:
            return None
        return self.value / self.base_value

    def judge(self) -> Row:
        """Set ``verdict`` from the target (rows already marked SKIP/FAIL/info stay)."""
        if self.verdict:
            return self
        if self.target is None:
            self.verdict = INFO
            return self
        measured = self.ratio if self.base else self.value
        if measured is None:
            self.verdict = SKIP
        else:
            self.verdict = PASS if measured <= self.target else MISS
        return self


def skipped(scenario: str, provider: str, measure: str, reason: str, base: str = "") -> Row:
    """A row for something that could not be measured here, with the reason."""
    return Row(scenario, provider, measure, None, "", base=base, verdict=SKIP, note=reason)


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "":
        return f"{value:g}"
    return f"{value:g} {unit}"


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    if row.base:
        return f"<= {row.target:g}"
    return f"<= {_num(row.target, row.unit)}"


HEADERS = ("scenario", "provider", "measure", "cloudkit", "baseline", "baseline value", "ratio", "target",
           "result", "n", "note")


def cells(row: Row) -> list[str]:
    ratio = row.ratio
    return [row.scenario, row.provider, row.measure, _num(row.value, row.unit), row.base,
            _num(row.base_value, row.unit) if row.base else "",
            f"{ratio:.2f}" if ratio is not None else "", _target(row), row.verdict,
            str(row.samples) if row.samples else "", row.note]


def text_table(rows: Iterable[Row]) -> str:
    """A plain-text table for the terminal."""
    body = [cells(r) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(HEADERS)]
    widths[-1] = len(HEADERS[-1])  # notes are not padded
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for c in body:
        lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
    return "\n".join(lines)


def markdown_table(rows: Iterable[Row]) -> str:
    """The same table in Markdown (for docs/performance.md)."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for c in (cells(r) for r in rows):
        lines.append("| " + " | ".join(v.replace("|", "\\|") for v in c) + " |")
    return "\n".join(lines)
