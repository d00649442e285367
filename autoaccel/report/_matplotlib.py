"""Still plots of a stage (matplotlib, PNG), for the markdown report. They only read the info.

Figures are made with ``matplotlib.figure.Figure`` and its Agg canvas, never pyplot: no
global backend is chosen, no window opens, nothing is left in pyplot's figure registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autoaccel import _format as fmt
from autoaccel.report._model import StageReport
from autoaccel.report._plot_data import (
    best_so_far,
    history_groups,
    measured_trials,
    pareto_groups,
)
from autoaccel.report._plotly import COLOURS, bar_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
_MARKERS = {"feasible": "o", "infeasible": "x", "failed": "x"}


def _shown(text: object) -> str:
    """``text`` for a matplotlib title or label, where a pair of ``$`` would start
    mathematics: names from elsewhere show as written."""
    return str(text).replace("$", r"\$")


def write_stage_plots(stage: StageReport, folder: Path) -> dict[str, Path]:
    """Write the stage's plots as PNG files into ``folder``; returns them by kind."""
    written = {}
    for kind, draw in (
        ("pareto", _pareto),
        ("history", _history),
        ("knobs", _knobs),
        ("importance", _importance),
    ):
        figure = draw(stage)
        if figure is None:
            continue
        path = folder / f"{kind}-{stage.stage}.png"
        figure.savefig(path, dpi=DPI)
        written[kind] = path
    return written


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _pareto(stage: StageReport) -> Figure | None:
    measured = measured_trials(stage)
    if not measured:
        return None
    figure, ax = _figure()
    for group in pareto_groups(stage):
        ax.scatter(
            group.rates,
            [r.metric for r in group.rows],
            c=COLOURS[group.kind],
            marker=_MARKERS[group.kind],
            label=_shown(group.label),
            zorder=3,
        )
    front = [stage.trial(n) for n in stage.pareto_front]
    ax.step(
        [r.throughput.rate for r in front if r.throughput],
        [r.metric for r in front],
        where="post",
        color=COLOURS["front"],
        linestyle=":",
        label="Pareto front",
    )
    for number, label, marker in (
        (stage.baseline_trial, "baseline", "D"),
        (stage.recommendation.trial if stage.recommendation else None, "recommended", "*"),
    ):
        if number is None:
            continue
        row = stage.trial(number)
        if row.throughput is not None and row.metric is not None:
            ax.scatter(
                [row.throughput.rate],
                [row.metric],
                c=COLOURS[label],
                marker=marker,
                s=160,
                label=f"{label} (trial {number})",
                zorder=4,
                edgecolors="white",
            )
    for row in measured:
        assert row.throughput is not None
        ax.annotate(
            str(row.number),
            (row.throughput.rate, row.metric),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=8,
        )
    if stage.baseline_metric is not None:
        ax.axhline(
            stage.baseline_metric - stage.max_metric_drop,
            color=COLOURS["infeasible"],
            linestyle="--",
            linewidth=1,
            label=_shown(f"lowest {stage.metric_name} allowed"),
        )
    ax.set_title(_shown(f"Pareto front: throughput vs {stage.metric_name}"))
    ax.set_xlabel("samples/s")
    ax.set_ylabel(_shown(stage.metric_name))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figure


def _history(stage: StageReport) -> Figure | None:
    if not stage.trials:
        return None
    figure, ax = _figure()
    for group in history_groups(stage):
        ax.errorbar(
            group.numbers,
            group.rates,
            yerr=[group.spread_below, group.spread_above],
            fmt=_MARKERS[group.kind],
            color=COLOURS[group.kind],
            label=_shown(group.label),
            capsize=3,
        )
    best_x, best_y = best_so_far(stage)
    if best_x:
        ax.step(best_x, best_y, where="post", color=COLOURS["front"], label="best feasible so far")
    if stage.baseline_throughput:
        ax.axhline(
            stage.baseline_throughput,
            color=COLOURS["baseline"],
            linestyle="--",
            linewidth=1,
            label="baseline",
        )
    ax.set_title("Throughput per trial (bars: middle half of the timed windows)")
    ax.set_xlabel("trial")
    ax.set_ylabel("samples/s")
    if len(stage.trials) <= 30:
        ax.set_xticks([r.number for r in stage.trials])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figure


def _knobs(stage: StageReport) -> Figure | None:
    effects = [e for e in stage.knob_effects if any(v.speedup for v in e.values)]
    if not effects:
        return None
    bars = [(e.knob, v) for e in effects for v in e.values]
    figure, ax = _figure(width=max(8.0, 0.45 * len(bars) + 2), height=4.8)
    colours = {e.knob: f"C{i % 10}" for i, e in enumerate(effects)}
    positions = list(range(len(bars)))
    heights = [v.speedup or 0.0 for _, v in bars]
    ax.bar(positions, heights, color=[colours[k] for k, _ in bars])
    for x, (_, value) in zip(positions, bars, strict=True):
        ax.annotate(
            bar_label(value.speedup, value.trials),
            (x, value.speedup or 0.0),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            fontsize=7,
            rotation=0 if value.speedup else 90,
        )
    ax.set_xticks(positions, [_shown(f"{k}={v.value}") for k, v in bars], rotation=60, ha="right")
    ax.tick_params(axis="x", labelsize=8)
    ax.axhline(1.0, color=COLOURS["baseline"], linestyle="--", linewidth=1)
    ax.set_ylim(0, max([*heights, 1.0]) * 1.12)  # room for the labels above the bars
    ax.set_ylabel("speedup over baseline")
    ax.set_title("Best feasible speedup with each knob value (1.0 = baseline)")
    ax.grid(axis="y", alpha=0.3)
    return figure


def _importance(stage: StageReport) -> Figure | None:
    values = stage.importance.values
    if not values:
        return None
    knobs = list(values)[::-1]  # the most important at the top
    figure, ax = _figure(height=max(2.5, 0.4 * len(knobs) + 1.2))
    ax.barh([_shown(k) for k in knobs], [values[k] for k in knobs], color=COLOURS["feasible"])
    for y, knob in enumerate(knobs):
        ax.annotate(
            fmt.percent(values[knob], 0),
            (values[knob], y),
            textcoords="offset points",
            xytext=(3, -3),
            fontsize=8,
        )
    ax.set_xlabel("share of importance")
    ax.set_title(f"Importance for throughput ({stage.importance.trials} feasible trials)")
    ax.set_xlim(0, max(values.values()) * 1.15)
    return figure
