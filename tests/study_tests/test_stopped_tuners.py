"""A tuner stopped at any moment (Ctrl-C, kill -9) leaves a study the next tune finishes.

tests/test_kill_points.py kills a real tuner process at every storage write; these tests
stage the states such kills leave, in this process.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna
import pytest
from fake_tuner import watched_writes
from fakes import FakeRunner, default_model

from autoaccel.errors import BaselineFailedError
from autoaccel.knobs import Config
from autoaccel.runner import TrialResult
from autoaccel.study import load_stages, open_storage, stage_study_name

BASELINE = Config(batch_size=64)


def trials_of(options, stage: str = "train"):
    study = optuna.load_study(study_name=stage_study_name("tiny", stage), storage=options.storage)
    return study.get_trials(deepcopy=False)


def measured(options) -> list:
    return [
        t
        for t in trials_of(options)
        if t.state.name == "COMPLETE"
        and "repeat_of" not in t.user_attrs
        and not t.user_attrs.get("skipped")
    ]


def running(options) -> list[int]:
    return [t.number for t in trials_of(options) if t.state.name == "RUNNING"]


class Clock:
    """Time that passes only when the tuner sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_ctrl_c_during_the_baseline_then_one_resume_measures_it_first(tune_fake, options):
    stopped, _ = tune_fake(options, FakeRunner(interrupt_at=1))
    assert stopped.interrupted
    clock = Clock()
    result, runner = tune_fake(options, clock=clock, sleep=clock.sleep)
    assert runner.configs("train")[0] == BASELINE
    assert clock.slept == []  # nobody else runs the baseline: nothing to wait for
    assert not result.interrupted
    assert len(measured(options)) == options.trials
    assert running(options) == []


def test_a_trial_has_its_owner_from_the_write_that_creates_it(tune_fake, options) -> None:
    """So a tuner killed between two writes never leaves a trial nobody owns."""
    ownerless: list[str] = []
    checker = open_storage(options.storage)  # creates the database, to read it from here

    study: list[optuna.Study] = []

    def before_write(n: int, name: str, args: tuple) -> None:
        if not study:
            try:
                study.append(optuna.load_study(study_name="tiny:train", storage=checker))
            except KeyError:  # not created yet
                return
        running = study[0].get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for trial in running:
            if "host" not in trial.user_attrs or "pid" not in trial.user_attrs:
                ownerless.append(f"trial {trial.number}, before write {n} ({name})")

    with watched_writes(before_write):
        tune_fake(options)
    assert ownerless == []


def test_a_trial_left_without_an_owner_runs_again(tune_fake, options) -> None:
    """Older autoaccel versions wrote the owner after creating the trial."""
    tune_fake(dataclasses.replace(options, trials=2))
    study = optuna.load_study(study_name="tiny:train", storage=options.storage)
    study.ask()  # killed before it wrote anything more
    result, _ = tune_fake(dataclasses.replace(options, trials=3))
    assert running(options) == []
    assert len(measured(options)) == 3
    assert not result.interrupted


def test_a_baseline_left_without_an_owner_runs_again(tune_fake, options) -> None:
    tune_fake(options, FakeRunner(interrupt_at=1))  # the study, its baseline stopped
    study = optuna.load_study(study_name="tiny:train", storage=options.storage)
    study.enqueue_trial({"batch_size": 64}, user_attrs={"role": "baseline"})
    study.ask()  # an older tuner took the baseline again and was killed at once
    clock = Clock()
    _, runner = tune_fake(options, clock=clock, sleep=clock.sleep)
    assert runner.configs("train")[0] == BASELINE
    assert clock.slept == []
    assert running(options) == []


def test_a_study_whose_creation_was_cut_short_is_created_again(tune_fake, options) -> None:
    storage = open_storage(options.storage)
    study = optuna.create_study(
        study_name="tiny:train", storage=storage, directions=["maximize", "maximize"]
    )
    study.set_user_attr("hardware", {"cpu": "half written"})  # killed before the rest
    with pytest.raises(Exception, match="no study named 'tiny'"):
        load_stages(storage, "tiny")  # reads as not there yet, not as a foreign study
    result, _ = tune_fake(options)
    assert len(measured(options)) == options.trials
    assert "train" in result.recommendation.stages


def test_a_result_half_stored_when_its_tuner_stopped_is_not_read_as_finished(
    tune_fake, options
) -> None:
    tune_fake(dataclasses.replace(options, trials=2))
    study = optuna.load_study(study_name="tiny:train", storage=options.storage)
    trial = study.ask()
    result = default_model(Config(batch_size=1024), "train")
    trial.set_user_attr("config", Config(batch_size=1024).model_dump())
    trial.set_user_attr("outcome", "ok")
    trial.set_user_attr("measurement", result.measurement.model_dump())  # then killed
    study.tell(trial, state=optuna.trial.TrialState.FAIL)  # as a resume marks it
    (record,) = [
        r
        for r in load_stages(open_storage(options.storage), "tiny")["train"].records()
        if r.number == trial.number
    ]
    assert record.outcome == "interrupted"
    assert record.throughput == 0.0 and record.metric is None


def test_a_stored_baseline_that_failed_stops_a_resume(tune_fake, options) -> None:
    def model(config: Config, stage: str) -> TrialResult:
        if config == BASELINE:
            return TrialResult(outcome="oom", reason="out of memory")
        return default_model(config, stage)

    with pytest.raises(BaselineFailedError):
        tune_fake(options, FakeRunner(model))
    with pytest.raises(BaselineFailedError, match="oom: out of memory.*new --study name"):
        tune_fake(options)
    assert len(trials_of(options)) == 1


def test_weights_a_stopped_tuner_left_half_written_are_trained_again(tune_fake, options):
    @dataclasses.dataclass
    class StoppedWhileSaving(FakeRunner):
        def __call__(self, spec, timeout_s):
            if spec.weights_out:
                Path(spec.weights_out).write_bytes(b"half")  # then the tuner is stopped
                raise KeyboardInterrupt
            return super().__call__(spec, timeout_s)

    both = dataclasses.replace(options, stage="all", trials=3, confirm=0)
    assert tune_fake(both, StoppedWhileSaving())[0].interrupted
    result, runner = tune_fake(both)
    assert len([s for s in runner.specs if s.weights_out]) == 1  # trained again
    weights = {s.weights_in for s in runner.specs if s.action == "deploy"}
    assert len(weights) == 1 and Path(weights.pop()).read_bytes() == b"weights"
    assert "deploy" in result.recommendation.stages
