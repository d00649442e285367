"""The deploy goal: latency and memory as the objective and as limits, with a fake runner.

The pretend model: int8 quantization doubles the rate but makes a request of one sample
slower (12 ms, not 8 ms); compiling serves one sample in 3 ms at 0.9x the rate; pruning
takes memory down. Every trial's metric holds.
"""

from __future__ import annotations

import dataclasses
import math

import optuna
import pytest
from fakes import FakeRunner, measurement

from autoaccel.errors import StudyError
from autoaccel.knobs import Config
from autoaccel.measure import Latency
from autoaccel.report import build_report, summary_rows
from autoaccel.runner import TrialResult
from autoaccel.study import load_stages, stage_study_name

SPACE = """\
batch_size: [16, 64]
compile: ["off", default]
quantization: [none, int8_dynamic_torch_ao]
pruning_ratio: [0.0, 0.5]
"""


def p99_of(config: Config) -> float:
    return 3.0 if config.compile != "off" else 12.0 if config.quantization != "none" else 8.0


def serving_model(config: Config, stage: str) -> TrialResult:
    rate = config.batch_size * 100.0 * (2.0 if config.quantization != "none" else 1.0)
    rate *= 0.9 if config.compile != "off" else 1.0
    p99 = p99_of(config)
    latency = [Latency(batch_size=1, requests=200, p50_ms=p99 / 2, p90_ms=p99, p99_ms=p99)]
    memory = int(2**30 * (1 - config.pruning_ratio))
    m = measurement(stage, rate, 0.9, latency=latency, peak_memory_bytes=memory)
    return TrialResult(outcome="ok", measurement=m, duration_s=1.0)


@pytest.fixture
def deploy(options, tmp_path):
    space = tmp_path / "deploy.yaml"
    space.write_text(SPACE)
    return dataclasses.replace(options, stage="deploy", trials=12, confirm=0, space=space)


def deploy_trials(options):
    name = stage_study_name("tiny", "deploy")
    return optuna.load_study(study_name=name, storage=options.storage).get_trials()


def test_a_latency_limit_between_the_baseline_and_the_best_is_met(tune_fake, deploy) -> None:
    limited = dataclasses.replace(deploy, max_latency_ms=5.0)
    result, runner = tune_fake(limited, FakeRunner(serving_model))
    assert all(spec.latency_batch == 1 for spec in runner.measured())
    choice = result.recommendation.stages["deploy"]
    assert choice.config.compile == "default" and choice.latency.p99_ms == 3.0
    assert choice.goal_unmet is None and choice.goal.max_latency_ms == 5.0
    # Faster setups (int8, plain) broke the limit: infeasible through Optuna, and named.
    broke = [t for t in deploy_trials(deploy) if t.constraints["max_latency_ms"] > 0]
    assert broke and all(t.user_attrs["config"]["compile"] == "off" for t in broke)
    assert max(r.throughput for r in result.records["deploy"]) > choice.throughput.rate
    stage = build_report(deploy.storage, "tiny").stages["deploy"]
    named = {t.number: t.broken_limits for t in stage.trials}
    for trial in broke:
        assert named[trial.number] == [
            f"p99 latency at batch 1 {p99_of(Config(**trial.user_attrs['config'])):.3g} ms > 5 ms"
        ]


def test_an_impossible_limit_gives_the_closest_and_says_so(tune_fake, deploy) -> None:
    impossible = dataclasses.replace(deploy, max_latency_ms=0.5)
    result, _ = tune_fake(impossible, FakeRunner(serving_model))
    choice = result.recommendation.stages["deploy"]
    assert choice.config.compile == "default"  # 3 ms: the closest to 0.5 ms
    assert choice.goal_unmet.startswith("no setup met --max-latency-ms 0.5: the closest is")
    assert "p99 latency at batch 1 3 ms > 0.5 ms" in choice.goal_unmet
    assert choice.feasible_trials == 0
    # The summary tune prints at its end says it too.
    assert ("limits", choice.goal_unmet) in summary_rows(choice)


def test_a_memory_limit_keeps_pruned_setups(tune_fake, deploy) -> None:
    limited = dataclasses.replace(deploy, max_memory="800MiB")
    result, _ = tune_fake(limited, FakeRunner(serving_model))
    choice = result.recommendation.stages["deploy"]
    assert choice.config.pruning_ratio == 0.5 and choice.peak_memory_bytes <= 800 * 2**20
    over = [t for t in deploy_trials(deploy) if t.user_attrs["config"]["pruning_ratio"] == 0]
    assert all(t.constraints["max_memory"] == pytest.approx(1024 - 800) for t in over)


def test_latency_objective_minimises_the_p99(tune_fake, deploy) -> None:
    result, runner = tune_fake(
        dataclasses.replace(deploy, objective="latency", latency_batch=1), FakeRunner(serving_model)
    )
    choice = result.recommendation.stages["deploy"]
    assert choice.config.compile == "default" and choice.latency.p99_ms == 3.0
    # Told to Optuna as the value to minimise; no early stop on throughput.
    study = optuna.load_study(study_name=stage_study_name("tiny", "deploy"), storage=deploy.storage)
    assert study.directions[0] == optuna.study.StudyDirection.MINIMIZE
    assert sorted({t.values[0] for t in study.trials}) == [3.0, 8.0, 12.0]
    assert all(spec.min_throughput is None for spec in runner.measured())


def test_resume_keeps_the_goal_refuses_a_new_objective_and_notes_new_limits(
    tune_fake, deploy
) -> None:
    first = dataclasses.replace(deploy, trials=3, max_latency_ms=5.0, latency_batch=4)
    tune_fake(first, FakeRunner(serving_model))
    # Resumed without the options: the stored goal holds.
    assert load_stages(deploy.storage, "tiny")["deploy"].goal.max_latency_ms == 5.0
    _, runner = tune_fake(dataclasses.replace(deploy, trials=4), FakeRunner(serving_model))
    assert all(spec.latency_batch == 4 for spec in runner.measured())
    with pytest.raises(StudyError, match="tuned with --objective throughput; it cannot change"):
        tune_fake(dataclasses.replace(deploy, objective="latency"), FakeRunner(serving_model))
    with pytest.raises(StudyError, match="--latency-batch 4; it cannot change to 1"):
        tune_fake(dataclasses.replace(deploy, latency_batch=1), FakeRunner(serving_model))
    from fakes import RecordingProgress

    progress = RecordingProgress()
    tune_fake(dataclasses.replace(deploy, trials=4, max_latency_ms=9.0), progress=progress)
    assert "limits changed from --max-latency-ms 5 to --max-latency-ms 9" in progress.notes
    assert load_stages(deploy.storage, "tiny")["deploy"].goal.max_latency_ms == 9.0


def test_an_unfinished_trial_breaks_no_limit_but_is_infeasible() -> None:
    from autoaccel.recommend import ServingGoal
    from autoaccel.study._records import constraints, trial_values

    goal = ServingGoal(objective="latency", max_latency_ms=1.0, max_memory_bytes=2**20)
    crashed = TrialResult(outcome="crash", reason="SIGSEGV")
    assert constraints(crashed, 0.9, 0.01, goal) == {
        "did_not_finish": 1.0,
        "metric_drop": 0.0,
        "max_latency_ms": 0.0,
        "max_memory": 0.0,
    }
    assert trial_values(crashed, goal) == [math.inf, -math.inf]
    # A finished trial without latency figures breaks the latency limit.
    bare = TrialResult(outcome="ok", measurement=measurement("deploy", 100.0, 0.9))
    assert constraints(bare, 0.9, 0.01, goal)["max_latency_ms"] == 1.0


@pytest.mark.parametrize("suffix", ["txt", "md", "html"])
def test_the_report_names_each_broken_limit_and_the_unmet_goal(
    tune_fake, deploy, run_cli, suffix, tmp_path
) -> None:
    tune_fake(dataclasses.replace(deploy, max_latency_ms=0.5), FakeRunner(serving_model))
    out = tmp_path / f"report.{suffix}"
    result = run_cli("report", "tiny", "--storage", deploy.storage, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = " ".join(out.read_text().split())
    assert "no setup met --max-latency-ms 0.5: the closest is trial" in text
    assert "over the limit: p99 latency at batch 1 12 ms &gt; 0.5 ms" in text or (
        "over the limit: p99 latency at batch 1 12 ms > 0.5 ms" in text
    )
    assert "p99 3 ms per request of 1 (baseline p99 8 ms)" in text


def test_confirmation_rounds_take_only_candidates_within_the_limits(tune_fake, deploy) -> None:
    from autoaccel.study._confirm import pick_candidates

    limited = dataclasses.replace(deploy, max_latency_ms=5.0, confirm=2)
    result, runner = tune_fake(limited, FakeRunner(serving_model))
    paced = [spec.config for spec in runner.specs if spec.action == "pace"]
    assert paced and all(p99_of(c) <= 5.0 or c == paced[0] for c in paced)  # and the baseline
    choice = result.recommendation.stages["deploy"]
    assert choice.confirmed_rounds > 0 and choice.latency.p99_ms <= 5.0
    records = result.records["deploy"]
    goal = load_stages(deploy.storage, "tiny")["deploy"].goal
    assert all(goal.meets(r.served) for r in pick_candidates(records, 0.01, 3, goal))
    assert pick_candidates(records, 0.01, 3, goal.model_copy(update={"objective": "latency"})) == []


def test_an_unmet_limit_with_the_baseline_closest_does_not_blame_the_metric(
    tune_fake, deploy, tmp_path
) -> None:
    # No compile: every setup serves one sample in 8 ms or more, the baseline among the
    # closest to an impossible 0.5 ms.
    space = tmp_path / "no_compile.yaml"
    space.write_text("batch_size: [16, 64]\nquantization: [none, int8_dynamic_torch_ao]\n")
    limited = dataclasses.replace(deploy, max_latency_ms=0.5, space=space)
    result, _ = tune_fake(limited, FakeRunner(serving_model))
    choice = result.recommendation.stages["deploy"]
    assert choice.trial == choice.baseline_trial
    assert choice.goal_unmet.startswith("no setup met --max-latency-ms 0.5")
    assert not any("no configuration beat the baseline" in line for line in choice.limits)
