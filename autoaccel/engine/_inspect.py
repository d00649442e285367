"""Learning a task's facts in a trial process, and checking it runs at all."""

from __future__ import annotations

import torch

from autoaccel import knobs
from autoaccel.engine._loop import TrainingRun, call_model, eval_loader
from autoaccel.knobs import Config, TaskFacts
from autoaccel.task import ScriptTarget, Task

CHECK_BATCH = 2  # samples in the batches that check the task's code (from its datasets)


def inspect_task(task: Task, script: ScriptTarget) -> TaskFacts:
    """Build the model once, train it one step (the task's loss or its own training step,
    backward pass and optimizer included) on a small batch of its dataset or on its own
    first batch, and run a small eval batch through the metric.

    A mistake in the user's code then shows before any trial is spent on it. The task's own
    ``evaluate`` runs in the first trial: one pass over its evaluation may be long.
    """
    model = task.model()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"Task.model() returned a {type(model).__name__}, not a torch.nn.Module")
    parameters = sum(p.numel() for p in model.parameters())
    baseline = task.baseline
    assert isinstance(baseline, Config)
    # The task's own batches are made for the baseline batch size: one pass is counted once.
    own = task.train_batches is not None
    size = baseline.batch_size if own else CHECK_BATCH
    check = TrainingRun(task, Config(batch_size=size), torch.device("cpu"), 0, 1, model)
    check.step(next(check.batches(1)))
    if task.metric is not None:
        inputs, targets = task.split(next(iter(eval_loader(task, CHECK_BATCH))))
        check.model.eval()
        with torch.no_grad():
            float(task.metric(call_model(check.model, inputs), targets))
    train_samples = check.steps_per_epoch * size if own else len(task.train_data)
    return TaskFacts(
        name=task.name or script.name,
        script=str(script.path),
        attribute=script.attribute,
        script_sha256=script.sha256(),
        script_args=script.args,
        metric_name=task.metric_name,
        baseline=baseline,
        epochs=task.epochs,
        run_epochs=task.run_epochs,
        parameters=parameters,
        has_conv2d=any(isinstance(m, torch.nn.Conv2d) for m in model.modules()),
        has_linear=any(isinstance(m, torch.nn.Linear) for m in model.modules()),
        train_samples=train_samples,
        eval_samples=len(task.eval_data) if task.eval_data is not None else 0,
        own_batches=own,
        lr_scaling=task.lr_scaling,
        hold_effective_batch=task.hold_effective_batch,
        optimizer=knobs.optimizer_impl.class_name(type(check.optimizer)),
        optimizer_flags=knobs.optimizer_impl.flags_taken(type(check.optimizer)),
        deterministic_data=task.deterministic_data,
        batch_augment=task.batch_augment is not None,
        sample_bytes=None if own else knobs.cache.sample_bytes(task.train_data[0]),
    )
