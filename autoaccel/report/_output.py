"""Choosing a report's format and file, and writing it."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

from autoaccel import defaults
from autoaccel.errors import ReportError, StudyError
from autoaccel.report._model import ReportInfo
from autoaccel.study import StudyFolder

FORMATS = ("text", "markdown", "html", "json")
_BY_SUFFIX = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}
TEXT_WIDTH = 100


@dataclasses.dataclass(frozen=True)
class ReportTarget:
    format: str
    path: Path | None  # None: standard output


@dataclasses.dataclass(frozen=True)
class WrittenReport:
    info: ReportInfo
    format: str
    path: Path | None  # None: nothing written, the caller shows it on standard output


def report_target(
    study: str, format: str | None, output: Path | None, studies_dir: Path = defaults.STUDIES_DIR
) -> ReportTarget:
    """The format (given, else from ``output``'s suffix, else text) and the file to write.

    Text and json go to standard output unless ``output`` is given; html and markdown go
    to ``studies/<study>/report.html|.md``. An output in a missing folder, or naming a
    folder, or a study whose name names no folder, is a :class:`ReportError`: nothing is
    created in the wrong place.
    """
    if format is None:
        format = _BY_SUFFIX.get(output.suffix.lower(), "text") if output else "text"
    if format not in FORMATS:
        raise ReportError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}.")
    if output is None:
        try:
            return ReportTarget(format, StudyFolder(study, studies_dir).report(format))
        except StudyError as error:
            raise ReportError(f"{error} Write the report elsewhere with -o FILE.") from None
    if output.is_dir():
        suggestion = output / f"report.{_suffix(format)}"
        raise ReportError(f"-o {output} is a folder; name a file in it, such as {suggestion}.")
    if not output.parent.is_dir():
        raise ReportError(
            f"-o {output}: the folder {output.parent} does not exist. Create it first, or "
            "write the report elsewhere."
        )
    return ReportTarget(format, output)


def make_report(
    study: str,
    *,
    storage: Any,
    format: str | None = None,
    output: Path | None = None,
    studies_dir: Path | None = None,
) -> WrittenReport:
    """Build the report of ``study`` from ``storage`` and write it where
    :func:`report_target` says; text and json without ``output`` are left to the caller.

    ``studies_dir`` defaults to the folder ``autoaccel tune`` wrote the study's files in,
    so a report lands beside the recommendation wherever the command runs."""
    from autoaccel.report._build import build_report
    from autoaccel.study import files_dir, load_stages, open_storage

    if output is not None:  # checked first: a wrong -o costs nothing and touches nothing
        report_target(study, format, output)
    handle = open_storage(storage, create=False) if isinstance(storage, str) else storage
    if studies_dir is None:
        stages = load_stages(handle, study).values()
        studies_dir = files_dir(study, (stage.optuna_study.user_attrs for stage in stages))
    target = report_target(study, format, output, studies_dir)
    info = build_report(handle, study, studies_dir=studies_dir)
    if target.path is not None:
        write_report(info, target.format, target.path)
    return WrittenReport(info, target.format, target.path)


def write_report(info: ReportInfo, format: str, path: Path) -> Path:
    """Write ``info`` as ``format`` to ``path`` (markdown: plots into a folder beside it).

    The report file is replaced whole: one that fails halfway leaves the previous file.
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(render(info, format, path), encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ReportError(
            f"cannot write the report to {path}: {error.strerror or error}."
        ) from None
    return path


def render(info: ReportInfo, format: str, path: Path | None = None) -> str:
    """The report as ``format``; markdown needs the ``path`` it is written to (its plots
    are written beside it now)."""
    if format == "json":
        return info.to_json() + "\n"
    if format == "html":
        from autoaccel.report._html import render_html

        return render_html(info)
    if format == "markdown":
        from autoaccel.report._markdown import render_markdown

        if path is None:
            raise ReportError("a markdown report needs a file to write its plots beside.")
        return render_markdown(info, path)
    if format == "text":
        return render_text(info)
    raise ReportError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}.")


def render_text(info: ReportInfo, width: int = TEXT_WIDTH) -> str:
    """The terminal report as plain text (no colours), for files and pipes."""
    from rich.console import Console

    from autoaccel.report._text import print_text

    buffer = io.StringIO()
    print_text(info, Console(file=buffer, width=width, color_system=None, force_terminal=False))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _suffix(format: str) -> str:
    return {"text": "txt", "markdown": "md"}.get(format, format)
