"""The recommendation: plain data built from stored trials, written next to the study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoaccel.errors import ConfigError
from autoaccel.knobs import Config, Stage
from autoaccel.measure import Latency, MemoryKind, Throughput
from autoaccel.recommend._goal import ServingGoal
from autoaccel.recommend._paired import MetricCheck

SCHEMA_VERSION = 1
FILE_NAME = "recommendation.json"


class StageRecommendation(BaseModel):
    """The fastest feasible trial of one stage, next to the baseline it beat."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    config: Config
    trial: int
    baseline_trial: int
    throughput: Throughput
    baseline_throughput: Throughput
    speedup: float
    metric: float
    baseline_metric: float
    metric_name: str
    max_metric_drop: float
    peak_memory_bytes: int | None = None
    baseline_peak_memory_bytes: int | None = None
    memory_kind: MemoryKind | None = None
    mfu: float | None = Field(default=None, description="Of the peak of its precision.")
    baseline_mfu: float | None = None
    peak_dtype: str | None = Field(default=None, description="The precision ``mfu`` is of.")
    baseline_peak_dtype: str | None = None
    mfu_of_best: float | None = Field(
        default=None, description="Of the device's best peak (``best_peak_dtype``)."
    )
    baseline_mfu_of_best: float | None = None
    best_peak_dtype: str | None = None
    data_wait_share: float | None = None
    limits: list[str] = Field(
        default_factory=list, description="What still limits the recommended setup."
    )
    finished_trials: int
    feasible_trials: int
    speedup_ci: tuple[float, float] | None = Field(
        default=None, description="95% interval of the speedup over paired rounds."
    )
    confirmed_rounds: int = Field(
        default=0, description="Paired rounds against the baseline; 0: from the search alone."
    )
    speedup_range: tuple[float, float] | None = Field(
        default=None,
        description="From the search alone: the speedup from the slow quartile of its windows "
        "over the baseline's fast one, to the fast over the slow. Reaching 1.0, the search "
        "cannot tell the two apart.",
    )
    confirmation: str | None = Field(default=None, description="Why the rounds chose it.")
    run_epochs: float | None = Field(
        default=None,
        description="The speedup is in the time to train this many epochs, one-off costs "
        "included; None: in the steady rate.",
    )
    metric_check: MetricCheck | None = Field(
        default=None, description="Its metric and the baseline's, trained with a second seed."
    )
    one_off_s: float | None = Field(
        default=None, description="First-step time beyond a steady step: compilation and such."
    )
    baseline_one_off_s: float | None = None
    break_even_steps: int | None = Field(
        default=None, description="Steps after which the one-off cost is paid back."
    )
    unstable: str | None = Field(
        default=None, description="Why its measurement or the baseline's is in doubt."
    )
    goal: ServingGoal = Field(
        default_factory=ServingGoal, description="Deploy: the objective and the limits."
    )
    latency: Latency | None = Field(
        default=None, description="Deploy: per-request latency at the goal's batch size."
    )
    baseline_latency: Latency | None = None
    goal_unmet: str | None = Field(
        default=None, description="No trial met the limits: this one came closest."
    )

    @property
    def is_baseline(self) -> bool:
        return self.trial == self.baseline_trial


class Recommendation(BaseModel):
    """Per stage, the configuration to use; read by ``autoaccel.train`` and ``bench``."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    study: str
    script: str | None = None
    hardware: str | None = None
    fingerprint: str | None = None
    stages: dict[Stage, StageRecommendation] = Field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return path


def read_recommendation(path: Path) -> Recommendation:
    """Read a recommendation file; a damaged one is a :class:`ConfigError` naming it."""
    try:
        return Recommendation.model_validate_json(path.read_text())
    except (OSError, ValidationError, ValueError) as error:
        raise ConfigError(
            f"{path} is not a readable autoaccel recommendation ({_short(error)}). "
            "Run autoaccel tune again to rewrite it, or delete it."
        ) from None


def stage_config_data(data: dict[str, Any], stage: Stage, source: str) -> dict[str, Any]:
    """The knob values for ``stage`` from a recommendation document, or ``data`` itself
    when it is a plain configuration."""
    if "stages" not in data:
        return data
    try:
        recommendation = Recommendation.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source} is not a readable recommendation ({_short(error)}).") from None
    if stage not in recommendation.stages:
        have = ", ".join(recommendation.stages) or "none"
        raise ConfigError(
            f"{source} has no {stage} recommendation (it has: {have}). "
            f"Run autoaccel tune with --stage {stage}, or pass a configuration."
        )
    return recommendation.stages[stage].config.model_dump()


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
