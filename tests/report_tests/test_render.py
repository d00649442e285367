"""Renderers read the info and show all of it; the checks are on content, not pixels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autoaccel.errors import StudyError
from autoaccel.report import ReportError, render, render_text, report_target, write_report
from autoaccel.report._html import ERROR_MARKER_ID
from autoaccel.study import StudyFolder


def test_text_shows_every_section(info) -> None:
    text = render_text(info)
    for expected in (
        "autoaccel report: study tiny",
        "NVIDIA H100",
        "Train stage",
        "Deploy stage (inference)",
        "Recommended",
        "Pareto front",
        "Fastest trials",
        "Trials that did not finish",
        "oom:",
        "interrupted:",
        "Not searched on this hardware or task",
        "What each knob contributed",
        "importance for throughput",
        "What still limits it",
        "How to use it",
        "autoaccel bench",
        "autoaccel.Task(",
    ):
        assert expected in text, expected
    rec = info.stages["train"].recommendation
    assert f"{rec.speedup:.2f}x" in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_json_is_the_info(info) -> None:
    data = json.loads(render(info, "json"))
    assert data == json.loads(info.to_json())


@pytest.fixture(scope="module")
def html(info) -> str:
    return render(info, "html")


def test_html_is_self_contained(html, info) -> None:
    assert html.startswith("<!DOCTYPE html>")
    # plotly.js is inside; nothing is fetched: no script or stylesheet from elsewhere.
    assert len(html) > 3_000_000
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    body = html.split("</head>", 1)[1]  # after plotly.js (whose geo defaults name a CDN)
    assert "https://" not in body
    assert html.count("Plotly.newPlot") == sum(
        4 if s.importance.values else 3 for s in info.stages.values()
    )
    assert "window.onerror" in html and ERROR_MARKER_ID in html


def test_html_shows_the_sections(html, info) -> None:
    body = html.split("</head>", 1)[1]  # the text, without plotly.js
    for stage in info.stages.values():
        assert f'id="stage-{stage.stage}"' in body
        assert f"{stage.recommendation.speedup:.2f}x" in body
    for expected in (
        "Fastest trials",
        "Trials that did not finish",
        "What each knob",
        "How to use it",
    ):
        assert expected in body


def test_html_escapes_text(info) -> None:
    from autoaccel.report import FailureGroup
    from autoaccel.report._html import _failures

    stage = info.stages["train"].model_copy(
        update={
            "failures": [
                FailureGroup(
                    outcome="user_error",
                    trials=[3],
                    reasons=[("<script>x()</script>", [3])],
                    advice="",
                )
            ]
        }
    )
    text = "".join(_failures(stage))
    assert "&lt;script&gt;x()&lt;/script&gt;" in text and "<script>" not in text


def test_markdown_writes_plots_beside_it(info, tmp_path) -> None:
    path = write_report(info, "markdown", tmp_path / "out" / "study.md")
    text = path.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 8  # 3 plots per stage, and importance where there is one
    for image in images:
        assert not Path(image).is_absolute() and image.startswith("study_files/")
        png = path.parent / image
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| trial | throughput |" in text
    assert "```python" in text


@pytest.mark.parametrize(
    ("fmt", "output", "expected"),
    [
        (None, None, ("text", None)),
        ("json", None, ("json", None)),
        ("html", None, ("html", Path("studies/s/report.html"))),
        ("markdown", None, ("markdown", Path("studies/s/report.md"))),
        (None, "r.html", ("html", Path("r.html"))),
        (None, "r.md", ("markdown", Path("r.md"))),
        (None, "r.json", ("json", Path("r.json"))),
        (None, "r.log", ("text", Path("r.log"))),
        ("json", "r.txt", ("json", Path("r.txt"))),
    ],
)
def test_report_target(fmt, output, expected, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = report_target("s", fmt, Path(output) if output else None)
    assert (target.format, target.path) == expected


def test_report_target_refusals(tmp_path) -> None:
    with pytest.raises(ReportError, match="--format must be one of text, markdown, html, json"):
        report_target("s", "pdf", None)
    with pytest.raises(ReportError, match="is a folder; name a file in it, such as"):
        report_target("s", "html", tmp_path)
    with pytest.raises(ReportError, match="does not exist. Create it first"):
        report_target("s", None, tmp_path / "missing" / "r.html")


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("tiny", True),
        ("my study.v2", True),
        ("..", False),
        (".", False),
        ("", False),
        ("../x", False),
        ("a/b", False),
        ("a\\b", False),
        ("a\nb", False),
    ],
)
def test_only_a_plain_study_name_names_a_folder(name, named, tmp_path) -> None:
    folder = StudyFolder(name, tmp_path)
    assert folder.is_folder_name is named
    if named:
        assert folder.path == tmp_path / name
    else:
        with pytest.raises(StudyError, match="is not one plain folder name"):
            _ = folder.path
        assert folder.own_files() == [] and folder.own_folders() == []


def test_report_target_for_a_study_name_that_names_no_folder(tmp_path) -> None:
    studies = tmp_path / "studies"
    with pytest.raises(ReportError, match=r"'\.\./x' is not one plain folder name.* -o FILE"):
        report_target("../x", "html", None, studies)
    assert report_target("../x", "text", None, studies).path is None
    assert report_target("../x", "html", tmp_path / "x.html", studies).path == tmp_path / "x.html"


@pytest.mark.parametrize("format", ["text", "markdown", "html"])
def test_every_format_shows_the_confirmed_speedup_with_its_interval(info, format, tmp_path):
    rec = info.stages["train"].recommendation
    assert rec is not None and rec.speedup_ci is not None
    text = write_report(info, format, tmp_path / f"report.{format}").read_text()
    assert "95% interval" in text
    assert f"{rec.confirmed_rounds} paired rounds against the baseline" in text
    assert "one-off cost" in text
