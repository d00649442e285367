"""What one measurement found, as plain data (no torch): it crosses the process boundary as
JSON and is stored with the trial."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from autoaccel.knobs import Stage
from autoaccel.measure._latency import Latency
from autoaccel.measure._stability import instability, spread

if TYPE_CHECKING:
    from autoaccel.probe import HardwareProfile

# What a peak-memory figure counts: the CUDA allocator's bytes, or the process's resident set.
MemoryKind = Literal["cuda_allocated", "process_rss"]


class Throughput(BaseModel):
    """Samples per second: the rate over the whole timed span (the headline), and the timed
    windows inside it (median, quartiles) that give its spread.

    The span rate is what training delivers: it pays every periodic cost inside the span,
    such as DataLoader workers started again at an epoch boundary. The windows that hold
    such a boundary are left out of the spread, which measures noise, not periodic costs.
    """

    model_config = ConfigDict(frozen=True)

    rate: float = Field(description="Samples over the wall time of the whole timed span.")
    median: float
    q1: float
    q3: float
    windows: list[float]
    boundaries: int = Field(default=0, description="Epoch boundaries inside the timed span.")

    @model_validator(mode="before")
    @classmethod
    def _rate_of_older_studies(cls, data: Any) -> Any:
        # Measurements stored before the span rate existed used the windows' median.
        if isinstance(data, dict) and "rate" not in data and "median" in data:
            return {**data, "rate": data["median"]}
        return data

    @property
    def spread(self) -> float:
        """Interquartile range over the median: 0.05 means the middle half lies within 5%."""
        return spread(self.windows)

    @property
    def instability(self) -> str | None:
        """Why the windows cannot be believed, or None."""
        return instability(self.windows)

    @classmethod
    def from_windows(
        cls, windows: Sequence[float], rate: float | None = None, boundaries: int = 0
    ) -> Throughput:
        """From the timed windows; ``rate`` defaults to their median (a span of one window)."""
        if not windows:
            raise ValueError("no timed windows")
        values = sorted(windows)
        if len(values) == 1:
            q1 = q3 = values[0]
        else:
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        median = statistics.median(values)
        return cls(
            rate=median if rate is None else rate,
            median=median,
            q1=q1,
            q3=q3,
            windows=list(windows),
            boundaries=boundaries,
        )


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
    mfu: float | None = Field(
        default=None, description="Achieved over the peak FLOP/s of the precision it ran in."
    )
    peak_flops: float | None = None
    peak_dtype: str | None = Field(
        default=None, description="The precision it computed in, whose peak ``mfu`` is of."
    )
    best_peak_flops: float | None = Field(
        default=None, description="The device's highest peak over the training precisions."
    )
    best_peak_dtype: str | None = None
    train_time_s: float | None = Field(
        default=None, description="Train stage: the whole training budget, start to end."
    )
    final_loss: float | None = None
    parameters: int | None = None
    finetune_s: float | None = Field(default=None, description="Deploy: fine-tune after pruning.")
    latency: list[Latency] = Field(
        default_factory=list, description="Deploy: per-request latency at each batch size timed."
    )
    notes: list[str] = Field(default_factory=list)

    def latency_at(self, batch_size: int) -> Latency | None:
        return next((item for item in self.latency if item.batch_size == batch_size), None)

    @property
    def mfu_of_best(self) -> float | None:
        """Achieved over the device's best peak: comparable across precisions, where
        ``mfu`` (against each one's own peak) is not."""
        if self.achieved_flops and self.best_peak_flops:
            return self.achieved_flops / self.best_peak_flops
        return None


def flops_fields(
    hw: HardwareProfile, dtype: str, flops_per_sample: float | None, rate: float
) -> dict[str, Any]:
    """The compute fields of a :class:`Measurement` at ``rate`` samples/s in ``dtype``."""
    achieved = flops_per_sample * rate if flops_per_sample else None
    peak = hw.peak_flops(dtype)
    best = hw.best_peak()
    return {
        "flops_per_sample": flops_per_sample,
        "achieved_flops": achieved,
        "mfu": achieved / peak if achieved and peak else None,
        "peak_flops": peak,
        "peak_dtype": dtype,
        "best_peak_dtype": best[0] if best else None,
        "best_peak_flops": best[1] if best else None,
    }


class Pace(BaseModel):
    """A measuring run with no metric: how fast a configuration steps, and what it costs
    before it gets there (first step, compilation, warm-up)."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    throughput: Throughput
    first_step_s: float
    warmup_s: float = Field(description="From the first step to the timed span.")
    warmup_steps: int
    timed_steps: int
    data_wait_share: float | None = None
    notes: list[str] = Field(default_factory=list)
