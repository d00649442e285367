"""Train stage: train for the task's budget with one configuration, timing it as it goes.

One run gives both numbers: throughput from timed windows after warm-up, and the metric
after the whole budget. Each step is timed from ``next(loader)`` on, so slow data loading
shows in the throughput and in the data-wait share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from autoaccel.engine import (
    TrainingRun,
    check_finite,
    check_pace,
    eval_loader,
    is_main_rank,
    sample_count,
    synchronize,
)
from autoaccel.knobs import Config
from autoaccel.measure._device import count_flops, peak_memory, reset_peak_memory
from autoaccel.measure._result import Measurement, Throughput, flops_fields
from autoaccel.measure._windows import StepWindows
from autoaccel.probe import HardwareProfile
from autoaccel.task import Task

WARMUP_STEPS = 5
WINDOWS = 8


def measure_train(
    task: Task,
    config: Config,
    hw: HardwareProfile,
    *,
    seed: int = 0,
    save_weights: Path | None = None,
    min_throughput: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Measurement:
    """Train ``task`` for its budget under ``config`` on ``hw``'s device and measure it.

    In a data parallel run every rank calls this; the samples counted are every rank's (the
    run's ``samples_per_step``), the windows close when every rank reached their edge, and
    rank 0 alone evaluates (each rank gets its metric) and saves the weights.

    Raises :class:`autoaccel.engine.Diverged` when the loss turns NaN or infinite, and
    :class:`autoaccel.engine.TooSlow` when timed windows stay under ``min_throughput``;
    other exceptions (out of memory, the user's own errors) propagate to the caller, which
    classifies them.
    """
    device = torch.device(hw.device)
    reset_peak_memory(device)
    run = TrainingRun(task, config, device, seed, task.epochs)
    total = run.total_steps
    warmup = min(WARMUP_STEPS, max(1, total // 4))
    notes = []
    if config.world_size > 1:
        notes.append(
            f"{config.world_size} ranks: samples/s counts every rank's samples; peak memory "
            "is rank 0's alone"
        )
    if total - warmup < 3:
        notes.append(
            f"the budget is {total} steps: too few to time after warm-up; raise Task.epochs"
        )
    windows = StepWindows(max(1, (total - warmup) // WINDOWS), lambda: synchronize(device), clock)

    flops_per_sample = _train_flops_per_sample(run)
    if flops_per_sample is None and task.training_step is not None:
        notes.append("FLOPs are not counted for a task with its own training_step: no MFU")
    loss_sum = torch.zeros((), device=device)
    loss = loss_sum
    batches = run.batches(total)
    start = clock()
    first_step_s = warmup_s = 0.0
    for step in range(total):
        wait_start = clock()
        batch = next(batches)
        data_wait = clock() - wait_start
        loss = run.step(batch)
        loss_sum = loss_sum + loss.float()
        if step == 0:
            synchronize(device)
            first_step_s = clock() - start
        if step == warmup - 1:
            check_finite(loss_sum, "the training loss during warm-up")
            warmup_s = clock() - start
            windows.start()
        elif step >= warmup and windows.add_step(
            run.samples_per_step, data_wait, new_epoch=step % run.steps_per_epoch == 0
        ):
            check_finite(loss_sum, f"the training loss by step {step + 1}")
            check_pace(windows.rates, min_throughput)
    if windows.timed_steps:
        windows.finish()
    synchronize(device)
    train_time_s = clock() - start
    check_finite(loss_sum, "the training loss by the end")

    if not windows.timed_steps:
        # Too short to time after warm-up: fall back to the whole run, flagged in notes.
        samples = total * run.samples_per_step
        throughput = Throughput.from_windows([samples / max(train_time_s, 1e-9)])
    else:
        throughput = windows.throughput()
    memory = peak_memory(device)
    metric = run.evaluate()
    if save_weights is not None and is_main_rank():
        torch.save(run.model.state_dict(), save_weights)
    # Achieved FLOP/s and MFU per device: ranks on GPUs have one each, CPU ranks share one.
    devices = config.world_size if hw.device != "cpu" else 1
    return Measurement(
        stage="train",
        throughput=throughput,
        metric=metric,
        metric_name=task.metric_name,
        warmup_s=warmup_s,
        first_step_s=first_step_s,
        timed_steps=windows.timed_steps,
        data_wait_share=windows.data_wait_share(),
        peak_memory_bytes=memory.bytes,
        memory_kind=memory.kind,
        **flops_fields(hw, config.precision, flops_per_sample, throughput.rate / devices),
        train_time_s=train_time_s,
        final_loss=float(loss),
        parameters=sum(p.numel() for p in run.model.parameters()),
        notes=notes + memory.notes,
    )


def _train_flops_per_sample(run: TrainingRun) -> float | None:
    """Forward plus backward FLOPs per sample, counted on one evaluation batch; None for a
    task with its own training step (counting would run it once more, outside training).

    An evaluation batch leaves the training loader's shuffling untouched.
    """
    if run.task.training_step is not None or run.task.eval_data is None:
        return None
    batch = next(iter(eval_loader(run.task, min(run.config.batch_size, 8))))
    inputs, targets = run.prepare(batch)
    assert run.task.loss is not None
    flops = count_flops(run.model, inputs, run.task.loss, targets)
    samples = sample_count(targets)
    return flops / samples if flops > 0 and samples else None
