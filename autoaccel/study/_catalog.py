"""The studies in a storage: a line each, and a short summary of one."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autoaccel.errors import StorageError
from autoaccel.knobs import Stage
from autoaccel.runner import Outcome
from autoaccel.study._storage import open_storage
from autoaccel.study._stored import load_stages, study_names


class StageSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    optuna_study: str
    trials: int
    finished: int
    outcomes: dict[Outcome, int]
    feasible: int | None = None
    speedup: float | None = None
    speedup_ci: tuple[float, float] | None = Field(
        default=None,
        description="95% interval over paired rounds; unconfirmed, the search windows' range.",
    )
    confirmed: bool = False
    recommended_trial: int | None = None
    baseline_trial: int | None = None
    recommended: dict[str, Any] | None = None
    changed: dict[str, Any] | None = Field(default=None, description="Unlike the baseline.")


class StudySummary(BaseModel):
    """One study at a glance; ``error`` says why a stored study could not be read."""

    model_config = ConfigDict(frozen=True)

    name: str
    script: str | None = None
    hardware: str | None = None
    fingerprint: str | None = None
    last_update: datetime.datetime | None = None
    stages: dict[Stage, StageSummary] = Field(default_factory=dict)
    error: str | None = None

    @property
    def best(self) -> StageSummary | None:
        """The stage with the largest speedup."""
        measured = [s for s in self.stages.values() if s.speedup is not None]
        return max(measured, key=lambda s: s.speedup or 0.0, default=None)

    @property
    def best_speedup(self) -> float | None:
        best = self.best
        return best.speedup if best else None


def list_studies(storage: str) -> list[StudySummary]:
    """Every autoaccel study in ``storage``; one that cannot be read is listed with why."""
    handle = open_storage(storage, create=False)
    summaries = []
    for name in study_names(handle):
        try:
            summaries.append(_summary(handle, name))
        except StorageError as error:
            summaries.append(StudySummary(name=name, error=str(error)))
    return summaries


def show_study(storage: str, name: str) -> StudySummary:
    """The summary of study ``name``; a missing one is a :class:`StorageError`."""
    return _summary(open_storage(storage, create=False), name)


def _summary(handle: Any, name: str) -> StudySummary:
    stages = load_stages(handle, name)
    first = next(iter(stages.values()))
    summaries = {}
    completed = []
    for stage, stored in stages.items():
        trials = stored.optuna_study.get_trials(deepcopy=False)
        completed += [t.datetime_complete for t in trials if t.datetime_complete is not None]
        records = stored.records()
        rec = stored.recommendation(records)
        recommended = rec.config.for_stage(stage) if rec else None
        baseline = stored.baseline.for_stage(stage)
        summaries[stage] = StageSummary(
            stage=stage,
            optuna_study=stored.optuna_study.study_name,
            trials=len(trials),
            finished=stored.finished_count(),
            outcomes=dict(Counter(r.outcome for r in records)),
            feasible=rec.feasible_trials if rec else None,
            speedup=rec.speedup if rec else None,
            speedup_ci=(rec.speedup_ci or rec.speedup_range) if rec else None,
            confirmed=bool(rec and rec.confirmed_rounds),
            recommended_trial=rec.trial if rec else None,
            baseline_trial=rec.baseline_trial if rec else None,
            recommended=recommended,
            changed=(
                {k: v for k, v in recommended.items() if baseline.get(k) != v}
                if recommended is not None
                else None
            ),
        )
    return StudySummary(
        name=name,
        script=first.task.script,
        hardware=first.hardware.summary(),
        fingerprint=first.fingerprint,
        last_update=max(completed, default=None),
        stages=summaries,
    )
