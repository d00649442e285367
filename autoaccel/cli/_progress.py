"""Showing a running study: a live panel on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from autoaccel import _format as fmt
from autoaccel.recommend import TrialRecord


def _config_text(config: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in config.items())


def _finished_line(
    stage: str, record: TrialRecord, finished: int, target: int, best: float | None
) -> str:
    took = f" in {fmt.seconds(record.duration_s)}" if record.duration_s else ""
    what = f"{record.outcome}{took}"
    if record.ok and record.measurement is not None:
        m = record.measurement
        what = f"{fmt.rate(m.throughput.rate)} {m.metric_name} {m.metric:.4g}{took}"
    elif record.reason:
        # The time goes before the reason, which may hold figures of its own.
        what = f"{record.outcome}{took}: {record.reason}"
    if record.repeat_of is not None:
        what += f" (same as trial {record.repeat_of}, not re-run)"
    return f"[{stage} {finished}/{target}] trial {record.number} {what}; best {fmt.speedup(best)}"


class PlainProgress:
    """One line per event: for logs, CI and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def stage_started(self, stage: str, finished: int, target: int, space_size: int) -> None:
        resumed = f", resuming at {finished}" if finished else ""
        self.console.print(
            fmt.plain(f"{stage} stage: {target} trials over {space_size:,} configurations{resumed}")
        )

    def trial_started(self, stage: str, number: int, role: str, config: dict[str, Any]) -> None:
        label = {"baseline": " (baseline)", "first_guess": " (first guess)"}.get(role, "")
        self.console.print(fmt.plain(f"[{stage}] trial {number}{label}: {_config_text(config)}"))

    def trial_finished(
        self,
        stage: str,
        record: TrialRecord,
        finished: int,
        target: int,
        best_speedup: float | None,
    ) -> None:
        self.console.print(fmt.plain(_finished_line(stage, record, finished, target, best_speedup)))

    def note(self, text: str) -> None:
        self.console.print(fmt.plain(f"note: {text}"))


class LiveProgress(PlainProgress):
    """Finished trials scroll by; below them a panel shows every running trial, the best
    speedup so far, and elapsed and remaining time."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.stage = ""
        self.finished = 0
        self.target = 0
        # Trial number -> its configuration and when it started; several run with --jobs.
        self.running: dict[int, tuple[str, float]] = {}
        self.best: float | None = None
        self.started = time.monotonic()
        self.durations: list[float] = []
        # Last: Live draws the panel at once, from the fields above.
        self.live = Live(
            console=console, refresh_per_second=2, transient=True, get_renderable=self._panel
        )

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def _panel(self) -> Text:
        elapsed = time.monotonic() - self.started
        left = "-"
        if self.durations and self.finished < self.target:
            average = sum(self.durations) / len(self.durations)
            left = "~" + fmt.seconds(average * (self.target - self.finished))
        return fmt.plain(
            f"{self._headline()}\n"
            f"{self._running_lines()}"
            f"  best      {fmt.speedup(self.best)} over the baseline\n"
            f"  elapsed   {fmt.seconds(elapsed)}, left {left}"
        )

    def _headline(self) -> str:
        if not self.stage:
            return "reading the task's facts"
        done = f"{self.stage} stage: {self.finished} of {self.target} trials finished"
        return f"{done}, {len(self.running)} running" if self.running else done

    def _running_lines(self) -> str:
        now = time.monotonic()
        lines = [
            f"  running   trial {number} ({fmt.seconds(now - since)}): {config}\n"
            for number, (config, since) in sorted(self.running.items())
        ]
        return "".join(lines) or "  running   -\n"

    def stage_started(self, stage: str, finished: int, target: int, space_size: int) -> None:
        super().stage_started(stage, finished, target, space_size)
        self.stage, self.finished, self.target = stage, finished, target
        self.best = None
        self.durations.clear()

    def trial_started(self, stage: str, number: int, role: str, config: dict[str, Any]) -> None:
        self.running[number] = (_config_text(config), time.monotonic())

    def trial_finished(
        self,
        stage: str,
        record: TrialRecord,
        finished: int,
        target: int,
        best_speedup: float | None,
    ) -> None:
        super().trial_finished(stage, record, finished, target, best_speedup)
        self.finished, self.best = finished, best_speedup
        if record.duration_s:
            self.durations.append(record.duration_s)
        self.running.pop(record.number, None)
