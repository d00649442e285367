"""The report for a terminal (or a .txt file): rich tables, no plots."""

from __future__ import annotations

from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from autoaccel import _format as fmt
from autoaccel._format import plain
from autoaccel.report._model import ReportInfo, StageReport
from autoaccel.report._summary import (
    config_line,
    dropped_text,
    header_rows,
    importance_bar,
    knob_value_cells,
    knobs_text,
    role_label,
    stage_title,
    summary_rows,
    top_trial_cells,
    trial_status,
    trials_line,
    trials_text,
)

RULE_WIDTH = 100


def print_text(info: ReportInfo, console: Console) -> None:
    """Print the report of ``info`` on ``console`` (a terminal, or a file console)."""
    console.print(plain(f"autoaccel report: study {info.study}", "bold"))
    console.print(_rows(header_rows(info)))
    for stage in info.stages.values():
        console.print()
        _print_stage(stage, console)


def _print_stage(stage: StageReport, console: Console) -> None:
    title = plain(stage_title(stage.stage), "bold").append(f" ({stage.optuna_study})")
    # Piped output is as wide as its longest value; a rule that wide helps nobody.
    width = min(console.width, max(RULE_WIDTH, title.cell_len + 4))
    console.print(Rule(title, align="left"), width=width)
    console.print(plain(trials_line(stage)))
    if stage.sharing:
        console.print(plain(f"Shared machine: {stage.sharing}."))
    rec = stage.recommendation
    if rec is None:
        console.print("No recommendation: the baseline trial has not finished.")
    else:
        console.print()
        console.print("[bold]Recommended[/]")
        console.print(plain(f"  {config_line(rec)}"))
        console.print(_rows(summary_rows(rec, limits=False)))
    _print_pareto(stage, console)
    _print_top(stage, console)
    _print_failures(stage, console)
    _print_knobs(stage, console)
    _print_bottleneck(stage, console)
    _print_apply(stage, console)


def _print_pareto(stage: StageReport, console: Console) -> None:
    if not stage.pareto_front:
        return
    console.print()
    console.print(
        plain("Pareto front", "bold").append(
            f" (no other trial is faster at an equal or higher {stage.metric_name})"
        )
    )
    for number in stage.pareto_front:
        row = stage.trial(number)
        assert row.throughput is not None and row.metric is not None
        console.print(
            plain(
                f"  trial {number}: {fmt.rate(row.throughput.rate)}, {stage.metric_name} "
                f"{row.metric:.4g}, {trial_status(row)}{role_label(row)}"
            )
        )


def _print_top(stage: StageReport, console: Console) -> None:
    if not stage.top_trials:
        return
    console.print()
    header, cells = top_trial_cells(stage)
    table = Table(title="Fastest trials", title_justify="left", box=None, pad_edge=False)
    for column in header[:-1]:
        justify = "left" if column == "status" else "right"
        table.add_column(plain(column), justify=justify, no_wrap=True)
    # What each changed gets its own table: beside the numbers it would not fit a terminal.
    changes = Table(box=None, pad_edge=False, show_header=False)
    changes.add_column(justify="right", no_wrap=True)
    changes.add_column()
    for row, _ in cells:
        table.add_row(*map(plain, row[:-1]))
        changes.add_row(f"trial {row[0].split()[0]}:", plain(row[-1]))
    console.print(table)
    console.print("Changed from the baseline")
    console.print(changes)


def _print_failures(stage: StageReport, console: Console) -> None:
    if stage.failures:
        console.print()
        console.print("[bold]Trials that did not finish[/]")
    for group in stage.failures:
        console.print(
            plain(
                f"  {group.outcome}: {len(group.trials)} "
                f"trial{'s' if len(group.trials) > 1 else ''} - {group.advice}"
            )
        )
        for reason, numbers in group.reasons:
            console.print(plain(f"    {trials_text(numbers)}: {reason}"))
    if stage.dropped:
        console.print()
        console.print("[bold]Not searched on this hardware or task[/]")
        for knob, values in stage.dropped.items():
            for value, reason in values.items():
                console.print(plain(f"  {dropped_text(knob, value, reason)}"))


def _print_knobs(stage: StageReport, console: Console) -> None:
    console.print()
    console.print("[bold]What each knob contributed[/]")
    importance = stage.importance
    if importance.values:
        console.print(f"  importance for throughput ({importance.trials} feasible trials):")
        for knob, share in importance.values.items():
            console.print(plain(f"    {knob:<20} {importance_bar(share)} {fmt.percent(share, 0)}"))
    else:
        console.print(plain(f"  importance: {importance.note}"))
    if not stage.knob_effects:
        return
    # Knob names head their values, so the values get the width a terminal has.
    table = Table(box=None, pad_edge=False)
    table.add_column("knob = value", overflow="fold")
    for column in ("trials", "feasible", "best", "speedup"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("", width=len("recommended"))
    for effect in stage.knob_effects:
        table.add_row(plain(effect.knob))
        for value in effect.values:
            # The best trial's number is left out: a terminal is short of width.
            shown, trials, feasible, best, speedup, _, marks = knob_value_cells(effect, value)
            table.add_row(*map(plain, (f"  {shown}", trials, feasible, best, speedup, marks)))
    console.print(table)


def _print_bottleneck(stage: StageReport, console: Console) -> None:
    b = stage.bottleneck
    if b is None:
        return
    console.print()
    console.print(f"[bold]What still limits it[/] (trial {b.trial})")
    rows = []
    if b.data_wait_share is not None:
        rows.append(("waiting for data", f"{fmt.percent(b.data_wait_share)} of each step"))
    if b.peak_flops:
        rows.append(
            (
                "compute",
                f"{fmt.flops(b.achieved_flops, '/s')} of a peak {fmt.flops(b.peak_flops, '/s')}"
                f" (MFU {fmt.mfu(b.mfu, b.peak_dtype, b.mfu_of_best, b.best_peak_dtype)})",
            )
        )
    else:
        rows.append(("compute", f"{fmt.flops(b.achieved_flops, '/s')} (device peak unknown)"))
    memory = fmt.nbytes(b.peak_memory_bytes)
    if b.device_memory_bytes and b.memory_kind == "cuda_allocated":
        memory += f" of {fmt.nbytes(b.device_memory_bytes)} on the GPU"
    elif b.memory_kind == "process_rss":
        memory += " (process RSS)"
    rows.append(("peak memory", memory))
    console.print(_rows(rows, indent=True))
    for advice in b.advice:
        console.print(plain(f"  - {advice}"))


def _print_apply(stage: StageReport, console: Console) -> None:
    apply = stage.apply
    if apply is None:
        return
    console.print()
    console.print("[bold]How to use it[/]")
    console.print(plain(f"  changed from the baseline: {knobs_text(apply.changed, 'nothing')}"))
    for command, what in apply.commands:
        console.print(plain(f"  # {what}"))
        console.print(plain(f"  {command}"), soft_wrap=True)
    for line in apply.code.splitlines():
        console.print(plain(f"    {line}"), soft_wrap=True)
    for note in apply.notes:
        console.print(plain(f"  note: {note}"))


def _rows(rows: list[tuple[str, str]], indent: bool = False) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(plain(("  " if indent else "") + label), plain(value))
    return table
