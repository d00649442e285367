"""The report as markdown, with its plots as PNG files in a folder beside it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from autoaccel import _format as fmt
from autoaccel.report._model import ReportInfo, StageReport
from autoaccel.report._summary import (
    config_line,
    dropped_text,
    header_rows,
    knob_value_cells,
    knobs_text,
    stage_title,
    summary_rows,
    top_trial_cells,
    trial_status,
    trials_line,
    trials_text,
)

_PLOT_TITLES = {
    "pareto": "Pareto front",
    "history": "Throughput per trial",
    "knobs": "Best speedup per knob value",
    "importance": "Knob importance",
}


def plots_folder(markdown: Path) -> Path:
    """Where the plots of ``markdown`` go: ``report.md`` keeps them in ``report_files/``."""
    return markdown.with_name(f"{markdown.stem}_files")


def render_markdown(info: ReportInfo, markdown: Path) -> str:
    """The markdown of the report that will be written to ``markdown``; its PNG plots are
    written now, into :func:`plots_folder`, and linked relative to the markdown file."""
    folder = plots_folder(markdown)
    folder.mkdir(exist_ok=True)
    from autoaccel.report._matplotlib import write_stage_plots

    out = [f"# autoaccel report: study {_text(info.study)}", "", _kv_table(header_rows(info))]
    for stage in info.stages.values():
        plots = write_stage_plots(stage, folder)
        links = {
            kind: Path(os.path.relpath(path, markdown.parent)).as_posix()
            for kind, path in plots.items()
        }
        out += ["", *_stage(stage, links)]
    out += ["", f"_Generated {info.generated_at:%Y-%m-%d %H:%M} UTC from the study storage._", ""]
    return "\n".join(out)


def _stage(stage: StageReport, plots: dict[str, str]) -> list[str]:
    out = [
        f"## {stage_title(stage.stage)} ({_code(stage.optuna_study)})",
        "",
        f"{_text(trials_line(stage))}.",
        "",
    ]
    rec = stage.recommendation
    if rec is None:
        out += ["No recommendation: the baseline trial has not finished.", ""]
    else:
        out += [
            "### Recommended",
            "",
            _code(config_line(rec)),
            "",
            _kv_table(summary_rows(rec, limits=False)),
            "",
        ]
    out += ["### Pareto front and trials", ""]
    out += _image(plots, "pareto") + _image(plots, "history")
    if stage.pareto_front:
        front = ", ".join(f"trial {n} ({trial_status(stage.trial(n))})" for n in stage.pareto_front)
        out += [f"On the Pareto front: {front}.", ""]
    out += _top(stage) + _failures(stage) + _knobs(stage, plots) + _bottleneck(stage)
    out += _apply(stage)
    return out


def _image(plots: dict[str, str], kind: str) -> list[str]:
    if kind not in plots:
        return []
    return [f"![{_PLOT_TITLES[kind]}]({plots[kind]})", ""]


def _top(stage: StageReport) -> list[str]:
    if not stage.top_trials:
        return []
    header, cells = top_trial_cells(stage)
    rows = [row for row, _ in cells]
    return ["### Fastest trials", "", _table(header, rows, right=range(1, 5)), ""]


def _failures(stage: StageReport) -> list[str]:
    out = []
    if stage.failures:
        out += ["### Trials that did not finish", ""]
        for group in stage.failures:
            out.append(f"- **{_text(group.outcome)}** ({len(group.trials)}): {_text(group.advice)}")
            for reason, numbers in group.reasons:
                out.append(f"  - {trials_text(numbers)}: {_text(reason)}")
        out.append("")
    if stage.dropped:
        out += ["### Not searched on this hardware or task", ""]
        for knob, values in stage.dropped.items():
            out += [
                f"- {_text(dropped_text(knob, value, reason))}" for value, reason in values.items()
            ]
        out.append("")
    return out


def _knobs(stage: StageReport, plots: dict[str, str]) -> list[str]:
    out = ["### What each knob contributed", ""]
    if stage.importance.values:
        out += _image(plots, "importance")
    else:
        out += [f"Importance: {_text(stage.importance.note)}", ""]
    out += _image(plots, "knobs")
    rows = [
        [effect.knob, *knob_value_cells(effect, value)]
        for effect in stage.knob_effects
        for value in effect.values
    ]
    if rows:
        header = ["knob", "value", "trials", "feasible", "best", "vs baseline", "trial", ""]
        out += [_table(header, rows, right=range(2, 7)), ""]
    return out


def _bottleneck(stage: StageReport) -> list[str]:
    b = stage.bottleneck
    if b is None:
        return []
    peak = fmt.flops(b.peak_flops, "/s") if b.peak_flops else "unknown"
    out = [
        f"### What still limits it (trial {b.trial})",
        "",
        f"- waiting for data: {fmt.percent(b.data_wait_share)} of each step",
        f"- compute: {fmt.flops(b.achieved_flops, '/s')} of a device peak of {peak} "
        f"(MFU {fmt.mfu(b.mfu, b.peak_dtype, b.mfu_of_best, b.best_peak_dtype)})",
        f"- peak memory: {fmt.nbytes(b.peak_memory_bytes)} ({b.memory_kind or 'unknown'})"
        + (f" of {fmt.nbytes(b.device_memory_bytes)}" if b.device_memory_bytes else ""),
        "",
    ]
    out += [f"- {_text(advice)}" for advice in b.advice]
    return [*out, ""]


def _apply(stage: StageReport) -> list[str]:
    apply = stage.apply
    if apply is None:
        return []
    commands = [line for command, what in apply.commands for line in (f"# {what}", command)]
    out = [
        "### How to use it",
        "",
        f"Changed from the baseline: {_code(knobs_text(apply.changed, 'nothing'))}",
        "",
        *_fenced("sh", "\n".join(commands)),
        "",
        *_fenced("python", apply.code),
        "",
    ]
    out += [f"> {_text(note)}" for note in apply.notes]
    return out


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    return _grid(["", ""], [[f"**{_text(label)}**", _text(value)] for label, value in rows])


def _table(header: Sequence[str], rows: Iterable[list[str]], right: Iterable[int] = ()) -> str:
    """A table of text cells."""
    return _grid([_text(h) for h in header], [[_text(c) for c in row] for row in rows], right)


def _grid(header: Sequence[str], rows: Iterable[list[str]], right: Iterable[int] = ()) -> str:
    """A table of markdown cells."""
    aligned = set(right)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i in aligned else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# Anywhere, these begin emphasis, code, links, html, entities, strikethrough or a new table
# cell; at the start of a list item, a heading, a nested list or a numbered one.
_INLINE_MARKUP = re.compile(r"[\\`*_\[\]<>&|~]")
_BLOCK_START = re.compile(r"^(?:[#+-]|\d+[.)])")


def _text(value: object) -> str:
    """``value`` as markdown that shows as written, on one line (a table cell or a list item
    holds one): names, paths and reasons from elsewhere never become markup or html."""
    text = _INLINE_MARKUP.sub(lambda m: "\\" + m[0], " ".join(str(value).split()))
    return _BLOCK_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)


def _code(value: object) -> str:
    """``value`` as an inline code span, which ends at the first run of backticks as long as
    its own: the span's is longer than any inside."""
    text = " ".join(str(value).split())
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(language: str, code: str) -> list[str]:
    """``code`` as a fenced block that no line of it can close."""
    fence = "`" * max(3, max(map(len, re.findall("`+", code)), default=0) + 1)
    return [f"{fence}{language}", code, fence]
