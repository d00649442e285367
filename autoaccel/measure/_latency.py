"""Per-request latency: each request served alone and timed with the device synchronised,
then summarised as percentiles. The timing is plain data; the summary a pure function."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

MIN_REQUESTS = 100  # beyond warm-up, so the p99 is not the single slowest request
MAX_REQUESTS = 1000
LATENCY_SECONDS = 1.0  # keep timing fast models until this long, up to MAX_REQUESTS
MAX_LATENCY_SECONDS = 20.0  # a slow model stops here, and its result says how few it timed
WARMUP_REQUESTS = 3


class Latency(BaseModel):
    """How long one request of ``batch_size`` samples took, over ``requests`` requests."""

    model_config = ConfigDict(frozen=True)

    batch_size: int
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    note: str | None = Field(default=None, description="Why the percentiles are in doubt.")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ascending values, linear between the two nearest
    ranks (numpy's default), so 100 requests give a p99 between the two slowest."""
    if not sorted_values:
        raise ValueError("no timings")
    position = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    share = position - low
    return sorted_values[low] * (1 - share) + sorted_values[high] * share


def summarise(timings_s: Sequence[float], batch_size: int) -> Latency:
    """p50, p90 and p99 in milliseconds of per-request timings in seconds."""
    values = sorted(timings_s)
    note = None
    if len(values) < MIN_REQUESTS:
        note = f"only {len(values)} requests were timed: the p99 is close to the slowest one"
    return Latency(
        batch_size=batch_size,
        requests=len(values),
        p50_ms=percentile(values, 50) * 1e3,
        p90_ms=percentile(values, 90) * 1e3,
        p99_ms=percentile(values, 99) * 1e3,
        note=note,
    )


def time_requests(
    request: Callable[[], object],
    synchronize: Callable[[], None],
    clock: Callable[[], float],
) -> list[float]:
    """Seconds each request took, served one at a time after a short warm-up.

    At least ``MIN_REQUESTS`` unless they take over ``MAX_LATENCY_SECONDS``; more, up to
    ``MAX_REQUESTS``, while under ``LATENCY_SECONDS``.
    """
    for _ in range(WARMUP_REQUESTS):
        request()
    synchronize()
    timings: list[float] = []
    began = clock()
    while len(timings) < MAX_REQUESTS:
        spent = clock() - began
        if spent >= MAX_LATENCY_SECONDS or (
            len(timings) >= MIN_REQUESTS and spent >= LATENCY_SECONDS
        ):
            break
        start = clock()
        request()
        synchronize()
        timings.append(clock() - start)
    return timings
