"""Paired confirmation: ratios per round, bootstrap intervals, and who wins."""

from __future__ import annotations

import pytest

from autoaccel.recommend import Round, estimate, judge, ratios


def rounds_of(baseline: list[float], **candidates: list[float]) -> list[Round]:
    """Rounds from per-setup rate lists; candidate names are ``t<number>``."""
    return [
        Round(
            baseline=b,
            candidates={int(name[1:]): rates[i] for name, rates in candidates.items()},
        )
        for i, b in enumerate(baseline)
    ]


def test_each_ratio_pairs_a_candidate_with_its_own_round_s_baseline() -> None:
    # The machine slowed down by half in round 2: both sides of that round's ratio slowed.
    rounds = rounds_of([100, 50, 100], t3=[200, 100, 200])
    assert ratios(rounds, 3, None) == [2.0, 2.0, 2.0]


def test_a_failed_measurement_leaves_its_round_out_of_that_pair_only() -> None:
    rounds = [
        Round(baseline=100, candidates={3: None, 4: 150}),
        Round(baseline=100, candidates={3: 200, 4: 150}),
    ]
    assert ratios(rounds, 3, None) == [2.0]
    assert ratios(rounds, 4, None) == [1.5, 1.5]


def test_the_interval_holds_the_estimate_and_narrows_with_agreeing_rounds() -> None:
    noisy = estimate([1.5, 2.5, 1.8, 2.2])
    steady = estimate([2.0, 2.01, 1.99, 2.0])
    assert noisy is not None and steady is not None
    assert noisy.low <= noisy.value <= noisy.high
    assert steady.high - steady.low < noisy.high - noisy.low
    assert steady.value == pytest.approx(2.0, rel=1e-3)


def test_the_estimate_is_the_geometric_mean_so_halving_and_doubling_cancel() -> None:
    found = estimate([2.0, 0.5])
    assert found is not None and found.value == pytest.approx(1.0)


def test_no_rounds_no_estimate() -> None:
    assert estimate([]) is None


def test_too_few_rounds_ask_for_more() -> None:
    verdict = judge(rounds_of([100, 100], t1=[300, 300]), {1: 2})
    assert verdict.status == "more_rounds"


def test_a_candidate_clear_of_the_baseline_and_of_the_others_wins() -> None:
    rounds = rounds_of([100, 102, 98], t1=[300, 306, 294], t2=[150, 153, 147])
    verdict = judge(rounds, {1: 3, 2: 1})
    assert verdict.status == "decided"
    assert verdict.winner == 1
    assert verdict.speedups[1].value == pytest.approx(3.0, rel=1e-3)


def test_candidates_that_cannot_be_told_apart_resolve_to_fewer_changed_knobs() -> None:
    # Trial 1 reads 1% faster than trial 2, well inside the noise: the simpler one wins.
    rounds = rounds_of([100, 100, 100], t1=[202, 201, 203], t2=[200, 200, 201])
    verdict = judge(rounds, {1: 4, 2: 1})
    assert verdict.status == "decided"
    assert verdict.winner == 2
    assert "fewest knobs" in verdict.reason


def test_no_candidate_clear_of_the_baseline_recommends_the_baseline() -> None:
    rounds = rounds_of([100, 100, 100], t1=[101, 99, 100])
    verdict = judge(rounds, {1: 2})
    assert verdict.status == "decided"
    assert verdict.winner is None


def test_an_uncertain_lead_asks_for_more_rounds_then_settles_at_the_limit() -> None:
    # Trial 1 leads trial 2 by 8% on average but the rounds disagree which one is faster.
    rounds = rounds_of([100, 100, 100], t1=[230, 190, 230], t2=[190, 215, 200])
    assert judge(rounds, {1: 1, 2: 2}, max_rounds=5).status == "more_rounds"
    settled = judge(rounds, {1: 1, 2: 2}, max_rounds=3)
    assert settled.status == "decided"
    assert settled.winner == 1  # unresolved: the one with fewer changes


def test_a_candidate_slower_than_the_baseline_never_wins() -> None:
    rounds = rounds_of([100, 100, 100], t1=[60, 61, 59])
    verdict = judge(rounds, {1: 1})
    assert verdict.winner is None
    assert verdict.speedups[1].high < 1


def test_candidates_that_can_at_best_tie_the_baseline_stop_the_rounds() -> None:
    # Trial 1 is at most about 2% faster: a tie at best, which the baseline wins.
    rounds = rounds_of([100, 100, 100], t1=[101, 99, 100.5], t2=[80, 82, 79])
    verdict = judge(rounds, {1: 1, 2: 2}, max_rounds=8)
    assert verdict.status == "decided"
    assert verdict.winner is None
    # One that might still be 10% faster asks for more.
    wide = rounds_of([100, 100, 100], t1=[95, 112, 101])
    assert judge(wide, {1: 1}, max_rounds=8).status == "more_rounds"
