"""Timed windows of steps, with the device synchronised at each window's edges."""

from __future__ import annotations

import time
from collections.abc import Callable

from autoaccel.measure._result import Throughput


class StepWindows:
    """Groups steps into windows of ``steps_per_window`` and times each one.

    Only whole windows count: a window is closed by a device sync, so the clock covers the
    device work queued during it. Time spent waiting for data is summed alongside.
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
        self.rates: list[float] = []
        self._timed_s = 0.0
        self._wait_s = 0.0
        self._steps = 0
        self._samples = 0
        self._window_wait = 0.0
        self._start: float | None = None

    def start(self) -> None:
        self._synchronize()
        self._start = self._clock()

    def add_step(self, samples: int, data_wait_s: float = 0.0) -> bool:
        """Count one finished step; returns True when it closed a window."""
        if self._start is None:
            raise RuntimeError("StepWindows.start() was not called")
        self._steps += 1
        self._samples += samples
        self._window_wait += data_wait_s
        if self._steps < self.steps_per_window:
            return False
        self._synchronize()
        now = self._clock()
        elapsed = now - self._start
        if elapsed > 0:
            self.rates.append(self._samples / elapsed)
            self._timed_s += elapsed
            self._wait_s += self._window_wait
        self._steps = self._samples = 0
        self._window_wait = 0.0
        self._start = now
        return True

    @property
    def timed_steps(self) -> int:
        return len(self.rates) * self.steps_per_window

    def throughput(self) -> Throughput:
        return Throughput.from_windows(self.rates)

    def data_wait_share(self) -> float | None:
        return self._wait_s / self._timed_s if self._timed_s > 0 else None
