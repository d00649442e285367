"""Deploy stage: the trained model, pruned, quantized and compiled as configured, serving
inference; timed on batches already on the device, then judged on the whole eval set."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from autoaccel.measure._latency import Latency, summarise, time_requests
from autoaccel.measure._result import Measurement, Pace, flops_fields
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
    latency_batch: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> Measurement:
    """Prepare the model trained into ``weights`` for inference under ``config``; measure it.

    Timing runs ``WINDOWS`` windows of about ``window_s`` seconds each; then requests are
    timed one by one at the configured batch size and at ``latency_batch``.
    """
    device = torch.device(hw.device)
    served = _serve(task, config, device, weights, seed, clock, finetune=True)
    reset_peak_memory(device)
    timing = _time(served, config, device, window_s, min_throughput, clock)
    latency = [
        _latency(task, served, config, device, size, clock)
        for size in sorted({config.batch_size, latency_batch})
    ]
    memory = peak_memory(device)
    throughput = timing.windows.throughput()
    notes: list[str] = []
    metric = evaluate(
        task,
        served.model,
        device,
        batch_size=config.batch_size,
        channels_last=config.channels_last,
        precision=config.precision,
    )
    if not math.isfinite(metric):
        notes.append(f"the metric is {metric}: the deployed model's outputs are not finite")
    return Measurement(
        stage="deploy",
        throughput=throughput,
        metric=metric,
        metric_name=task.metric_name,
        warmup_s=timing.warmup_s,
        first_step_s=timing.first_step_s,
        timed_steps=timing.windows.timed_steps,
        peak_memory_bytes=memory.bytes,
        memory_kind=memory.kind,
        **flops_fields(hw, _compute_dtype(config), served.flops_per_sample, throughput.rate),
        parameters=served.parameters,
        finetune_s=served.finetune_s,
        latency=latency,
        notes=notes + memory.notes,
    )


def deploy_pace(
    task: Task,
    config: Config,
    hw: HardwareProfile,
    weights: Path,
    *,
    seed: int = 0,
    window_s: float = WINDOW_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> Pace:
    """How fast the prepared model serves, with no metric: a pruned model is not fine-tuned
    (its speed comes from its shape, not its weights) and nothing is evaluated."""
    device = torch.device(hw.device)
    served = _serve(task, config, device, weights, seed, clock, finetune=False)
    timing = _time(served, config, device, window_s, None, clock)
    return Pace(
        stage="deploy",
        throughput=timing.windows.throughput(),
        first_step_s=timing.first_step_s,
        warmup_s=timing.warmup_s,
        warmup_steps=WARMUP_STEPS + 1,
        timed_steps=timing.windows.timed_steps,
    )


@dataclasses.dataclass(frozen=True)
class _Served:
    """A model prepared for inference, and batches staged on its device."""

    model: Any
    staged: list[tuple[Any, Any, int]]
    parameters: int
    flops_per_sample: float | None
    finetune_s: float | None


def _serve(
    task: Task,
    config: Config,
    device: torch.device,
    weights: Path,
    seed: int,
    clock: Callable[[], float],
    *,
    finetune: bool,
) -> _Served:
    seed_everything(seed)
    model = task.model()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    finetune_s = None
    # The unpruned trained model, kept as it is to teach the pruned one.
    distilled = finetune and config.pruning_ratio > 0 and config.distill == "on"
    teacher = copy.deepcopy(model) if distilled else None

    def recover(pruned: torch.nn.Module) -> None:
        nonlocal finetune_s
        if finetune:
            finetune_s = _finetune(task, pruned, device, seed, clock, teacher)

    placement = knobs.Placement(
        device,
        training=False,
        example_inputs=lambda: task.split(next(iter(eval_loader(task, 2))))[0],
        finetune=recover,
    )
    model = knobs.DEPLOY.build_module(model, config, placement)
    parameters = sum(p.numel() for p in model.parameters())
    staged = _stage_batches(task, config.batch_size, device)
    flops = count_flops(model, staged[0][0])
    served = knobs.DEPLOY.build_served(model, config, placement)
    return _Served(
        model=served,
        staged=[(knobs.DEPLOY.prepare_inputs(x, config), y, n) for x, y, n in staged],
        parameters=parameters,
        flops_per_sample=flops / staged[0][2] if flops > 0 else None,
        finetune_s=finetune_s,
    )


@dataclasses.dataclass(frozen=True)
class _Timing:
    windows: StepWindows
    first_step_s: float
    warmup_s: float


def _time(
    served: _Served,
    config: Config,
    device: torch.device,
    window_s: float,
    min_throughput: float | None,
    clock: Callable[[], float],
) -> _Timing:
    """Serve the staged batches in a loop: a first call, warm-up, then timed windows."""
    cycle = itertools.cycle(served.staged)

    def infer() -> tuple[int, object]:
        inputs, _, samples = next(cycle)
        with knobs.DEPLOY.around_call(config, device.type):
            return samples, call_model(served.model, inputs)

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
    return _Timing(windows, first_step_s, warmup_s)


def _latency(
    task: Task,
    served: _Served,
    config: Config,
    device: torch.device,
    batch_size: int,
    clock: Callable[[], float],
) -> Latency:
    """Requests of ``batch_size`` eval samples, each served alone: its percentiles."""
    staged = [
        knobs.DEPLOY.prepare_inputs(x, config)
        for x, _, _ in _stage_batches(task, batch_size, device)
    ]
    cycle = itertools.cycle(staged)

    def request() -> object:
        with knobs.DEPLOY.around_call(config, device.type):
            return call_model(served.model, next(cycle))

    with torch.inference_mode():
        timings = time_requests(request, lambda: synchronize(device), clock)
    return summarise(timings, batch_size)


def _finetune(
    task: Task,
    model: torch.nn.Module,
    device: torch.device,
    seed: int,
    clock: Callable[[], float],
    teacher: torch.nn.Module | None,
) -> float | None:
    """Recover accuracy after pruning: train the pruned model briefly with the baseline
    setup, against ``teacher``'s outputs as well when there is one (distillation)."""
    if task.finetune_epochs <= 0:
        return None
    baseline = task.baseline
    assert isinstance(baseline, Config)
    student = None
    if teacher is not None:
        if task.loss is None:
            raise ValueError("distill needs Task.loss: this task trains with its own training_step")
        student = knobs.distill.Student(model, teacher.to(device))
        task = dataclasses.replace(task, loss=student.loss(task.loss))
    start = clock()
    try:
        run = TrainingRun(task, baseline, device, seed, task.finetune_epochs, model=model)
        loss_sum = torch.zeros((), device=device)
        for batch in run.batches(run.total_steps):
            loss_sum = loss_sum + run.step(batch).float()
    finally:
        if student is not None:
            student.close()
    check_finite(loss_sum, "the loss while fine-tuning the pruned model")
    return clock() - start


def _stage_batches(task: Task, batch_size: int, device: torch.device) -> list[tuple]:
    """Up to a few eval batches on the device, as the loader gives them:
    ``(inputs, targets, samples)``.

    Real data, not zeros, and several batches, so caches do not flatter the timing.
    """
    staged = []
    for batch in itertools.islice(eval_loader(task, batch_size), MAX_STAGED_BATCHES):
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
