"""One stage of an autoaccel study, kept in one Optuna study: create, check, resume.

Study attributes record what the trials were measured on and against (hardware, search
space, task, tolerance, autoaccel version), so a resumed or reported study can be checked
and explained from the storage alone.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from autoaccel import defaults
from autoaccel._version import __version__
from autoaccel.errors import StudyError
from autoaccel.knobs import Config, Stage, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import (
    Confirmation,
    ServingGoal,
    StageRecommendation,
    TrialRecord,
    recommend_stage,
)
from autoaccel.study._next_trial import is_measured
from autoaccel.study._records import records_of
from autoaccel.study._space import SearchSpace
from autoaccel.study._storage import stage_study_name

if TYPE_CHECKING:
    import optuna

CONFIRMATION_ATTR = "confirmation"  # the paired rounds and their verdict
GOAL_ATTR = "serving_goal"  # deploy: the objective and the limits
ATTR_KIND = "autoaccel"  # marks a study autoaccel made, with the version that made it


@dataclasses.dataclass(frozen=True)
class StageStudy:
    """An Optuna study holding one stage, with what was stored at its creation: the
    hardware and task it measured, the space it searches and the baseline it beats."""

    optuna_study: optuna.Study
    name: str
    stage: Stage
    space: SearchSpace
    baseline: Config
    hardware: HardwareProfile
    task: TaskFacts
    max_metric_drop: float
    version: str = __version__
    goal: ServingGoal = dataclasses.field(default_factory=ServingGoal)

    @property
    def fingerprint(self) -> str:
        return self.hardware.fingerprint()

    @property
    def largest_batch(self) -> int | None:
        sizes = self.space.choices.get("batch_size")
        return max(sizes) if sizes else None

    def records(self) -> list[TrialRecord]:
        """The trials' records, read from the storage now."""
        return records_of(self.optuna_study.get_trials(deepcopy=False))

    @property
    def confirmation(self) -> Confirmation | None:
        """The stored paired confirmation of this stage's candidates, if any."""
        data = self.optuna_study.user_attrs.get(CONFIRMATION_ATTR)
        if not data:
            return None
        try:
            return Confirmation.model_validate(data)
        except ValidationError:
            return None

    def recommendation(
        self, records: list[TrialRecord] | None = None
    ) -> StageRecommendation | None:
        """The stage's recommendation from its stored trials (or ``records``, read already)."""
        return recommend_stage(
            self.records() if records is None else records,
            self.stage,
            self.max_metric_drop,
            self.largest_batch,
            self.confirmation,
            self.goal,
        )

    def finished_count(self) -> int:
        """Trials that count toward ``--trials`` (see :func:`is_measured`)."""
        return sum(1 for t in self.optuna_study.get_trials(deepcopy=False) if is_measured(t))


def sampler(seed: int, trials: int) -> optuna.samplers.BaseSampler:
    """Multi-objective TPE that models knobs jointly; constraints come from the trials."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            # Random start-up trials teach the model; few when the budget is small.
            n_startup_trials=max(3, min(10, trials // 4)),
        )


def tuner_sampler(seed: int, trials: int) -> Callable[[int], optuna.samplers.BaseSampler]:
    """``sampler_for(number)``: this tuner's sampler for a stage, made for the first trial it
    starts, seeded with ``seed`` plus that trial's number. A tuner alone on a new study starts
    at trial 0 and draws what ``seed`` gives; tuners sharing a study start at different
    trials, so they propose different configurations from the same trials."""
    made: list[optuna.samplers.BaseSampler] = []

    def sampler_for(number: int) -> optuna.samplers.BaseSampler:
        if not made:
            made.append(sampler(seed + number, trials))
        return made[0]

    return sampler_for


@dataclasses.dataclass(frozen=True)
class StageRequest:
    """What a tuner brings to one stage's study: the machine and task it measures, the space
    a new study searches, and the options that decide whether a stored one continues."""

    name: str
    stage: Stage
    hardware: HardwareProfile
    facts: TaskFacts
    space: SearchSpace  # the effective space of a new study
    space_given: bool  # the user named it: a resumed study must search the same one
    max_metric_drop: float | None  # None: the stored one, else the default
    allow_other_hardware: bool
    goal: dict[str, object] = dataclasses.field(default_factory=dict)  # the fields given


def open_stage_study(storage: Any, request: StageRequest) -> tuple[StageStudy, list[str]]:
    """Create the stage's study, or load it and check it can be continued here.

    A resumed study keeps its stored space (an explicitly given, different space is
    refused). Returns the study and what the user should know about it.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name, stage, facts = request.name, request.stage, request.facts
    optuna_name = stage_study_name(name, stage)
    existing = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    goal = ServingGoal.model_validate(request.goal)
    latency = goal.objective == "latency"
    study = optuna.create_study(
        storage=storage,
        study_name=optuna_name,
        directions=["minimize" if latency else "maximize", "maximize"],
        load_if_exists=True,
    )
    if optuna_name in existing and not creation_cut_short(study):
        return _resume(study, request)
    drop = defaults.MAX_METRIC_DROP if request.max_metric_drop is None else request.max_metric_drop
    first = f"p99_latency_ms_at_batch_{goal.latency_batch}" if latency else "throughput"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([first, facts.metric_name])
    attrs = {
        "hardware": request.hardware.model_dump(mode="json"),
        "fingerprint": request.hardware.fingerprint(),
        "search_space": request.space.to_dict(),
        "task": facts.model_dump(mode="json"),
        "baseline": facts.baseline.model_dump(),
        "max_metric_drop": drop,
        GOAL_ATTR: goal.model_dump(),
        # Last: a tuner killed before this write left a study that is created again.
        ATTR_KIND: {"version": __version__, "study": name, "stage": stage},
    }
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    stage_study = StageStudy(
        study, name, stage, request.space, facts.baseline, request.hardware, facts, drop, goal=goal
    )
    return stage_study, []


def creation_cut_short(study: optuna.Study) -> bool:
    """Whether a killed tuner cut this stage study's creation short: two objectives, no
    trials, and not yet the mark autoaccel writes last. Such a study reads as not there,
    and the next tune creates it again."""
    return (
        ATTR_KIND not in study.user_attrs
        and not study.get_trials(deepcopy=False)
        and len(study.directions) == 2
    )


def _resume(study: optuna.Study, request: StageRequest) -> tuple[StageStudy, list[str]]:
    name, stage, hardware, facts = request.name, request.stage, request.hardware, request.facts
    notes = []
    attrs = study.user_attrs
    if ATTR_KIND not in attrs or "search_space" not in attrs:
        raise StudyError(
            f"study {stage_study_name(name, stage)!r} exists in this storage but was not made "
            "by autoaccel; choose another --study name."
        )
    stored_hw = HardwareProfile.model_validate(attrs["hardware"])
    if attrs.get("fingerprint") != hardware.fingerprint():
        if not request.allow_other_hardware:
            raise StudyError(
                f"study {name!r} was measured on {stored_hw.summary()} (fingerprint "
                f"{attrs.get('fingerprint')}); this machine is {hardware.summary()} "
                f"({hardware.fingerprint()}). Throughputs would not compare: use a new "
                "--study name, or pass --allow-other-hardware to continue anyway."
            )
        notes.append(f"continuing {name} ({stage}) on other hardware, as asked")
    stored_space = SearchSpace.from_dict(attrs["search_space"])
    given = request.space
    same = (given.choices, given.ranges) == (stored_space.choices, stored_space.ranges)
    if request.space_given and not same:
        raise StudyError(
            f"study {name!r} searches a different {stage} space than {given.source} gives; "
            "Optuna cannot change the choices inside a study. Use a new --study name for the "
            "new space, or leave out --space to continue with the stored one."
        )
    if given.effective_batch != stored_space.effective_batch:
        held = "held" if stored_space.effective_batch else "not held"
        notes.append(f"study {name!r} keeps its effective batch {held}, as it was created")
    stored_task = TaskFacts.model_validate(attrs["task"])
    if stored_task.script_sha256 != facts.script_sha256:
        notes.append(
            f"{facts.script} changed since study {name!r} started; earlier trials measured "
            "the earlier version"
        )
    drop = attrs.get("max_metric_drop", 0.0)
    max_metric_drop = request.max_metric_drop
    if max_metric_drop is not None and max_metric_drop != drop:
        study.set_user_attr("max_metric_drop", max_metric_drop)
        notes.append(f"metric tolerance changed from {drop} to {max_metric_drop}")
        drop = max_metric_drop
    goal = _resumed_goal(study, request, notes)
    baseline = Config.model_validate(attrs["baseline"])
    stage_study = StageStudy(
        study,
        name,
        stage,
        stored_space,
        baseline,
        stored_hw,
        stored_task,
        drop,
        attrs[ATTR_KIND]["version"],
        goal,
    )
    return stage_study, notes


def stored_goal(attrs: dict[str, Any]) -> ServingGoal:
    """The goal stored with a stage; studies from before goals ranked by throughput."""
    return ServingGoal.model_validate(attrs.get(GOAL_ATTR) or {})


def _resumed_goal(study: optuna.Study, request: StageRequest, notes: list[str]) -> ServingGoal:
    """The stored goal, its limits changed as given (the ranking is recomputed from the
    stored measurements, as for the metric tolerance). The objective and the latency batch
    cannot change: Optuna keeps a study's directions, and the trials timed that batch."""
    stored = stored_goal(study.user_attrs)
    goal = stored.model_copy(update=request.goal)
    for field, flag in (("objective", "--objective"), ("latency_batch", "--latency-batch")):
        if getattr(goal, field) != getattr(stored, field):
            raise StudyError(
                f"study {request.name!r} ({request.stage}) was tuned with {flag} "
                f"{getattr(stored, field)}; it cannot change to {getattr(goal, field)} inside "
                "the study. Use a new --study name, or leave the option out to continue."
            )
    if goal != stored:
        study.set_user_attr(GOAL_ATTR, goal.model_dump())
        was, now = stored.limits_text() or "no limits", goal.limits_text() or "no limits"
        notes.append(f"limits changed from {was} to {now}")
    return goal
