"""``autoaccel tune``: search each stage with Optuna (``_search.py``: one trial process at a
time, or ``--jobs`` at once), confirm the best, and write the recommendation.

Only this process talks to the storage; trial processes get a spec and hand back a result.
A trial that fails is a result told to the study (with a constraint marking it infeasible),
never the end of the study. Ctrl-C (and SIGTERM, through the command) ends the running
trials, keeps every finished one and writes the recommendation so far; what runs next is
decided from the stored trials alone (``_next_trial.py``), so a tuner stopped at any
moment, kill -9 included, leaves a study the next tune finishes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoaccel.errors import RunFailedError, TaskError
from autoaccel.knobs import Stage, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import Recommendation, TrialRecord
from autoaccel.runner import TrialResult, TrialSpec, inspect_script, run_trial
from autoaccel.study._confirm import confirm_stage
from autoaccel.study._deploy_weights import weights_choice
from autoaccel.study._devices import device_pool
from autoaccel.study._folder import StudyFolder
from autoaccel.study._progress import SilentProgress, TuneProgress
from autoaccel.study._script_args import check_same_arguments, describe_arguments
from autoaccel.study._search import search_stage
from autoaccel.study._space import default_space_path, fit_to, load_space
from autoaccel.study._stage_study import (
    StageRequest,
    open_stage_study,
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
from autoaccel.task import ScriptTarget, resolve_script


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
    if hardware is None:
        from autoaccel.probe import probe

        hardware = probe()
    pool = device_pool(hardware, options.jobs)  # refused before the storage is touched
    storage = open_storage(options.storage, heartbeat_s=options.heartbeat_s)
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
        pool=pool,
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
    if search_stage(stage_run):
        confirm_stage(stage_run)


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
