"""Holding the effective batch: every configuration the search can sample (and the first
guess) makes the baseline's ``batch_size * accumulation_steps``, and a resume keeps it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fakes import FakeRunner, RecordingProgress, cpu_host, task_facts, tune_with_fakes

from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config
from autoaccel.study import SearchSpace, TuneOptions, fit_to, load_space

BASELINE = Config(batch_size=64)
TRAIN_SPACE = Path(__file__).parents[2] / "search_spaces" / "train.yaml"


def held_space(**choices) -> SearchSpace:
    space = SearchSpace("train", {"batch_size": [32, 64, 128, 256], **choices})
    return fit_to(space, cpu_host(), task_facts(), BASELINE, hold_effective_batch=True)


def test_held_the_micro_batch_is_the_effective_batch_over_the_accumulation_steps() -> None:
    space = held_space(accumulation_steps=[1, 2, 3, 4], precision=["fp32", "bf16"])
    assert space.effective_batch == 64
    assert space.choices["batch_size"] == [16, 32, 64]
    assert "accumulation_steps" not in space.choices
    assert "3" in space.dropped["accumulation_steps"]
    assert "held at 64" in space.dropped["batch_size"]["128"]
    configs = space.grid(BASELINE)
    assert {c.batch_size * c.accumulation_steps for c in configs} == {64}
    assert {(c.batch_size, c.accumulation_steps) for c in configs} == {(16, 4), (32, 2), (64, 1)}


def test_every_sampled_configuration_keeps_the_effective_batch() -> None:
    import optuna

    space = held_space(accumulation_steps=[1, 2, 4], precision=["fp32", "bf16"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    sampled = [space.suggest(study.ask(), BASELINE) for _ in range(20)]
    assert {c.batch_size * c.accumulation_steps for c in sampled} == {64}
    assert {c.accumulation_steps for c in sampled} == {1, 2, 4}


def test_unheld_the_effective_batch_may_grow() -> None:
    space = fit_to(
        SearchSpace("train", {"batch_size": [32, 64, 128], "accumulation_steps": [1, 2]}),
        cpu_host(),
        task_facts(),
        BASELINE,
    )
    assert space.effective_batch is None
    assert max(c.batch_size * c.accumulation_steps for c in space.grid(BASELINE)) == 256


def test_the_default_space_held_searches_only_the_baseline_effective_batch() -> None:
    space = fit_to(
        load_space(TRAIN_SPACE, "train"),
        cpu_host(),
        task_facts(),
        BASELINE,
        hold_effective_batch=True,
    )
    pairs = {(c.batch_size, c.accumulation_steps) for c in space.grid(BASELINE)}
    assert pairs == {(64, 1), (32, 2), (16, 4)}


def test_tune_held_measures_only_the_baseline_effective_batch_and_a_resume_keeps_it(
    tmp_path,
) -> None:
    options = TuneOptions(
        study="held",
        storage=f"sqlite:///{tmp_path}/s.db",
        studies_dir=tmp_path / "studies",
        space=TRAIN_SPACE,
        stage="train",
        trials=6,
        confirm=0,
        hold_effective_batch=True,
    )
    runner = FakeRunner()
    tune_with_fakes(options, runner)
    again = FakeRunner()
    progress = RecordingProgress()
    resumed = dataclasses.replace(options, trials=9, hold_effective_batch=False, space=None)
    tune_with_fakes(resumed, again, progress=progress)
    configs = runner.configs("train") + again.configs("train")
    assert len(again.configs("train")) == 3
    assert {c.batch_size * c.accumulation_steps for c in configs} == {64}
    assert len({c.accumulation_steps for c in configs}) > 1
    assert any("keeps its effective batch held" in note for note in progress.notes)


def test_the_task_field_holds_it_too(tmp_path) -> None:
    options = TuneOptions(
        study="task-held",
        storage=f"sqlite:///{tmp_path}/s.db",
        studies_dir=tmp_path / "studies",
        space=TRAIN_SPACE,
        stage="train",
        trials=5,
        confirm=0,
    )
    runner = FakeRunner()
    tune_with_fakes(options, runner, facts=task_facts(hold_effective_batch=True))
    assert {c.batch_size * c.accumulation_steps for c in runner.configs("train")} == {64}


def test_holding_the_deploy_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="--hold-effective-batch holds the train stage"):
        TuneOptions(stage="deploy", hold_effective_batch=True).check()


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_task_hold_effective_batch_must_be_a_bool(tiny, value) -> None:
    with pytest.raises(TaskError, match="Task.hold_effective_batch must be True or False"):
        dataclasses.replace(tiny, hold_effective_batch=value)
