"""What one ``autoaccel tune`` call carries through its stages: the options it was given,
the seams to the outside world, and each stage's study."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoaccel import defaults
from autoaccel.errors import ConfigError
from autoaccel.knobs import TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import MIN_ROUNDS, OBJECTIVES, parse_memory
from autoaccel.runner import TrialResult, TrialSpec
from autoaccel.study._devices import DevicePool
from autoaccel.study._progress import TuneProgress
from autoaccel.study._stage_study import StageStudy
from autoaccel.task import ScriptTarget

STAGE_CHOICES = ("train", "deploy", "all")
MAX_CONFIRM = 10
MAX_ROUNDS_LIMIT = 50
MAX_LATENCY_BATCH = 65536


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) arrived during a stage; what was running is already recorded."""


@dataclasses.dataclass(frozen=True)
class TuneOptions:
    """What ``autoaccel tune`` was asked to do; defaults match the command's."""

    study: str | None = None
    storage: str = defaults.STORAGE
    space: Path | None = None
    stage: str = "all"
    trials: int = defaults.TRIALS
    timeout_s: float | None = None
    max_metric_drop: float | None = None  # None: the study's stored one, else the default
    trial_timeout_s: float = defaults.TRIAL_TIMEOUT_S
    allow_other_hardware: bool = False
    seed: int = 0
    studies_dir: Path = defaults.STUDIES_DIR
    confirm: int = defaults.CONFIRM_CANDIDATES  # candidates in the confirmation rounds; 0: none
    run_epochs: float | None = None  # the real training's length; None: the task's, if any
    max_rounds: int = defaults.CONFIRM_MAX_ROUNDS
    script_args: tuple[str, ...] = ()  # the script's own command line, after --
    jobs: int | None = None  # trials at once; None: one per GPU, or 1 on a CPU
    heartbeat_s: int = defaults.HEARTBEAT_S  # a trial whose tuner is silent 2x this is stale
    # The deploy stage's goal; None: the study's stored one, else ServingGoal's default.
    objective: str | None = None
    latency_batch: int | None = None
    max_latency_ms: float | None = None
    max_memory: str | None = None  # a size such as 2GiB
    hold_effective_batch: bool = False  # or Task.hold_effective_batch; kept with the space

    def check(self) -> None:
        if self.stage not in STAGE_CHOICES:
            raise ConfigError(f"--stage must be train, deploy or all, got {self.stage!r}.")
        self.serving_goal()
        if self.trials < 1:
            raise ConfigError(f"--trials must be at least 1, got {self.trials}.")
        # nan compares false with everything and inf never comes: both would disable a limit.
        for flag, value, unit in (
            ("--timeout", self.timeout_s, " of seconds"),
            ("--trial-timeout", self.trial_timeout_s, " of seconds"),
            ("--run-epochs", self.run_epochs, ""),
        ):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{flag} must be a positive number{unit}, got {value}.")
        if self.jobs is not None and self.jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, got {self.jobs}.")
        if self.heartbeat_s < 1:
            raise ConfigError(f"--heartbeat must be at least 1 second, got {self.heartbeat_s}.")
        if self.max_metric_drop is not None and not (
            math.isfinite(self.max_metric_drop) and self.max_metric_drop >= 0
        ):
            raise ConfigError(
                f"--max-metric-drop must be a number >= 0, got {self.max_metric_drop}."
            )
        if not 0 <= self.seed < 2**32:  # numpy's seeds: every trial sets one
            raise ConfigError(f"--seed must be between 0 and {2**32 - 1}, got {self.seed}.")
        if not 0 <= self.confirm <= MAX_CONFIRM:
            raise ConfigError(
                f"--confirm must be between 0 and {MAX_CONFIRM} candidates, got {self.confirm}."
            )
        if not MIN_ROUNDS <= self.max_rounds <= MAX_ROUNDS_LIMIT:
            raise ConfigError(
                f"--max-rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS_LIMIT}, "
                f"got {self.max_rounds}."
            )
        if self.hold_effective_batch and self.stage == "deploy":
            raise ConfigError(
                "--hold-effective-batch holds the train stage's effective batch; the deploy "
                "stage has none. Leave it out, or tune --stage train or all."
            )
        if self.space is not None and self.space.suffix.lower() not in (".yaml", ".yml"):
            raise ConfigError(f"--space {self.space} must be a .yaml file.")
        if self.space is not None:
            from autoaccel.study._space import load_space

            # Read now, not once the task is inspected or, for deploy, a stage is tuned.
            for stage in ("train", "deploy"):
                if self.stage in (stage, "all"):
                    load_space(self.space, stage)

    def serving_goal(self) -> dict[str, object]:
        """The deploy goal's fields given on the command line, checked."""
        given = {
            "objective": self.objective,
            "latency_batch": self.latency_batch,
            "max_latency_ms": self.max_latency_ms,
            "max_memory_bytes": parse_memory(self.max_memory) if self.max_memory else None,
        }
        given = {key: value for key, value in given.items() if value is not None}
        if self.objective is not None and self.objective not in OBJECTIVES:
            raise ConfigError(f"--objective must be throughput or latency, got {self.objective!r}.")
        if self.latency_batch is not None and not 1 <= self.latency_batch <= MAX_LATENCY_BATCH:
            raise ConfigError(
                f"--latency-batch must be between 1 and {MAX_LATENCY_BATCH} samples, "
                f"got {self.latency_batch}."
            )
        if self.max_latency_ms is not None and not (
            math.isfinite(self.max_latency_ms) and self.max_latency_ms > 0
        ):
            raise ConfigError(
                f"--max-latency-ms must be a positive number of milliseconds, "
                f"got {self.max_latency_ms}."
            )
        if self.max_memory == "":
            raise ConfigError("--max-memory must be a size such as 2GiB or 512MiB, got ''.")
        if given and self.stage == "train":
            raise ConfigError(
                "--objective, --latency-batch, --max-latency-ms and --max-memory judge the "
                "deploy stage; use --stage deploy or --stage all."
            )
        return given


@dataclasses.dataclass(frozen=True)
class Tuning:
    """One call of :func:`tune`: what all its stages share, the seams to the outside world
    included."""

    name: str
    storage: Any
    target: ScriptTarget
    facts: TaskFacts
    hardware: HardwareProfile
    options: TuneOptions
    progress: TuneProgress
    run: Callable[[TrialSpec, float], TrialResult]
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    pool: DevicePool  # what the trials that run at once each get


@dataclasses.dataclass(frozen=True)
class StageRun:
    """One stage of a :class:`Tuning`: its study, when it stops starting trials, and (deploy
    stage) the trained weights its trials load."""

    tuning: Tuning
    study: StageStudy
    deadline: float | None
    weights: str | None
