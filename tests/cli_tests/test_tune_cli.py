"""``autoaccel tune`` from the command line: flags, errors, output, kill -9 and resume."""

from __future__ import annotations

import io
import json
import re

import optuna
import pytest
from fakes import tune_with_fakes


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stage", "both"], "Invalid value for '--stage'"),
        (["--trials", "0"], "Error: --trials must be at least 1"),
        (["--max-metric-drop", "-1"], "Error: --max-metric-drop must be a number >= 0"),
        (["--storage", "mongodb://x"], "is not one autoaccel can use"),
        (["--study", "bad name!"], "Error: study name 'bad name!' is not usable"),
        (["--space", "space.txt"], "Error: --space space.txt must be a .yaml file"),
        (["--confirm", "-1"], "Error: --confirm must be between 0 and 10 candidates"),
        (["--confirm", "11"], "Error: --confirm must be between 0 and 10 candidates"),
        (["--max-rounds", "2"], "Error: --max-rounds must be between 3 and 50"),
        (["--run-epochs", "0"], "Error: --run-epochs must be a positive number"),
        (["--run-epochs", "nan"], "Error: --run-epochs must be a positive number"),
    ],
)
def test_bad_flags(run_cli, tasks_dir, tmp_path, monkeypatch, args, expected) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("tune", str(tasks_dir / "tiny.py"), *args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (tmp_path / "studies" / "autoaccel.db").exists() or "--storage" not in args


def test_missing_script(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("tune", "train.py")
    assert result.exit_code == 2
    assert "Error: train.py: no such file" in result.stderr


def test_debug_env_shows_the_traceback(run_cli, tmp_path, monkeypatch) -> None:
    from autoaccel.errors import TaskError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOACCEL_DEBUG", "1")
    with pytest.raises(TaskError):
        run_cli("tune", "train.py")


@pytest.fixture
def fake_tune(monkeypatch, tmp_path):
    """The real tune() with a fake trial runner behind the CLI."""
    import autoaccel.study

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        autoaccel.study,
        "tune",
        lambda script, options, progress=None: tune_with_fakes(
            options, script=script, progress=progress
        ),
    )


def test_prints_the_recommendation(run_cli, fake_tune, tasks_dir) -> None:
    result = run_cli("tune", str(tasks_dir / "tiny.py"), "--stage", "train", "--trials", "4")
    assert result.exit_code == 0, result.stderr
    assert "Recommended train configuration" in result.stdout
    assert "speedup" in result.stdout and "vs baseline" in result.stdout
    assert "[train 4/4]" in result.stdout  # plain progress lines when not on a terminal
    assert "Saved to studies/tiny/recommendation.json" in result.stdout
    script = tasks_dir / "tiny.py"
    assert f"autoaccel bench {script} --config studies/tiny/recommendation.json pick" in (
        result.stdout
    )


def test_the_bench_hint_repeats_the_scripts_arguments(run_cli, fake_tune, tasks_dir) -> None:
    script = str(tasks_dir / "tiny.py")
    result = run_cli("tune", script, "--stage", "train", "--trials", "3", "--", "--data", "a b")
    assert result.exit_code == 0, result.stderr
    hint = f"autoaccel bench {script} --config studies/tiny/recommendation.json -- --data 'a b'"
    assert hint in result.stdout


def test_json_output(run_cli, fake_tune, tasks_dir) -> None:
    result = run_cli(
        "tune", str(tasks_dir / "tiny.py"), "--stage", "train", "--trials", "3", "--json"
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["recommendation"]["stages"]["train"]["speedup"] > 0
    assert "[train" in result.stderr  # progress goes to stderr with --json


@pytest.mark.slow
def test_kill_9_mid_trial_then_resume(real_study) -> None:
    # The orphaned trial process noticed its tuner died and ended itself.
    assert real_study.orphans_after_kill == []
    assert "left running by a stopped tuner" in real_study.resume_output
    after = optuna.load_study(study_name="tiny:train", storage=real_study.storage).get_trials()
    assert sum(1 for t in after if t.state.name == "COMPLETE") == 2
    assert all(after[n].values == values for n, values in real_study.before_kill.items())
    assert after[real_study.killed_trial].state.name == "FAIL"
    retried = [
        t
        for t in after
        if t.user_attrs.get("config") == real_study.killed_config
        and t.number > real_study.killed_trial
    ]
    assert retried and retried[0].state.name == "COMPLETE"


def test_progress_lines_name_trial_and_best(tmp_path) -> None:
    from rich.console import Console

    from autoaccel.cli._progress import PlainProgress
    from autoaccel.recommend import TrialRecord

    console = Console(file=io.StringIO(), record=True, width=200)
    progress = PlainProgress(console)
    progress.stage_started("train", 0, 5, 120)
    progress.trial_started("train", 0, "baseline", {"batch_size": 64})
    progress.trial_finished(
        "train",
        TrialRecord(
            number=0,
            config={"batch_size": 64},
            outcome="oom",
            reason="CUDA out of memory",
            duration_s=3.0,
        ),
        1,
        5,
        None,
    )
    text = console.export_text()
    assert "train stage: 5 trials over 120 configurations" in text
    assert "[train] trial 0 (baseline): batch_size=64" in text
    assert "[train 1/5] trial 0 oom in 3.00 s: CUDA out of memory; best -" in text


def test_live_panel_on_a_terminal() -> None:
    from rich.console import Console

    from autoaccel.cli._progress import LiveProgress
    from autoaccel.recommend import TrialRecord

    def finish(progress: LiveProgress, number: int) -> None:
        record = TrialRecord(number=number, config={"batch_size": 64}, outcome="ok", duration_s=4.0)
        progress.trial_finished("train", record, number + 1, 2, 1.0)

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with LiveProgress(console) as progress:
        # While the script's facts are read, no trial count is shown yet.
        assert "of 0" not in progress._panel().plain
        progress.stage_started("train", 0, 2, 40)
        progress.trial_started("train", 0, "baseline", {"batch_size": 64})
        panel = progress._panel().plain
        assert "train stage: 0 of 2 trials finished, 1 running" in panel
        assert re.search(r"running   trial 0 \(\d.*\): batch_size=64", panel)
        finish(progress, 0)
        panel = progress._panel().plain
        assert "1 of 2 trials finished" in panel and "best      1.00x" in panel
        assert "left ~4.00 s" in panel
        assert "running   -" in panel
        progress.trial_started("train", 1, "search", {"batch_size": 128})
        assert "1 of 2 trials finished, 1 running" in progress._panel().plain
        finish(progress, 1)
        panel = progress._panel().plain
    assert "2 of 2 trials finished" in panel and "left -" in panel


def test_live_panel_shows_every_running_trial() -> None:
    from rich.console import Console

    from autoaccel.cli._progress import LiveProgress
    from autoaccel.recommend import TrialRecord

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with LiveProgress(console) as progress:
        progress.stage_started("train", 1, 4, 40)
        progress.trial_started("train", 1, "search", {"batch_size": 128})
        progress.trial_started("train", 2, "search", {"batch_size": 256})
        panel = progress._panel().plain
        assert "1 of 4 trials finished, 2 running" in panel
        assert "): batch_size=128" in panel and "): batch_size=256" in panel
        record = TrialRecord(number=1, config={"batch_size": 128}, outcome="ok", duration_s=4.0)
        progress.trial_finished("train", record, 2, 4, 1.0)
        panel = progress._panel().plain
    assert "batch_size=128" not in panel and "trial 2 (" in panel and "2 running" not in panel


def test_label_and_value_rows_print_hostile_text_as_text() -> None:
    from rich.console import Console

    from autoaccel.cli._render import rows_table

    console = Console(file=io.StringIO(), width=120)
    console.print(rows_table([("acc[/], seed 1", "[bold]x[/] and [/]")]))
    shown = console.file.getvalue()
    assert "acc[/], seed 1" in shown and "[bold]x[/] and [/]" in shown
