"""Device-side facts a measurement needs: peak memory and FLOP counts."""

from __future__ import annotations

import dataclasses
import resource
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from autoaccel.engine import call_model
from autoaccel.measure._result import MemoryKind


@dataclasses.dataclass(frozen=True)
class PeakMemory:
    """The most memory one measurement held, what that figure counts, and notes on it."""

    bytes: int
    kind: MemoryKind
    notes: list[str] = dataclasses.field(default_factory=list)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> PeakMemory:
    """Peak bytes since the last reset and what they count; allocator retries are noted, as
    they mean memory is nearly full."""
    if device.type == "cuda":
        stats = torch.cuda.memory_stats(device)
        notes = []
        retries = stats.get("num_alloc_retries", 0)
        if retries:
            notes.append(f"the CUDA allocator retried {retries} times: memory is nearly full")
        return PeakMemory(int(stats.get("allocated_bytes.all.peak", 0)), "cuda_allocated", notes)
    # ru_maxrss is the process's high-water mark: kilobytes on Linux, bytes on macOS.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024
    return PeakMemory(int(maxrss * scale), "process_rss")


def count_flops(
    model: torch.nn.Module,
    inputs: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    targets: Any = None,
) -> float:
    """FLOPs of one forward pass (and backward, when ``loss_fn`` is given) on ``inputs``.

    Runs in eval mode so batch-norm statistics are untouched; gradients are cleared after.
    """
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            if loss_fn is None:
                with torch.no_grad():
                    call_model(model, inputs)
            else:
                loss_fn(call_model(model, inputs), targets).backward()
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return float(counter.get_total_flops())
