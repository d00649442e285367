"""The training loop autoaccel owns: every knob applied the same way to any task.

Used by trial measurement and by ``autoaccel.train``, so what is measured is what trains.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from autoaccel import knobs
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
    this, so a measured configuration runs the same threads when it trains for real.
    """
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
    """Wait for queued device work, so a host clock reading covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    elif device.type == "xpu":
        torch.xpu.synchronize(device)


def eval_loader(task: Task, batch_size: int) -> Any:
    """The evaluation data in order, read in the trial process: one pass over the data
    costs less than starting worker processes for it."""
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
    batches: Iterable[Any],
    device: torch.device,
    *,
    channels_last: bool = False,
    precision: str = "fp32",
) -> float:
    """The sample-weighted mean of ``task.metric`` over ``batches``, under ``precision``."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total = 0.0
    count = 0
    try:
        with torch.inference_mode():
            for batch in batches:
                inputs, targets = task.split(batch)
                inputs = knobs.channels_last.apply_to_inputs(
                    to_device(inputs, device), channels_last
                )
                targets = to_device(targets, device)
                with knobs.precision.autocast(precision, device.type):
                    outputs = call_model(model, inputs)
                n = sample_count(targets)
                total += float(task.metric(_float32(outputs), targets)) * n
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return total / max(count, 1)


def _float32(outputs: Any) -> Any:
    # Metrics written for fp32 logits (argmax ties, softmax) should see fp32 under autocast.
    if isinstance(outputs, torch.Tensor) and outputs.is_floating_point():
        return outputs.float()
    return outputs


class TrainingRun:
    """A model, optimizer, scaler and loader for one configuration, ready to step.

    ``model`` is the plain module (its weights are what gets saved and evaluated);
    ``step_model`` is what the loop calls (compiled when the configuration says so).
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
        self.optimizer = task.optimizer(self.model.parameters())
        baseline = task.baseline
        assert isinstance(baseline, Config)
        knobs.batch_size.scale_learning_rate(
            self.optimizer,
            knobs.batch_size.lr_factor(config.batch_size, baseline.batch_size, task.lr_scaling),
        )
        self.scaler = knobs.precision.grad_scaler(config.precision, device.type)
        self.step_model = knobs.TRAIN.build_served(self.model, config, placement)
        # drop_last keeps every step the same shape: compiled graphs and CUDA graphs are
        # not rebuilt for a ragged last batch, and step times compare.
        self.loader = knobs.loader.build(
            task.train_data,
            config,
            shuffle=True,
            seed=seed,
            collate_fn=task.collate_fn,
            drop_last=len(task.train_data) >= config.batch_size,
        )
        self.steps_per_epoch = len(self.loader)
        self.total_steps = max(1, math.ceil(epochs * self.steps_per_epoch))
        self.scheduler = (
            task.scheduler(self.optimizer, self.total_steps) if task.scheduler else None
        )

    def batches(self, steps: int) -> Iterator[Any]:
        """Yield ``steps`` collated batches, starting new epochs as needed."""
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

    def step(self, inputs: Any, targets: Any) -> torch.Tensor:
        """One optimizer step; returns the detached loss (no host sync)."""
        self.optimizer.zero_grad(set_to_none=True)
        with knobs.TRAIN.around_call(self.config, self.device.type):
            outputs = call_model(self.step_model, inputs)
            loss = self.task.loss(outputs, targets)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss.detach()

    def evaluate(self) -> float:
        """The metric of the trained weights, in fp32 and uncompiled.

        Every trial is judged the same way, so a metric difference comes from how the model
        was trained, not from how it was evaluated.
        """
        return evaluate(
            self.task,
            self.model,
            eval_loader(self.task, self.config.batch_size),
            self.device,
            channels_last=self.config.channels_last,
        )


def check_finite(total: torch.Tensor, what: str) -> None:
    """Raise :class:`Diverged` if ``total`` (a sum of ``what``) is NaN or infinite.

    Reads the value on the host, so it synchronizes the device: call it where the loop
    synchronizes anyway.
    """
    value = float(total)
    if not math.isfinite(value):
        raise Diverged(f"{what} became {value}")
