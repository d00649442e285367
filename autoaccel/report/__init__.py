"""Reports of stored studies, read back from the storage alone.

Computing comes first: :func:`build_report` returns a :class:`ReportInfo` (plain data, also
the json format). Renderers only read it: text for terminals, markdown with PNG plots
(matplotlib), one self-contained html file with interactive plots (plotly). Plotting
libraries load only when a plot is drawn.
"""

from __future__ import annotations

from autoaccel.report._build import build_report
from autoaccel.report._model import (
    SCHEMA_VERSION,
    Bottleneck,
    FailureGroup,
    HowToApply,
    Importance,
    KnobEffect,
    KnobValueEffect,
    ReportInfo,
    StageReport,
    TrialRow,
)
from autoaccel.report._output import (
    FORMATS,
    ReportError,
    ReportTarget,
    WrittenReport,
    make_report,
    render,
    render_text,
    report_target,
    write_report,
)
from autoaccel.report._summary import config_line, summary_rows
from autoaccel.report._text import print_text

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Bottleneck",
    "FailureGroup",
    "HowToApply",
    "Importance",
    "KnobEffect",
    "KnobValueEffect",
    "ReportError",
    "ReportInfo",
    "ReportTarget",
    "StageReport",
    "TrialRow",
    "WrittenReport",
    "build_report",
    "config_line",
    "make_report",
    "print_text",
    "render",
    "render_text",
    "report_target",
    "summary_rows",
    "write_report",
]
