"""Paired confirmation: which candidate is really fastest, and by how much, with a confidence
interval.

The search measures every configuration once, at whatever moment it ran; a busy moment
flatters or hurts it. Confirmation measures the best few candidates and the baseline again
in interleaved rounds (B, C1, C2, C3, B, C1, ...). Each speedup is a ratio against the
baseline of its own round, so a slow moment of the machine slows both sides of a ratio.
Plain functions of the stored rounds: the tuner decides when to stop, this module decides
what the rounds show.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autoaccel import defaults

CONFIDENCE = 0.95
RESAMPLES = 2000
TIE_MARGIN = 0.03  # two setups whose ratio is surely within 3% of 1 are the same speed
MIN_ROUNDS = 3
MAX_ROUNDS = defaults.CONFIRM_MAX_ROUNDS


class Round(BaseModel):
    """One round: the baseline's samples/s and each candidate's, measured back to back.

    A measurement that failed in a round is missing from it; the round still pairs the rest.
    """

    model_config = ConfigDict(frozen=True)

    baseline: float | None
    candidates: dict[int, float | None] = Field(description="trial number -> samples/s")


class Estimate(BaseModel):
    """A speedup as the geometric mean of per-round ratios, with its bootstrap interval."""

    model_config = ConfigDict(frozen=True)

    value: float
    low: float
    high: float
    rounds: int

    def clear_above(self, ratio: float = 1.0) -> bool:
        return self.low > ratio

    def within_margin(self, margin: float = TIE_MARGIN) -> bool:
        """Surely no more than ``margin`` away from 1 in either direction."""
        return self.low >= 1 / (1 + margin) and self.high <= 1 + margin


Status = Literal["decided", "more_rounds"]


class Verdict(BaseModel):
    """What the rounds so far show: the winner (None: the baseline), each candidate's
    speedup against the baseline, and whether more rounds could change the answer."""

    model_config = ConfigDict(frozen=True)

    status: Status
    winner: int | None
    speedups: dict[int, Estimate]
    reason: str


def ratios(rounds: Sequence[Round], numerator: int | None, denominator: int | None) -> list[float]:
    """Per-round ratios of two setups' samples/s (None names the baseline), where both ran."""

    def rate(round_: Round, who: int | None) -> float | None:
        return round_.baseline if who is None else round_.candidates.get(who)

    pairs = [(rate(r, numerator), rate(r, denominator)) for r in rounds]
    return [a / b for a, b in pairs if a and b and a > 0 and b > 0]


def estimate(values: Sequence[float], *, seed: int = 0) -> Estimate | None:
    """Geometric mean of ``values`` and its percentile-bootstrap interval over rounds."""
    if not values:
        return None
    logs = [math.log(v) for v in values]
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(logs) for _ in logs) / len(logs) for _ in range(RESAMPLES))
    tail = (1 - CONFIDENCE) / 2
    low = means[int(tail * (RESAMPLES - 1))]
    high = means[math.ceil((1 - tail) * (RESAMPLES - 1))]
    return Estimate(
        value=math.exp(sum(logs) / len(logs)),
        low=math.exp(low),
        high=math.exp(high),
        rounds=len(values),
    )


def judge(
    rounds: Sequence[Round],
    changed_knobs: Mapping[int, int],
    *,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
) -> Verdict:
    """The verdict of ``rounds`` on the candidates of ``changed_knobs`` (trial number -> how
    many knobs it changes from the baseline).

    A candidate wins when it is clear of the baseline and of every other candidate clear of
    the baseline. Candidates that cannot be told apart (their ratio is surely within
    ``TIE_MARGIN`` of 1, or is still uncertain after ``max_rounds``) resolve toward fewer
    changed knobs: a change that buys nothing measurable is a change the user need not make.
    No candidate clear of the baseline: the baseline wins.
    """
    speedups = {
        trial: found
        for trial in changed_knobs
        if (found := estimate(ratios(rounds, trial, None))) is not None
    }
    done = len(rounds) >= max_rounds
    if len(rounds) < min_rounds:
        return Verdict(
            status="more_rounds", winner=None, speedups=speedups, reason="too few rounds yet"
        )
    clear = [t for t, s in speedups.items() if s.clear_above()]
    if not clear:
        # A candidate that cannot be more than TIE_MARGIN faster would at best tie the
        # baseline, and a tie goes to the baseline: more rounds cannot change the answer.
        unsure = [t for t, s in speedups.items() if s.high > 1 + TIE_MARGIN]
        if unsure and not done:
            return Verdict(
                status="more_rounds",
                winner=None,
                speedups=speedups,
                reason="no candidate is clear of the baseline yet",
            )
        return Verdict(
            status="decided",
            winner=None,
            speedups=speedups,
            reason="no candidate is faster than the baseline beyond the noise",
        )
    leader = max(clear, key=lambda t: speedups[t].value)
    tied, unsure = [leader], []
    for other in clear:
        if other == leader:
            continue
        head = estimate(ratios(rounds, leader, other))
        if head is None or head.within_margin():
            tied.append(other)
        elif not head.clear_above():
            unsure.append(other)
    if unsure and not done:
        return Verdict(
            status="more_rounds",
            winner=leader,
            speedups=speedups,
            reason=f"trial {leader} is not yet clear of trial {unsure[0]}",
        )
    tied += unsure
    winner = min(tied, key=lambda t: (changed_knobs[t], -speedups[t].value))
    if len(tied) == 1:
        reason = f"trial {winner} is clear of the baseline and of every other candidate"
    else:
        others = ", ".join(str(t) for t in sorted(tied) if t != winner)
        reason = (
            f"trial {winner} cannot be told apart from trial(s) {others} and changes the "
            "fewest knobs"
        )
    return Verdict(status="decided", winner=winner, speedups=speedups, reason=reason)


class MetricCheck(BaseModel):
    """A candidate's and the baseline's metric trained again with another seed.

    The search judged every metric on one seed; a candidate that held its metric by luck of
    that seed should not be recommended. The baseline's own seed-to-seed difference says
    how large such luck can be on this task.
    """

    model_config = ConfigDict(frozen=True)

    seed: int
    trial: int
    metric: float | None = Field(description="The candidate's metric, this seed.")
    baseline_metric: float | None = Field(description="The baseline's metric, this seed.")
    first_metric: float = Field(description="The candidate's metric in the search.")
    first_baseline_metric: float = Field(description="The baseline's metric in the search.")

    @property
    def drop(self) -> float | None:
        """How far the candidate's metric fell under the baseline's, this seed."""
        if self.metric is None or self.baseline_metric is None:
            return None
        return self.baseline_metric - self.metric

    @property
    def baseline_seed_difference(self) -> float | None:
        """How much the baseline's metric moved from one seed to the other."""
        if self.baseline_metric is None:
            return None
        return abs(self.baseline_metric - self.first_baseline_metric)

    def holds(self, max_metric_drop: float) -> bool:
        drop = self.drop
        return drop is not None and drop <= max_metric_drop + 1e-12


class Confirmation(BaseModel):
    """What the rounds measured, and the verdict once they are done."""

    model_config = ConfigDict(frozen=True)

    candidates: list[int]
    rounds: list[Round] = Field(default_factory=list)
    verdict: Verdict | None = None
    metric_checks: list[MetricCheck] = Field(default_factory=list)
    winner: int | None = None
    done: bool = False
    run_epochs: float | None = Field(
        default=None,
        description="Rates are over a real run this long, one-off costs included; None: "
        "steady rates.",
    )
