"""Starting a stage's trials with their owner, and stopping those whose tuner stopped."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from autoaccel.study._next_trial import Measure, WaitForBaseline
from autoaccel.study._owner import TrialOwner, is_left_over
from autoaccel.study._records import STOPPED
from autoaccel.study._stage_study import StageStudy

if TYPE_CHECKING:
    import optuna

Plan = Callable[[Sequence[Any]], Measure | WaitForBaseline | None]


def start_trial(
    ss: StageStudy,
    owner: TrialOwner,
    step: Measure,
    plan: Plan,
    sampler: Callable[[int], optuna.samplers.BaseSampler],
) -> optuna.Trial | None:
    """Create the trial that carries out ``step``, owned by ``owner`` from its first write;
    None when another tuner's trial, created just before, made it unneeded.

    ``Study.ask`` creates a trial and nothing else, so a tuner killed before its next write
    would leave a trial nobody owns, that no later tuner could tell from a running one
    (its start time is the local clock of whichever host asked, so its age proves nothing).
    This is ask's two steps with a template holding the owner and the trial's role.

    Trial numbers follow creation, so ``plan`` run on the trials numbered below this one
    says whether it is still the next trial: when two tuners decide at once (the last trial
    of the target, the baseline of a new study), the later one drops its trial before it
    measures anything. ``sampler(number)`` gives the trial its sampler.
    """
    import optuna
    from optuna.trial import TrialState, create_trial

    study = ss.optuna_study
    attrs: dict[str, Any] = {**owner.attrs(), "role": step.role}
    if step.retry_of is not None:
        attrs["retry_of"] = step.retry_of
    fixed = {"fixed_params": ss.space.params_for(step.config)} if step.config else {}
    template = create_trial(state=TrialState.RUNNING, user_attrs=attrs, system_attrs=fixed)
    trial_id = study._storage.create_new_trial(study._study_id, template_trial=template)
    # Optuna never takes a trial without a heartbeat for stale: give it one at once.
    record_heartbeats(study, [trial_id])
    number = study._storage.get_trial_number_from_id(trial_id)
    earlier = [t for t in study.get_trials(deepcopy=False) if t.number < number]
    if plan(earlier) != step:
        study.tell(number, state=TrialState.FAIL)
        return None
    study.sampler = sampler(number)
    return optuna.Trial(study, trial_id)


def stop_own_trials(study: optuna.Study, owner: TrialOwner) -> None:
    """Mark failed the trial ``owner`` was running (or had just created) when stopped."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    _stop([t for t in running if TrialOwner.of(t) == owner], study)


def record_heartbeats(study: optuna.Study, trial_ids: Iterable[int]) -> None:
    """Say that these trials' tuner is alive, where the storage keeps heartbeats."""
    storage = study._storage
    if storage.get_heartbeat_interval():
        for trial_id in trial_ids:
            storage.record_heartbeat(trial_id)


def stop_left_over_trials(
    study: optuna.Study, here: TrialOwner, running_here: Collection[int] = ()
) -> list[int]:
    """Mark failed the RUNNING trials stopped tuners left: those whose tuner's process is
    gone (on this host), and those whose heartbeat is stale (any host: a tuner killed, or
    its machine lost). ``running_here`` are the trials the asking tuner runs now: any other
    trial of its own was left by an earlier call that stopped half-way. Returns the numbers
    of the trials marked failed."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    left = [t for t in running if t.number not in running_here and is_left_over(t, here)]
    _stop(left, study)
    with warnings.catch_warnings():  # fail_stale_trials is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    failed = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    return [t.number for t in running if t.number in failed]


def _stop(trials: Iterable[optuna.trial.FrozenTrial], study: optuna.Study) -> None:
    """Mark RUNNING trials failed, as interrupted: a failed trial runs again. One that
    another tuner finished or stopped meanwhile is left as it is."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    for trial in trials:
        with contextlib.suppress(UpdateFinishedTrialError):
            for key, value in {"outcome": "interrupted", "reason": STOPPED}.items():
                study._storage.set_trial_user_attr(trial._trial_id, key, value)
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
