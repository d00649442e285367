"""What a stage measures next, decided from its trials in the storage alone.

Nothing is queued: a tuner that starts, resumes or shares the study reads the same trials
and comes to the same answer, so a killed tuner leaves nothing behind that must run first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from autoaccel.knobs import Config
from autoaccel.recommend import Role


@dataclasses.dataclass(frozen=True)
class Measure:
    """Start a trial of ``config``, or of the sampler's choice when it is None."""

    role: Role
    config: Config | None = None
    retry_of: int | None = None  # the stopped trial whose configuration it measures again


@dataclasses.dataclass(frozen=True)
class WaitForBaseline:
    """Another tuner runs the baseline, which every other trial is measured against."""

    trial: int


def is_measured(trial: Any) -> bool:
    """Whether a trial counts toward ``--trials``: finished, with a trial process of its own
    (a repeat copies an earlier result, a skipped trial was known to run out of memory)."""
    from optuna.trial import TrialState

    attrs = trial.user_attrs
    return (
        trial.state == TrialState.COMPLETE and "repeat_of" not in attrs and not attrs.get("skipped")
    )


def next_trial(
    trials: Sequence[Any],
    *,
    baseline: Config,
    guess: Config,
    target: int,
    chosen: Config | None = None,
) -> Measure | WaitForBaseline | None:
    """The next trial to start among ``trials`` (Optuna trials), or None once the study
    holds ``target`` measured trials.

    Every RUNNING trial is taken to be running in a live tuner (the caller stops left-over
    ones first), so it counts toward the target. In order: the baseline while none is
    finished; a configuration a stopped tuner left unmeasured; the first guess; ``chosen``
    (a configuration not measured yet, after a repeat); the sampler's choice.
    """
    from optuna.trial import TrialState

    running = [t for t in trials if t.state == TrialState.RUNNING]
    if sum(1 for t in trials if is_measured(t)) + len(running) >= target:
        return None
    if not any(_role(t) == "baseline" and t.state == TrialState.COMPLETE for t in trials):
        other = next((t for t in running if _role(t) == "baseline"), None)
        return WaitForBaseline(other.number) if other else Measure("baseline", baseline)
    stopped = _first_unmeasured_stop(trials)
    if stopped is not None:
        return Measure("retry", Config.model_validate(stopped.user_attrs["config"]), stopped.number)
    if guess != baseline and not any(
        _role(t) == "first_guess" and t.state != TrialState.WAITING for t in trials
    ):
        return Measure("first_guess", guess)
    return Measure("search", chosen)


def _role(trial: Any) -> str:
    return trial.user_attrs.get("role", "search")


def _first_unmeasured_stop(trials: Sequence[Any]) -> Any | None:
    """The first failed trial (its tuner stopped) whose configuration no trial measured or
    is measuring since. A failed baseline is the baseline's business, not a retry."""
    from optuna.trial import TrialState

    alive = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING)]
    configs = [t.user_attrs["config"] for t in alive if "config" in t.user_attrs]
    retried = {t.user_attrs.get("retry_of") for t in alive}
    for trial in trials:
        if (
            trial.state == TrialState.FAIL
            and _role(trial) != "baseline"
            and "config" in trial.user_attrs
            and trial.number not in retried
            and trial.user_attrs["config"] not in configs
        ):
            return trial
    return None
