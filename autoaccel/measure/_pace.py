"""A measuring run with no metric: the steady rate at which a configuration trains, epoch
boundaries included, for the confirmation rounds.

Shorter than a trial (the metric is known from the search), but timed the way real training
runs: when an epoch is short enough, the span is whole epochs from the start of the second,
so it pays each epoch's periodic costs once, as ``python train.py`` does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from autoaccel.engine import TrainingRun, from_main_rank, synchronize
from autoaccel.knobs import Config
from autoaccel.measure._result import Pace
from autoaccel.measure._windows import StepWindows
from autoaccel.probe import HardwareProfile
from autoaccel.task import Task

WARMUP_STEPS = 5
MIN_SPAN_S = 3.0  # long enough that a span of whole epochs holds two boundaries or more
MAX_SPAN_S = 20.0
WINDOWS_PER_EPOCH = 4
WINDOWS = 8
PROBE_S = 0.25  # steps timed one by one to size the span
PROBE_MAX_STEPS = 50
# The learning-rate schedule's horizon, in epochs: far beyond any span, so a schedule that
# decays to zero stays away from zero while the rate is measured.
SCHEDULE_EPOCHS = 1000


def train_pace(
    task: Task,
    config: Config,
    hw: HardwareProfile,
    *,
    seed: int = 0,
    min_span_s: float = MIN_SPAN_S,
    max_span_s: float = MAX_SPAN_S,
    clock: Callable[[], float] = time.perf_counter,
) -> Pace:
    """Train under ``config`` long enough to time a steady span; evaluate nothing."""
    device = torch.device(hw.device)
    run = TrainingRun(task, config, device, seed, SCHEDULE_EPOCHS)
    per_epoch = run.steps_per_epoch
    batches = run.batches(run.total_steps)

    def step() -> tuple[int, float]:
        wait_start = clock()
        batch = next(batches)
        waited = clock() - wait_start
        run.step(batch)
        return run.samples_per_step, waited

    start = clock()
    step()
    synchronize(device)
    first_step_s = clock() - start
    for _ in range(WARMUP_STEPS - 1):
        step()
    done = WARMUP_STEPS
    # The step time, from steps after the warm-up: the first few run slower.
    synchronize(device)
    probe_start = clock()
    probed = 0
    # Rank 0's clock decides for every rank of a data parallel run: they step together.
    while probed < PROBE_MAX_STEPS and from_main_rank(lambda: clock() - probe_start < PROBE_S):
        step()
        probed += 1
        synchronize(device)
    done += probed
    step_s = from_main_rank(lambda: max((clock() - probe_start) / probed, 1e-6))
    epoch_s = per_epoch * step_s
    whole_epochs = epoch_s * 2 <= max_span_s
    if whole_epochs:
        # Warm up to the end of the first epoch, then time whole epochs.
        while done % per_epoch:
            step()
            done += 1
        epochs = max(2, min(math.ceil(min_span_s / epoch_s), math.floor(max_span_s / epoch_s)))
        span_steps = epochs * per_epoch
        per_window = max(1, per_epoch // WINDOWS_PER_EPOCH)
    else:
        span_steps = max(WINDOWS, math.ceil(min_span_s / step_s))
        per_window = max(1, span_steps // WINDOWS)
    warmup_s = clock() - start
    windows = StepWindows(per_window, lambda: synchronize(device), clock)
    windows.start()
    for _ in range(span_steps):
        samples, waited = step()
        windows.add_step(samples, waited, new_epoch=done % per_epoch == 0)
        done += 1
    windows.finish()
    notes = []
    if not whole_epochs:
        notes.append(
            f"an epoch takes about {epoch_s:.0f} s: the span is {span_steps} steps inside one "
            "epoch, so costs paid once per epoch are not in it"
        )
    return Pace(
        stage="train",
        throughput=windows.throughput(),
        first_step_s=first_step_s,
        warmup_s=warmup_s,
        warmup_steps=done - span_steps,
        timed_steps=span_steps,
        data_wait_share=windows.data_wait_share(),
        notes=notes,
    )
