"""The confirmation rounds inside a real tune: pairing, the stored interval, the second
seed, and Ctrl-C in the middle of the rounds."""

from __future__ import annotations

import dataclasses
import json

import optuna
import pytest
from fakes import FakeRunner, RecordingProgress, measurement

from autoaccel.knobs import Config
from autoaccel.runner import TrialResult
from autoaccel.study import stage_study_name


def pace_specs(runner: FakeRunner) -> list:
    return [s for s in runner.specs if s.action == "pace"]


def test_rounds_interleave_the_baseline_with_each_candidate(tune_fake, options) -> None:
    _, runner = tune_fake(options)
    paces = pace_specs(runner)
    baseline = Config(batch_size=64)
    candidates = len({s.config.model_dump_json() for s in paces}) - 1
    assert 1 <= candidates <= 3
    rounds = len(paces) // (candidates + 1)
    assert rounds >= 3
    # B, C1, C2, C3, B, C1, ...: every round opens with the baseline.
    assert [s.config == baseline for s in paces] == ([True] + [False] * candidates) * rounds


def test_the_recommendation_carries_the_paired_interval(tune_fake, options) -> None:
    result, _ = tune_fake(options)
    choice = result.recommendation.stages["train"]
    assert choice.confirmed_rounds >= 3
    assert choice.speedup_ci is not None
    low, high = choice.speedup_ci
    assert low <= choice.speedup <= high
    # The fake machine is noiseless: the rounds agree with the search's own ratio.
    assert choice.speedup == pytest.approx(choice.throughput.rate / choice.baseline_throughput.rate)
    stored = json.loads(result.path.read_text())["stages"]["train"]
    assert stored["speedup_ci"] == [low, high]


def test_the_winner_s_metric_is_trained_again_with_a_second_seed(tune_fake, options) -> None:
    result, runner = tune_fake(options)
    choice = result.recommendation.stages["train"]
    second = [s for s in runner.specs if s.action == "train" and s.seed == options.seed + 1]
    assert {s.config.model_dump_json() for s in second} == {
        Config(batch_size=64).model_dump_json(),
        choice.config.model_dump_json(),
    }
    check = choice.metric_check
    assert check is not None and check.seed == options.seed + 1
    assert check.drop == pytest.approx(0.0)


def test_a_winner_whose_metric_falls_on_another_seed_is_not_recommended(tune_fake, options) -> None:
    class SeedRunner(FakeRunner):
        def __call__(self, spec, timeout_s):  # every larger batch loses on the second seed
            result = super().__call__(spec, timeout_s)
            if spec.seed == 1 and spec.config.batch_size > 64 and result.measurement:
                m = result.measurement
                worse = measurement(m.stage, m.throughput.rate, m.metric - 0.2)
                return result.model_copy(update={"measurement": worse})
            return result

    result, _ = tune_fake(options, SeedRunner())
    choice = result.recommendation.stages["train"]
    assert choice.config.batch_size == 64  # only same-batch candidates can hold
    study = optuna.load_study(study_name=stage_study_name("tiny", "train"), storage=options.storage)
    checks = study.user_attrs["confirmation"]["metric_checks"]
    assert any(c["metric"] < c["baseline_metric"] - 0.1 for c in checks)


def test_no_candidate_faster_than_the_baseline_keeps_the_baseline(tune_fake, options) -> None:
    def flat(config: Config, stage: str) -> TrialResult:
        return TrialResult(outcome="ok", measurement=measurement(stage, 1000.0, 0.9))

    result, _ = tune_fake(options, FakeRunner(flat))
    choice = result.recommendation.stages["train"]
    assert choice.is_baseline
    assert choice.speedup == 1.0
    assert "no candidate is faster" in (choice.confirmation or "")


def test_ctrl_c_in_the_rounds_keeps_them_and_resume_continues(tune_fake, options) -> None:
    searched = options.trials
    # The 3rd pace measurement is stopped by Ctrl-C.
    result, first = tune_fake(options, FakeRunner(interrupt_at=searched + 3))
    assert result.interrupted
    assert len(pace_specs(first)) == 3
    study = optuna.load_study(study_name=stage_study_name("tiny", "train"), storage=options.storage)
    kept = study.user_attrs["confirmation"]
    assert not kept["done"] and kept["rounds"][0]["baseline"] is not None

    result, second = tune_fake(options)
    assert not result.interrupted
    assert not [s for s in second.specs if s.action == "train" and s.seed == options.seed]
    # The two measurements that finished are not taken again.
    rounds = study.user_attrs["confirmation"]["rounds"]
    measured = sum(1 + len(r["candidates"]) for r in rounds)
    assert len(pace_specs(first)) - 1 + len(pace_specs(second)) == measured
    assert result.recommendation.stages["train"].confirmed_rounds == len(rounds)


def test_confirmation_can_be_switched_off(tune_fake, options) -> None:
    result, runner = tune_fake(dataclasses.replace(options, confirm=0))
    assert pace_specs(runner) == []
    assert result.recommendation.stages["train"].speedup_ci is None


def compiling(config: Config, stage: str) -> TrialResult:
    """Compiled steps run twice as fast, after a 60 s first step; nothing else matters."""
    compiled = config.compile != "off"
    rate = 2000.0 if compiled else 1000.0
    first = 60.0 if compiled else 0.05
    return TrialResult(outcome="ok", measurement=measurement(stage, rate, 0.9, first_step_s=first))


def compile_space(tmp_path):
    space = tmp_path / "compile.yaml"
    space.write_text("batch_size: [64]\ncompile: ['off', 'default']\n")
    return space


@pytest.mark.parametrize(("run_epochs", "compiled_wins"), [(None, True), (0.1, False), (50, True)])
def test_a_real_run_length_ranks_by_time_to_train_it(
    tune_fake, options, tmp_path, run_epochs, compiled_wins
) -> None:
    # 16,384 samples an epoch: 0.1 epoch takes 1.6 s at the baseline's rate, less than the
    # compiled step's 60 s one-off cost; 50 epochs pay it back many times over.
    opts = dataclasses.replace(
        options, trials=2, space=compile_space(tmp_path), run_epochs=run_epochs
    )
    result, _ = tune_fake(opts, FakeRunner(compiling))
    choice = result.recommendation.stages["train"]
    assert (choice.config.compile == "default") is compiled_wins
    assert choice.run_epochs == run_epochs
    if run_epochs is None:
        assert choice.break_even_steps is not None and choice.break_even_steps > 0


def test_each_round_is_shown_once(tune_fake, options) -> None:
    progress = RecordingProgress()
    result, _ = tune_fake(options, progress=progress)
    lines = [n for n in progress.notes if "confirmation round" in n]
    assert len(lines) == len(set(lines)) == result.recommendation.stages["train"].confirmed_rounds
