"""``autoaccel tune``: search each stage with Optuna, one trial process at a time, and write
the recommendation.

Only this process talks to the storage; trial processes get a spec and hand back a result.
A trial that fails is a result told to the study (with a constraint marking it infeasible),
never the end of the study. Ctrl-C (and SIGTERM, through the command) ends the running
trial, keeps every finished one and writes the recommendation so far; what runs next is
decided from the stored trials alone (``_next_trial.py``), so a tuner stopped at any
moment, kill -9 included, leaves a study the next tune finishes.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoaccel import knobs
from autoaccel.errors import BaselineFailedError, RunFailedError, TaskError
from autoaccel.knobs import Config, Stage, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import (
    Recommendation,
    ServingGoal,
    TrialRecord,
    baseline_of,
    best_feasible,
)
from autoaccel.runner import TrialResult, TrialSpec, inspect_script, run_trial
from autoaccel.study._confirm import confirm_stage
from autoaccel.study._deploy_weights import weights_choice
from autoaccel.study._first_guess import first_guess
from autoaccel.study._floor import throughput_floor
from autoaccel.study._folder import StudyFolder
from autoaccel.study._next_trial import WaitForBaseline, next_trial
from autoaccel.study._oom_bound import out_of_memory_at
from autoaccel.study._owner import TrialOwner
from autoaccel.study._progress import SilentProgress, TuneProgress
from autoaccel.study._records import constraints, records_of, result_attrs, trial_values
from autoaccel.study._repeats import earlier_trial, untried
from autoaccel.study._script_args import check_same_arguments, describe_arguments
from autoaccel.study._space import default_space_path, fit_to, load_space
from autoaccel.study._stage_study import (
    StageRequest,
    StageStudy,
    open_stage_study,
    tuner_sampler,
)
from autoaccel.study._state import Interrupted, StageRun, TuneOptions, Tuning
from autoaccel.study._storage import check_study_name, open_storage
from autoaccel.study._stored import (
    STAGES,
    load_stage,
    load_stages,
    recommendation_of,
    record_files_dir,
)
from autoaccel.study._study_task import check_same_task
from autoaccel.study._trials import start_trial, stop_left_over_trials, stop_own_trials
from autoaccel.task import ScriptTarget, resolve_script

BASELINE_POLL_S = 2.0
REMEASURE = 1  # times a doubtful measurement is taken again


@dataclasses.dataclass(frozen=True)
class TuneResult:
    study: str
    recommendation: Recommendation
    path: Path
    interrupted: bool
    notes: list[str]
    records: dict[str, list[TrialRecord]]


def tune(
    script: str,
    options: TuneOptions | None = None,
    *,
    progress: TuneProgress | None = None,
    run: Callable[[TrialSpec, float], TrialResult] = run_trial,
    hardware: HardwareProfile | None = None,
    inspect: Callable[[ScriptTarget], TaskFacts] = inspect_script,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TuneResult:
    """Tune ``script``'s Task: each requested stage until it holds ``options.trials`` finished
    trials (a resumed study counts the ones it has), then write the recommendation.

    ``run``, ``hardware``, ``inspect``, ``clock`` and ``sleep`` are the seams to the outside
    world: trial processes, the probe, the task's facts and time.
    """
    options = options or TuneOptions()
    options.check()
    target = resolve_script(script, options.script_args)
    name = check_study_name(options.study or target.name)
    storage = open_storage(options.storage)
    if hardware is None:
        from autoaccel.probe import probe

        hardware = probe()
    tuning = Tuning(
        name=name,
        storage=storage,
        target=target,
        facts=_task_facts(storage, name, target, inspect),
        hardware=hardware,
        options=options,
        progress=progress or SilentProgress(),
        run=run,
        clock=clock,
        sleep=sleep,
    )
    if target.args:
        tuning.progress.note(describe_arguments(target))
    stages = ["train", "deploy"] if options.stage == "all" else [options.stage]
    deadline = clock() + options.timeout_s if options.timeout_s else None
    notes: list[str] = []
    for stage in list(stages):
        reason = tuning.facts.stage_refusal(stage)
        if reason and options.stage == stage:
            raise TaskError(f"{target.spec}: {reason}.")
        if reason:  # asked for every stage: tune the others, and say why not this one
            notes.append(f"{stage}: not tuned: {reason}")
            tuning.progress.note(notes[-1])
            stages.remove(stage)
    interrupted = False
    for index, stage in enumerate(stages):
        stage_deadline = None
        if deadline is not None:
            stage_deadline = clock() + (deadline - clock()) / (len(stages) - index)
        stage_study, stage_notes = open_stage_study(storage, _request(tuning, stage))
        for note in stage_notes:
            tuning.progress.note(note)
        notes.extend(stage_notes)
        try:
            weights = _trained_weights(tuning) if stage == "deploy" else None
            _run_stage(StageRun(tuning, stage_study, stage_deadline, weights))
        except (Interrupted, KeyboardInterrupt):
            interrupted = True
            break
    stored = load_stages(storage, name)
    recommendation = recommendation_of(name, stored)
    path = recommendation.write(StudyFolder(name, options.studies_dir).path)
    record_files_dir(stored, options.studies_dir)
    return TuneResult(
        name,
        recommendation,
        path,
        interrupted,
        notes,
        {stage: s.records() for stage, s in stored.items()},
    )


def _request(tuning: Tuning, stage: Stage) -> StageRequest:
    options, facts = tuning.options, tuning.facts
    space = load_space(options.space or default_space_path(stage), stage)
    return StageRequest(
        name=tuning.name,
        stage=stage,
        hardware=tuning.hardware,
        facts=facts,
        space=fit_to(
            space,
            tuning.hardware,
            facts,
            facts.baseline,
            hold_effective_batch=options.hold_effective_batch or facts.hold_effective_batch,
        ),
        space_given=options.space is not None,
        max_metric_drop=options.max_metric_drop,
        allow_other_hardware=options.allow_other_hardware,
        goal=options.serving_goal() if stage == "deploy" else {},
    )


def _task_facts(
    storage: Any,
    name: str,
    target: ScriptTarget,
    inspect: Callable[[ScriptTarget], TaskFacts],
) -> TaskFacts:
    """The task's facts as stored with the study when the script is unchanged, so a resume
    (or the deploy stage after the train stage) starts at once; otherwise read by a trial
    process, which also shows errors in the user's code before any trial is spent."""
    sha = target.sha256()
    for stage in STAGES:
        stored = load_stage(storage, name, stage)
        if stored is not None:
            check_same_arguments(name, stored.task, target)
            check_same_task(name, stored.task, target, inspect)
        if stored is not None and stored.task.script_sha256 == sha:
            return stored.task
    return inspect(target)


def _run_stage(stage_run: StageRun) -> None:
    """Search until the stage holds its trials, then confirm the best candidates."""
    if _search(stage_run):
        confirm_stage(stage_run)


def _search(stage_run: StageRun) -> bool:
    """Run trials until the study holds ``options.trials`` measured ones (those other tuners
    are running count); False when the time budget ran out first.

    Ctrl-C (or SIGTERM, which the command turns into the same) stops the trial process,
    marks this tuner's trial failed, so that it runs again, and raises :class:`Interrupted`.
    """
    tuning, ss = stage_run.tuning, stage_run.study
    options, progress = tuning.options, tuning.progress
    owner = TrialOwner.this_process()
    sampler = tuner_sampler(options.seed, options.trials)
    guess = first_guess(ss.space, tuning.hardware, ss.task, ss.baseline)
    progress.stage_started(
        ss.stage, ss.finished_count(), options.trials, len(ss.space.grid(ss.baseline))
    )
    # Held, the effective batch never changes, and neither does the learning rate.
    sizes = ss.space.choices.get("batch_size", ()) if ss.space.effective_batch is None else ()
    rule = knobs.batch_size.lr_rule(ss.task.lr_scaling, ss.baseline.batch_size, sizes)
    if ss.stage == "train" and rule is not None:
        progress.note(f"train: {rule}")
    chosen: Config | None = None  # not measured yet: what follows a repeat
    waiting_since: float | None = None
    try:
        while True:
            if stage_run.deadline is not None and tuning.clock() >= stage_run.deadline:
                progress.note(f"{ss.stage}: the time budget is spent; stopping this stage")
                return False
            plan = functools.partial(
                next_trial, baseline=ss.baseline, guess=guess, target=options.trials, chosen=chosen
            )
            trials = _stop_left_over_trials(ss, owner, progress)
            step = plan(trials)
            if step is None:
                return True
            if isinstance(step, WaitForBaseline):
                waiting_since = _wait_for_baseline(stage_run, step, waiting_since)
                continue
            waiting_since = None
            if step.role != "baseline":
                _check_baseline(ss, records_of(trials))
            trial = start_trial(ss, owner, step, plan, sampler)
            if trial is None:
                continue
            chosen = None
            if _run_trial(stage_run, trial, step.role):
                chosen = _untried(ss, trial.number)
                if chosen is None:
                    progress.note(f"{ss.stage}: every configuration in the space is measured")
                    return True
    except KeyboardInterrupt:
        stop_own_trials(ss.optuna_study, owner)
        raise Interrupted() from None


def _run_trial(stage_run: StageRun, trial: Any, role: str) -> bool:
    """Measure the trial's configuration, or take its result from what is known already,
    and tell the study; True when it was known (a repeat, or sure to run out of memory)."""
    tuning, ss = stage_run.tuning, stage_run.study
    options, progress = tuning.options, tuning.progress
    config = ss.space.suggest(trial, ss.baseline)
    trial.set_user_attr("config", config.model_dump())
    records = ss.records()
    baseline = baseline_of(records) if role != "baseline" else None
    known = _known_outcome(records, config, ss.stage) if role == "search" else None
    if known is not None:
        result, attrs = known
    else:
        progress.trial_started(ss.stage, trial.number, role, config.for_stage(ss.stage))
        # The baseline always runs to the end: every other trial is measured against it.
        by_rate = ss.goal.objective == "throughput" and role != "baseline"
        floor = throughput_floor(records, ss.max_metric_drop, ss.goal) if by_rate else None
        spec = TrialSpec(
            action=ss.stage,
            script=tuning.target.spec,
            script_args=tuning.target.args,
            config=config,
            hardware=tuning.hardware,
            seed=options.seed,
            weights_in=stage_run.weights,
            min_throughput=floor,
            latency_batch=ss.goal.latency_batch,
        )
        result, attrs = _measure(stage_run, trial.number, spec)
    base_metric = (
        baseline.measurement.metric
        if baseline is not None and baseline.measurement is not None
        else (result.measurement.metric if result.measurement else 0.0)
    )
    _tell(ss, trial, result, base_metric, attrs)
    if role == "baseline" and not result.ok:
        raise BaselineFailedError(_baseline_failure(ss, result))
    records = ss.records()
    progress.trial_finished(
        ss.stage,
        next(r for r in records if r.number == trial.number),
        ss.finished_count(),
        options.trials,
        _best_speedup(records, ss.max_metric_drop, ss.goal),
    )
    return known is not None


def _measure(
    stage_run: StageRun, number: int, spec: TrialSpec
) -> tuple[TrialResult, dict[str, Any]]:
    """Run the trial; one whose windows disagree, or that ran on a busy machine, runs once
    more, and is flagged unstable if it still cannot be believed."""
    tuning, ss = stage_run.tuning, stage_run.study
    attrs: dict[str, Any] = {}
    for attempt in range(1 + REMEASURE):
        result = tuning.run(spec, tuning.options.trial_timeout_s)
        doubt = measurement_doubt(result)
        if doubt is None:
            return result, attrs
        if attempt < REMEASURE:
            tuning.progress.note(f"{ss.stage}: trial {number} is measured again: {doubt}")
            attrs["remeasured"] = doubt
    attrs["unstable"] = doubt
    return result, attrs


def measurement_doubt(result: TrialResult) -> str | None:
    """Why a finished trial's throughput cannot be believed as it is, or None."""
    if not result.ok or result.measurement is None:
        return None
    unstable = result.measurement.throughput.instability
    if unstable is not None:
        return unstable
    if result.machine is not None and result.machine.busy:
        return f"the machine was busy ({result.machine.describe()})"
    return None


def _untried(ss: StageStudy, seed: int) -> Config | None:
    """After a repeat, a configuration nothing has measured yet; None if none is left."""
    left = untried(ss.space.grid(ss.baseline), ss.records(), ss.stage)
    return random.Random(seed).choice(left) if left else None


def _tell(
    ss: StageStudy, trial: Any, result: TrialResult, baseline_metric: float, extra: dict
) -> None:
    for key, value in {**result_attrs(result), **extra}.items():
        trial.set_user_attr(key, value)
    for key, value in constraints(result, baseline_metric, ss.max_metric_drop, ss.goal).items():
        trial.set_constraint(key, value)
    ss.optuna_study.tell(trial, trial_values(result, ss.goal))


def _stop_left_over_trials(ss: StageStudy, owner: TrialOwner, progress: TuneProgress) -> list:
    """The stage's trials, once those a stopped tuner left RUNNING are marked failed."""
    stopped = stop_left_over_trials(ss.optuna_study, owner)
    for number in stopped:
        progress.note(
            f"{ss.stage}: trial {number} was left running by a stopped tuner; "
            "it is marked failed and runs again"
        )
    return ss.optuna_study.get_trials(deepcopy=False)


def _wait_for_baseline(stage_run: StageRun, step: WaitForBaseline, since: float | None) -> float:
    """Wait a little for the baseline another tuner runs; returns when the wait began. That
    tuner enforces the trial timeout, so a wait longer than one trial may take means it
    stopped where this tuner cannot see it (another host)."""
    ss, tuning = stage_run.study, stage_run.tuning
    limit_s = tuning.options.trial_timeout_s
    now = tuning.clock()
    since = now if since is None else since
    if now - since >= limit_s:
        raise RunFailedError(
            f"study {ss.name!r} ({ss.stage}) has no finished baseline trial after {limit_s:g} s; "
            f"another tuner may still be running it (trial {step.trial}). Try again later."
        )
    tuning.sleep(BASELINE_POLL_S)
    return since


def _check_baseline(ss: StageStudy, records: list[TrialRecord]) -> None:
    """Every other trial is measured against the baseline: it must have run."""
    baseline = baseline_of(records)
    if baseline is None or not baseline.ok:
        what = f"{baseline.outcome}: {baseline.reason}" if baseline else "no result"
        raise BaselineFailedError(
            f"the baseline of study {ss.name!r} ({ss.stage}) ended with {what}. Every trial "
            "is measured against it: adjust Task.baseline and tune under a new --study name."
        )


def _known_outcome(
    records: list[TrialRecord], config: Config, stage: Stage
) -> tuple[TrialResult, dict] | None:
    """A result that needs no new trial process: that of an earlier trial of the same
    configuration, or out of memory below the batch size that already ran out."""
    earlier = earlier_trial(records, config, stage)
    if earlier is not None:
        result = TrialResult(
            outcome=earlier.outcome,
            reason=earlier.reason,
            measurement=earlier.measurement,
            traceback=earlier.traceback,
        )
        return result, {"repeat_of": earlier.repeat_of or earlier.number, "duration_s": 0.0}
    bound = out_of_memory_at(records, config, stage)
    if bound is not None:
        reason = (
            f"not run: batch_size={bound.config.batch_size} already ran out of memory "
            f"with {config.precision} (trial {bound.number})"
        )
        return TrialResult(outcome="oom", reason=reason), {"skipped": True}
    return None


def _best_speedup(
    records: list[TrialRecord], max_metric_drop: float, goal: ServingGoal
) -> float | None:
    """The search's best speedup so far, for the progress line."""
    best, baseline = best_feasible(records, max_metric_drop, goal), baseline_of(records)
    if best is None or baseline is None or not baseline.throughput:
        return None
    return best.throughput / baseline.throughput


def _baseline_failure(ss: StageStudy, result: TrialResult) -> str:
    what = f"the task's baseline configuration ({ss.stage} stage) ended with {result.outcome}"
    if result.outcome == "user_error":
        return f"{what}, in your code:\n{result.traceback or result.reason}"
    tail = result.log_tail.strip()
    detail = f"\nIts last output:\n{tail[-1500:]}" if tail and result.outcome == "crash" else ""
    example = " (for example a smaller batch_size)" if result.outcome == "oom" else ""
    return (
        f"{what}: {result.reason}. Every trial is measured against the baseline, so it must "
        f"run: adjust Task.baseline{example}.{detail}"
    )


def _trained_weights(tuning: Tuning) -> str:
    """Weights for the deploy stage: the task trained with the train stage's recommendation
    (or its baseline when there is none), kept beside the study and reused while the
    script and configuration are unchanged."""
    options, facts = tuning.options, tuning.facts
    trained = load_stage(tuning.storage, tuning.name, "train")
    choice = weights_choice(trained.recommendation() if trained else None, facts.baseline)
    path = StudyFolder(tuning.name, options.studies_dir).weights(
        choice.key(facts.script_sha256, options.seed)
    )
    if path.exists():
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tuning.progress.note(f"deploy: training the model with {choice.source} first")
    # Saved under another name until the run succeeds: a tuner stopped while the weights
    # were being written leaves nothing that a resume would take for them.
    saving = path.with_name(path.name + ".partial")
    spec = TrialSpec(
        action="train",
        script=tuning.target.spec,
        script_args=tuning.target.args,
        config=choice.config,
        hardware=tuning.hardware,
        seed=options.seed,
        weights_out=str(saving),
    )
    result = tuning.run(spec, options.trial_timeout_s)
    if not result.ok or not saving.exists():
        raise RunFailedError(
            f"training the model for the deploy stage with {choice.source} ended with "
            f"{result.outcome}: {result.reason}. Run autoaccel bench to investigate."
        )
    saving.replace(path)
    return str(path)
