"""Text from users, tasks, exceptions and storage is shown as written, in every renderer.

One hostile string goes into every field a user or another tool controls: the study's name,
the metric's name, the script's path, trial reasons, tracebacks and notes, the hardware's
name. Rich markup in it would stop a terminal renderer (``[/]`` closes nothing); html,
markdown and plot renderers must show it escaped, never as tags, emphasis or code.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest
from fakes import FakeRunner, StoredStudy, gpu_host, task_facts, tune_with_fakes
from report_fakes import PEAK_BF16, varied_model

from autoaccel.knobs import Config
from autoaccel.runner import TrialResult
from autoaccel.study import TuneOptions

HOSTILE = (
    "[/] [bold]b[/bold] [link=http://e]l[/link] :thumbs_up: <script>alert(1)</script> "
    "&amp; a|b *s* _u_ `c` ~~d~~ # $(touch p) $HOME 'q' \"dq\" ;"
)
# Paths fold "//" into "/": a folder named after the hostile text keeps one slash.
HOSTILE_FOLDER = HOSTILE.replace("//", "/")


def squeezed(text: str) -> str:
    """``text`` without whitespace: terminals wrap long values, html indents."""
    return "".join(text.split())


def assert_shown(output: str, hostile: str = HOSTILE) -> None:
    assert squeezed(hostile) in squeezed(output), output
    assert "👍" not in output  # an emoji code read as one


def hostile_model(config: Config, stage: str) -> TrialResult:
    """The report fakes' task with a hostile metric name, failure reasons, tracebacks and
    measurement notes."""
    result = varied_model(config, stage)
    if result.measurement is None:
        return result.model_copy(update={"reason": HOSTILE, "traceback": HOSTILE})
    measured = result.measurement.model_copy(update={"metric_name": HOSTILE, "notes": [HOSTILE]})
    return result.model_copy(update={"measurement": measured})


def hostile_script(root: Path) -> Path:
    script = root / HOSTILE_FOLDER / "train.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("task = None\n")
    return script


def hostile_tune(script: str, options: TuneOptions, progress=None):
    hardware = gpu_host(f"GPU {HOSTILE}", "9.0", peak_flops={"bf16": PEAK_BF16})
    facts = task_facts(name="train", script=script, metric_name=HOSTILE, has_conv2d=True)
    return tune_with_fakes(
        options,
        FakeRunner(hostile_model),
        facts=facts,
        hardware=hardware,
        script=script,
        progress=progress,
    )


@pytest.fixture(scope="session")
def hostile_study(built_once) -> StoredStudy:
    """Both stages tuned with hostile text everywhere, then copied, as another tool sharing
    the storage might, to a study named with the hostile text."""

    def build(root: Path) -> None:
        storage = f"sqlite:///{root}/studies/autoaccel.db"
        options = TuneOptions(storage=storage, trials=12, studies_dir=root / "studies")
        hostile_tune(str(hostile_script(root)), options)
        for stage in ("train", "deploy"):
            optuna.copy_study(
                from_study_name=f"train:{stage}",
                from_storage=storage,
                to_storage=storage,
                to_study_name=f"{HOSTILE}:{stage}",
            )

    root = built_once("hostile-study", build)
    return StoredStudy(root, f"sqlite:///{root}/studies/autoaccel.db", name=HOSTILE)


@pytest.fixture
def here(hostile_study: StoredStudy, tmp_path: Path, monkeypatch) -> StoredStudy:
    shutil.copytree(hostile_study.studies_dir, tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    return StoredStudy(tmp_path, "sqlite:///studies/autoaccel.db", name=HOSTILE)


def test_tune_progress_and_summary(run_cli, tmp_path, monkeypatch) -> None:
    import autoaccel.study

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(autoaccel.study, "tune", hostile_tune)
    script = hostile_script(tmp_path)
    result = run_cli("tune", str(script), "--stage", "train", "--trials", "8", "--confirm", "0")
    assert result.exit_code == 0, result.stderr
    progress, summary = result.stdout.split("Recommended train configuration")
    assert_shown(progress)  # the metric's name and the failures' reasons
    assert_shown(summary)  # the hardware and the metric's name


@pytest.mark.parametrize("live", [False, True])
def test_progress_lines_and_the_live_panel(live) -> None:
    from rich.console import Console

    from autoaccel.cli._progress import LiveProgress, PlainProgress
    from autoaccel.recommend import TrialRecord

    console = Console(file=io.StringIO(), force_terminal=live, width=400)
    progress = LiveProgress(console) if live else PlainProgress(console)
    failed = TrialRecord(number=1, config={}, outcome="crash", reason=HOSTILE, duration_s=1.0)
    with progress if isinstance(progress, LiveProgress) else contextlib.nullcontext():
        progress.stage_started("train", 0, 3, 40)
        progress.note(HOSTILE)
        progress.trial_started("train", 1, "search", {"batch_size": 64})
        progress.trial_finished("train", failed, 1, 3, None)
    lines = console.file.getvalue().splitlines()
    assert_shown(next(line for line in lines if "note:" in line))
    assert_shown(next(line for line in lines if "trial 1 crash" in line))


def test_text_report(run_cli, here) -> None:
    result = run_cli("report", HOSTILE)
    assert result.exit_code == 0, result.stderr
    assert_shown(result.stdout.split("\n", 1)[0])  # the study's name
    assert squeezed(f"{HOSTILE}:train") in squeezed(result.stdout)
    assert_shown(result.stdout, f"trial 4: {HOSTILE}")  # failure reasons, and more


def test_json_report(run_cli, here) -> None:
    result = run_cli("report", HOSTILE, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["study"] == HOSTILE
    assert data["stages"]["train"]["metric_name"] == HOSTILE


class _Page(HTMLParser):
    """The text a browser shows, and the tags it makes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.skip = 0
        self.feed(page)

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.text.append(data)


def test_html_report(run_cli, here) -> None:
    result = run_cli("report", HOSTILE, "-o", "report.html")
    assert result.exit_code == 0, result.stderr
    page = (here.root / "report.html").read_text()
    body = page.split("</head>", 1)[1]
    assert "<script>alert(1)" not in page
    assert html.escape(HOSTILE) in body
    shown = _Page(body)
    assert_shown("".join(shown.text))


def test_markdown_report(run_cli, here) -> None:
    from markdown_it import MarkdownIt

    result = run_cli("report", HOSTILE, "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    markdown = (here.root / "report.md").read_text()
    page = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    shown = _Page(page)
    assert "script" not in shown.tags
    # Every piece of the hostile text that markdown would read stays text.
    for made in ("<em>s</em>", "<em>u</em>", "<code>c</code>", "<s>d</s>", "<a href"):
        assert made not in page, made
    text = "".join(shown.text)
    assert_shown(text)
    assert_shown(text, f"trial 4: {HOSTILE}")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture(scope="module")
def hostile_info(hostile_study: StoredStudy):
    from autoaccel.report import build_report

    return build_report(hostile_study.storage, HOSTILE, studies_dir=hostile_study.studies_dir)


def test_plotly_shows_text_not_tags(hostile_info) -> None:
    """Plotly reads tags (<b>, <a href>) and entities in titles, labels and hover text."""
    from autoaccel.report._plotly import stage_figures

    for stage in hostile_info.stages.values():
        strings = [s for _, f in stage_figures(stage) for s in _strings(f.to_plotly_json())]
        hostile = [s for s in strings if "alert(1)" in s]
        assert hostile
        for text in hostile:  # the whole text, or a reason cut short in a hover
            assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;" in text
            assert "<script" not in text


def test_matplotlib_shows_text_not_mathematics(hostile_info) -> None:
    """matplotlib reads what stands between two $ as mathematics."""
    from matplotlib import cbook
    from matplotlib.text import Text

    from autoaccel.report._matplotlib import _history, _pareto

    stage = hostile_info.stages["train"]
    texts = [t.get_text() for draw in (_pareto, _history) for t in draw(stage).findobj(Text)]
    assert any("alert(1)" in t for t in texts)
    assert not any(cbook.is_math_text(t) for t in texts)


def test_studies_list_and_show(run_cli, here) -> None:
    listed = run_cli("studies", "list")
    assert listed.exit_code == 0, listed.stderr
    assert_shown(listed.stdout)  # the study's name and the hardware's
    shown = run_cli("studies", "show", HOSTILE)
    assert shown.exit_code == 0, shown.stderr
    assert_shown(shown.stdout.split("\n", 1)[0])
    assert_shown(shown.stdout, f"{HOSTILE}:train")


def test_an_unreadable_study_s_error_is_text(run_cli, here) -> None:
    optuna.create_study(study_name=f"{HOSTILE}x:train", storage=here.storage)
    listed = run_cli("studies", "list")
    assert listed.exit_code == 0, listed.stderr
    assert_shown(listed.stdout, f"{HOSTILE}x")


@pytest.mark.parametrize("outcome", ["ok", "crash"])
def test_bench(run_cli, monkeypatch, tmp_path, outcome) -> None:
    import autoaccel.bench
    from autoaccel.bench import BenchResult

    script = hostile_script(tmp_path)
    hardware = gpu_host(f"GPU {HOSTILE}", "9.0")
    result = hostile_model(Config(batch_size=1024 if outcome == "crash" else 64), "train")
    monkeypatch.setattr(
        autoaccel.bench,
        "bench",
        lambda *a, **k: BenchResult(str(script), "train", Config(), task_facts(), hardware, result),
    )
    shown = run_cli("bench", str(script))
    assert shown.exit_code == (0 if outcome == "ok" else 1), shown.stderr
    first = shown.stdout.split("\ntrain: ", 1)[0]  # the line above the configuration
    assert_shown(first, str(script))
    assert_shown(first, HOSTILE)  # the hardware's name
    assert shown.stdout.count("alert(1)") >= 2  # the metric and a note, or reason and traceback


def test_probe_render() -> None:
    from rich.console import Console

    from autoaccel.probe import render_profile

    profile = gpu_host(HOSTILE, "9.0")
    profile = profile.model_copy(
        update={"cpu": profile.cpu.model_copy(update={"model": HOSTILE}), "notes": [HOSTILE]}
    )
    console = Console(file=io.StringIO(), width=400)
    render_profile(profile, console)
    shown = console.file.getvalue()
    assert shown.count("alert(1)") >= 3
    assert_shown(shown)


def test_an_error_message_is_printed_as_text(capsys) -> None:
    from autoaccel.cli._errors import run_with_error_mapping
    from autoaccel.errors import TaskError

    def fail() -> None:
        raise TaskError(HOSTILE)

    with pytest.raises(SystemExit):
        run_with_error_mapping(fail)
    assert capsys.readouterr().err == f"Error: {HOSTILE}\n"


ESCAPES = "x\x1b[2J\x1b]0;pwned\x07y\x9b31mz"


def test_terminal_escape_sequences_are_shown_not_obeyed(capsys) -> None:
    from rich.console import Console

    from autoaccel import _format as fmt
    from autoaccel.cli._errors import run_with_error_mapping
    from autoaccel.errors import TaskError
    from autoaccel.probe import render_profile

    shown = "x\\x1b[2J\\x1b]0;pwned\\x07y\\x9b31mz"
    assert fmt.printable(ESCAPES) == shown
    assert fmt.printable("tab\there\nnext line, é") == "tab\there\nnext line, é"

    profile = gpu_host(ESCAPES, "9.0")
    console = Console(file=io.StringIO(), width=400, force_terminal=True)
    render_profile(profile, console)
    assert shown in console.file.getvalue()
    assert "\x1b[2J" not in console.file.getvalue() and "\x07" not in console.file.getvalue()

    def fail() -> None:
        raise TaskError(ESCAPES)

    with pytest.raises(SystemExit):
        run_with_error_mapping(fail)
    assert capsys.readouterr().err == f"Error: {shown}\n"
