"""The stability rule: when a measurement's windows disagree too much to be believed."""

from __future__ import annotations

from autoaccel.measure import instability, is_bimodal


def test_a_machine_taken_away_for_part_of_the_run_is_bimodal() -> None:
    # The windows of a real deploy baseline on a busy 2-core machine.
    windows = [2778, 2774, 49207, 2811, 35102, 72219, 70986]
    assert is_bimodal(windows)
    reason = instability(windows)
    assert reason is not None and "two groups" in reason


def test_steady_windows_are_stable() -> None:
    assert instability([1000, 1010, 990, 1005, 995, 1002, 998]) is None


def test_one_outlier_window_is_noise_not_a_second_mode() -> None:
    windows = [1000, 1010, 990, 1005, 995, 1002, 400]
    assert not is_bimodal(windows)
    assert instability(windows) is None


def test_a_wide_spread_without_two_groups_is_unstable() -> None:
    windows = [600, 700, 800, 900, 1000, 1100, 1200]
    assert not is_bimodal(windows)
    reason = instability(windows)
    assert reason is not None and "spread" in reason


def test_the_spread_threshold_is_the_caller_s() -> None:
    windows = [900, 950, 1000, 1050, 1100]
    assert instability(windows, max_spread=0.05) is not None
    assert instability(windows, max_spread=0.5) is None


def test_too_few_windows_cannot_be_judged_unstable() -> None:
    assert instability([100.0]) is None
    assert not is_bimodal([100.0, 1000.0])
