"""The tuner's decisions, with a fake trial runner (no trial processes)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import optuna
import pytest
from fakes import FakeRunner, RecordingProgress, default_model

from autoaccel.errors import BaselineFailedError, ConfigError, RunFailedError, StudyError
from autoaccel.knobs import Config
from autoaccel.runner import TrialResult
from autoaccel.study import TuneOptions, load_stages, stage_study_name


def stage_trials(options: TuneOptions, stage: str = "train"):
    study = optuna.load_study(study_name=stage_study_name("tiny", stage), storage=options.storage)
    return study.get_trials(deepcopy=False)


def measured_trials(options: TuneOptions, stage: str = "train"):
    """Finished trials that ran a trial process: what ``--trials`` counts."""
    return [
        t
        for t in stage_trials(options, stage)
        if t.state.name == "COMPLETE"
        and "repeat_of" not in t.user_attrs
        and not t.user_attrs.get("skipped")
    ]


def test_baseline_then_first_guess_then_search(tune_fake, options) -> None:
    result, runner = tune_fake(options)
    configs = runner.configs("train")
    assert configs[0] == Config(batch_size=64)  # the task's baseline
    # First guess on a 2-core CPU without native bf16: 4x the batch, one loader worker.
    assert (configs[1].batch_size, configs[1].precision, configs[1].num_workers) == (
        256,
        "fp32",
        1,
    )
    roles = [t.user_attrs["role"] for t in stage_trials(options)]
    assert roles[:2] == ["baseline", "first_guess"]
    assert len(measured_trials(options)) == 6
    assert result.path.exists()


def test_recommendation_is_fastest_feasible(tune_fake, options) -> None:
    result, _ = tune_fake(dataclasses.replace(options, trials=10))
    records = result.records["train"]
    feasible = [r for r in records if r.ok and r.metric >= 0.90 - 0.01]
    best = max(feasible, key=lambda r: r.throughput)
    # The fake speed ignores most knobs: configurations may tie with the fastest.
    fastest = {r.number for r in feasible if r.throughput == best.throughput}
    choice = result.recommendation.stages["train"]
    assert choice.trial in fastest
    assert choice.config.batch_size < 512  # 512 drops accuracy by 0.05 > 0.01
    assert choice.speedup == pytest.approx(best.throughput / records[0].throughput)
    saved = json.loads(result.path.read_text())
    assert saved["stages"]["train"]["trial"] == choice.trial


def test_constraints_mark_metric_drops_and_failures(tune_fake, options) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        if config.num_workers == 2:
            return TrialResult(outcome="crash", reason="killed by SIGSEGV")
        return default_model(config, stage)

    tune_fake(dataclasses.replace(options, trials=10), FakeRunner(model))
    for trial in stage_trials(options):
        config = trial.user_attrs["config"]
        if trial.user_attrs["outcome"] != "ok":
            assert trial.constraints["did_not_finish"] == 1.0
            assert trial.values == [0.0, -math.inf]
        elif config["batch_size"] >= 512:
            assert trial.constraints["metric_drop"] == pytest.approx(0.05 - 0.01)
        else:
            assert trial.constraints["metric_drop"] <= 0


def test_study_stores_what_reports_need(tune_fake, options, cpu_profile) -> None:
    tune_fake(options)
    attrs = optuna.load_study(study_name="tiny:train", storage=options.storage).user_attrs
    assert attrs["fingerprint"] == cpu_profile.fingerprint()
    assert attrs["task"]["script_sha256"] == "abc"
    assert attrs["autoaccel"]["version"]
    assert "fp16" in attrs["search_space"]["dropped"]["precision"]
    assert attrs["search_space"]["choices"]["precision"] == ["fp32", "bf16"]
    assert attrs["max_metric_drop"] == 0.01
    first = stage_trials(options)[0].user_attrs
    assert first["measurement"]["throughput"]["median"] > 0
    assert first["host"] and first["pid"]


def test_baseline_in_user_error_stops_at_once(tune_fake, options) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        return TrialResult(
            outcome="user_error",
            reason="ValueError: bad label",
            traceback='File "tiny.py", line 9\nValueError: bad label',
        )

    with pytest.raises(BaselineFailedError, match='in your code:\nFile "tiny.py", line 9'):
        tune_fake(options, FakeRunner(model))
    assert len(stage_trials(options)) == 1  # nothing after the baseline


def test_baseline_oom_says_what_to_change(tune_fake, options) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        return TrialResult(outcome="oom", reason="CUDA out of memory")

    with pytest.raises(BaselineFailedError, match="smaller batch_size"):
        tune_fake(options, FakeRunner(model))


def test_out_of_memory_bounds_later_batch_sizes(tune_fake, options, tmp_path) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        if config.batch_size >= 256:
            return TrialResult(outcome="oom", reason="CUDA out of memory")
        return default_model(config, stage)

    # Batch sizes and precisions only: twelve trials then meet the bound whatever other
    # knobs the default space grows.
    space = tmp_path / "space.yaml"
    space.write_text("batch_size: [32, 64, 128, 256, 512, 1024]\nprecision: [fp32, bf16]\n")
    result, runner = tune_fake(
        dataclasses.replace(options, trials=12, space=space), FakeRunner(model)
    )
    # No batch size at or above one that ran out of memory in its precision reaches a
    # trial process again.
    smallest_oom: dict[str, int] = {}
    for config in runner.configs("train"):
        bound = smallest_oom.get(config.precision)
        assert bound is None or config.batch_size < bound, (config, bound)
        if config.batch_size >= 256:
            smallest_oom[config.precision] = config.batch_size
    skipped = [r for r in result.records["train"] if r.skipped]
    assert skipped and all(r.outcome == "oom" and "already ran out" in r.reason for r in skipped)


def test_repeated_configuration_is_not_rerun(tune_fake, options) -> None:
    result, runner = tune_fake(dataclasses.replace(options, trials=14))
    launched = [c.model_dump_json() for c in runner.configs("train")]
    assert len(launched) == len(set(launched))
    repeats = [r for r in result.records["train"] if r.repeat_of is not None]
    assert all(result.records["train"][r.repeat_of].config == r.config for r in repeats)
    # A repeat is not a trial: the budget counts distinct measured configurations.
    assert len(measured_trials(options)) == 14
    assert len(set(launched)) == 14


def test_a_space_smaller_than_the_budget_stops_when_every_configuration_is_measured(
    tune_fake, options, tmp_path
) -> None:
    space = tmp_path / "small.yaml"
    space.write_text("batch_size: [64, 128]\nprecision: [fp32]\n")
    progress = RecordingProgress()
    result, runner = tune_fake(
        dataclasses.replace(options, trials=10, space=space), progress=progress
    )
    assert sorted(c.batch_size for c in runner.configs("train")) == [64, 128]
    assert any("every configuration in the space is measured" in n for n in progress.notes)
    assert result.recommendation.stages["train"] is not None


def test_resume_continues_to_the_total(tune_fake, options) -> None:
    tune_fake(dataclasses.replace(options, trials=4))
    before = {t.number: t.values for t in measured_trials(options)}
    _, runner2 = tune_fake(dataclasses.replace(options, trials=7))
    after = {t.number: t.values for t in measured_trials(options)}
    assert len(after) == 7
    assert all(after[n] == values for n, values in before.items())
    assert runner2.configs("train")[0] != Config(batch_size=64)  # no second baseline


def test_other_hardware_is_refused_unless_allowed(tune_fake, options, make_gpu_host) -> None:
    tune_fake(dataclasses.replace(options, trials=2))
    gpu = make_gpu_host("NVIDIA H100 80GB HBM3", "9.0")
    with pytest.raises(StudyError, match="pass --allow-other-hardware"):
        tune_fake(dataclasses.replace(options, trials=3), hardware=gpu)
    result, _ = tune_fake(
        dataclasses.replace(options, trials=3, allow_other_hardware=True), hardware=gpu
    )
    assert any("other hardware" in note for note in result.notes)


def test_a_different_space_is_refused_on_resume(tune_fake, options, tmp_path) -> None:
    tune_fake(dataclasses.replace(options, trials=2))
    space = tmp_path / "small.yaml"
    space.write_text("batch_size: [64, 128]\n")
    with pytest.raises(StudyError, match="Use a new --study name"):
        tune_fake(dataclasses.replace(options, trials=3, space=space))


def test_changed_script_is_noted(tune_fake, options, facts) -> None:
    tune_fake(dataclasses.replace(options, trials=2))
    changed = facts.model_copy(update={"script_sha256": "def"})
    result, _ = tune_fake(dataclasses.replace(options, trials=3), facts=changed)
    assert any("changed since study" in note for note in result.notes)


def test_ctrl_c_keeps_finished_trials_and_measures_the_stopped_one_first(tune_fake, options):
    result, stopping = tune_fake(options, FakeRunner(interrupt_at=4))
    assert result.interrupted
    trials = stage_trials(options)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert result.recommendation.stages["train"].finished_trials == len(complete) >= 3
    assert not [t for t in trials if t.state.name == "RUNNING"]
    (failed,) = [r for r in result.records["train"] if r.outcome == "interrupted"]
    stopped = stopping.configs("train")[3]
    assert failed.config == stopped
    resumed, runner = tune_fake(options)
    assert runner.configs("train")[0] == stopped
    assert not resumed.interrupted
    assert len(measured_trials(options)) == options.trials


def test_time_budget_stops_starting_trials(tune_fake, options) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 10.0
        return now[0]

    _, runner = tune_fake(dataclasses.replace(options, trials=50, timeout_s=60), clock=clock)
    assert 1 <= len(runner.configs("train")) < 10


def start_baseline_elsewhere(options: TuneOptions, facts, hardware):
    """The stage's study, its baseline trial running in a tuner on another machine."""
    from autoaccel.study import default_space_path, fit_to, load_space, open_storage
    from autoaccel.study._stage_study import StageRequest, open_stage_study

    space = load_space(default_space_path("train"), "train")
    request = StageRequest(
        name="tiny",
        stage="train",
        hardware=hardware,
        facts=facts,
        space=fit_to(space, hardware, facts, facts.baseline),
        space_given=False,
        max_metric_drop=None,
        allow_other_hardware=False,
    )
    stage_study, _ = open_stage_study(open_storage(options.storage), request)
    study = stage_study.optuna_study
    study.enqueue_trial(stage_study.space.params_for(facts.baseline))
    trial = study.ask()
    attrs = {
        "host": "elsewhere",
        "pid": 1,
        "pid_started": 1.0,
        "role": "baseline",
        "config": facts.baseline.model_dump(),
    }
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    return study, trial


def test_a_baseline_running_elsewhere_is_waited_for(tune_fake, options, facts, cpu_profile):
    from autoaccel.study._records import result_attrs, trial_values

    study, baseline = start_baseline_elsewhere(options, facts, cpu_profile)
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds
        if len(slept) == 2:  # the other tuner finishes the baseline
            result = default_model(facts.baseline, "train")
            for key, value in result_attrs(result).items():
                baseline.set_user_attr(key, value)
            study.tell(baseline, trial_values(result))

    options = dataclasses.replace(options, trials=3)
    result, runner = tune_fake(options, clock=lambda: now[0], sleep=sleep)
    assert slept == [2.0, 2.0]
    assert result.records["train"][0].role == "baseline"
    assert facts.baseline not in runner.configs("train")  # measured once, elsewhere


def test_a_baseline_that_never_finishes_is_an_error(tune_fake, options, facts, cpu_profile):
    start_baseline_elsewhere(options, facts, cpu_profile)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    options = dataclasses.replace(options, trials=3, trial_timeout_s=10.0)
    with pytest.raises(RunFailedError, match="no finished baseline trial after 10 s"):
        tune_fake(options, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 10.0  # waited as long as one trial may take, without sleeping


def test_deploy_trains_weights_once_with_the_train_recommendation(tune_fake, options) -> None:
    both = dataclasses.replace(options, stage="all", trials=4)
    result, runner = tune_fake(both)
    weight_runs = [s for s in runner.specs if s.weights_out]
    assert len(weight_runs) == 1
    assert weight_runs[0].config == result.recommendation.stages["train"].config
    deploy_specs = [s for s in runner.specs if s.action == "deploy"]
    saved = str(Path(weight_runs[0].weights_out).with_suffix(""))  # once the run succeeded
    assert deploy_specs and all(s.weights_in == saved for s in deploy_specs)
    assert set(result.recommendation.stages) == {"train", "deploy"}
    _, again = tune_fake(dataclasses.replace(both, trials=5))
    assert not [s for s in again.specs if s.weights_out]  # reused


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"stage": "both"}, "--stage must be train, deploy or all"),
        ({"trials": 0}, "--trials must be at least 1"),
        ({"timeout_s": -5.0}, "--timeout must be a positive number"),
        ({"max_metric_drop": -0.1}, "--max-metric-drop must be a number >= 0"),
        ({"max_metric_drop": float("nan")}, "--max-metric-drop must be a number >= 0"),
        ({"trial_timeout_s": 0.0}, "--trial-timeout must be a positive"),
    ],
)
def test_bad_options(tune_fake, options, changes, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        tune_fake(dataclasses.replace(options, **changes))


def test_recommendation_readable_from_storage_alone(tune_fake, options) -> None:
    from autoaccel.study import open_storage, recommendation_of

    result, _ = tune_fake(options)
    stages = load_stages(open_storage(options.storage, create=False), "tiny")
    assert recommendation_of("tiny", stages) == result.recommendation


def test_trials_get_a_floor_of_a_third_of_the_best(tune_fake, options) -> None:
    result, runner = tune_fake(dataclasses.replace(options, trials=5))
    specs = [s for s in runner.specs if s.action == "train" and s.seed == options.seed]
    assert specs[0].min_throughput is None  # the baseline always runs to the end
    records = result.records["train"]
    for spec in specs[1:]:
        earlier = [r for r in records if r.config != spec.config and r.ok]
        assert spec.min_throughput is not None
        assert spec.min_throughput <= max(r.throughput for r in earlier) / 3 + 1e-6


def test_a_pruned_trial_is_infeasible_and_reported(tune_fake, options) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        if config.precision == "bf16":
            return TrialResult(outcome="pruned", reason="900 samples/s after 2 timed windows")
        return default_model(config, stage)

    result, _ = tune_fake(dataclasses.replace(options, trials=8), FakeRunner(model))
    pruned = [t for t in stage_trials(options) if t.user_attrs["outcome"] == "pruned"]
    assert pruned and all(t.constraints["did_not_finish"] == 1.0 for t in pruned)
    assert result.recommendation.stages["train"].config.precision == "fp32"


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("sqrt", "every learning rate is multiplied by sqrt(batch_size / 64), so batch_size=128"),
        ("linear", "every learning rate is multiplied by batch_size / 64, so batch_size=128 "),
        ("none", None),
    ],
)
def test_the_learning_rate_rule_is_said_when_it_rescales(
    tune_fake, options, tmp_path, rule, said
) -> None:
    from fakes import task_facts

    space = tmp_path / "small.yaml"
    space.write_text("batch_size: [32, 64, 128]\nprecision: [fp32]\n")
    progress = RecordingProgress()
    tune_fake(
        dataclasses.replace(options, trials=2, space=space, confirm=0),
        progress=progress,
        facts=task_facts(lr_scaling=rule),
    )
    notes = [n for n in progress.notes if "learning rate follows the batch size" in n]
    if said is None:
        assert notes == []
    else:
        assert len(notes) == 1 and said in notes[0], notes
        assert f"(Task.lr_scaling={rule!r})" in notes[0]
