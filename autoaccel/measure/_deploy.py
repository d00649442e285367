"""Deploy stage: the trained model, pruned, quantized and compiled as configured, serving
inference; timed on batches already on the device, then judged on the whole eval set."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from autoaccel import knobs
from autoaccel.engine import (
    TrainingRun,
    call_model,
    check_finite,
    check_pace,
    eval_loader,
    evaluate,
    sample_count,
    seed_everything,
    synchronize,
    to_device,
)
from autoaccel.knobs import Config
from autoaccel.measure._device import count_flops, peak_memory, reset_peak_memory
from autoaccel.measure._result import Measurement
from autoaccel.measure._windows import StepWindows
from autoaccel.probe import HardwareProfile
from autoaccel.task import Task

WARMUP_STEPS = 3
WINDOWS = 7
WINDOW_SECONDS = 0.3  # long enough to swamp timer resolution, short enough for many trials
MAX_STAGED_BATCHES = 8


def measure_deploy(
    task: Task,
    config: Config,
    hw: HardwareProfile,
    weights: Path,
    *,
    seed: int = 0,
    window_s: float = WINDOW_SECONDS,
    min_throughput: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Measurement:
    """Prepare the model trained into ``weights`` for inference under ``config``; measure it.

    Timing runs ``WINDOWS`` windows of about ``window_s`` seconds each.
    """
    device = torch.device(hw.device)
    seed_everything(seed)
    model = task.model()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    notes: list[str] = []
    finetune_s = None

    def finetune(pruned: torch.nn.Module) -> None:
        nonlocal finetune_s
        finetune_s = _finetune(task, pruned, device, seed, clock)

    placement = knobs.Placement(
        device,
        training=False,
        example_inputs=lambda: task.split(next(iter(eval_loader(task, 2))))[0],
        finetune=finetune,
    )
    model = knobs.DEPLOY.build_module(model, config, placement)
    parameters = sum(p.numel() for p in model.parameters())
    staged = _stage_batches(task, config, device)
    flops = count_flops(model, staged[0][0])
    flops_per_sample = flops / staged[0][2] if flops > 0 else None
    served = knobs.DEPLOY.build_served(model, config, placement)
    staged = [(knobs.DEPLOY.prepare_inputs(x, config), y, n) for x, y, n in staged]

    reset_peak_memory(device)
    cycle = itertools.cycle(staged)

    def infer() -> tuple[int, object]:
        inputs, _, samples = next(cycle)
        with knobs.DEPLOY.around_call(config, device.type):
            return samples, call_model(served, inputs)

    with torch.inference_mode():
        start = clock()
        _, outputs = infer()
        synchronize(device)
        first_step_s = clock() - start
        if isinstance(outputs, torch.Tensor) and outputs.is_floating_point():
            check_finite(outputs.float().sum(), "the model's outputs")
        for _ in range(WARMUP_STEPS - 1):
            infer()
        synchronize(device)
        warmup_s = clock() - start
        # Size the windows from one timed step, so fast and slow models are timed alike.
        step_start = clock()
        infer()
        synchronize(device)
        step_s = max(clock() - step_start, 1e-6)
        windows = StepWindows(
            max(1, math.ceil(window_s / step_s)), lambda: synchronize(device), clock
        )
        windows.start()
        while len(windows.rates) < WINDOWS:
            if windows.add_step(infer()[0]):
                check_pace(windows.rates, min_throughput)
        windows.finish()
    memory = peak_memory(device)
    throughput = windows.throughput()

    metric = evaluate(
        task,
        served,
        eval_loader(task, config.batch_size),
        device,
        channels_last=config.channels_last,
        precision=config.precision,
    )
    if not math.isfinite(metric):
        notes.append(f"the metric is {metric}: the deployed model's outputs are not finite")
    peak = hw.peak_flops(_compute_dtype(config))
    achieved = flops_per_sample * throughput.median if flops_per_sample else None
    return Measurement(
        stage="deploy",
        throughput=throughput,
        metric=metric,
        metric_name=task.metric_name,
        warmup_s=warmup_s,
        first_step_s=first_step_s,
        timed_steps=windows.timed_steps,
        peak_memory_bytes=memory.bytes,
        memory_kind=memory.kind,
        flops_per_sample=flops_per_sample,
        achieved_flops=achieved,
        mfu=achieved / peak if achieved and peak else None,
        peak_flops=peak,
        parameters=parameters,
        finetune_s=finetune_s,
        notes=notes + memory.notes,
    )


def _finetune(
    task: Task, model: torch.nn.Module, device: torch.device, seed: int, clock: Callable[[], float]
) -> float | None:
    """Recover accuracy after pruning: train the pruned model briefly with the baseline setup."""
    if task.finetune_epochs <= 0:
        return None
    baseline = task.baseline
    assert isinstance(baseline, Config)
    start = clock()
    run = TrainingRun(task, baseline, device, seed, task.finetune_epochs, model=model)
    loss_sum = torch.zeros((), device=device)
    for batch in run.batches(run.total_steps):
        loss_sum = loss_sum + run.step(*run.prepare(batch)).float()
    check_finite(loss_sum, "the loss while fine-tuning the pruned model")
    return clock() - start


def _stage_batches(task: Task, config: Config, device: torch.device) -> list[tuple]:
    """Up to a few eval batches on the device, as the loader gives them:
    ``(inputs, targets, samples)``.

    Real data, not zeros, and several batches, so caches do not flatter the timing.
    """
    staged = []
    for batch in itertools.islice(eval_loader(task, config.batch_size), MAX_STAGED_BATCHES):
        inputs, targets = task.split(batch)
        staged.append((to_device(inputs, device), targets, sample_count(targets)))
    # A ragged last batch would be timed as if it were full: keep full batches when any.
    full = [item for item in staged if item[2] == staged[0][2]]
    return full or staged


def _compute_dtype(config: Config) -> str:
    """Which peak FLOP/s of the hardware applies to this configuration."""
    if config.quantization.startswith("int8_dynamic"):
        return "int8"
    if config.quantization == "fp8_torchao":
        return "fp8"
    return config.precision
