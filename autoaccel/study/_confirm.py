"""Paired confirmation at the end of a stage's search: the best few feasible candidates and
the baseline measured again in interleaved rounds, each measurement a fresh trial process.

Every finished measurement is stored at once (a study attribute), so Ctrl-C or kill -9
loses at most the measurement in flight, and a resumed tune continues the rounds where they
stopped. A confirmation belongs to one set of candidates: a search that goes on and finds
others starts a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoaccel.knobs import Config
from autoaccel.recommend import (
    MAX_ROUNDS,
    MIN_ROUNDS,
    Round,
    TrialRecord,
    Verdict,
    baseline_of,
    is_feasible,
    judge,
)

ATTR = "confirmation"
DEFAULT_CANDIDATES = 3


class MetricCheck(BaseModel):
    """The winner's and the baseline's metric trained again with another seed."""

    model_config = ConfigDict(frozen=True)

    seed: int
    trial: int
    metric: float | None
    baseline_metric: float | None
    first_seed_difference: float | None = Field(
        default=None, description="The winner's metric minus the baseline's, first seed."
    )

    @property
    def difference(self) -> float | None:
        """The winner's metric minus the baseline's, second seed."""
        if self.metric is None or self.baseline_metric is None:
            return None
        return self.metric - self.baseline_metric


class Confirmation(BaseModel):
    """What the rounds measured, and the verdict once they are done."""

    model_config = ConfigDict(frozen=True)

    candidates: list[int]
    rounds: list[Round] = Field(default_factory=list)
    verdict: Verdict | None = None
    metric_checks: list[MetricCheck] = Field(default_factory=list)
    winner: int | None = None
    done: bool = False


def pick_candidates(
    records: list[TrialRecord], max_metric_drop: float, count: int
) -> list[TrialRecord]:
    """The ``count`` fastest feasible trials that are not the baseline, one per configuration."""
    baseline = baseline_of(records)
    if baseline is None or baseline.metric is None:
        return []
    seen = {baseline.config.model_dump_json()}
    chosen: list[TrialRecord] = []
    feasible = [
        r
        for r in records
        if r.role != "baseline"
        and r.repeat_of is None
        and is_feasible(r, baseline.metric, max_metric_drop)
    ]
    for record in sorted(feasible, key=lambda r: (-r.throughput, r.number)):
        key = record.config.model_dump_json()
        if key not in seen:
            seen.add(key)
            chosen.append(record)
        if len(chosen) == count:
            break
    return chosen


def load_confirmation(attrs: Mapping[str, Any], candidates: list[int]) -> Confirmation:
    """The stored confirmation of exactly these candidates, or a fresh one."""
    try:
        stored = Confirmation.model_validate(attrs.get(ATTR) or {"candidates": []})
    except ValidationError:
        stored = Confirmation(candidates=[])
    if stored.candidates == candidates:
        return stored
    return Confirmation(candidates=candidates)


def changed_knob_counts(records: list[TrialRecord], baseline: Config, stage: str) -> dict[int, int]:
    base = baseline.for_stage(stage)
    return {
        r.number: sum(1 for k, v in r.config.for_stage(stage).items() if base[k] != v)
        for r in records
    }


def run_rounds(
    confirmation: Confirmation,
    configs: Mapping[int, Config],
    baseline: Config,
    changed: Mapping[int, int],
    measure: Callable[[Config], float | None],
    save: Callable[[Confirmation], None],
    *,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
) -> Confirmation:
    """Measure rounds (the baseline, then each candidate) until :func:`judge` decides.

    ``measure`` returns a configuration's samples/s, or None when its run failed; ``save``
    is called after every measurement with the confirmation so far. A round a stop left
    unfinished is finished first.
    """
    while True:
        if confirmation.rounds:
            current = confirmation.rounds[-1]
            for trial in confirmation.candidates:
                if trial not in current.candidates:
                    rate = measure(configs[trial])
                    current = current.model_copy(
                        update={"candidates": {**current.candidates, trial: rate}}
                    )
                    confirmation = _with_last_round(confirmation, current)
                    save(confirmation)
        verdict = judge(confirmation.rounds, changed, min_rounds=min_rounds, max_rounds=max_rounds)
        if verdict.status == "decided":
            return confirmation.model_copy(update={"verdict": verdict})
        fresh = Round(baseline=measure(baseline), candidates={})
        confirmation = confirmation.model_copy(update={"rounds": [*confirmation.rounds, fresh]})
        save(confirmation)


def _with_last_round(confirmation: Confirmation, current: Round) -> Confirmation:
    return confirmation.model_copy(update={"rounds": [*confirmation.rounds[:-1], current]})
