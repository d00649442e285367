"""Computing a report from the storage alone: no trial is run, no user code is imported."""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoaccel import defaults
from autoaccel.knobs import Stage
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import (
    ServingGoal,
    StageRecommendation,
    TrialRecord,
    baseline_of,
    is_feasible,
)
from autoaccel.report._apply import how_to_apply
from autoaccel.report._importance import param_importance
from autoaccel.report._model import (
    Bottleneck,
    FailureGroup,
    KnobEffect,
    KnobValueEffect,
    ReportInfo,
    StageReport,
    TrialRow,
)
from autoaccel.runner import OUTCOMES, Outcome

if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

    from autoaccel.study import StageStudy

TOP_TRIALS = 10
FAILED_OUTCOMES = tuple(outcome for outcome in OUTCOMES if outcome != "ok")
FAILURE_ADVICE: dict[Outcome, str] = {
    "oom": "ran out of memory: these batch sizes and precisions do not fit, and bound the "
    "search (larger batches in the same precision are not tried again)",
    "timeout": "ran past --trial-timeout: compilation can take minutes, so raise "
    "--trial-timeout if these configurations deserve a chance",
    "crash": "the configuration broke outside your code (compiler, kernels, driver): run "
    "autoaccel bench SCRIPT --config '<its configuration>' to see the traceback",
    "diverged": "the loss or outputs became NaN or infinite: this precision or batch size "
    "needs another learning rate (Task.lr_scaling) or loss scaling",
    "user_error": "your code raised under this configuration: run autoaccel bench SCRIPT "
    "--config '<its configuration>' to see where",
    "pruned": "stopped early: after a few timed windows they ran at under a third of the "
    "best throughput found so far, so they could not win",
    "interrupted": "stopped by Ctrl-C or a killed tuner; they run again when the study resumes",
}


def build_report(
    storage: str | BaseStorage, study: str, *, studies_dir: Path = defaults.STUDIES_DIR
) -> ReportInfo:
    """Everything a report of ``study`` shows, computed from ``storage`` (a URL, or an
    Optuna storage). A missing storage or study is a :class:`StorageError` saying what to do.

    ``studies_dir`` is where ``autoaccel tune`` wrote the recommendation file; it is only
    looked at, to say whether the file is there.
    """
    from autoaccel.study import load_stages, open_storage, redact

    url = storage if isinstance(storage, str) else str(getattr(storage, "url", "storage"))
    handle = open_storage(storage, create=False) if isinstance(storage, str) else storage
    stages = load_stages(handle, study)
    first = next(iter(stages.values()))
    script = _display_path(first.task.script)
    reports: dict[Stage, StageReport] = {}
    completed: list[datetime.datetime] = []
    for stored in stages.values():
        trials = stored.optuna_study.get_trials(deepcopy=False)
        completed += [t.datetime_complete for t in trials if t.datetime_complete is not None]
        report = _stage_report(stored, trials, script, studies_dir)
        reports[report.stage] = report
    return ReportInfo(
        study=study,
        storage=redact(url),
        script=script,
        task=first.task,
        hardware=first.hardware,
        hardware_summary=first.hardware.summary(),
        fingerprint=first.fingerprint,
        autoaccel_version=first.version,
        generated_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
        last_update=max(completed, default=None),
        stages=reports,
    )


def _stage_report(
    stored: StageStudy, trials: Sequence[FrozenTrial], script: str, studies_dir: Path
) -> StageReport:
    from autoaccel.study import describe_sharing

    stage = stored.stage
    by_number = {t.number: t for t in trials}
    records = stored.records()
    rec = stored.recommendation(records)
    baseline = baseline_of(records)
    measured_baseline = baseline if baseline is not None and baseline.ok else None
    base_metric = measured_baseline.metric if measured_baseline else None
    base_rate = measured_baseline.throughput if measured_baseline else None
    baseline_config = stored.baseline.for_stage(stage)

    goal = stored.goal

    def feasible(record: TrialRecord) -> bool:
        return (
            base_metric is not None
            and is_feasible(record, base_metric, stored.max_metric_drop)
            and goal.meets(record.served)
        )

    # Repeats carry their original's measurement: counted once in fronts and comparisons.
    measured = [r for r in records if r.ok and r.repeat_of is None]
    fastest_first = sorted(measured, key=lambda r: (-r.throughput, r.number))
    front = pareto_front([(r.number, r.throughput, r.metric or 0.0) for r in measured])
    rows = [
        _row(
            r,
            by_number.get(r.number),
            stage,
            feasible(r),
            r.number in front,
            base_rate,
            baseline_config,
            goal,
        )
        for r in records
    ]
    searched = {
        **{k: list(v) for k, v in stored.space.choices.items()},
        **{k: span.values() for k, span in stored.space.ranges.items()},
    }
    finished = [r for r in records if r.outcome != "interrupted"]
    best = next((r for r in records if rec is not None and r.number == rec.trial), None)
    return StageReport(
        stage=stage,
        optuna_study=stored.optuna_study.study_name,
        metric_name=stored.task.metric_name,
        max_metric_drop=stored.max_metric_drop,
        goal=goal,
        searched=searched,
        dropped=stored.space.dropped,
        baseline_trial=baseline.number if baseline is not None else None,
        baseline_config=baseline_config,
        baseline_throughput=base_rate,
        baseline_metric=base_metric,
        recommendation=rec,
        outcomes=dict(Counter(r.outcome for r in records)),
        finished=len(finished),
        feasible=sum(1 for r in finished if feasible(r)),
        trials=rows,
        pareto_front=[r.number for r in fastest_first if r.number in front],
        top_trials=[r.number for r in fastest_first[:TOP_TRIALS]],
        best_so_far=best_so_far(rows),
        failures=failure_groups(records),
        importance=param_importance(
            [by_number[r.number] for r in measured if feasible(r) and r.number in by_number],
            searched,
        ),
        knob_effects=knob_effects(rows, searched, baseline_config, rec, base_rate),
        sharing=describe_sharing(trials),
        bottleneck=(
            _bottleneck(best, rec, stored.hardware)
            if best is not None and rec is not None
            else None
        ),
        apply=(
            how_to_apply(
                rec,
                stored.name,
                script,
                baseline_config,
                studies_dir,
                stored.task.name,
                stored.task.script_args,
            )
            if rec is not None
            else None
        ),
    )


def _changed(config: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if baseline.get(k) != v}


def _row(
    record: TrialRecord,
    trial: FrozenTrial | None,
    stage: Stage,
    feasible: bool,
    pareto: bool,
    baseline_rate: float | None,
    baseline_config: dict[str, Any],
    goal: ServingGoal,
) -> TrialRow:
    m = record.measurement if record.ok else None
    config = record.config.for_stage(stage)
    searched = [k for k in config if trial is not None and k in trial.params]
    return TrialRow(
        number=record.number,
        role=record.role,
        outcome=record.outcome,
        reason=record.reason,
        config=config,
        changed=_changed(config, baseline_config),
        searched=searched,
        throughput=m.throughput if m else None,
        spread=m.throughput.spread if m else None,
        speedup=m.throughput.rate / baseline_rate if m and baseline_rate else None,
        metric=m.metric if m else None,
        feasible=feasible,
        pareto=pareto,
        peak_memory_bytes=m.peak_memory_bytes if m else None,
        memory_kind=m.memory_kind if m else None,
        mfu=m.mfu if m else None,
        peak_dtype=m.peak_dtype if m else None,
        mfu_of_best=m.mfu_of_best if m else None,
        best_peak_dtype=m.best_peak_dtype if m else None,
        data_wait_share=m.data_wait_share if m else None,
        p99_ms=goal.p99_ms(m),
        broken_limits=goal.broken(m),
        duration_s=record.duration_s,
        repeat_of=record.repeat_of,
        skipped=record.skipped,
        completed_at=trial.datetime_complete if trial is not None else None,
    )


def pareto_front(points: Sequence[tuple[int, float, float]]) -> set[int]:
    """Numbers of the points no other point beats in both throughput and metric."""
    front = set()
    for number, rate, metric in points:
        dominated = any(
            r >= rate and m >= metric and (r > rate or m > metric) for _, r, m in points
        )
        if not dominated:
            front.add(number)
    return front


def best_so_far(rows: Sequence[TrialRow]) -> list[tuple[int, float | None]]:
    """The best feasible throughput after each trial; None before the first feasible one."""
    series: list[tuple[int, float | None]] = []
    best = None
    for row in rows:
        if row.feasible and row.throughput is not None:
            best = max(best or 0.0, row.throughput.rate)
        series.append((row.number, best))
    return series


def failure_groups(records: Sequence[TrialRecord]) -> list[FailureGroup]:
    """Trials that did not finish, by outcome then reason, in FAILED_OUTCOMES order."""
    groups = []
    outcomes = [o for o in FAILED_OUTCOMES if any(r.outcome == o for r in records)]
    for outcome in outcomes:
        failed = [r for r in records if r.outcome == outcome]
        reasons: dict[str, list[int]] = {}
        for record in failed:
            reasons.setdefault(record.reason or "no reason recorded", []).append(record.number)
        groups.append(
            FailureGroup(
                outcome=outcome,
                trials=[r.number for r in failed],
                reasons=list(reasons.items()),
                advice=FAILURE_ADVICE.get(outcome, ""),
            )
        )
    return groups


def knob_effects(
    rows: Sequence[TrialRow],
    searched: dict[str, list[Any]],
    baseline: dict[str, Any],
    rec: StageRecommendation | None,
    baseline_rate: float | None,
) -> list[KnobEffect]:
    """For every knob searched over more than one value, how each value did at its best.

    A trial counts for a knob only when Optuna chose that knob for it: worker-only knobs
    mean nothing without workers.
    """
    recommended = rec.config.for_stage(rec.stage) if rec is not None else {}
    counted = [r for r in rows if r.repeat_of is None and r.outcome != "interrupted"]
    effects = []
    for knob, space_values in searched.items():
        values = list(space_values)
        for row in counted:
            if knob in row.searched and row.config[knob] not in values:
                values.append(row.config[knob])
        if len(values) < 2:
            continue
        per_value = []
        for value in values:
            using = [r for r in counted if knob in r.searched and r.config.get(knob) == value]
            good = [r for r in using if r.feasible and r.throughput is not None]
            best = max(good, key=lambda r: (r.throughput.rate, -r.number), default=None)
            rate = best.throughput.rate if best is not None and best.throughput else None
            per_value.append(
                KnobValueEffect(
                    value=value,
                    trials=len(using),
                    feasible=len(good),
                    failed=sum(1 for r in using if r.outcome != "ok"),
                    best_throughput=rate,
                    best_trial=best.number if best is not None else None,
                    speedup=rate / baseline_rate if rate and baseline_rate else None,
                )
            )
        effects.append(
            KnobEffect(
                knob=knob,
                baseline=baseline.get(knob),
                recommended=recommended.get(knob),
                values=per_value,
            )
        )
    return effects


def _bottleneck(
    best: TrialRecord, rec: StageRecommendation, hardware: HardwareProfile
) -> Bottleneck:
    m = best.measurement
    assert m is not None
    device = hardware.primary
    device_memory = device.memory_total_bytes if device is not None else None
    advice = list(rec.limits)
    if m.memory_kind == "cuda_allocated" and m.peak_memory_bytes and device_memory:
        share = m.peak_memory_bytes / device_memory
        if share < 0.5:
            advice.append(
                f"it uses {share:.0%} of the GPU's memory: larger batches, or several "
                "models per GPU, would fit"
            )
    return Bottleneck(
        trial=best.number,
        data_wait_share=m.data_wait_share,
        mfu=m.mfu,
        achieved_flops=m.achieved_flops,
        peak_flops=m.peak_flops,
        peak_dtype=m.peak_dtype,
        mfu_of_best=m.mfu_of_best,
        best_peak_dtype=m.best_peak_dtype,
        flops_per_sample=m.flops_per_sample,
        peak_memory_bytes=m.peak_memory_bytes,
        memory_kind=m.memory_kind,
        device_memory_bytes=device_memory,
        advice=advice,
    )


def _display_path(script: str) -> str:
    """The script relative to the working directory when it lies below it: the commands a
    report prints then work as they are."""
    path = Path(script)
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return script
    return os.fspath(relative)
