"""What a served model must deliver besides its metric: the objective it is chosen by
(throughput, or the p99 latency of one request) and the limits it must stay under."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autoaccel import _format as fmt
from autoaccel.errors import ConfigError
from autoaccel.measure import Measurement

Objective = Literal["throughput", "latency"]
OBJECTIVES: tuple[Objective, ...] = ("throughput", "latency")
LATENCY_LIMIT = "max_latency_ms"  # the constraint names, stored with each trial
MEMORY_LIMIT = "max_memory"

_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(?P<number>\d+(\.\d*)?|\.\d+)\s*(?P<unit>[a-z]+)\s*$", re.I)


def parse_memory(text: str, flag: str = "--max-memory") -> int:
    """Bytes in a size such as ``2GiB``, ``512MiB`` or ``1.5GB``."""
    match = _SIZE.match(text)
    unit = match["unit"].lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ConfigError(
            f"{flag} must be a size with a unit, such as 2GiB, 512MiB or 1.5GB; got {text!r}."
        )
    size = int(float(match["number"]) * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{flag} must be more than zero bytes, got {text!r}.")
    return size


class ServingGoal(BaseModel):
    """How deploy trials are ranked and which of them may be recommended.

    ``latency`` always means the p99 of one request of ``latency_batch`` samples, served
    alone; memory, the trial's peak (GPU memory, or the process's resident set on a CPU).
    """

    model_config = ConfigDict(frozen=True)

    objective: Objective = "throughput"
    latency_batch: int = Field(default=1, ge=1)
    max_latency_ms: float | None = Field(default=None, gt=0)
    max_memory_bytes: int | None = Field(default=None, gt=0)

    def p99_ms(self, served: Measurement | None) -> float | None:
        latency = served.latency_at(self.latency_batch) if served is not None else None
        return latency.p99_ms if latency is not None else None

    def excess(self, served: Measurement | None) -> dict[str, float]:
        """Per limit set, how far over it a finished trial's measurement went (feasible
        when <= 0), in its unit (ms, MiB); a figure not measured counts as broken (1.0).
        A trial that did not finish (None) breaks none: it is infeasible for that alone."""
        over: dict[str, float] = {}
        if self.max_latency_ms is not None:
            p99 = self.p99_ms(served)
            over[LATENCY_LIMIT] = _over(p99, self.max_latency_ms, served)
        if self.max_memory_bytes is not None:
            peak = served.peak_memory_bytes if served is not None else None
            over[MEMORY_LIMIT] = _over(peak, self.max_memory_bytes, served) / 2**20
        return over

    def meets(self, served: Measurement | None) -> bool:
        return all(value <= 0 for value in self.excess(served).values())

    def broken(self, served: Measurement | None) -> list[str]:
        """Each limit the measurement broke, in words with its figure."""
        over = self.excess(served)
        words = []
        if over.get(LATENCY_LIMIT, 0) > 0:
            p99 = self.p99_ms(served)
            got = "not measured" if p99 is None else f"{p99:.3g} ms"
            words.append(
                f"p99 latency at batch {self.latency_batch} {got} > {self.max_latency_ms:g} ms"
            )
        if over.get(MEMORY_LIMIT, 0) > 0:
            assert self.max_memory_bytes is not None and served is not None
            got = fmt.nbytes(served.peak_memory_bytes) if served.peak_memory_bytes else "-"
            words.append(f"peak memory {got} > {fmt.nbytes(self.max_memory_bytes)}")
        return words

    def score(self, served: Measurement | None) -> float:
        """Higher is better: throughput, or the p99 latency negated."""
        if served is None:
            return -math.inf
        if self.objective == "throughput":
            return served.throughput.rate
        p99 = self.p99_ms(served)
        return -p99 if p99 is not None else -math.inf

    def closeness(self, served: Measurement | None) -> float:
        """How far the worst-broken limit is over, as a share of it: the closest setup
        when none met them has the smallest."""
        shares = []
        if self.max_latency_ms is not None:
            p99 = self.p99_ms(served)
            shares.append(p99 / self.max_latency_ms if p99 is not None else math.inf)
        if self.max_memory_bytes is not None:
            peak = served.peak_memory_bytes if served is not None else None
            shares.append(peak / self.max_memory_bytes if peak else math.inf)
        return max(shares, default=0.0)

    def limits_text(self) -> str:
        """The limits as the user set them, e.g. ``--max-latency-ms 5``."""
        parts = []
        if self.max_latency_ms is not None:
            parts.append(f"--max-latency-ms {self.max_latency_ms:g}")
        if self.max_memory_bytes is not None:
            parts.append(f"--max-memory {fmt.nbytes(self.max_memory_bytes)}")
        return " and ".join(parts)


def _over(value: float | None, limit: float, served: Measurement | None) -> float:
    if served is None:
        return 0.0
    return 1.0 if value is None else value - limit
