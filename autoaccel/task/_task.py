"""``autoaccel.Task``: what the user's script hands to autoaccel.

autoaccel owns the training loop, so it can apply every knob the same way to any task; the
task supplies the parts that are the user's own. A task whose step does not fit
``loss(model(inputs), targets)`` brings its own step, batches and evaluation instead, and
the same loop still applies every knob around them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, SupportsFloat

from autoaccel.errors import ConfigError, TaskError
from autoaccel.knobs import Config, batch_size, config_from_dict

if TYPE_CHECKING:
    import torch


@dataclasses.dataclass
class Task:
    """A training job autoaccel can measure and tune.

    The simple way names a dataset, a loss and a metric, and autoaccel does the rest. Your
    own loop (a hidden state carried across batches, several losses, a metric such as
    perplexity or F1 that does not average per batch) keeps its step, batches and
    evaluation and gives those instead (``training_step``, ``train_batches``,
    ``evaluate``, ``on_epoch_end``): each replaces its simple counterpart, and autoaccel
    still applies every knob around them. Exactly one of each pair is given: ``train_data``
    or ``train_batches``; ``loss`` or ``training_step``; ``metric`` or ``evaluate``.

    Args:
        model: builds a fresh model (no arguments); called once per trial.
        train_data: a map-style dataset (``len`` and ``__getitem__``) of training samples;
            autoaccel batches it with the DataLoader knobs.
        eval_data: a map-style dataset the metric is computed on; the deploy stage serves
            its batches. Optional with ``evaluate`` (the deploy stage then does not run).
        loss: ``loss(outputs, targets) -> scalar tensor``.
        optimizer: ``optimizer(parameters) -> torch.optim.Optimizer``, with the learning
            rate meant for the baseline batch size; see ``lr_scaling``.
        metric: ``metric(outputs, targets) -> float`` for one batch, higher is better;
            autoaccel reports its sample-weighted mean over ``eval_data`` (fine for
            accuracy or mean loss; give ``evaluate`` for metrics that do not average).
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
        train_batches: ``train_batches(batch_size) -> iterable of batches``, your own
            batches in your own order (sequential text for a model that carries its hidden
            state), made for the batch size being measured; called at the start of every
            pass. Each batch counts as ``batch_size`` samples, and every pass makes as many
            batches as the first (its ``len``, or counted once). The DataLoader knobs do
            not apply to such batches and are refused.
        training_step: ``training_step(model, batch) -> loss``, your forward pass and loss
            (several losses summed, a hidden state kept in your own code), in place of
            ``loss``. It gets the model as configured (compiled when asked) and the batch
            on the device (4-D inputs in channels-last when asked), and runs under the
            configured autocast; autoaccel then zeroes the gradients, does the backward
            pass (loss-scaled for fp16), clips, and steps the optimizer and scheduler.
            Call no ``backward`` or ``step`` of your own.
        clip_grad_norm: clip the gradients to this total norm before every optimizer step,
            after loss scaling is undone.
        evaluate: ``evaluate(model) -> float``, higher is better, over your own evaluation
            loop (perplexity turned higher-is-better, F1, BLEU), in place of ``metric``.
            It gets the trained model in eval mode, in fp32, under ``torch.no_grad``; move
            your data to the model's device (``next(model.parameters()).device``).
        on_epoch_end: ``on_epoch_end(epoch, metric, optimizer)``, called after every whole
            pass over the training data (counted from 1) with the metric measured then (by
            ``evaluate``, or ``metric`` over ``eval_data``): lower the learning rate on a
            plateau, log, reset state. A ``scheduler`` stepped every step may overwrite a
            learning rate it changes. Its evaluation is part of training, and timed as part
            of it.
        finetune_epochs: training after structural pruning, in passes over ``train_data``.
        run_epochs: how long your real training runs, in passes over the training data:
            ``autoaccel.train`` trains this long (``epochs`` when not given). Confirmed
            candidates are then ranked by the time to train that long, one-off costs such
            as compilation included; otherwise by their steady rate, with the step after
            which a one-off cost pays back shown beside it.
        name: the study name used by ``autoaccel.train``; defaults to the script's name.
        sample_augment: ``sample_augment(sample) -> sample``, the random augmentation of
            one training sample (crop, flip, noise), run in the loader on what
            ``train_data[i]`` returns. Giving it, or ``batch_augment``, declares that
            ``train_data`` itself is deterministic (decode, resize, to tensor: the same
            sample for the same index every time), so the ``cache`` knob may keep its samples
            from one epoch to the next.
        batch_augment: ``batch_augment(batch) -> batch``, the random augmentation of one
            collated training batch, written with torch operations so it runs where the
            batch is: in the loader, or on the accelerator after the copy (the
            ``augment_on`` knob). Evaluation batches are not augmented.
        hold_effective_batch: tune at the baseline's effective batch (``batch_size *
            accumulation_steps``): the search varies the micro-batch and the accumulation
            steps together, so every trial takes the optimizer steps the baseline takes and
            learns at its learning rate. Off, larger batches take fewer steps in the
            budget. The same as ``autoaccel tune --hold-effective-batch``.
    """

    model: Callable[[], torch.nn.Module]
    train_data: Any = None
    eval_data: Any = None
    loss: Callable[[Any, Any], torch.Tensor] | None = None
    optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer] | None = None
    metric: Callable[[Any, Any], SupportsFloat] | None = None
    baseline: Config | dict[str, Any] = dataclasses.field(default_factory=Config)
    epochs: float = 1.0
    metric_name: str = "accuracy"
    lr_scaling: str = "sqrt"
    split_batch: Callable[[Any], tuple[Any, Any]] | None = None
    collate_fn: Callable[[list[Any]], Any] | None = None
    scheduler: (
        Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler] | None
    ) = None
    train_batches: Callable[[int], Iterable[Any]] | None = None
    training_step: Callable[[Any, Any], torch.Tensor] | None = None
    clip_grad_norm: float | None = None
    evaluate: Callable[[Any], SupportsFloat] | None = None
    on_epoch_end: Callable[[int, float, torch.optim.Optimizer], object] | None = None
    finetune_epochs: float = 0.25
    run_epochs: float | None = None
    name: str | None = None
    sample_augment: Callable[[Any], Any] | None = None
    batch_augment: Callable[[Any], Any] | None = None
    hold_effective_batch: bool = False

    def __post_init__(self) -> None:
        for field in ("model", "optimizer"):
            if not callable(getattr(self, field)):
                raise TaskError(f"Task.{field} must be callable, got {getattr(self, field)!r}.")
        for field in (
            "loss",
            "metric",
            "split_batch",
            "collate_fn",
            "scheduler",
            "train_batches",
            "training_step",
            "evaluate",
            "on_epoch_end",
            "sample_augment",
            "batch_augment",
        ):
            value = getattr(self, field)
            if value is not None and not callable(value):
                raise TaskError(f"Task.{field} must be callable or None, got {value!r}.")
        _one_of(self, "train_data", "train_batches", "the training data")
        _one_of(self, "loss", "training_step", "the loss")
        _one_of(self, "metric", "evaluate", "the metric")
        for field in ("train_data", "eval_data"):
            data = getattr(self, field)
            if data is None:
                continue
            if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
                raise TaskError(
                    f"Task.{field} must be a map-style dataset (with __len__ and "
                    f"__getitem__), got {type(data).__name__}."
                )
            if len(data) == 0:
                raise TaskError(f"Task.{field} is empty.")
        for field in ("sample_augment", "batch_augment"):
            if getattr(self, field) is not None and self.train_data is None:
                raise TaskError(
                    f"Task.{field} augments the batches autoaccel makes from train_data; this "
                    "task makes its own (train_batches): augment in train_batches instead."
                )
        if self.metric is not None and self.eval_data is None:
            raise TaskError("Task.metric is averaged over Task.eval_data: give eval_data too.")
        if self.collate_fn is not None and self.train_data is None and self.eval_data is None:
            raise TaskError(
                "Task.collate_fn is passed to the DataLoaders over train_data and eval_data, "
                "and this task has neither: leave it out, or collate in train_batches."
            )
        if not self.epochs > 0:
            raise TaskError(f"Task.epochs must be > 0, got {self.epochs!r}.")
        if self.run_epochs is not None and not self.run_epochs > 0:
            raise TaskError(f"Task.run_epochs must be > 0, got {self.run_epochs!r}.")
        if self.clip_grad_norm is not None and not (
            isinstance(self.clip_grad_norm, (int, float))
            and math.isfinite(self.clip_grad_norm)
            and self.clip_grad_norm > 0
        ):
            raise TaskError(
                f"Task.clip_grad_norm must be a number > 0, got {self.clip_grad_norm!r}."
            )
        if not self.finetune_epochs >= 0:
            raise TaskError(f"Task.finetune_epochs must be >= 0, got {self.finetune_epochs!r}.")
        if not isinstance(self.hold_effective_batch, bool):
            raise TaskError(
                "Task.hold_effective_batch must be True or False, got "
                f"{self.hold_effective_batch!r}."
            )
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

    @property
    def deterministic_data(self) -> bool:
        """Whether the task declared ``train_data[i]`` the same every time it is read."""
        return self.sample_augment is not None or self.batch_augment is not None

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


def _one_of(task: Task, simple: str, own: str, what: str) -> None:
    """Exactly one of the simple field and the own-loop field that replaces it is given."""
    given = [name for name in (simple, own) if getattr(task, name) is not None]
    if len(given) == 2:
        raise TaskError(f"Task.{simple} and Task.{own} both give {what}: keep one.")
    if not given:
        raise TaskError(f"Task needs {what}: give Task.{simple}, or Task.{own} for your own.")
