"""Storing trial results in Optuna trials, and reading them back as records.

Everything a report needs lives in the trial's user attributes, so a report can be made on
another machine from the database alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from autoaccel.knobs import Config
from autoaccel.measure import Measurement
from autoaccel.recommend import ServingGoal, TrialRecord
from autoaccel.runner import MachineLoad, TrialResult

TEXT_LIMIT = 4000  # tracebacks and log tails are kept to their last characters
NOT_FINISHED = "did_not_finish"
STOPPED = "its tuner was stopped before it finished; it runs again when the study resumes"
METRIC_DROP = "metric_drop"


def trial_values(result: TrialResult, goal: ServingGoal | None = None) -> list[float]:
    """(throughput, metric) to tell Optuna, or (p99 latency in ms, metric) when the goal is
    latency. A trial that did not finish has no metric: it is told as -inf, and its
    constraint marks it infeasible, so samplers learn from it."""
    goal = goal or ServingGoal()
    m = result.measurement if result.ok else None
    if goal.objective == "latency":
        p99 = goal.p99_ms(m)
        return [math.inf if p99 is None else p99, m.metric if m else -math.inf]
    if m is not None:
        return [m.throughput.rate, m.metric]
    return [0.0, -math.inf]


def constraints(
    result: TrialResult,
    baseline_metric: float,
    max_metric_drop: float,
    goal: ServingGoal | None = None,
) -> dict:
    """Constraint values (feasible when <= 0): did it finish, did its metric hold, and (one
    per limit of ``goal``) how far over the limit it went."""
    goal = goal or ServingGoal()
    m = result.measurement if result.ok else None
    if m is None:
        return {NOT_FINISHED: 1.0, METRIC_DROP: 0.0, **goal.excess(None)}
    drop = baseline_metric - m.metric
    return {NOT_FINISHED: 0.0, METRIC_DROP: drop - max_metric_drop, **goal.excess(m)}


def result_attrs(result: TrialResult) -> dict[str, Any]:
    """The user attributes that store ``result`` with its trial."""
    return {
        "outcome": result.outcome,
        "reason": result.reason,
        "measurement": result.measurement.model_dump() if result.measurement else None,
        "duration_s": result.duration_s,
        "traceback": _clip(result.traceback),
        "log_tail": _clip(result.log_tail) if not result.ok else None,
        "machine": result.machine.model_dump() if result.machine else None,
    }


def record_of(trial: Any) -> TrialRecord | None:
    """The record of a finished Optuna trial, or None if it holds no autoaccel result."""
    from optuna.trial import TrialState

    attrs = trial.user_attrs
    outcome = attrs.get("outcome")
    reason = attrs.get("reason")
    if trial.state == TrialState.FAIL and outcome != "interrupted":
        # Only a stopped tuner's trials fail; a result it was storing then is incomplete.
        outcome, reason = "interrupted", STOPPED
    if outcome is None or "config" not in attrs:
        return None
    try:
        measurement = attrs.get("measurement")
        return TrialRecord(
            number=trial.number,
            role=attrs.get("role", "search"),
            config=Config.model_validate(attrs["config"]),
            outcome=outcome,
            reason=reason,
            measurement=Measurement.model_validate(measurement) if measurement else None,
            duration_s=attrs.get("duration_s"),
            repeat_of=attrs.get("repeat_of"),
            skipped=bool(attrs.get("skipped", False)),
            traceback=attrs.get("traceback"),
            log_tail=attrs.get("log_tail"),
            machine=MachineLoad.model_validate(attrs["machine"]) if attrs.get("machine") else None,
            unstable=attrs.get("unstable"),
        )
    except (ValidationError, KeyError, TypeError):
        return None


def records_of(trials: Iterable[Any]) -> list[TrialRecord]:
    """Records of every trial that holds a result, in trial order."""
    return [r for r in (record_of(t) for t in trials) if r is not None]


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    return text if len(text) <= TEXT_LIMIT else "..." + text[-TEXT_LIMIT:]
