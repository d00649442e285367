"""A task with its own step, batches and evaluation: the engine hands it the prepared parts
and applies every knob around them, and the trial measures it as it measures any task."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from fakes import RecordingProgress, cpu_host, task_facts, tune_with_fakes
from torch import nn

from autoaccel import knobs
from autoaccel.engine import TrainingRun, inspect_task
from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config
from autoaccel.measure import measure_train
from autoaccel.study import TuneOptions
from autoaccel.task import Task, resolve_script

CPU = torch.device("cpu")
SAMPLES = 256


def stream(batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The task's own batches, in order: batch ``i`` holds samples ``i * batch_size`` on."""
    x = torch.arange(SAMPLES * 4, dtype=torch.float32).reshape(SAMPLES, 4) / SAMPLES
    y = (x.sum(dim=1) > 2).long()
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, SAMPLES, batch_size)]


def own_task(**changes: Any) -> Task:
    """A classifier that makes its batches, computes its loss and evaluates itself."""

    def training_step(model, batch):
        x, y = batch
        return nn.functional.cross_entropy(model(x), y)

    parts: dict[str, Any] = dict(
        model=lambda: nn.Linear(4, 2),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        train_batches=stream,
        training_step=training_step,
        evaluate=lambda model: 0.5,
        baseline={"batch_size": 16},
    )
    return Task(**{**parts, **changes})


def trained(task: Task, epochs: float = 1, **config: Any) -> TrainingRun:
    run = TrainingRun(task, Config(**{"batch_size": 16, **config}), CPU, seed=0, epochs=epochs)
    for batch in run.batches(run.total_steps):
        run.step(batch)
    return run


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"train_data": [1]}, "Task.train_data and Task.train_batches both give the training"),
        ({"train_batches": None}, "Task needs the training data: give Task.train_data, or"),
        ({"loss": nn.functional.cross_entropy}, "Task.loss and Task.training_step both give"),
        ({"training_step": None}, "Task needs the loss: give Task.loss, or Task.training_step"),
        ({"evaluate": None}, "Task needs the metric: give Task.metric, or Task.evaluate"),
        ({"evaluate": None, "metric": max}, "Task.metric is averaged over Task.eval_data"),
        ({"clip_grad_norm": 0}, "Task.clip_grad_norm must be a number > 0"),
        ({"on_epoch_end": "plateau"}, "Task.on_epoch_end must be callable or None"),
        ({"optimizer": None}, "Task.optimizer must be callable"),
        ({"collate_fn": list}, "Task.collate_fn is passed to the DataLoaders over train_data"),
    ],
)
def test_each_own_part_replaces_its_simple_counterpart(changes, expected) -> None:
    with pytest.raises(TaskError, match=expected):
        own_task(**changes)


def test_the_batch_size_knob_makes_the_tasks_own_batches_in_their_order() -> None:
    asked: list[int] = []

    def batches(batch_size):
        asked.append(batch_size)
        return iter(stream(batch_size))  # no len: counted once

    run = TrainingRun(own_task(train_batches=batches), Config(batch_size=32), CPU, 0, epochs=2)
    assert (run.steps_per_epoch, run.total_steps, run.samples_per_step) == (8, 16, 32)
    seen = [x[0, 0].item() for x, _ in run.batches(run.total_steps)]
    assert seen == [x[0, 0].item() for x, _ in stream(32)] * 2  # never shuffled
    assert set(asked) == {32}


def test_the_step_runs_under_autocast_with_the_batch_in_the_configured_format() -> None:
    seen: dict[str, Any] = {}
    images = [(torch.randn(8, 3, 4, 4), torch.zeros(8, dtype=torch.long))] * 4

    def training_step(model, batch):
        x, y = batch
        seen["channels_last"] = x.is_contiguous(memory_format=torch.channels_last)
        logits = model(x)
        seen["dtype"] = logits.dtype
        return nn.functional.cross_entropy(logits.float(), y)

    task = own_task(
        model=lambda: nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        train_batches=lambda batch_size: images,
        training_step=training_step,
    )
    trained(task, precision="bf16", channels_last=True)
    assert seen == {"channels_last": True, "dtype": torch.bfloat16}
    trained(task)
    assert seen == {"channels_last": False, "dtype": torch.float32}


class RecordingSGD(torch.optim.SGD):
    """Records the gradients' total norm each time it steps."""

    norms: list[float]

    def step(self, closure=None):
        grads = [p.grad for group in self.param_groups for p in group["params"]]
        self.norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())
        return super().step(closure)


@pytest.mark.parametrize(("clip", "clipped"), [(None, False), (0.01, True)])
def test_gradients_are_clipped_before_each_step(clip, clipped) -> None:
    def optimizer(params):
        made = RecordingSGD(params, lr=0.1)
        made.norms = []
        return made

    run = trained(own_task(optimizer=optimizer, clip_grad_norm=clip))
    assert run.optimizer.norms and all(n <= 0.01 + 1e-6 for n in run.optimizer.norms) is clipped


def test_the_epoch_end_hook_sees_each_epochs_metric_and_can_lower_the_learning_rate() -> None:
    metrics = iter([0.5, 0.7, 0.6, 0.6])  # better, then worse: a plateau
    calls: list[tuple[int, float, float]] = []
    best = [0.0]

    def on_epoch_end(epoch, metric, optimizer):
        calls.append((epoch, metric, optimizer.param_groups[0]["lr"]))
        if metric <= best[0]:
            for group in optimizer.param_groups:
                group["lr"] /= 4
        best[0] = max(best[0], metric)

    run = trained(own_task(evaluate=lambda model: next(metrics), on_epoch_end=on_epoch_end), 3)
    assert calls == [(1, 0.5, 0.1), (2, 0.7, 0.1)]  # epoch 3 is closed by the final metric
    assert run.evaluate() == 0.6  # measured once for epoch 3 and the run's end alike
    assert calls[-1] == (3, 0.6, 0.1)
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)


def test_evaluate_gets_the_trained_model_in_eval_mode_without_gradients() -> None:
    seen = {}

    def evaluate(model):
        seen.update(training=model.training, grad=torch.is_grad_enabled())
        return 0.25

    run = trained(own_task(evaluate=evaluate))
    assert run.evaluate() == 0.25
    assert seen == {"training": False, "grad": False}
    assert run.model.training  # back to training after


def test_a_step_that_returns_no_loss_is_the_users_error() -> None:
    task = own_task(training_step=lambda model, batch: model(batch[0]))
    with pytest.raises(TaskError, match=r"returned a tensor of shape \(16, 2\), not the loss"):
        trained(task)


def test_the_loader_knobs_are_refused_for_batches_the_task_makes() -> None:
    facts = task_facts(own_batches=True)
    for config in (Config(num_workers=1), Config(pin_memory=True)):
        reasons = knobs.refusals(config, cpu_host(), facts, "train")
        assert any("this task makes its own batches (Task.train_batches)" in r for r in reasons)
        with pytest.raises(ConfigError, match="this task makes its own batches"):
            TrainingRun(own_task(), config, CPU, 0, 1)
    assert knobs.refusals(Config(num_workers=1), cpu_host(), task_facts(), "train") == []


def test_inspection_trains_one_step_and_counts_the_tasks_own_samples(tasks_dir) -> None:
    facts = inspect_task(own_task(), resolve_script(str(tasks_dir / "tiny.py")))
    assert facts.own_batches and facts.eval_samples == 0
    assert facts.lr_scaling == "sqrt"  # the Task's default rule, kept for the tune header
    assert facts.train_samples == SAMPLES  # 16 batches of 16 at the baseline batch size
    assert facts.stage_refusal("train") is None
    assert "the deploy stage serves batches of Task.eval_data" in facts.stage_refusal("deploy")
    broken = own_task(training_step=lambda model, batch: 1.0)
    with pytest.raises(TaskError, match="returned a float, not the loss"):
        inspect_task(broken, resolve_script(str(tasks_dir / "tiny.py")))


def test_a_trial_measures_it_as_it_measures_any_task() -> None:
    evaluated = []
    task = own_task(evaluate=lambda model: evaluated.append(model) or 0.75, epochs=2)
    measurement = measure_train(task, Config(batch_size=8), cpu_host())
    assert measurement.metric == 0.75 and len(evaluated) == 1
    assert measurement.throughput.rate > 0 and measurement.timed_steps > 0
    assert measurement.data_wait_share is not None
    assert measurement.peak_memory_bytes
    assert any("FLOPs are not counted" in note for note in measurement.notes)


def test_the_simple_task_keeps_its_loss_and_metric(tiny) -> None:
    # A task written the simple way trains and measures as before: the FLOPs are counted.
    measurement = measure_train(dataclasses.replace(tiny), Config(batch_size=16), cpu_host())
    assert measurement.flops_per_sample and not measurement.notes


def test_without_eval_data_the_deploy_stage_is_refused_never_skipped_silently(tmp_path) -> None:
    facts = task_facts(eval_samples=0, own_batches=True)
    options = TuneOptions(
        storage=f"sqlite:///{tmp_path}/studies/autoaccel.db",
        stage="all",
        trials=2,
        confirm=0,
        studies_dir=tmp_path / "studies",
    )
    progress = RecordingProgress()
    result = tune_with_fakes(options, facts=facts, progress=progress)
    assert list(result.recommendation.stages) == ["train"]
    assert any(
        note.startswith("deploy: not tuned: the deploy stage serves batches of Task.eval_data")
        for note in progress.notes
    )
    with pytest.raises(TaskError, match="give it eval_data to tune inference, or tune the"):
        tune_with_fakes(dataclasses.replace(options, stage="deploy"), facts=facts)
