"""Words every renderer shares: the end of ``tune`` shows a stage's recommendation with
``summary_rows``, and the text, markdown and html reports say things the same way."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from autoaccel import _format as fmt
from autoaccel.recommend import StageRecommendation

if TYPE_CHECKING:
    from autoaccel.knobs import Stage
    from autoaccel.report._model import (
        KnobEffect,
        KnobValueEffect,
        ReportInfo,
        StageReport,
        TrialRow,
    )


def config_line(rec: StageRecommendation) -> str:
    values = rec.config.for_stage(rec.stage)
    return ", ".join(f"{key}={value}" for key, value in values.items())


def summary_rows(rec: StageRecommendation, *, limits: bool = True) -> list[tuple[str, str]]:
    """Speedup with its interval and both spreads, metric against baseline (and on a second
    seed), one-off costs, memory, MFU, and (unless a report shows them on their own) limits."""
    unit = "training" if rec.stage == "train" else "inference"
    t, b = rec.throughput, rec.baseline_throughput
    metric_change = rec.metric - rec.baseline_metric
    rows = [
        ("trial", f"{rec.trial} (baseline: trial {rec.baseline_trial})"),
        ("speedup", speedup_text(rec)),
        (
            "throughput",
            f"{unit} {fmt.rate(t.rate)} (spread {fmt.percent(t.spread)}) vs baseline "
            f"{fmt.rate(b.rate)} (spread {fmt.percent(b.spread)}), in the search",
        ),
        (
            rec.metric_name,
            f"{rec.metric:.4g} vs baseline {rec.baseline_metric:.4g} ({metric_change:+.4g}; "
            f"allowed drop {rec.max_metric_drop:g})",
        ),
    ]
    if rec.metric_check is not None:
        rows.append((f"{rec.metric_name}, seed {rec.metric_check.seed}", seed_text(rec)))
    rows += goal_rows(rec)
    rows.append(("one-off cost", one_off_text(rec)))
    if rec.unstable:
        rows.append(("unstable", rec.unstable))
    rows += [
        (
            "peak memory",
            f"{fmt.nbytes(rec.peak_memory_bytes)} vs baseline "
            f"{fmt.nbytes(rec.baseline_peak_memory_bytes)}"
            + (" (process RSS)" if rec.memory_kind == "process_rss" else ""),
        ),
        (
            "MFU",
            f"{fmt.mfu(rec.mfu, rec.peak_dtype, rec.mfu_of_best, rec.best_peak_dtype)} vs "
            "baseline "
            + fmt.mfu(
                rec.baseline_mfu,
                rec.baseline_peak_dtype,
                rec.baseline_mfu_of_best,
                rec.best_peak_dtype,
            ),
        ),
        ("trials", f"{rec.feasible_trials} feasible of {rec.finished_trials} finished"),
    ]
    if limits:
        rows += [("still limiting", limit) for limit in rec.limits]
    return rows


def goal_rows(rec: StageRecommendation) -> list[tuple[str, str]]:
    """Deploy: the request latency against the baseline's, what the setup was chosen by,
    and whether the limits were met."""
    rows = []
    goal, now, was = rec.goal, rec.latency, rec.baseline_latency
    if now is not None:
        text = (
            f"p50 {now.p50_ms:.3g} ms, p99 {now.p99_ms:.3g} ms per request of "
            f"{now.batch_size} (baseline p99 {was.p99_ms:.3g} ms)"
            if was is not None
            else f"p50 {now.p50_ms:.3g} ms, p99 {now.p99_ms:.3g} ms per request"
        )
        rows.append(("latency", text + (f"; {now.note}" if now.note else "")))
    if goal.objective == "latency":
        rows.append(("chosen by", f"the lowest p99 latency at batch {goal.latency_batch}"))
    if goal.limits_text():
        rows.append(("limits", rec.goal_unmet or f"{goal.limits_text()}: met"))
    return rows


def speedup_text(rec: StageRecommendation) -> str:
    """The speedup with its 95% interval and how it was found, or why it is not one."""
    if rec.confirmed_rounds == 0:
        alone = "from the search alone (one measurement each, not confirmed in paired rounds)"
        if rec.speedup_range is None:
            return f"{fmt.speedup(rec.speedup)} {alone}"
        low, high = rec.speedup_range
        spread = f"its timed windows give {fmt.speedup(low)} to {fmt.speedup(high)}"
        if low <= 1.0:
            return f"{fmt.speedup(rec.speedup)} {alone}; inside the noise: {spread}"
        return f"{fmt.speedup(rec.speedup)} {alone}; {spread}"
    rounds = f"{rec.confirmed_rounds} paired rounds against the baseline"
    if rec.run_epochs:
        rounds += f", in the time to train {rec.run_epochs:g} epochs, one-off costs included"
    if rec.is_baseline:
        return f"none: {rec.confirmation} ({rounds})"
    if rec.speedup_ci is None:
        return f"{fmt.speedup(rec.speedup)} ({rounds})"
    low, high = rec.speedup_ci
    noise = "; inside the noise" if low <= 1.0 else ""
    return (
        f"{fmt.speedup(rec.speedup)} (95% interval {fmt.speedup(low)} to {fmt.speedup(high)}, "
        f"{rounds}{noise})"
    )


def seed_text(rec: StageRecommendation) -> str:
    check = rec.metric_check
    assert check is not None
    moved = check.baseline_seed_difference
    drop = check.drop
    return (
        f"{'-' if drop is None else f'{-drop:+.4g}'} against the baseline on this seed "
        f"(allowed drop {rec.max_metric_drop:g}); the baseline itself moved "
        f"{'-' if moved is None else f'{moved:.4g}'} from one seed to the other"
    )


def one_off_text(rec: StageRecommendation) -> str:
    """What the first step costs beyond a steady one, and when faster steps pay it back."""
    if rec.one_off_s is None:
        return "-"
    text = (
        f"first step {fmt.seconds(rec.one_off_s)} beyond a steady step "
        f"(baseline {fmt.seconds(rec.baseline_one_off_s)})"
    )
    if rec.break_even_steps is not None:
        text += f", paid back after {rec.break_even_steps:,} steps"
    return text


def knobs_text(values: dict[str, object], empty: str = "-") -> str:
    """``key=value, ...``; ``empty`` when there is nothing to say."""
    return ", ".join(f"{key}={value}" for key, value in values.items()) or empty


def stage_title(stage: Stage) -> str:
    return "Train stage" if stage == "train" else "Deploy stage (inference)"


def importance_bar(share: float, width: int = 20) -> str:
    filled = round(share * width)
    return "█" * filled + "·" * (width - filled)


def header_rows(info: ReportInfo) -> list[tuple[str, str]]:
    software = info.hardware.software
    versions = ", ".join(
        f"{name} {version}"
        for name, version in (("torch", software.torch), ("CUDA", software.cuda))
        if version
    )
    last = info.last_update.strftime("%Y-%m-%d %H:%M") if info.last_update else "no trials"
    return [
        ("script", f"{info.script} (metric: {info.task.metric_name})"),
        *([("arguments", shlex.join(info.task.script_args))] if info.task.script_args else []),
        ("hardware", f"{info.hardware_summary}" + (f"; {versions}" if versions else "")),
        ("fingerprint", info.fingerprint),
        ("storage", info.storage),
        ("last trial", last),
        ("made by", f"autoaccel {info.autoaccel_version}"),
    ]


def trial_status(row: TrialRow) -> str:
    """How a trial ended, in a word or two."""
    if row.outcome != "ok":
        return f"{row.outcome} (not run)" if row.skipped else row.outcome
    if row.feasible:
        return "feasible"
    return (
        f"over the limit: {'; '.join(row.broken_limits)}"
        if row.broken_limits
        else ("metric dropped")
    )


def dropped_text(knob: str, value: str, reason: str) -> str:
    """A dropped choice's reason, named unless the reason already names it."""
    return reason if value in reason else f"{knob}={value}: {reason}"


def trials_line(stage: StageReport) -> str:
    """How many trials ended how, and how many kept the metric (no final period)."""
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in stage.outcomes.items())
    limits = stage.goal.limits_text()
    return (
        f"{len(stage.trials)} trials ({outcomes}); {stage.feasible} of {stage.finished} "
        f"finished trials kept {stage.metric_name} within {stage.max_metric_drop:g} of the "
        "baseline" + (f" and met {limits}" if limits else "")
    )


def value_marks(value: object, baseline: object, recommended: object) -> str:
    marks = [
        label
        for label, other in (("baseline", baseline), ("recommended", recommended))
        if value == other
    ]
    return ", ".join(marks)


def knob_value_cells(effect: KnobEffect, value: KnobValueEffect) -> list[str]:
    """One value of a knob as text cells: the value, trials, feasible trials, best
    throughput, its speedup, the best trial, and whether the baseline or the recommendation
    uses it."""
    return [
        str(value.value),
        str(value.trials),
        str(value.feasible),
        fmt.rate(value.best_throughput) if value.trials else "not tried",
        fmt.speedup(value.speedup),
        "-" if value.best_trial is None else str(value.best_trial),
        value_marks(value.value, effect.baseline, effect.recommended),
    ]


def role_label(row: TrialRow) -> str:
    return {"baseline": " (baseline)", "first_guess": " (first guess)"}.get(row.role, "")


def trials_text(numbers: list[int]) -> str:
    """``trial 3`` or ``trials 3, 5, 8``."""
    return ("trial " if len(numbers) == 1 else "trials ") + ", ".join(map(str, numbers))


def top_trial_cells(stage: StageReport) -> tuple[list[str], list[tuple[list[str], bool]]]:
    """The fastest trials as text cells, one row each with whether it was feasible.

    Columns: trial, throughput, spread, speedup, metric, MFU, status, what it changed.
    """
    header = [
        "trial",
        "throughput",
        "spread",
        "speedup",
        stage.metric_name,
        "MFU",
        "status",
        "changed",
    ]
    # Deploy trials that timed requests: their p99 at the goal's batch, after the speedup.
    latency = any(stage.trial(number).p99_ms is not None for number in stage.top_trials)
    if latency:
        header.insert(4, f"p99 at {stage.goal.latency_batch}")
    rows = []
    for number in stage.top_trials:
        row = stage.trial(number)
        cells = [
            f"{number}{role_label(row)}",
            fmt.rate(row.throughput.rate if row.throughput else None),
            fmt.percent(row.spread),
            fmt.speedup(row.speedup),
            f"{row.metric:.4g}" if row.metric is not None else "-",
            fmt.mfu(row.mfu, row.peak_dtype, row.mfu_of_best, row.best_peak_dtype),
            trial_status(row),
            knobs_text(row.changed, "(baseline settings)"),
        ]
        if latency:
            cells.insert(4, f"{row.p99_ms:.3g} ms" if row.p99_ms is not None else "-")
        rows.append((cells, row.feasible))
    return header, rows
