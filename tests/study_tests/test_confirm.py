"""Paired confirmation rounds: interleaving, storing after every measurement, resuming."""

from __future__ import annotations

import pytest

from autoaccel.knobs import Config
from autoaccel.measure import Measurement, Throughput
from autoaccel.recommend import Round, TrialRecord
from autoaccel.study._confirm import (
    Confirmation,
    changed_knob_counts,
    load_confirmation,
    pick_candidates,
    run_rounds,
)

BASE = Config(batch_size=64)
FAST = BASE.replace(batch_size=256, precision="bf16")
FASTER_BY_NOISE = BASE.replace(batch_size=256)


class Bench:
    """Fake measurements: each configuration's rate, scaled by how busy 'the machine' is."""

    def __init__(self, rates: dict[Config, float], busy_calls: frozenset[int] = frozenset()):
        self.rates = rates
        self.calls: list[Config] = []
        self.busy_calls = busy_calls  # 1-based call numbers that run at half speed

    def __call__(self, config: Config) -> float | None:
        self.calls.append(config)
        return self.rates[config] * (0.5 if len(self.calls) in self.busy_calls else 1.0)


def test_rounds_interleave_the_baseline_with_every_candidate() -> None:
    bench = Bench({BASE: 100.0, FAST: 300.0, FASTER_BY_NOISE: 150.0})
    saved: list[Confirmation] = []
    done = run_rounds(
        Confirmation(candidates=[1, 2]),
        {1: FAST, 2: FASTER_BY_NOISE},
        BASE,
        {1: 2, 2: 1},
        bench,
        saved.append,
    )
    assert bench.calls[:6] == [BASE, FAST, FASTER_BY_NOISE, BASE, FAST, FASTER_BY_NOISE]
    assert done.verdict is not None and done.verdict.winner == 1
    assert done.verdict.speedups[1].value == pytest.approx(3.0)
    # Stored after every single measurement: a kill loses at most the one in flight.
    assert len(saved) == len(bench.calls)


def test_a_busy_moment_slows_both_sides_of_its_round_and_the_ratio_survives() -> None:
    # The machine was busy for the whole second round (calls 3 and 4): both sides slowed.
    bench = Bench({BASE: 100.0, FAST: 200.0}, busy_calls=frozenset({3, 4}))
    done = run_rounds(Confirmation(candidates=[1]), {1: FAST}, BASE, {1: 2}, bench, lambda c: None)
    assert done.rounds[1] == Round(baseline=50.0, candidates={1: 100.0})
    assert done.verdict is not None
    assert done.verdict.speedups[1].value == pytest.approx(2.0)
    assert done.verdict.speedups[1].high - done.verdict.speedups[1].low < 1e-9


def test_a_stop_mid_round_resumes_that_round_without_measuring_again() -> None:
    half = Confirmation(
        candidates=[1, 2],
        rounds=[
            Round(baseline=100.0, candidates={1: 300.0, 2: 150.0}),
            Round(baseline=100.0, candidates={1: 300.0}),
        ],
    )
    bench = Bench({BASE: 100.0, FAST: 300.0, FASTER_BY_NOISE: 150.0})
    done = run_rounds(
        half, {1: FAST, 2: FASTER_BY_NOISE}, BASE, {1: 2, 2: 1}, bench, lambda c: None
    )
    # First the missing candidate of the open round, then a fresh round.
    assert bench.calls[:2] == [FASTER_BY_NOISE, BASE]
    assert done.rounds[1].candidates == {1: 300.0, 2: 150.0}


def test_a_stored_confirmation_continues_only_for_the_same_candidates() -> None:
    stored = Confirmation(candidates=[4, 7], rounds=[Round(baseline=1.0, candidates={4: 2.0})])
    attrs = {"confirmation": stored.model_dump(mode="json")}
    assert load_confirmation(attrs, [4, 7]).rounds == stored.rounds
    assert load_confirmation(attrs, [4, 9]).rounds == []
    assert load_confirmation({"confirmation": {"rounds": "garbage"}}, [4]).rounds == []


def record(number: int, config: Config, rate: float, metric: float, role: str = "search"):
    throughput = Throughput.from_windows([rate])
    measurement = Measurement(
        stage="train",
        throughput=throughput,
        metric=metric,
        metric_name="accuracy",
        warmup_s=0.1,
        first_step_s=0.05,
        timed_steps=10,
    )
    return TrialRecord(
        number=number, role=role, config=config, outcome="ok", measurement=measurement
    )


def test_candidates_are_the_fastest_feasible_distinct_configurations() -> None:
    records = [
        record(0, BASE, 100, 0.90, role="baseline"),
        record(1, FAST, 300, 0.90),
        record(2, FAST, 310, 0.90),  # the same configuration measured again
        record(3, BASE.replace(batch_size=512), 500, 0.70),  # fast but its metric dropped
        record(4, FASTER_BY_NOISE, 150, 0.895),
        record(5, BASE.replace(num_workers=1), 120, 0.90),
    ]
    chosen = pick_candidates(records, max_metric_drop=0.01, count=2)
    assert [r.number for r in chosen] == [2, 4]
    assert changed_knob_counts(chosen, BASE, "train") == {2: 2, 4: 1}


def test_the_run_rate_pays_the_one_off_cost_once_over_the_run() -> None:
    from autoaccel.measure import Pace, Throughput
    from autoaccel.study._confirm import run_rate

    pace = Pace(
        stage="train",
        throughput=Throughput.from_windows([1000.0]),
        first_step_s=10.064,  # 10 s beyond a steady step of 64 samples
        warmup_s=11.0,
        warmup_steps=5,
        timed_steps=100,
    )
    assert run_rate(pace, 64, None) == 1000.0
    assert run_rate(pace, 64, 10_000) == pytest.approx(10_000 / 20.0)
    assert run_rate(pace, 64, 1e9) == pytest.approx(1000.0, rel=1e-4)
