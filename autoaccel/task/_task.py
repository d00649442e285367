"""``autoaccel.Task``: what the user's script hands to autoaccel.

autoaccel owns the training loop, so it can apply every knob the same way to any task; the
task supplies the parts that are the user's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, SupportsFloat

from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config, batch_size, config_from_dict

if TYPE_CHECKING:
    import torch


@dataclasses.dataclass
class Task:
    """A training job autoaccel can measure and tune.

    Args:
        model: builds a fresh model (no arguments); called once per trial.
        train_data: a map-style dataset (``len`` and ``__getitem__``) of training samples.
        eval_data: a map-style dataset the metric is computed on.
        loss: ``loss(outputs, targets) -> scalar tensor``.
        optimizer: ``optimizer(parameters) -> torch.optim.Optimizer``, with the learning
            rate meant for the baseline batch size; see ``lr_scaling``.
        metric: ``metric(outputs, targets) -> float`` for one batch, higher is better;
            autoaccel reports its sample-weighted mean over ``eval_data`` (fine for
            accuracy or mean loss, not for metrics such as F1 that do not average).
        baseline: the settings the user trains with today (a :class:`Config` or a dict of
            knob values); the first trial of every study, and the yardstick for speedups.
        epochs: the trial budget, in passes over the training data: every trial trains
            this long, so metrics compare like with like. Short is fine, as long as the
            metric after it tells a good setup from a bad one.
        metric_name: what the metric is called in reports.
        lr_scaling: how the learning rate follows the batch size relative to the baseline
            batch size: ``"sqrt"`` (Adam-style optimizers), ``"linear"`` (SGD) or ``"none"``.
        split_batch: turns one collated batch into ``(inputs, targets)``; the default takes
            a ``(inputs, targets)`` pair. ``inputs`` may be a tensor (``model(x)``), a tuple
            (``model(*x)``) or a dict (``model(**x)``).
        collate_fn: passed to every DataLoader.
        scheduler: ``scheduler(optimizer, steps) -> LRScheduler``, stepped after every
            optimizer step; ``steps`` is the number of steps in the run, which changes with
            the batch size. A decay to zero makes the final metric far less noisy.
        finetune_epochs: training after structural pruning, in passes over ``train_data``.
        run_epochs: how long your real training runs, in passes over the training data:
            ``autoaccel.train`` trains this long (``epochs`` when not given). Confirmed
            candidates are then ranked by the time to train that long, one-off costs such
            as compilation included; otherwise by their steady rate, with the step after
            which a one-off cost pays back shown beside it.
        name: the study name used by ``autoaccel.train``; defaults to the script's name.
    """

    model: Callable[[], torch.nn.Module]
    train_data: Any
    eval_data: Any
    loss: Callable[[Any, Any], torch.Tensor]
    optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
    metric: Callable[[Any, Any], SupportsFloat]
    baseline: Config | dict[str, Any] = dataclasses.field(default_factory=Config)
    epochs: float = 1.0
    metric_name: str = "accuracy"
    lr_scaling: str = "sqrt"
    split_batch: Callable[[Any], tuple[Any, Any]] | None = None
    collate_fn: Callable[[list[Any]], Any] | None = None
    scheduler: (
        Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler] | None
    ) = None
    finetune_epochs: float = 0.25
    run_epochs: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        for field in ("model", "loss", "optimizer", "metric"):
            if not callable(getattr(self, field)):
                raise TaskError(f"Task.{field} must be callable, got {getattr(self, field)!r}.")
        for field in ("split_batch", "collate_fn", "scheduler"):
            value = getattr(self, field)
            if value is not None and not callable(value):
                raise TaskError(f"Task.{field} must be callable or None, got {value!r}.")
        for field in ("train_data", "eval_data"):
            data = getattr(self, field)
            if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
                raise TaskError(
                    f"Task.{field} must be a map-style dataset (with __len__ and "
                    f"__getitem__), got {type(data).__name__}."
                )
            if len(data) == 0:
                raise TaskError(f"Task.{field} is empty.")
        if not self.epochs > 0:
            raise TaskError(f"Task.epochs must be > 0, got {self.epochs!r}.")
        if self.run_epochs is not None and not self.run_epochs > 0:
            raise TaskError(f"Task.run_epochs must be > 0, got {self.run_epochs!r}.")
        if not self.finetune_epochs >= 0:
            raise TaskError(f"Task.finetune_epochs must be >= 0, got {self.finetune_epochs!r}.")
        if self.lr_scaling not in batch_size.LR_SCALING_RULES:
            raise TaskError(
                f"Task.lr_scaling must be one of {', '.join(batch_size.LR_SCALING_RULES)}, "
                f"got {self.lr_scaling!r}."
            )
        if isinstance(self.baseline, dict):
            try:
                self.baseline = config_from_dict(self.baseline, source="Task.baseline")
            except ConfigError as error:
                raise TaskError(str(error)) from None
        elif not isinstance(self.baseline, Config):
            raise TaskError(
                f"Task.baseline must be an autoaccel.Config or a dict, got {self.baseline!r}."
            )

    def split(self, batch: Any) -> tuple[Any, Any]:
        """``(inputs, targets)`` of one collated batch."""
        if self.split_batch is not None:
            return self.split_batch(batch)
        if isinstance(batch, (tuple, list)) and len(batch) == 2:
            return batch[0], batch[1]
        raise TaskError(
            "a batch is not an (inputs, targets) pair; give the Task a split_batch "
            "function that returns (inputs, targets) for your batches."
        )
