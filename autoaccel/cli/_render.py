"""Terminal rendering shared by commands: a trial result as label/value rows."""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autoaccel import _format as fmt
from autoaccel import defaults
from autoaccel.runner import TrialResult

# Piped to a file or another program, no line wraps inside a value and none ends in padding:
# what is read by programs and diffs is the text itself. Tables still size to their content.
PIPED_WIDTH = 10_000


class _TrimmedLines:
    """The standard stream (looked up at each write, as Rich does, so captured streams
    work) with the trailing spaces of every line removed."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._line = ""

    def write(self, text: str) -> int:
        *lines, self._line = (self._line + text).split("\n")
        stream = getattr(sys, self._name)
        for line in lines:
            stream.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        stream = getattr(sys, self._name)
        stream.write(self._line)
        self._line = ""
        stream.flush()

    def isatty(self) -> bool:
        return False


def _console(name: str) -> Console:
    if getattr(sys, name).isatty():
        return Console(stderr=name == "stderr", highlight=False)
    return Console(file=_TrimmedLines(name), width=PIPED_WIDTH, highlight=False)  # type: ignore[arg-type]


console = _console("stdout")
err_console = _console("stderr")


def report_hint(study: str, storage: str) -> Text:
    """The command that reports on ``study``, with the storage it was found in (password
    hidden) unless that is the default, so the hint works where it is pasted."""
    from autoaccel.study import redact

    command = f"autoaccel report {shlex.quote(study)}"
    if storage != defaults.STORAGE:
        command += f" --storage {shlex.quote(redact(storage))}"
    return fmt.plain(f"Full report: {command}")


def print_json(document: Any) -> None:
    """JSON on stdout, unstyled, so it pipes into jq and files."""
    print(json.dumps(document, indent=2, default=str))


def result_rows(result: TrialResult) -> list[tuple[str, str]]:
    """What a trial found, in the order people read it."""
    rows: list[tuple[str, str]] = [("outcome", result.outcome)]
    if result.reason:
        rows.append(("reason", result.reason))
    m = result.measurement
    if m is not None:
        t = m.throughput
        unit = "training" if m.stage == "train" else "inference"
        rows += [
            (
                f"{unit} throughput",
                f"{fmt.rate(t.rate)} samples (spread {fmt.percent(t.spread)}"
                f", {len(t.windows)} windows)",
            ),
            (m.metric_name, f"{m.metric:.4g}"),
            ("warm-up", f"{fmt.seconds(m.warmup_s)} (first step {fmt.seconds(m.first_step_s)})"),
        ]
        if m.data_wait_share is not None:
            rows.append(("waiting for data", fmt.percent(m.data_wait_share)))
        for latency in m.latency:
            rows.append(
                (
                    f"latency, batch {latency.batch_size}",
                    f"p50 {latency.p50_ms:.3g} ms, p90 {latency.p90_ms:.3g} ms, p99 "
                    f"{latency.p99_ms:.3g} ms over {latency.requests} requests"
                    + (f" ({latency.note})" if latency.note else ""),
                )
            )
        memory = "GPU allocated" if m.memory_kind == "cuda_allocated" else "process RSS"
        rows.append((f"peak memory ({memory})", fmt.nbytes(m.peak_memory_bytes)))
        rows.append(("FLOPs per sample", fmt.flops(m.flops_per_sample)))
        mfu = (
            fmt.mfu(m.mfu, m.peak_dtype, m.mfu_of_best, m.best_peak_dtype)
            if m.mfu is not None
            else "- (peak FLOP/s unknown)"
        )
        rows.append(("achieved / MFU", f"{fmt.flops(m.achieved_flops, '/s')} / {mfu}"))
        if m.train_time_s is not None:
            rows.append(("training budget took", fmt.seconds(m.train_time_s)))
        if m.finetune_s is not None:
            rows.append(("fine-tune after pruning", fmt.seconds(m.finetune_s)))
        if m.parameters is not None:
            rows.append(("parameters", f"{m.parameters:,}"))
        rows += [("note", note) for note in m.notes]
    rows.append(("trial took", fmt.seconds(result.duration_s)))
    return rows


def rows_table(rows: list[tuple[str, str]], title: str | None = None) -> Table:
    table = Table(
        title=fmt.plain(title) if title else None,
        show_header=False,
        box=None,
        pad_edge=False,
        title_justify="left",
    )
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(fmt.plain(label), fmt.plain(value))
    return table


def config_text(config: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in config.items())
