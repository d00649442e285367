"""What one measurement found, as plain data (no torch): it crosses the process boundary as
JSON and is stored with the trial."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autoaccel.knobs import Stage

# What a peak-memory figure counts: the CUDA allocator's bytes, or the process's resident set.
MemoryKind = Literal["cuda_allocated", "process_rss"]


class Throughput(BaseModel):
    """Samples per second over timed windows: median, quartiles and the spread."""

    model_config = ConfigDict(frozen=True)

    median: float
    q1: float
    q3: float
    windows: list[float]

    @property
    def spread(self) -> float:
        """Interquartile range over the median: 0.05 means the middle half lies within 5%."""
        return (self.q3 - self.q1) / self.median if self.median > 0 else 0.0

    @classmethod
    def from_windows(cls, windows: Sequence[float]) -> Throughput:
        if not windows:
            raise ValueError("no timed windows")
        values = sorted(windows)
        if len(values) == 1:
            q1 = q3 = values[0]
        else:
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(median=statistics.median(values), q1=q1, q3=q3, windows=list(windows))


class Measurement(BaseModel):
    """Everything a trial measured for one configuration in one stage."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    throughput: Throughput = Field(description="Samples per second (training or inference).")
    metric: float
    metric_name: str
    warmup_s: float = Field(description="Warm-up time, compilation and autotuning included.")
    first_step_s: float = Field(description="The first step alone: mostly compile time.")
    timed_steps: int
    data_wait_share: float | None = Field(
        default=None, description="Share of timed step time spent waiting in next(loader)."
    )
    peak_memory_bytes: int | None = None
    memory_kind: MemoryKind | None = None
    flops_per_sample: float | None = None
    achieved_flops: float | None = None
    mfu: float | None = Field(default=None, description="Achieved over the peak FLOP/s.")
    peak_flops: float | None = None
    train_time_s: float | None = Field(
        default=None, description="Train stage: the whole training budget, start to end."
    )
    final_loss: float | None = None
    parameters: int | None = None
    finetune_s: float | None = Field(default=None, description="Deploy: fine-tune after pruning.")
    notes: list[str] = Field(default_factory=list)
