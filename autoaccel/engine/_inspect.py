"""Learning a task's facts in a trial process, and checking it runs at all."""

from __future__ import annotations

import torch

from autoaccel.engine._loop import call_model, eval_loader
from autoaccel.knobs import Config, TaskFacts
from autoaccel.task import ScriptTarget, Task


def inspect_task(task: Task, script: ScriptTarget) -> TaskFacts:
    """Build the model once and run one small eval batch through model, loss and metric.

    A mistake in the user's code then shows before any trial is spent on it.
    """
    model = task.model()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"Task.model() returned a {type(model).__name__}, not a torch.nn.Module")
    inputs, targets = task.split(next(iter(eval_loader(task, 2))))
    model.eval()
    with torch.no_grad():
        outputs = call_model(model, inputs)
        float(task.loss(outputs, targets))
        float(task.metric(outputs, targets))
    baseline = task.baseline
    assert isinstance(baseline, Config)
    return TaskFacts(
        name=task.name or script.name,
        script=str(script.path),
        script_sha256=script.sha256(),
        script_args=script.args,
        metric_name=task.metric_name,
        baseline=baseline,
        epochs=task.epochs,
        run_epochs=task.run_epochs,
        parameters=sum(p.numel() for p in model.parameters()),
        has_conv2d=any(isinstance(m, torch.nn.Conv2d) for m in model.modules()),
        has_linear=any(isinstance(m, torch.nn.Linear) for m in model.modules()),
        train_samples=len(task.train_data),
        eval_samples=len(task.eval_data),
    )
