"""A script's own command line: ``autoaccel tune train.py -- ARGS`` reaches the script in
every trial process as ``sys.argv[1:]``, stays with the study, and is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeRunner, cpu_host, task_facts
from script_runs import SCRIPTS, run_on_its_own, run_tune, storage, tuned_stage

from autoaccel.errors import StudyError
from autoaccel.knobs import Config
from autoaccel.recommend import StageRecommendation
from autoaccel.report._apply import how_to_apply
from autoaccel.study import TuneOptions, tune

ARGS = ("--lr", "0.05", "--hidden", "12")
PARSED = "argparse_mlp.py --lr 0.05 --hidden 12"


@pytest.mark.slow
def test_tune_gives_the_arguments_after_dashdash_to_every_trial(tmp_path, run_cli) -> None:
    tuned = run_tune(tmp_path, "argparse_mlp.py", script_args=ARGS)
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    assert f"argparse_mlp.py runs with the arguments: {' '.join(ARGS)}" in tuned.stdout
    # The inspection process and each trial process parsed them at import (a script that
    # got other arguments would exit, a failed trial).
    stage, measured = tuned_stage(tmp_path, "argparse_mlp")
    assert stage.task.metric_name == f"accuracy ({PARSED})"
    assert stage.task.script_args == ARGS
    assert {r.measurement.metric_name for r in measured} == {f"accuracy ({PARSED})"}

    report = run_cli("report", "argparse_mlp", "--storage", storage(tmp_path))
    assert "arguments" in report.stdout and " ".join(ARGS) in report.stdout

    resumed = run_tune(tmp_path, "argparse_mlp.py", script_args=("--lr", "0.5"))
    assert resumed.returncode == 2
    assert "Error: study 'argparse_mlp' ran argparse_mlp.py with --lr 0.05 --hidden 12" in (
        resumed.stderr
    )
    assert "pass the same arguments after -- to continue it, or use a new --study" in (
        resumed.stderr
    )


@pytest.mark.slow
def test_bench_gives_the_script_its_arguments(run_cli) -> None:
    result = run_cli("bench", str(SCRIPTS / "argparse_mlp.py"), "--json", "--", *ARGS)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["script_args"] == list(ARGS)
    assert document["result"]["measurement"]["metric_name"] == f"accuracy ({PARSED})"


@pytest.mark.slow
def test_the_script_still_runs_on_its_own(tmp_path) -> None:
    result = run_on_its_own(tmp_path, "argparse_mlp.py", "--lr", "0.05", "--samples", "256")
    assert result.returncode == 0, result.stderr
    assert "accuracy (argparse_mlp.py --lr 0.05 --hidden 16)" in result.stdout


def test_a_resume_with_other_arguments_is_refused_before_any_trial(tmp_path) -> None:
    options = TuneOptions(
        storage=storage(tmp_path),
        stage="train",
        trials=2,
        confirm=0,
        studies_dir=tmp_path / "studies",
        script_args=ARGS,
    )

    def inspect(target):
        return task_facts(script=str(target.path), script_args=target.args)

    script = str(SCRIPTS / "argparse_mlp.py")
    tune(script, options, run=FakeRunner(), hardware=cpu_host(), inspect=inspect)
    runner = FakeRunner()
    with pytest.raises(StudyError, match="ran argparse_mlp.py with --lr 0.05 --hidden 12; this"):
        tune(
            script,
            TuneOptions(**{**options.__dict__, "script_args": ()}),
            run=runner,
            hardware=cpu_host(),
            inspect=inspect,
        )
    assert runner.specs == []
    # The same arguments continue it, and every trial gets them.
    again = FakeRunner()
    tune(
        script,
        TuneOptions(**{**options.__dict__, "trials": 3}),
        run=again,
        hardware=cpu_host(),
        inspect=inspect,
    )
    assert again.specs and {spec.script_args for spec in again.specs} == {ARGS}


@pytest.mark.parametrize(
    ("stage", "command"),
    [
        ("train", "python train.py --data 'my corpus'"),
        ("train", "autoaccel bench train.py --config studies/x/recommendation.json -- --data"),
        ("deploy", "--stage deploy --config studies/x/recommendation.json -- --data 'my corpus'"),
    ],
)
def test_the_reports_commands_give_the_script_its_arguments(stage, command) -> None:
    rec = StageRecommendation.model_construct(stage=stage, config=Config())
    how = how_to_apply(rec, "x", "train.py", {}, Path("studies"), None, ["--data", "my corpus"])
    assert any(command in line for line, _ in how.commands)
