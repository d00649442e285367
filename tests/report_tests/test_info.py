"""The info layer: what a report shows, computed from the storage alone."""

from __future__ import annotations

import json
import shlex

import optuna
import pytest
from fakes import GPU_MEMORY
from report_fakes import PEAK_BF16

from autoaccel.errors import StorageError
from autoaccel.knobs import Config
from autoaccel.measure import Measurement, Throughput
from autoaccel.recommend import FILE_NAME, TrialRecord
from autoaccel.report import SCHEMA_VERSION, ReportInfo, TrialRow, build_report
from autoaccel.report._apply import how_to_apply
from autoaccel.report._build import best_so_far, failure_groups, knob_effects, pareto_front
from autoaccel.report._importance import param_importance
from autoaccel.study import load_stages, recommendation_of


def test_header_comes_from_the_stored_study(info, fake_study) -> None:
    assert info.schema_version == SCHEMA_VERSION
    assert info.study == "tiny"
    assert info.hardware_summary == "1x NVIDIA H100 80GB HBM3 + Intel Xeon (8 cores)"
    assert info.hardware.peak_flops("bf16") == PEAK_BF16
    assert info.task.metric_name == "accuracy"
    assert info.last_update is not None
    assert list(info.stages) == ["train", "deploy"]


def test_recommendation_matches_the_tuners(info, fake_study) -> None:
    stages = load_stages(fake_study.storage, fake_study.name)
    expected = recommendation_of("tiny", stages)
    for name, stage in info.stages.items():
        assert stage.recommendation == expected.stages[name]
        assert stage.apply is not None
        assert stage.apply.config == expected.stages[name].config.for_stage(name)


def test_every_trial_is_a_row_with_its_status(info) -> None:
    for stage in info.stages.values():
        assert sum(stage.outcomes.values()) == len(stage.trials)
        assert [r.number for r in stage.trials] == sorted(r.number for r in stage.trials)
        for row in stage.trials:
            if row.outcome != "ok":
                assert row.throughput is None and not row.feasible and not row.pareto
            else:
                drop = stage.baseline_metric - row.metric
                assert row.feasible == (drop <= stage.max_metric_drop + 1e-12)
        assert stage.feasible == sum(1 for r in stage.trials if r.feasible)


def test_pareto_front_and_top_trials(info) -> None:
    for stage in info.stages.values():
        front = [stage.trial(n) for n in stage.pareto_front]
        assert front and all(r.pareto for r in front)
        rates = [r.throughput.rate for r in front]
        assert rates == sorted(rates, reverse=True)
        # The recommendation (fastest feasible) is on the front unless a faster trial lost
        # accuracy; the fastest finished trial always is.
        top = stage.trial(stage.top_trials[0])
        assert top.pareto
        tops = [stage.trial(n).throughput.rate for n in stage.top_trials]
        assert tops == sorted(tops, reverse=True)


def test_failures_grouped_by_outcome_and_reason(info) -> None:
    train = info.stages["train"]
    outcomes = [g.outcome for g in train.failures]
    assert outcomes == [
        o for o in ("oom", "timeout", "crash", "diverged", "interrupted") if o in outcomes
    ]
    assert {"oom", "interrupted"} <= set(outcomes)
    for group in train.failures:
        assert group.advice
        assert sorted(n for _, numbers in group.reasons for n in numbers) == group.trials
        assert all(train.trial(n).outcome == group.outcome for n in group.trials)
    oom = next(g for g in train.failures if g.outcome == "oom")
    assert any("out of memory" in reason for reason, _ in oom.reasons)


def test_dropped_choices_are_reported(info) -> None:
    # The pretend H100 runs everything in the train space; the CPU-only torch.ao path is out.
    assert "int8_dynamic_torch_ao" in info.stages["deploy"].dropped["quantization"]


def test_knob_effects_per_value(info) -> None:
    train = info.stages["train"]
    effects = {e.knob: e for e in train.knob_effects}
    assert set(effects) <= set(train.searched)
    precision = {v.value: v for v in effects["precision"].values}
    assert list(precision) == train.searched["precision"]
    assert effects["precision"].baseline == "fp32"
    best = train.recommendation
    chosen = precision[best.config.precision]
    assert chosen.best_throughput == best.throughput.rate
    assert chosen.speedup == pytest.approx(best.speedup)
    # Worker-only knobs count only trials that had workers.
    with_workers = [r for r in train.trials if r.config["num_workers"] > 0 and r.repeat_of is None]
    counted = sum(v.trials for v in effects["persistent_workers"].values)
    assert counted == len([r for r in with_workers if r.outcome != "interrupted"])


def test_importance_where_enough_feasible_trials(info) -> None:
    for stage in info.stages.values():
        assert stage.importance.values, stage.importance.note
        assert sum(stage.importance.values.values()) == pytest.approx(1.0)
        assert set(stage.importance.values) <= set(stage.searched)


def test_importance_guards() -> None:
    assert "too few trials" in param_importance([], {"batch_size": [1, 2]}).note
    trials = [
        optuna.trial.create_trial(
            params={"batch_size": 64},
            distributions={"batch_size": optuna.distributions.CategoricalDistribution([64, 128])},
            values=[float(i), 0.9],
        )
        for i in range(8)
    ]
    assert (
        "no knob took more than one value"
        in param_importance(trials, {"batch_size": [64, 128]}).note
    )


def test_bottleneck_and_advice(info) -> None:
    train = info.stages["train"]
    b = train.bottleneck
    assert b is not None and b.trial == train.recommendation.trial
    assert b.peak_flops and b.mfu == pytest.approx(b.achieved_flops / b.peak_flops)
    assert b.device_memory_bytes == GPU_MEMORY
    assert set(train.recommendation.limits) <= set(b.advice)
    assert any("GPU's memory" in a for a in b.advice)


def test_how_to_apply(info, fake_study) -> None:
    train = info.stages["train"].apply
    assert train.recommendation_file_exists
    assert train.recommendation_file.endswith("tiny/recommendation.json")
    commands = [c for c, _ in train.commands]
    assert any(c.startswith("python ") and c.endswith("tiny.py") for c in commands)
    assert any("autoaccel bench" in c and "--config" in c for c in commands)
    assert "autoaccel.Task(" in train.code and "baseline={" in train.code
    literal = train.code.split("baseline=", 1)[1].rsplit("\n)", 1)[0].rstrip().rstrip(",")
    assert Config(**eval(literal)).for_stage("train") == train.config
    deploy = info.stages["deploy"].apply
    assert any("--stage deploy" in c for c, _ in deploy.commands)
    compile(deploy.code, "<deploy>", "exec")  # valid Python


def test_missing_recommendation_file_is_noted(fake_study, tmp_path) -> None:
    info = build_report(fake_study.storage, "tiny", studies_dir=tmp_path)
    apply = info.stages["train"].apply
    assert not apply.recommendation_file_exists
    assert "autoaccel tune again" in apply.notes[0]


def test_json_round_trip(info) -> None:
    data = json.loads(info.to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data["stages"]["train"]) >= {
        "recommendation",
        "trials",
        "pareto_front",
        "failures",
        "importance",
        "knob_effects",
        "bottleneck",
        "apply",
    }
    assert ReportInfo.model_validate(data) == info


def test_missing_study_lists_known_ones(fake_study) -> None:
    with pytest.raises(StorageError, match=r"no study named 'nope'.*Studies here: other, tiny"):
        build_report(fake_study.storage, "nope")


def test_missing_storage_file(tmp_path) -> None:
    with pytest.raises(StorageError, match="Run autoaccel tune first"):
        build_report(f"sqlite:///{tmp_path}/none.db", "tiny")
    assert not (tmp_path / "none.db").exists()


# Pure functions, on hand-made records.


def _measurement(rate: float, metric: float | None) -> Measurement:
    return Measurement(
        stage="train",
        throughput=Throughput.from_windows([rate]),
        metric=metric if metric is not None else 0.0,
        metric_name="accuracy",
        warmup_s=0.0,
        first_step_s=0.0,
        timed_steps=1,
    )


def test_pareto_front_keeps_the_undominated() -> None:
    points = [(0, 100.0, 0.9), (1, 200.0, 0.8), (2, 150.0, 0.85), (3, 120.0, 0.8), (4, 200.0, 0.8)]
    assert pareto_front(points) == {0, 1, 2, 4}  # 3 is beaten by 2; equal points both stay


def test_failure_groups_order_and_reasons() -> None:
    def record(number: int, outcome: str, reason: str | None) -> TrialRecord:
        return TrialRecord(number=number, config=Config(), outcome=outcome, reason=reason)

    groups = failure_groups(
        [
            record(0, "ok", None),
            record(1, "crash", "SIGSEGV"),
            record(2, "oom", "out of memory"),
            record(3, "crash", "SIGSEGV"),
            record(4, "crash", None),
        ]
    )
    assert [g.outcome for g in groups] == ["oom", "crash"]
    assert groups[1].reasons == [("SIGSEGV", [1, 3]), ("no reason recorded", [4])]


def _row(number: int, rate: float | None, feasible: bool, **config) -> TrialRow:
    return TrialRow(
        number=number,
        role="search",
        outcome="ok" if rate else "oom",
        config={"precision": "fp32", "num_workers": 0, **config},
        searched=["precision", "num_workers"],
        throughput=Throughput.from_windows([rate]) if rate else None,
        feasible=feasible,
        pareto=False,
    )


def test_knob_effects_best_per_value() -> None:
    rows = [
        _row(0, 100.0, True),
        _row(1, 300.0, True, precision="bf16"),
        _row(2, 500.0, False, precision="bf16"),  # faster, but its metric dropped
        _row(3, None, False, precision="fp16"),
    ]
    (effect,) = knob_effects(
        rows, {"precision": ["fp32", "bf16", "fp16", "tf32"], "num_workers": [0]}, {}, None, 100.0
    )
    values = {v.value: v for v in effect.values}
    assert (values["bf16"].best_trial, values["bf16"].speedup) == (1, 3.0)
    assert (values["bf16"].trials, values["bf16"].feasible) == (2, 1)
    assert (values["fp16"].failed, values["fp16"].best_throughput) == (1, None)
    assert values["tf32"].trials == 0


def test_best_so_far() -> None:
    rows = [_row(0, None, False), _row(1, 100.0, True), _row(2, 300.0, False), _row(3, 200.0, True)]
    assert best_so_far(rows) == [(0, None), (1, 100.0), (2, 100.0), (3, 200.0)]


@pytest.mark.parametrize("stage", ["train", "deploy"])
def test_how_to_apply_quotes_paths_in_commands(info, tmp_path, stage) -> None:
    script = str(tmp_path / "my runs" / "$(touch x) `y`; z.py")
    rec = info.stages[stage].recommendation
    studies_dir = tmp_path / "stud ies"
    apply = how_to_apply(rec, "tiny", script, info.stages[stage].baseline_config, studies_dir)
    for command, _ in apply.commands:
        words = shlex.split(command)
        assert script in words, command
        if "--config" in words:
            assert words[words.index("--config") + 1] == str(studies_dir / "tiny" / FILE_NAME)


def test_a_study_name_that_names_no_folder_passes_the_configuration_itself(info, tmp_path):
    rec = info.stages["train"].recommendation
    apply = how_to_apply(rec, "../x", "train.py", info.stages["train"].baseline_config, tmp_path)
    assert apply.recommendation_file is None and not apply.recommendation_file_exists
    assert "'../x' names no folder" in apply.notes[0]
    ((command, _),) = apply.commands
    words = shlex.split(command)
    assert words[:3] == ["autoaccel", "bench", "train.py"]
    assert json.loads(words[words.index("--config") + 1]) == apply.config
    assert "study=" not in apply.code
