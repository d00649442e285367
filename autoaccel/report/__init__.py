"""Reports of stored studies, read back from the storage alone: an info object first
(:func:`build_report`), then renderers that only read it (text, markdown, html, json)."""

from __future__ import annotations

from autoaccel.report._build import build_report
from autoaccel.report._model import ReportInfo, StageReport
from autoaccel.report._text import print_text

__all__ = ["ReportInfo", "StageReport", "build_report", "print_text"]
