"""The report as one self-contained html file: plotly.js is inlined, so it opens anywhere,
with no network."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    import plotly.graph_objects as go

ERROR_MARKER_ID = "script-errors"

# Before any other script: a script error shows on the page and in its title, so a browser
# check (and a reader) sees it.
_ON_ERROR = f"""
window.onerror = function (message, source, line) {{
  document.title = "SCRIPT ERROR: " + message;
  var box = document.getElementById("{ERROR_MARKER_ID}");
  if (!box) {{
    box = document.createElement("pre");
    box.id = "{ERROR_MARKER_ID}";
    box.style.color = "#b00";
    (document.body || document.documentElement).prepend(box);
  }}
  box.textContent += message + " (" + source + ":" + line + ")\\n";
}};
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1150px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem;
     margin-top: 2.5rem; } h3 { margin-top: 1.8rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left;
         vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { background: none; white-space: nowrap; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .88rem; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; border-radius: 4px; }
.infeasible { color: #b22; } .failed { color: #777; } .note { color: #555; }
.plot { margin: 1rem 0; border: 1px solid #eee; }
"""


def render_html(info: ReportInfo) -> str:
    """The whole report as one html document (about 5 MB: plotly.js is inside)."""
    from plotly.offline import get_plotlyjs

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>autoaccel report: {_e(info.study)}</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_ON_ERROR}</script>",
        # plotly.js itself, inline: the file opens with no network.
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>autoaccel report: study {_e(info.study)}</h1>",
        _kv_table(header_rows(info)),
    ]
    if len(info.stages) > 1:
        links = " · ".join(f'<a href="#stage-{s}">{_e(stage_title(s))}</a>' for s in info.stages)
        parts.append(f"<p>{links}</p>")
    for stage in info.stages.values():
        parts.append(_stage(stage))
    parts.append(
        f'<p class="note">Generated {info.generated_at:%Y-%m-%d %H:%M} UTC from the study '
        "storage alone.</p></body></html>"
    )
    return "\n".join(parts)


def _stage(stage: StageReport) -> str:
    from autoaccel.report._plotly import stage_figures

    figures = dict(stage_figures(stage))
    out = [
        f'<section id="stage-{_e(stage.stage)}">',
        f"<h2>{_e(stage_title(stage.stage))} <small>({_e(stage.optuna_study)})</small></h2>",
        f"<p>{_e(trials_line(stage))}.</p>",
    ]
    rec = stage.recommendation
    if rec is None:
        out.append("<p>No recommendation: the baseline trial has not finished.</p>")
    else:
        out += [
            "<h3>Recommended</h3>",
            f"<p><code>{_e(config_line(rec))}</code></p>",
            _kv_table(summary_rows(rec, limits=False)),
        ]
    out.append("<h3>Pareto front and trials</h3>")
    out += [_figure(figures, name) for name in ("pareto", "history")]
    out += _top_trials(stage)
    out += _failures(stage)
    out += _knobs(stage, figures)
    out += _bottleneck(stage)
    out += _apply(stage)
    out += _all_trials(stage)
    out.append("</section>")
    return "\n".join(part for part in out if part)


def _figure(figures: dict[str, go.Figure], name: str) -> str:
    figure = figures.get(name)
    if figure is None:
        return ""
    body = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="plot" data-plot="{name}">{body}</div>'


def _top_trials(stage: StageReport) -> list[str]:
    if not stage.top_trials:
        return []
    header, cells = top_trial_cells(stage)
    rows = [(row, "" if feasible else "infeasible") for row, feasible in cells]
    return ["<h3>Fastest trials</h3>", _table(header, rows, numeric=range(1, 5))]


def _failures(stage: StageReport) -> list[str]:
    out = []
    if stage.failures:
        out.append("<h3>Trials that did not finish</h3><ul>")
        for group in stage.failures:
            reasons = "".join(
                f"<li>{_e(trials_text(numbers))}: {_e(reason)}</li>"
                for reason, numbers in group.reasons
            )
            out.append(
                f"<li><b>{_e(group.outcome)}</b> ({len(group.trials)}): {_e(group.advice)}"
                f"<ul>{reasons}</ul></li>"
            )
        out.append("</ul>")
    if stage.dropped:
        items = "".join(
            f"<li>{_e(dropped_text(knob, value, reason))}</li>"
            for knob, values in stage.dropped.items()
            for value, reason in values.items()
        )
        out.append(f"<h3>Not searched on this hardware or task</h3><ul>{items}</ul>")
    return out


def _knobs(stage: StageReport, figures: dict) -> list[str]:
    out = ["<h3>What each knob contributed</h3>"]
    if stage.importance.values:
        out.append(_figure(figures, "importance"))
    else:
        out.append(f'<p class="note">Importance: {_e(stage.importance.note or "")}</p>')
    out.append(_figure(figures, "knobs"))
    header = ["knob", "value", "trials", "feasible", "best throughput", "vs baseline", "trial", ""]
    rows = [
        ([effect.knob, *knob_value_cells(effect, value)], "")
        for effect in stage.knob_effects
        for value in effect.values
    ]
    if rows:
        out.append(_table(header, rows, numeric=range(2, 7)))
    return out


def _bottleneck(stage: StageReport) -> list[str]:
    b = stage.bottleneck
    if b is None:
        return []
    rows = [
        ("waiting for data", fmt.percent(b.data_wait_share)),
        ("achieved", fmt.flops(b.achieved_flops, "/s")),
        ("device peak", fmt.flops(b.peak_flops, "/s") if b.peak_flops else "unknown"),
        ("MFU", fmt.mfu(b.mfu, b.peak_dtype, b.mfu_of_best, b.best_peak_dtype)),
        ("peak memory", fmt.nbytes(b.peak_memory_bytes) + f" ({b.memory_kind or 'unknown'})"),
    ]
    if b.device_memory_bytes:
        rows.append(("device memory", fmt.nbytes(b.device_memory_bytes)))
    advice = "".join(f"<li>{_e(a)}</li>" for a in b.advice)
    return [
        f"<h3>What still limits it <small>(trial {b.trial})</small></h3>",
        _kv_table(rows),
        f"<ul>{advice}</ul>" if advice else "",
    ]


def _apply(stage: StageReport) -> list[str]:
    apply = stage.apply
    if apply is None:
        return []
    commands = "\n".join(f"# {what}\n{command}" for command, what in apply.commands)
    notes = "".join(f'<p class="note">{_e(note)}</p>' for note in apply.notes)
    return [
        "<h3>How to use it</h3>",
        f"<p>Changed from the baseline: <code>{_e(knobs_text(apply.changed, 'nothing'))}"
        "</code></p>",
        f"<pre>{_e(commands)}</pre>",
        f"<pre>{_e(apply.code)}</pre>",
        notes,
    ]


def _all_trials(stage: StageReport) -> list[str]:
    header = ["trial", "role", "status", "throughput", stage.metric_name, "configuration", "why"]
    rows = []
    for row in stage.trials:
        why = row.reason or ""
        if row.repeat_of is not None:
            why = f"same configuration as trial {row.repeat_of}, not run again"
        rows.append(
            (
                [
                    str(row.number),
                    row.role,
                    trial_status(row),
                    fmt.rate(row.throughput.rate if row.throughput else None),
                    f"{row.metric:.4g}" if row.metric is not None else "-",
                    knobs_text(row.config),
                    why,
                ],
                "failed" if row.outcome != "ok" else ("" if row.feasible else "infeasible"),
            )
        )
    return [
        f"<details><summary>All {len(stage.trials)} trials</summary>",
        _table(header, rows, numeric=(0, 3, 4)),
        "</details>",
    ]


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>" for label, value in rows)
    return f'<table class="kv">{body}</table>'


def _table(
    header: Sequence[str], rows: Iterable[tuple[list[str], str]], numeric: Iterable[int] = ()
) -> str:
    numbers = set(numeric)
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for cells, css in rows:
        tds = "".join(
            f'<td class="num">{_e(c)}</td>' if i in numbers else f"<td>{_e(c)}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _e(text: object) -> str:
    return html.escape(str(text))
