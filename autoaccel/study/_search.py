"""A stage's search: trials started one after another, or several at once (``--jobs``),
until the stage holds its trials.

Each trial runs in a thread of the tuner that waits on the trial's process; this thread
alone reads and writes the storage, so SQLite serves ``--jobs`` as it serves one trial. What
runs next is read from the stored trials (``_next_trial.py``); while trials run, the tuner
records their heartbeats, so a tuner that dies anywhere leaves trials another one takes
over.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from autoaccel import knobs
from autoaccel.errors import BaselineFailedError, RunFailedError
from autoaccel.knobs import Config, Stage
from autoaccel.recommend import ServingGoal, TrialRecord, baseline_of, best_feasible
from autoaccel.runner import TrialResult, TrialSpec, stop_trials
from autoaccel.study._devices import Placement, devices_needed, placement_attr
from autoaccel.study._first_guess import first_guess
from autoaccel.study._floor import throughput_floor
from autoaccel.study._next_trial import Measure, WaitForBaseline, next_trial
from autoaccel.study._oom_bound import out_of_memory_at
from autoaccel.study._owner import TrialOwner
from autoaccel.study._progress import TuneProgress
from autoaccel.study._records import constraints, records_of, result_attrs, trial_values
from autoaccel.study._repeats import earlier_trial, untried
from autoaccel.study._stage_study import StageStudy, tuner_sampler
from autoaccel.study._state import Interrupted, StageRun, Tuning
from autoaccel.study._trials import (
    record_heartbeats,
    start_trial,
    stop_left_over_trials,
    stop_own_trials,
)

BASELINE_POLL_S = 2.0
REMEASURE = 1  # times a doubtful measurement is taken again


@dataclasses.dataclass
class _Ours:
    """A trial of this tuner: measuring in a thread (``future``), waiting for devices, or
    waiting for ``twin``, a running trial of the same configuration, to copy its result."""

    trial: Any
    role: str
    config: Config
    placement: Placement | None = None
    future: Future | None = None
    twin: int | None = None


def search_stage(stage_run: StageRun) -> bool:
    """Run trials until the study holds ``options.trials`` measured ones (those other tuners
    are running count); False when the time budget ran out first.

    Up to ``tuning.pool.jobs`` trials run at once, each in a thread of this process that
    waits on its trial process; only this thread writes the storage. Ctrl-C (or SIGTERM,
    which the command turns into the same) kills every trial process, marks this tuner's
    trials failed, so that they run again, and raises :class:`Interrupted`.
    """
    tuning, ss = stage_run.tuning, stage_run.study
    options, progress = tuning.options, tuning.progress
    progress.stage_started(
        ss.stage, ss.finished_count(), options.trials, len(ss.space.grid(ss.baseline))
    )
    # Held, the effective batch never changes, and neither does the learning rate.
    sizes = ss.space.choices.get("batch_size", ()) if ss.space.effective_batch is None else ()
    rule = knobs.batch_size.lr_rule(ss.task.lr_scaling, ss.baseline.batch_size, sizes)
    if ss.stage == "train" and rule is not None:
        progress.note(f"train: {rule}")
    with ThreadPoolExecutor(tuning.pool.jobs, thread_name_prefix="autoaccel-trial") as threads:
        search = _Search(stage_run, threads)
        try:
            return search.run()
        except BaseException as stop:
            search.stop()
            if isinstance(stop, KeyboardInterrupt):
                raise Interrupted() from None
            raise


class _Search:
    """One stage's search under way in this tuner: its trials, and what it decided so far."""

    def __init__(self, stage_run: StageRun, threads: ThreadPoolExecutor) -> None:
        tuning, ss = stage_run.tuning, stage_run.study
        self.stage_run, self.threads = stage_run, threads
        self.owner = TrialOwner.this_process()
        self.sampler = tuner_sampler(tuning.options.seed, tuning.options.trials)
        self.guess = first_guess(ss.space, tuning.hardware, ss.task, ss.baseline)
        self.ours: list[_Ours] = []
        self.chosen: Config | None = None  # not measured yet: what follows a repeat
        self.waiting_since: float | None = None
        self.done: bool | None = None  # set once no trial may start: what run() returns

    def run(self) -> bool:
        tuning, ss = self.stage_run.tuning, self.stage_run.study
        while True:
            record_heartbeats(ss.optuna_study, [o.trial._trial_id for o in self.ours])
            _finish_measured(self.stage_run, self.ours)
            _start_waiting(self.stage_run, self.ours, self.threads)
            room = tuning.pool.has_room() and not _waiting_for_devices(self.ours)
            if self.done is None and room and self._start_next():
                continue
            if self.done is not None and not self.ours:
                return self.done
            _wait(tuning, self.ours, float(tuning.options.heartbeat_s))

    def _start_next(self) -> bool:
        """Start the stage's next trial, if it has one now; True to look again at once."""
        tuning, ss = self.stage_run.tuning, self.stage_run.study
        if self.stage_run.deadline is not None and tuning.clock() >= self.stage_run.deadline:
            tuning.progress.note(f"{ss.stage}: the time budget is spent; stopping this stage")
            self.done = False
            return True
        plan = functools.partial(
            next_trial,
            baseline=ss.baseline,
            guess=self.guess,
            target=tuning.options.trials,
            chosen=self.chosen,
        )
        trials = _stop_left_over_trials(ss, self.owner, self.ours, tuning.progress)
        step = plan(trials)
        if step is None and not self.ours:
            self.done = True
            return True
        if isinstance(step, WaitForBaseline) and not self.ours:
            self.waiting_since = _wait_for_baseline(self.stage_run, step, self.waiting_since)
            return True
        if not isinstance(step, Measure):  # wait for this tuner's trials
            return False
        self.waiting_since = None
        if step.role != "baseline":
            _check_baseline(ss, records_of(trials))
        trial = start_trial(ss, self.owner, step, plan, self.sampler)
        if trial is None:
            return True
        self.chosen = None
        if not _start(self.stage_run, trial, step.role, self.ours, self.threads):
            self.chosen = _untried(ss, trial.number)
            if self.chosen is None:
                tuning.progress.note(f"{ss.stage}: every configuration in the space is measured")
                self.done = True
        return True

    def stop(self) -> None:
        """Kill every trial process of this tuner and mark its trials interrupted."""
        stop_trials()  # each thread's trial process: its thread then returns
        wait([o.future for o in self.ours if o.future is not None])
        stop_own_trials(self.stage_run.study.optuna_study, self.owner)


def _start(
    stage_run: StageRun, trial: Any, role: str, ours: list[_Ours], threads: ThreadPoolExecutor
) -> bool:
    """Give the new trial its configuration and start measuring it; False when its result
    is known without a trial process (a repeat, sure to run out of memory) or will be (a
    running trial measures the same configuration): the search then picks an untried one."""
    ss = stage_run.study
    config = ss.space.suggest(trial, ss.baseline)
    trial.set_user_attr("config", config.model_dump())
    entry = _Ours(trial, role, config)
    ours.append(entry)
    if role != "search":
        _launch(stage_run, entry, threads)
        return True
    entry.twin = _running_twin(ss, trial.number, config)
    if entry.twin is not None:
        return False
    known = _known_outcome(ss.records(), config, ss.stage)
    if known is None:
        _launch(stage_run, entry, threads)
        return True
    ours.remove(entry)
    _finish(stage_run, trial, role, *known)
    return False


def _running_twin(ss: StageStudy, number: int, config: Config) -> int | None:
    """Another RUNNING trial of the stage measuring the same configuration, if any."""
    key = config.for_stage(ss.stage)
    return next(
        (n for n, c in _running_configs(ss) if n != number and c.for_stage(ss.stage) == key),
        None,
    )


def _running_configs(ss: StageStudy) -> list[tuple[int, Config]]:
    """The stage's RUNNING trials (any tuner's) that have a configuration already."""
    from optuna.trial import TrialState

    running = ss.optuna_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [
        (t.number, Config.model_validate(t.user_attrs["config"]))
        for t in running
        if "config" in t.user_attrs
    ]


def _launch(stage_run: StageRun, entry: _Ours, threads: ThreadPoolExecutor) -> None:
    """Measure the trial in a thread once the pool has the devices it needs."""
    tuning, ss = stage_run.tuning, stage_run.study
    placement = tuning.pool.take(devices_needed(entry.config))
    if placement is None:
        return
    entry.placement = placement
    if tuning.pool.jobs > 1:
        entry.trial.set_user_attr("placement", placement_attr(tuning.pool.jobs, placement))
    tuning.progress.trial_started(
        ss.stage, entry.trial.number, entry.role, entry.config.for_stage(ss.stage)
    )
    records = ss.records()
    # The baseline always runs to the end: every other trial is measured against it.
    by_rate = ss.goal.objective == "throughput" and entry.role != "baseline"
    floor = throughput_floor(records, ss.max_metric_drop, ss.goal) if by_rate else None
    spec = TrialSpec(
        action=ss.stage,
        script=tuning.target.spec,
        script_args=tuning.target.args,
        config=entry.config,
        hardware=tuning.hardware,
        seed=tuning.options.seed,
        weights_in=stage_run.weights,
        min_throughput=floor,
        latency_batch=ss.goal.latency_batch,
        devices=placement.devices,
        cores=placement.cores,
    )
    entry.future = threads.submit(_measure, stage_run, entry.trial.number, spec)


def _waiting_for_devices(ours: list[_Ours]) -> bool:
    return any(o.future is None and o.twin is None for o in ours)


def _start_waiting(stage_run: StageRun, ours: list[_Ours], threads: ThreadPoolExecutor) -> None:
    """Start the trials that wait: for devices, or for a twin that has now ended. A twin
    that finished gives its result (a repeat); one that was stopped leaves the
    configuration to measure."""
    from optuna.trial import TrialState

    ss = stage_run.study
    waiting = [o for o in ours if o.future is None]
    if not waiting:
        return
    running = {
        t.number for t in ss.optuna_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    }
    for entry in waiting:
        if entry.twin is not None:
            if entry.twin in running:
                continue
            entry.twin = None
            known = _known_outcome(ss.records(), entry.config, ss.stage)
            if known is not None:
                ours.remove(entry)
                _finish(stage_run, entry.trial, entry.role, *known)
                continue
        _launch(stage_run, entry, threads)


def _finish_measured(stage_run: StageRun, ours: list[_Ours]) -> None:
    """Tell the study what each trial that ended measured, and give back its devices."""
    for entry in [o for o in ours if o.future is not None and o.future.done()]:
        ours.remove(entry)
        assert entry.placement is not None
        stage_run.tuning.pool.give_back(entry.placement)
        result, attrs = entry.future.result()
        _finish(stage_run, entry.trial, entry.role, result, attrs)


def _wait(tuning: Tuning, ours: list[_Ours], beat_s: float) -> None:
    """Until a trial of this tuner ends, at most one heartbeat; a tuner whose trials only
    wait for other tuners' trials polls."""
    futures = [o.future for o in ours if o.future is not None]
    if futures:
        wait(futures, timeout=beat_s, return_when=FIRST_COMPLETED)
    else:
        tuning.sleep(min(beat_s, BASELINE_POLL_S))


def _finish(
    stage_run: StageRun, trial: Any, role: str, result: TrialResult, attrs: dict[str, Any]
) -> None:
    """Tell the study the trial's result and show it. A trial another tuner took over
    meanwhile (this one was silent past its heartbeat's grace: suspended, cut off from
    the database) keeps what that tuner stored, and the result is dropped."""
    from optuna.exceptions import UpdateFinishedTrialError

    tuning, ss = stage_run.tuning, stage_run.study
    records = ss.records()
    baseline = baseline_of(records) if role != "baseline" else None
    base_metric = (
        baseline.measurement.metric
        if baseline is not None and baseline.measurement is not None
        else (result.measurement.metric if result.measurement else 0.0)
    )
    try:
        _tell(ss, trial, result, base_metric, attrs)
    except UpdateFinishedTrialError:
        tuning.progress.note(
            f"{ss.stage}: trial {trial.number} was taken over by another tuner while it ran "
            "(no heartbeat for too long); its result is dropped"
        )
        return
    if role == "baseline" and not result.ok:
        raise BaselineFailedError(_baseline_failure(ss, result))
    records = ss.records()
    tuning.progress.trial_finished(
        ss.stage,
        next(r for r in records if r.number == trial.number),
        ss.finished_count(),
        tuning.options.trials,
        _best_speedup(records, ss.max_metric_drop, ss.goal),
    )


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
    """After a repeat, a configuration nothing has measured or is measuring yet; None if
    none is left."""
    busy = [config for _, config in _running_configs(ss)]
    left = untried(ss.space.grid(ss.baseline), ss.records(), ss.stage, busy)
    return random.Random(seed).choice(left) if left else None


def _tell(
    ss: StageStudy, trial: Any, result: TrialResult, baseline_metric: float, extra: dict
) -> None:
    for key, value in {**result_attrs(result), **extra}.items():
        trial.set_user_attr(key, value)
    for key, value in constraints(result, baseline_metric, ss.max_metric_drop, ss.goal).items():
        trial.set_constraint(key, value)
    ss.optuna_study.tell(trial, trial_values(result, ss.goal))


def _stop_left_over_trials(
    ss: StageStudy, owner: TrialOwner, ours: list[_Ours], progress: TuneProgress
) -> list:
    """The stage's trials, once those a stopped tuner left RUNNING are marked failed."""
    running_here = {o.trial.number for o in ours}
    stopped = stop_left_over_trials(ss.optuna_study, owner, running_here)
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
