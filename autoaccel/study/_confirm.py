"""Paired confirmation at the end of a stage's search: the best few feasible candidates and
the baseline measured again in interleaved rounds, each measurement a fresh trial process.

Every finished measurement is stored at once (a study attribute), so Ctrl-C or kill -9
loses at most the measurement in flight, and a resumed tune continues the rounds where they
stopped. A confirmation belongs to one set of candidates: a search that goes on and finds
others starts a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from autoaccel.knobs import Config, Stage
from autoaccel.measure import Pace
from autoaccel.recommend import (
    MAX_ROUNDS,
    MIN_ROUNDS,
    Confirmation,
    MetricCheck,
    Round,
    ServingGoal,
    TrialRecord,
    baseline_of,
    is_feasible,
    judge,
)
from autoaccel.runner import Action, TrialResult, TrialSpec
from autoaccel.study._stage_study import CONFIRMATION_ATTR
from autoaccel.study._state import Interrupted, StageRun


def pick_candidates(
    records: list[TrialRecord], max_metric_drop: float, count: int, goal: ServingGoal | None = None
) -> list[TrialRecord]:
    """The ``count`` fastest feasible trials within ``goal``'s limits that are not the
    baseline, one per configuration. None when the goal is latency: the rounds compare rates,
    and each trial's latency percentiles already rest on many timed requests."""
    goal = goal or ServingGoal()
    baseline = baseline_of(records)
    if baseline is None or baseline.metric is None or count < 1 or goal.objective == "latency":
        return []
    seen = {baseline.config.model_dump_json()}
    chosen: list[TrialRecord] = []
    feasible = [
        r
        for r in records
        if r.role != "baseline"
        and r.repeat_of is None
        and is_feasible(r, baseline.metric, max_metric_drop)
        and goal.meets(r.served)
    ]
    for record in sorted(feasible, key=lambda r: (-r.throughput, r.number)):
        key = record.config.model_dump_json()
        if key not in seen:
            seen.add(key)
            chosen.append(record)
        if len(chosen) == count:
            break
    return chosen


def load_confirmation(attrs: Mapping[str, Any], candidates: list[int]) -> Confirmation:
    """The stored confirmation of exactly these candidates, or a fresh one."""
    try:
        stored = Confirmation.model_validate(attrs.get(CONFIRMATION_ATTR) or {"candidates": []})
    except ValidationError:
        stored = Confirmation(candidates=[])
    if stored.candidates == candidates:
        return stored
    return Confirmation(candidates=candidates)


def changed_knob_counts(
    records: list[TrialRecord], baseline: Config, stage: Stage
) -> dict[int, int]:
    base = baseline.for_stage(stage)
    return {
        r.number: sum(1 for k, v in r.config.for_stage(stage).items() if base[k] != v)
        for r in records
    }


def run_rounds(
    confirmation: Confirmation,
    configs: Mapping[int, Config],
    baseline: Config,
    changed: Mapping[int, int],
    measure: Callable[[Config], float | None],
    save: Callable[[Confirmation], None],
    *,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
) -> Confirmation:
    """Measure rounds (the baseline, then each candidate) until :func:`judge` decides.

    ``measure`` returns a configuration's samples/s, or None when its run failed; ``save``
    is called after every measurement with the confirmation so far. A round a stop left
    unfinished is finished first.
    """
    while True:
        if confirmation.rounds:
            current = confirmation.rounds[-1]
            for trial in confirmation.candidates:
                if trial not in current.candidates:
                    rate = measure(configs[trial])
                    current = current.model_copy(
                        update={"candidates": {**current.candidates, trial: rate}}
                    )
                    confirmation = _with_last_round(confirmation, current)
                    save(confirmation)
        verdict = judge(confirmation.rounds, changed, min_rounds=min_rounds, max_rounds=max_rounds)
        if verdict.status == "decided":
            return confirmation.model_copy(update={"verdict": verdict})
        fresh = Round(baseline=measure(baseline), candidates={})
        confirmation = confirmation.model_copy(update={"rounds": [*confirmation.rounds, fresh]})
        save(confirmation)


def _with_last_round(confirmation: Confirmation, current: Round) -> Confirmation:
    return confirmation.model_copy(update={"rounds": [*confirmation.rounds[:-1], current]})


def confirm_stage(stage_run: StageRun) -> None:
    """Confirm the stage's best candidates against the baseline, then their metric with a
    second seed, and store the verdict with the study. Does nothing once it is stored."""
    tuning, ss = stage_run.tuning, stage_run.study
    options, progress = tuning.options, tuning.progress
    records = ss.records()
    baseline = baseline_of(records)
    chosen = pick_candidates(records, ss.max_metric_drop, options.confirm, ss.goal)
    if baseline is None or baseline.measurement is None or not chosen:
        return
    study = ss.optuna_study
    run_epochs = (options.run_epochs or ss.task.run_epochs) if ss.stage == "train" else None
    run_samples = run_epochs * ss.task.train_samples if run_epochs else None
    confirmation = load_confirmation(study.user_attrs, [r.number for r in chosen])
    if confirmation.run_epochs != run_epochs:  # rates over another run length do not mix
        confirmation = Confirmation(candidates=confirmation.candidates, run_epochs=run_epochs)
    if confirmation.done:
        return

    # Rounds finished before this call are not shown again; each new one is shown once.
    shown = [
        sum(1 for r in confirmation.rounds if set(r.candidates) >= set(confirmation.candidates))
    ]

    def save(current: Confirmation) -> None:
        study.set_user_attr(CONFIRMATION_ATTR, current.model_dump(mode="json"))
        last = current.rounds[-1] if current.rounds else None
        complete = last is not None and set(last.candidates) >= set(current.candidates)
        if complete and len(current.rounds) > shown[0]:
            shown[0] = len(current.rounds)
            progress.note(_round_line(ss.stage, len(current.rounds), last))

    def pace(config: Config) -> float | None:
        result = _run(stage_run, "pace", config, options.seed)
        if not result.ok or result.pace is None:
            return None
        return run_rate(result.pace, config.batch_size, run_samples)

    if not confirmation.rounds:
        progress.note(
            f"{ss.stage}: confirming trial(s) {', '.join(str(r.number) for r in chosen)} "
            "against the baseline in interleaved rounds"
        )
    confirmation = run_rounds(
        confirmation,
        {r.number: r.config for r in chosen},
        ss.baseline,
        changed_knob_counts(chosen, ss.baseline, ss.stage),
        pace,
        save,
        max_rounds=options.max_rounds,
    )
    confirmation = _check_metrics(stage_run, confirmation, {r.number: r for r in chosen}, save)
    save(confirmation)
    verdict = confirmation.verdict
    assert verdict is not None
    if confirmation.winner is None:
        progress.note(f"{ss.stage}: the baseline stays: {verdict.reason}")
    else:
        speedup = verdict.speedups[confirmation.winner]
        progress.note(
            f"{ss.stage}: trial {confirmation.winner} confirmed at {speedup.value:.2f}x "
            f"(95% interval {speedup.low:.2f}x to {speedup.high:.2f}x): {verdict.reason}"
        )


def run_rate(pace: Pace, batch_size: int, run_samples: float | None) -> float:
    """Samples/s over a real run of ``run_samples`` samples, its one-off cost (the first
    step beyond a steady one: compilation, autotuning) included; the steady rate without."""
    rate = pace.throughput.rate
    if not run_samples:
        return rate
    one_off = max(0.0, pace.first_step_s - batch_size / rate)
    return run_samples / (one_off + run_samples / rate)


def metric_order(confirmation: Confirmation, changed: Mapping[int, int]) -> list[int]:
    """Candidates whose metric to check, in the order they would win: the verdict's winner
    first, then the others clear of the baseline, fewer changes and more speed first."""
    verdict = confirmation.verdict
    if verdict is None or verdict.winner is None:
        return []
    others = [
        trial
        for trial, speedup in verdict.speedups.items()
        if trial != verdict.winner and speedup.clear_above()
    ]
    others.sort(key=lambda t: (changed[t], -verdict.speedups[t].value))
    return [verdict.winner, *others]


def _check_metrics(
    stage_run: StageRun,
    confirmation: Confirmation,
    chosen: Mapping[int, TrialRecord],
    save: Callable[[Confirmation], None],
) -> Confirmation:
    """The first candidate, in :func:`metric_order`, whose metric holds on a second seed wins.

    A deploy candidate without pruning computes the same metric on any seed (its weights
    are the trained ones), so it is not trained again.
    """
    ss, options = stage_run.study, stage_run.tuning.options
    baseline = baseline_of(ss.records())
    assert baseline is not None and baseline.metric is not None
    seed = options.seed + 1
    changed = changed_knob_counts(list(chosen.values()), ss.baseline, ss.stage)
    checks = list(confirmation.metric_checks)
    baseline_metric = checks[0].baseline_metric if checks else None
    for trial in metric_order(confirmation, changed):
        record = chosen[trial]
        if ss.stage == "deploy" and record.config.pruning_ratio == 0:
            return confirmation.model_copy(update={"winner": trial, "done": True})
        check = next((c for c in checks if c.trial == trial), None)
        if check is None:
            if baseline_metric is None:
                baseline_metric = _metric(stage_run, ss.baseline, seed)
            assert record.metric is not None
            check = MetricCheck(
                seed=seed,
                trial=trial,
                metric=_metric(stage_run, record.config, seed),
                baseline_metric=baseline_metric,
                first_metric=record.metric,
                first_baseline_metric=baseline.metric,
            )
            checks.append(check)
            confirmation = confirmation.model_copy(update={"metric_checks": checks})
            save(confirmation)
        if check.holds(ss.max_metric_drop):
            return confirmation.model_copy(update={"winner": trial, "done": True})
        stage_run.tuning.progress.note(
            f"{ss.stage}: trial {trial}'s metric did not hold with seed {seed}; "
            "it is not recommended"
        )
    return confirmation.model_copy(update={"winner": None, "done": True})


def _metric(stage_run: StageRun, config: Config, seed: int) -> float | None:
    result = _run(stage_run, stage_run.study.stage, config, seed)
    return result.measurement.metric if result.ok and result.measurement else None


def _run(stage_run: StageRun, action: Action, config: Config, seed: int) -> TrialResult:
    tuning, ss = stage_run.tuning, stage_run.study
    spec = TrialSpec(
        action=action,
        stage=ss.stage,
        script=tuning.target.spec,
        script_args=tuning.target.args,
        config=config,
        hardware=tuning.hardware,
        seed=seed,
        weights_in=stage_run.weights,
    )
    try:
        return tuning.run(spec, tuning.options.trial_timeout_s)
    except KeyboardInterrupt:
        raise Interrupted() from None


def _round_line(stage: Stage, number: int, last: Round) -> str:
    base = last.baseline
    parts = [f"baseline {base:,.0f}/s" if base else "baseline failed"]
    for trial, rate in last.candidates.items():
        parts.append(
            f"trial {trial} {rate / base:.2f}x" if rate and base else f"trial {trial} failed"
        )
    return f"{stage}: confirmation round {number}: " + ", ".join(parts)
