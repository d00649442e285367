"""The training loop autoaccel owns: every knob applied the same way to any task.

Used by trial measurement and by ``autoaccel.train``, so what is measured is what trains.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from collections.abc import Iterator
from typing import Any

import torch

from autoaccel import knobs
from autoaccel.engine._batches import training_batches
from autoaccel.engine._distributed import data_parallel, from_main_rank, wait_for_ranks
from autoaccel.errors import TaskError
from autoaccel.knobs import Config
from autoaccel.task import Task


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


class TooSlow(RuntimeError):
    """A trial runs so far under the best throughput found so far that it cannot win."""


def check_pace(rates: list[float], min_throughput: float | None) -> None:
    """Raise :class:`TooSlow` once two timed windows agree the trial is under the floor.

    Two windows, so one window disturbed by the machine does not end a trial.
    """
    if min_throughput is None or len(rates) < 2:
        return
    pace = sorted(rates)[len(rates) // 2]
    if pace < min_throughput:
        raise TooSlow(
            f"{pace:,.0f} samples/s after {len(rates)} timed windows, under the "
            f"{min_throughput:,.0f}/s it needed to have a chance"
        )


def use_cores(cores: int) -> None:
    """Compute on as many threads as this process may use cores.

    torch's default counts the host's physical cores; in a container or under an affinity
    mask it may own far fewer, and threads beyond them fight each other. DataLoader workers
    keep one thread each (DataLoader sets it), and trials and ``autoaccel.train`` both call
    this, so a measured configuration runs the same threads when it trains for real. A rank
    of a data parallel run computes on its own share of them (its affinity).
    """
    if hasattr(os, "sched_getaffinity"):
        cores = min(cores, len(os.sched_getaffinity(0)))
    torch.set_num_threads(max(1, cores))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass


def to_device(value: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """Move every tensor inside ``value`` (tensor, tuple, list, dict) to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, dict):
        return {key: to_device(item, device, non_blocking) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(item, device, non_blocking) for item in value)
    return value


def call_model(model: Any, inputs: Any) -> Any:
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def sample_count(targets: Any) -> int:
    """Samples in a batch, read from its targets."""
    if isinstance(targets, torch.Tensor):
        return int(targets.shape[0]) if targets.dim() > 0 else 1
    if isinstance(targets, dict):
        return sample_count(next(iter(targets.values())))
    if isinstance(targets, (tuple, list)):
        return (
            sample_count(targets[0])
            if targets and isinstance(targets[0], torch.Tensor)
            else len(targets)
        )
    raise TypeError(f"cannot count samples in targets of type {type(targets).__name__}")


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, and for every rank of a data parallel run, so a host
    clock reading covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    elif device.type == "xpu":
        torch.xpu.synchronize(device)
    wait_for_ranks()


def eval_loader(task: Task, batch_size: int) -> Any:
    """The evaluation data in order, read in the trial process: one pass over the data
    costs less than starting worker processes for it."""
    if task.eval_data is None:
        raise TaskError("this needs Task.eval_data, and the task has none.")
    return knobs.loader.build(
        task.eval_data,
        Config(batch_size=batch_size),
        shuffle=False,
        seed=0,
        collate_fn=task.collate_fn,
    )


def evaluate(
    task: Task,
    model: Any,
    device: torch.device,
    *,
    batch_size: int,
    channels_last: bool = False,
    precision: str = "fp32",
) -> float:
    """The task's metric of ``model`` under ``precision``: its own ``evaluate(model)``, or
    the sample-weighted mean of ``metric`` over ``eval_data`` in batches of ``batch_size``.

    The model is in eval mode meanwhile, and back in train mode after if it was.
    """
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        if task.evaluate is not None:
            with torch.no_grad(), knobs.precision.autocast(precision, device.type):
                return float(task.evaluate(model))
        return _mean_metric(task, model, device, batch_size, channels_last, precision)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()


def _mean_metric(
    task: Task,
    model: Any,
    device: torch.device,
    batch_size: int,
    channels_last: bool,
    precision: str,
) -> float:
    assert task.metric is not None
    total = 0.0
    count = 0
    with torch.inference_mode():
        for batch in eval_loader(task, batch_size):
            inputs, targets = task.split(batch)
            inputs = knobs.channels_last.apply_to_inputs(to_device(inputs, device), channels_last)
            targets = to_device(targets, device)
            with knobs.precision.autocast(precision, device.type):
                outputs = call_model(model, inputs)
            n = sample_count(targets)
            total += float(task.metric(_float32(outputs), targets)) * n
            count += n
    return total / max(count, 1)


def _float32(outputs: Any) -> Any:
    # Metrics written for fp32 logits (argmax ties, softmax) should see fp32 under autocast.
    if isinstance(outputs, torch.Tensor) and outputs.is_floating_point():
        return outputs.float()
    return outputs


class TrainingRun:
    """A model, optimizer, scaler and training batches for one configuration, ready to step.

    ``model`` is the plain module (its weights are what gets saved and evaluated);
    ``step_model`` is what the loop calls (compiled when the configuration says so).
    Every loop trains through :meth:`step`, which also closes each finished epoch
    (:meth:`end_epoch`), so the task's epoch-end hook runs wherever it trains.
    """

    def __init__(
        self,
        task: Task,
        config: Config,
        device: torch.device,
        seed: int,
        epochs: float,
        model: Any = None,
    ) -> None:
        """A run of ``epochs`` passes over the training data.

        ``model``: start from these weights (fine-tuning) instead of ``task.model()``.
        """
        self.task = task
        self.config = config
        self.device = device
        seed_everything(seed)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        placement = knobs.Placement(device, training=True)
        model = task.model() if model is None else model
        self.model = knobs.TRAIN.build_module(model, config, placement)
        assert task.optimizer is not None
        self.optimizer = knobs.optimizer_impl.rebuild(
            task.optimizer(self.model.parameters()), config.optimizer_impl
        )
        baseline = task.baseline
        assert isinstance(baseline, Config)
        knobs.batch_size.scale_learning_rate(
            self.optimizer,
            knobs.batch_size.lr_factor(
                # A step trains its micro-batches on every rank: the rule follows the
                # global effective batch.
                knobs.accumulation.effective_batch(config) * config.world_size,
                knobs.accumulation.effective_batch(baseline) * baseline.world_size,
                task.lr_scaling,
            ),
        )
        self.scaler = knobs.precision.grad_scaler(config.precision, device.type)
        # Compiled over DDP, not under it: the compiler then splits graphs at its buckets.
        self.step_model = knobs.TRAIN.build_served(
            data_parallel(self.model, config.world_size, device), config, placement
        )
        self.loader, self.samples_per_step = training_batches(task, config, seed)
        self.steps_per_epoch = len(self.loader)  # optimizer steps, as the scheduler counts
        self.total_steps = max(1, math.ceil(epochs * self.steps_per_epoch))
        self.scheduler = (
            task.scheduler(self.optimizer, self.total_steps) if task.scheduler else None
        )
        self.steps_done = 0
        self._epochs_closed = 0
        self._metric: tuple[int, float] | None = None  # (steps_done, metric) when measured

    def batches(self, steps: int) -> Iterator[Any]:
        """Yield ``steps`` batches, starting new epochs as needed."""
        done = 0
        while done < steps:
            for batch in self.loader:
                yield batch
                done += 1
                if done >= steps:
                    return

    def prepare(self, batch: Any) -> tuple[Any, Any]:
        """``(inputs, targets)`` on the device, inputs in the configured memory format."""
        inputs, targets = self.task.split(batch)
        non_blocking = self.config.pin_memory
        inputs = knobs.TRAIN.prepare_inputs(
            to_device(inputs, self.device, non_blocking), self.config
        )
        return inputs, to_device(targets, self.device, non_blocking)

    def step(self, batch: Any) -> torch.Tensor:
        """One optimizer step on ``batch`` as :meth:`batches` gives it (under gradient
        accumulation, a tuple of micro-batches); returns the detached loss, the mean over
        the micro-batches (no host sync). An epoch that ended before this step is closed
        first."""
        self.end_epoch()
        self.optimizer.zero_grad(set_to_none=True)
        micro_batches = batch if self.config.accumulation_steps > 1 else (batch,)
        loss = torch.zeros((), device=self.device)
        for index, micro in enumerate(micro_batches):
            # The gradients of every micro-batch but the last stay local: DDP all-reduces once.
            last = index == len(micro_batches) - 1
            with contextlib.nullcontext() if last else _no_gradient_sync(self.step_model):
                part = self._forward(micro) / len(micro_batches)
                self.scaler.scale(part).backward()
            loss = loss + part.detach()
        if self.task.clip_grad_norm is not None:
            self.scaler.unscale_(self.optimizer)  # clip the true gradients, not scaled ones
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.task.clip_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        self.steps_done += 1
        return loss

    def _forward(self, batch: Any) -> torch.Tensor:
        """The loss of one micro-batch, under the configured autocast."""
        call = knobs.TRAIN.around_call(self.config, self.device.type)
        if self.config.augment_on == "device" and self.task.batch_augment is not None:
            batch = self.task.batch_augment(to_device(batch, self.device, self.config.pin_memory))
        if self.task.training_step is None:
            assert self.task.loss is not None
            inputs, targets = self.prepare(batch)
            with call:
                return self.task.loss(call_model(self.step_model, inputs), targets)
        batch = to_device(batch, self.device, self.config.pin_memory)
        batch = knobs.TRAIN.prepare_inputs(batch, self.config)
        with call:
            return _checked_loss(self.task.training_step(self.step_model, batch))

    def end_epoch(self) -> float | None:
        """Close the epoch the last step finished, if it finished one: with
        ``Task.on_epoch_end``, measure the metric and hand it to the hook. Returns that
        metric; None when no epoch just ended or the task has no hook."""
        finished = self.steps_done // self.steps_per_epoch
        if finished <= self._epochs_closed:
            return None
        self._epochs_closed = finished
        if self.task.on_epoch_end is None:
            return None
        metric = self.evaluate()
        self.task.on_epoch_end(finished, metric, self.optimizer)
        return metric

    def evaluate(self) -> float:
        """The metric of the trained weights, in fp32 and uncompiled; measured once per
        state of the weights (an epoch's end and the run's end may be the same).

        Every trial is judged the same way, so a metric difference comes from how the model
        was trained, not from how it was evaluated.
        """
        self.end_epoch()
        if self._metric is None or self._metric[0] != self.steps_done:
            # The ranks hold the same weights: rank 0 measures, every rank gets its value.
            value = from_main_rank(
                lambda: evaluate(
                    self.task,
                    self.model,
                    self.device,
                    batch_size=self.config.batch_size,
                    channels_last=self.config.channels_last,
                )
            )
            self._metric = (self.steps_done, value)
        return self._metric[1]


def _no_gradient_sync(model: Any) -> Any:
    """DistributedDataParallel's ``no_sync()`` for ``model`` (or the module it compiled), so
    a backward pass keeps its gradients local; nothing for any other model."""
    module = getattr(model, "_orig_mod", model)
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.no_sync()
    return contextlib.nullcontext()


def _checked_loss(loss: Any) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = (
            f"a tensor of shape {tuple(loss.shape)}"
            if isinstance(loss, torch.Tensor)
            else (f"a {type(loss).__name__}")
        )
        raise TaskError(f"Task.training_step returned {shape}, not the loss as one number.")
    return loss


def check_finite(total: torch.Tensor, what: str) -> None:
    """Raise :class:`Diverged` if ``total`` (a sum of ``what``) is NaN or infinite.

    Reads the value on the host, so it synchronizes the device: call it where the loop
    synchronizes anyway.
    """
    value = float(total)
    if not math.isfinite(value):
        raise Diverged(f"{what} became {value}")
