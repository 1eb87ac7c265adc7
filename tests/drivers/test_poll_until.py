"""NodeDriver.poll_until: the one wait loop every driver uses."""

from __future__ import annotations

import pytest

import cloudkit.waiting as waiting_module
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.errors import WaitTimeoutError


class _Clock:
    """A fake monotonic clock that advances only when the loop sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(waiting_module.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(waiting_module.time, "sleep", fake.sleep)
    return fake


def test_returns_the_first_truthy_value(clock: _Clock) -> None:
    answers = iter([None, 0, "", "ready", "later"])
    result = DummyNodeDriver().poll_until(lambda: next(answers), timeout=60, interval=2.0)
    assert result == "ready"
    assert len(clock.sleeps) == 3


def test_backs_off_from_a_short_first_pause_to_interval(clock: _Clock) -> None:
    calls = []

    def check() -> bool:
        calls.append(1)
        return len(calls) > 8

    assert DummyNodeDriver().poll_until(check, timeout=600, interval=2.0) is True
    assert clock.sleeps[0] == pytest.approx(0.25)
    assert all(b >= a for a, b in zip(clock.sleeps, clock.sleeps[1:], strict=False))
    assert max(clock.sleeps) == pytest.approx(2.0)


def test_timeout_names_what_was_awaited(clock: _Clock) -> None:
    with pytest.raises(WaitTimeoutError) as info:
        DummyNodeDriver().poll_until(lambda: None, timeout=10, interval=1.0, what="the moon rising")
    assert "the moon rising" in str(info.value)
    assert info.value.condition == "the moon rising"
    assert clock.now - 100.0 <= 10.0 + 1e-9  # no pause runs past the deadline
    assert len(clock.sleeps) < 30  # bounded


def test_on_timeout_chooses_the_error(clock: _Clock) -> None:
    with pytest.raises(WaitTimeoutError, match="custom"):
        DummyNodeDriver().poll_until(lambda: None, timeout=1, on_timeout=lambda: WaitTimeoutError("custom"))


def test_check_may_end_the_wait_by_raising(clock: _Clock) -> None:
    def check() -> None:
        raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        DummyNodeDriver().poll_until(check, timeout=5)
    assert clock.sleeps == []
