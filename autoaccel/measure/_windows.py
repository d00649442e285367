"""The timed span of a measurement: steps grouped into windows, the device synchronised at
each window's edges, epoch boundaries marked."""

from __future__ import annotations

import time
from collections.abc import Callable

from autoaccel.measure._result import Throughput


class StepWindows:
    """Times a span of steps, and windows of ``steps_per_window`` steps inside it.

    Only whole windows count as windows: each is closed by a device sync, so the clock
    covers the device work queued during it. The span runs from :meth:`start` to
    :meth:`finish` and counts every step, so its rate includes what windows leave out. A
    window that holds the start of an epoch is kept apart: it pays the epoch's periodic
    costs, which belong in the span rate but are not noise. Time waiting for data is summed
    alongside.
    """

    def __init__(
        self,
        steps_per_window: int,
        synchronize: Callable[[], None],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.steps_per_window = max(1, steps_per_window)
        self._synchronize = synchronize
        self._clock = clock
        self.rates: list[float] = []  # windows without an epoch boundary
        self.boundary_rates: list[float] = []
        self.boundaries = 0
        self._timed_s = 0.0
        self._wait_s = 0.0
        self._steps = 0
        self._samples = 0
        self._window_wait = 0.0
        self._window_has_boundary = False
        self._start: float | None = None
        self._span_start: float | None = None
        self._span_samples = 0
        self._span_s: float | None = None

    def start(self) -> None:
        self._synchronize()
        self._start = self._span_start = self._clock()

    def add_step(self, samples: int, data_wait_s: float = 0.0, new_epoch: bool = False) -> bool:
        """Count one finished step (``new_epoch``: it began an epoch); returns True when it
        closed a window."""
        if self._start is None:
            raise RuntimeError("StepWindows.start() was not called")
        self._steps += 1
        self._samples += samples
        self._span_samples += samples
        self._window_wait += data_wait_s
        if new_epoch:
            self.boundaries += 1
            self._window_has_boundary = True
        if self._steps < self.steps_per_window:
            return False
        self._synchronize()
        now = self._clock()
        elapsed = now - self._start
        if elapsed > 0:
            rate = self._samples / elapsed
            (self.boundary_rates if self._window_has_boundary else self.rates).append(rate)
            self._timed_s += elapsed
            self._wait_s += self._window_wait
        self._steps = self._samples = 0
        self._window_wait = 0.0
        self._window_has_boundary = False
        self._start = now
        return True

    def finish(self) -> None:
        """End the span: steps after the last whole window count in the span rate only."""
        if self._span_start is None:
            raise RuntimeError("StepWindows.start() was not called")
        self._synchronize()
        self._span_s = self._clock() - self._span_start

    @property
    def timed_steps(self) -> int:
        return (len(self.rates) + len(self.boundary_rates)) * self.steps_per_window

    def throughput(self) -> Throughput:
        """The span rate, with the spread of the windows free of epoch boundaries (of all
        windows when every one held a boundary)."""
        if self._span_s is None:
            raise RuntimeError("StepWindows.finish() was not called")
        windows = self.rates or self.boundary_rates
        rate = self._span_samples / self._span_s if self._span_s > 0 else None
        return Throughput.from_windows(windows, rate=rate, boundaries=self.boundaries)

    def data_wait_share(self) -> float | None:
        return self._wait_s / self._timed_s if self._timed_s > 0 else None
