"""Interactive plots of a stage (plotly), for the html report. They only read the info."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from autoaccel import _format as fmt
from autoaccel.report._model import StageReport, TrialRow
from autoaccel.report._plot_data import (
    best_so_far,
    history_groups,
    measured_trials,
    pareto_groups,
)
from autoaccel.report._summary import knobs_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

# One colour per kind of trial, shared with the matplotlib plots.
COLOURS = {
    "feasible": "#1f77b4",
    "infeasible": "#d62728",
    "failed": "#7f7f7f",
    "front": "#2ca02c",
    "baseline": "#000000",
    "recommended": "#ff7f0e",
}
_SYMBOLS = {"feasible": "circle", "infeasible": "x", "failed": "x-thin-open"}
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 420,
    "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
}


def stage_figures(stage: StageReport) -> list[tuple[str, go.Figure]]:
    """(anchor name, figure) for every plot the stage has data for."""
    figures = [
        ("pareto", pareto_figure(stage)),
        ("history", history_figure(stage)),
        ("knobs", knobs_figure(stage)),
        ("importance", importance_figure(stage)),
    ]
    return [(name, figure) for name, figure in figures if figure is not None]


def _shown(text: object) -> str:
    """``text`` for a plotly title, label or hover: plotly reads tags (``<b>``, ``<a href>``)
    and entities in them, so names and reasons from elsewhere are escaped."""
    return html.escape(str(text), quote=False)


def bar_label(speedup: float | None, trials: int) -> str:
    if speedup:
        return fmt.speedup(speedup)
    return "none feasible" if trials else "not tried"


def _hover(row: TrialRow, metric_name: str) -> str:
    lines = [f"trial {row.number} ({row.role})", f"outcome: {row.outcome}"]
    if row.throughput is not None:
        lines.append(
            f"throughput: {fmt.rate(row.throughput.rate)} (spread {fmt.percent(row.spread)})"
        )
    if row.metric is not None:
        lines.append(f"{metric_name}: {row.metric:.4g}")
    if row.reason:
        lines.append(f"reason: {row.reason[:120]}")
    lines.append(f"changed: {knobs_text(row.changed, 'baseline settings')}")
    return "<br>".join(map(_shown, lines))


def pareto_figure(stage: StageReport) -> go.Figure | None:
    """Throughput against the metric; the front, infeasible trials and the tolerance."""
    import plotly.graph_objects as go

    measured = measured_trials(stage)
    if not measured:
        return None
    fig = go.Figure()
    for group in pareto_groups(stage):
        fig.add_trace(
            go.Scatter(
                x=group.rates,
                y=[r.metric for r in group.rows],
                mode="markers",
                name=_shown(group.label),
                marker={"color": COLOURS[group.kind], "symbol": _SYMBOLS[group.kind], "size": 10},
                text=[_hover(r, stage.metric_name) for r in group.rows],
                hoverinfo="text",
            )
        )
    front = [stage.trial(n) for n in stage.pareto_front]
    fig.add_trace(
        go.Scatter(
            x=[r.throughput.rate for r in front if r.throughput],
            y=[r.metric for r in front],
            mode="lines",
            line={"color": COLOURS["front"], "dash": "dot", "shape": "hv"},
            name="Pareto front",
            hoverinfo="skip",
        )
    )
    _mark(fig, stage, stage.baseline_trial, "baseline", "diamond")
    if stage.recommendation is not None:
        _mark(fig, stage, stage.recommendation.trial, "recommended", "star")
    if stage.baseline_metric is not None:
        fig.add_hline(
            y=stage.baseline_metric - stage.max_metric_drop,
            line={"color": COLOURS["infeasible"], "dash": "dash", "width": 1},
            annotation_text=_shown(f"lowest {stage.metric_name} allowed"),
            annotation_position="bottom right",
        )
    # Room around the points: plotly's own range cuts the large markers at the edges.
    metrics = [r.metric for r in measured if r.metric is not None]
    if stage.baseline_metric is not None:
        metrics.append(stage.baseline_metric - stage.max_metric_drop)
    low, high = min(metrics), max(metrics)
    pad = (high - low) * 0.08 or abs(high) * 0.01 or 0.01
    rates = [r.throughput.rate for r in measured if r.throughput is not None]
    right = max(rates) * 1.06
    fig.update_yaxes(range=[low - pad, high + pad])
    fig.update_xaxes(range=[min(0.0, min(rates)), right])
    fig.update_layout(
        title=_shown(f"Pareto front: throughput vs {stage.metric_name}"),
        xaxis_title="samples/s",
        yaxis_title=_shown(stage.metric_name),
        **_LAYOUT,
    )
    return fig


def _mark(fig: go.Figure, stage: StageReport, number: int | None, label: str, symbol: str) -> None:
    import plotly.graph_objects as go

    if number is None:
        return
    row = stage.trial(number)
    if row.throughput is None or row.metric is None:
        return
    fig.add_trace(
        go.Scatter(
            x=[row.throughput.rate],
            y=[row.metric],
            mode="markers",
            name=f"{label} (trial {number})",
            marker={
                "color": COLOURS[label],
                "symbol": symbol,
                "size": 16,
                "line": {"width": 1, "color": "white"},
            },
            text=[_hover(row, stage.metric_name)],
            hoverinfo="text",
        )
    )


def history_figure(stage: StageReport) -> go.Figure | None:
    """Throughput of every trial in order, with its spread; the best feasible so far."""
    import plotly.graph_objects as go

    if not stage.trials:
        return None
    fig = go.Figure()
    for group in history_groups(stage):
        fig.add_trace(
            go.Scatter(
                x=group.numbers,
                y=group.rates,
                mode="markers",
                name=_shown(group.label),
                marker={"color": COLOURS[group.kind], "symbol": _SYMBOLS[group.kind], "size": 10},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": group.spread_above,
                    "arrayminus": group.spread_below,
                    "color": COLOURS[group.kind],
                    "thickness": 1,
                },
                text=[_hover(r, stage.metric_name) for r in group.rows],
                hoverinfo="text",
            )
        )
    best_x, best_y = best_so_far(stage)
    if best_x:
        fig.add_trace(
            go.Scatter(
                x=best_x,
                y=best_y,
                mode="lines",
                line={"color": COLOURS["front"], "shape": "hv"},
                name="best feasible so far",
                hoverinfo="skip",
            )
        )
    if stage.baseline_throughput:
        fig.add_hline(
            y=stage.baseline_throughput,
            line={"color": COLOURS["baseline"], "dash": "dash", "width": 1},
            annotation_text="baseline",
            annotation_position="top left",
        )
    fig.update_layout(
        title="Throughput per trial (bars: middle half of the timed windows)",
        xaxis_title="trial",
        yaxis_title="samples/s",
        **_LAYOUT,
    )
    fig.update_xaxes(dtick=1 if len(stage.trials) <= 30 else None)
    return fig


def knobs_figure(stage: StageReport) -> go.Figure | None:
    """Per knob value, the best feasible speedup over the baseline: one bar each."""
    import plotly.graph_objects as go

    effects = [e for e in stage.knob_effects if any(v.speedup for v in e.values)]
    if not effects:
        return None
    fig = go.Figure()
    for effect in effects:
        fig.add_trace(
            go.Bar(
                y=[_shown(f"{effect.knob} = {v.value}") for v in effect.values],
                x=[v.speedup or 0.0 for v in effect.values],
                orientation="h",
                name=_shown(effect.knob),
                text=[bar_label(v.speedup, v.trials) for v in effect.values],
                textposition="outside",
                cliponaxis=False,
                hovertext=[
                    _shown(
                        f"{effect.knob}={v.value}: {v.trials} trials, {v.feasible} feasible, "
                        f"best {fmt.rate(v.best_throughput)}"
                        + (f" (trial {v.best_trial})" if v.best_trial is not None else "")
                    )
                    for v in effect.values
                ],
                hoverinfo="text",
            )
        )
    bars = sum(len(e.values) for e in effects)
    fig.add_vline(x=1.0, line={"color": COLOURS["baseline"], "dash": "dash", "width": 1})
    fig.update_layout(
        title="Best feasible speedup with each knob value (1.0 = baseline)",
        xaxis_title="speedup over baseline",
        showlegend=False,
        **{**_LAYOUT, "height": 140 + 22 * bars, "margin": {**_LAYOUT["margin"], "l": 260}},
    )
    fig.update_yaxes(autorange="reversed")  # the first knob at the top
    return fig


def importance_figure(stage: StageReport) -> go.Figure | None:
    import plotly.graph_objects as go

    values = stage.importance.values
    if not values:
        return None
    knobs = list(values)[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(
        go.Bar(
            x=[values[k] for k in knobs],
            y=[_shown(k) for k in knobs],
            orientation="h",
            marker={"color": COLOURS["feasible"]},
            text=[fmt.percent(values[k], 0) for k in knobs],
            textposition="outside",
        )
    )
    fig.update_layout(
        title=f"Importance for throughput ({stage.importance.trials} feasible trials)",
        xaxis_title="share of importance",
        **{**_LAYOUT, "height": max(250, 40 * len(knobs) + 120)},
    )
    return fig
