"""Timed windows and their statistics, with a fake clock."""

from __future__ import annotations

import pytest

from autoaccel.measure import Throughput
from autoaccel.measure._windows import StepWindows


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_windows_close_after_their_steps_and_sync_at_edges() -> None:
    clock = FakeClock()
    syncs = []
    windows = StepWindows(2, lambda: syncs.append(clock.now), clock)
    windows.start()
    for step_time, wait in [(0.1, 0.02), (0.1, 0.0), (0.2, 0.05), (0.2, 0.05)]:
        clock.now += step_time
        closed = windows.add_step(samples=10, data_wait_s=wait)
        assert closed == (len(windows.rates) * 2 == windows.timed_steps and closed)
    assert windows.rates == pytest.approx([20 / 0.2, 20 / 0.4])
    assert syncs == pytest.approx([0.0, 0.2, 0.6])  # start, then each window edge
    assert windows.timed_steps == 4
    assert windows.data_wait_share() == pytest.approx(0.12 / 0.6)


def test_an_unfinished_window_is_not_counted() -> None:
    clock = FakeClock()
    windows = StepWindows(3, lambda: None, clock)
    windows.start()
    clock.now += 1
    windows.add_step(5)
    assert windows.rates == []
    assert windows.data_wait_share() is None


def test_add_step_before_start_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        StepWindows(1, lambda: None).add_step(1)


def test_throughput_median_quartiles_and_spread() -> None:
    t = Throughput.from_windows([100, 110, 90, 105, 95])
    assert t.median == 100
    assert (t.q1, t.q3) == (95, 105)
    assert t.spread == pytest.approx(0.1)
    assert Throughput.from_windows([50]).spread == 0.0
    with pytest.raises(ValueError):
        Throughput.from_windows([])
