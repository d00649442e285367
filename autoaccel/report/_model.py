"""What a report shows, as plain data computed from the storage: every renderer (text,
markdown, html, json) reads these objects and computes nothing of its own."""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autoaccel.knobs import Stage, TaskFacts
from autoaccel.measure import MemoryKind, Throughput
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import Role, ServingGoal, StageRecommendation
from autoaccel.runner import Outcome

SCHEMA_VERSION = 1


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True)


class TrialRow(_Data):
    """One trial as the report shows it."""

    number: int
    role: Role
    outcome: Outcome
    reason: str | None = None
    config: dict[str, Any] = Field(description="The knobs of this stage.")
    changed: dict[str, Any] = Field(default_factory=dict, description="Knobs unlike baseline's.")
    searched: list[str] = Field(
        default_factory=list,
        description="Knobs Optuna chose for this trial (worker-only knobs need workers).",
    )
    throughput: Throughput | None = None
    spread: float | None = None
    speedup: float | None = Field(default=None, description="Median throughput over baseline's.")
    metric: float | None = None
    feasible: bool = Field(
        description="Finished, the metric held within the tolerance, and within the limits."
    )
    pareto: bool = Field(description="On the Pareto front of throughput and metric.")
    peak_memory_bytes: int | None = None
    memory_kind: MemoryKind | None = None
    mfu: float | None = Field(default=None, description="Of the peak of its precision.")
    peak_dtype: str | None = None
    mfu_of_best: float | None = Field(default=None, description="Of the device's best peak.")
    best_peak_dtype: str | None = None
    data_wait_share: float | None = None
    p99_ms: float | None = Field(
        default=None, description="Deploy: p99 latency of one request at the goal's batch."
    )
    broken_limits: list[str] = Field(
        default_factory=list, description="Each deploy limit it broke, with its figure."
    )
    duration_s: float | None = None
    repeat_of: int | None = Field(default=None, description="Same configuration as that trial.")
    skipped: bool = Field(default=False, description="Not run: known to run out of memory.")
    completed_at: datetime.datetime | None = None


class FailureGroup(_Data):
    """Trials that did not finish with one outcome, by reason."""

    outcome: Outcome
    trials: list[int]
    reasons: list[tuple[str, list[int]]] = Field(description="(reason, trial numbers) pairs.")
    advice: str


class KnobValueEffect(_Data):
    """How trials that set one knob to one value did."""

    value: Any
    trials: int = Field(description="Trials that set this value (repeats not counted).")
    feasible: int
    failed: int
    best_throughput: float | None = None
    best_trial: int | None = None
    speedup: float | None = Field(default=None, description="Best throughput over baseline's.")


class KnobEffect(_Data):
    """Per value of one knob, the best feasible trial that used it."""

    knob: str
    baseline: Any
    recommended: Any
    values: list[KnobValueEffect]


class Importance(_Data):
    """Optuna's parameter importance for throughput, over finished feasible trials."""

    values: dict[str, float] = Field(default_factory=dict, description="Sums to 1; may be empty.")
    trials: int = 0
    method: str = "optuna PED-ANOVA on throughput, feasible trials"
    note: str | None = Field(default=None, description="Why there are no values.")


class Bottleneck(_Data):
    """What still limits the recommended trial, with advice."""

    trial: int
    data_wait_share: float | None = None
    mfu: float | None = None
    achieved_flops: float | None = None
    peak_flops: float | None = None
    peak_dtype: str | None = None
    mfu_of_best: float | None = None
    best_peak_dtype: str | None = None
    flops_per_sample: float | None = None
    peak_memory_bytes: int | None = None
    memory_kind: MemoryKind | None = None
    device_memory_bytes: int | None = None
    advice: list[str] = Field(default_factory=list)


class HowToApply(_Data):
    """The recommended configuration and the commands and code that use it."""

    config: dict[str, Any]
    changed: dict[str, Any] = Field(description="Knobs that differ from the baseline.")
    recommendation_file: str | None = Field(
        description="None where the study's name names no folder to keep the file in."
    )
    recommendation_file_exists: bool
    commands: list[tuple[str, str]] = Field(description="(shell command, what it does) pairs.")
    code: str = Field(description="Python that applies the configuration.")
    notes: list[str] = Field(default_factory=list)


class StageReport(_Data):
    """One stage of a study: its trials, what won, and why."""

    stage: Stage
    optuna_study: str
    metric_name: str
    max_metric_drop: float
    goal: ServingGoal = Field(default_factory=ServingGoal)
    searched: dict[str, list[Any]] = Field(description="The values searched per knob.")
    dropped: dict[str, dict[str, str]] = Field(
        description="Per knob, values this hardware or task cannot run, with why."
    )
    baseline_trial: int | None = None
    baseline_config: dict[str, Any]
    baseline_throughput: float | None = None
    baseline_metric: float | None = None
    recommendation: StageRecommendation | None = None
    outcomes: dict[Outcome, int] = Field(description="Trials per outcome.")
    finished: int = Field(description="Trials that ran to an outcome (interrupted ones not).")
    feasible: int
    trials: list[TrialRow]
    pareto_front: list[int] = Field(description="Trial numbers, by throughput.")
    top_trials: list[int] = Field(description="Finished trials, fastest first.")
    best_so_far: list[tuple[int, float | None]] = Field(
        description="(trial, best feasible throughput up to it) in trial order."
    )
    failures: list[FailureGroup]
    importance: Importance
    knob_effects: list[KnobEffect]
    bottleneck: Bottleneck | None = None
    apply: HowToApply | None = None
    sharing: str | None = Field(
        default=None, description="How trials shared the machine when several ran at once."
    )

    def trial(self, number: int) -> TrialRow:
        return next(row for row in self.trials if row.number == number)


class ReportInfo(_Data):
    """Everything a report of one study shows, read back from the storage alone."""

    schema_version: int = SCHEMA_VERSION
    study: str
    storage: str = Field(description="The storage URL, any password hidden.")
    script: str
    task: TaskFacts
    hardware: HardwareProfile
    hardware_summary: str
    fingerprint: str
    autoaccel_version: str = Field(description="The autoaccel that made the study.")
    generated_at: datetime.datetime
    last_update: datetime.datetime | None = Field(
        default=None, description="When the last trial finished."
    )
    stages: dict[Stage, StageReport]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)
