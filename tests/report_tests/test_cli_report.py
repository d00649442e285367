"""``autoaccel report`` through the real entry point: output places and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_text_report_on_stdout(run_cli, study_here) -> None:
    result = run_cli("report", "tiny")
    assert result.exit_code == 0, result.stderr
    assert "autoaccel report: study tiny" in result.stdout
    assert "Deploy stage (inference)" in result.stdout
    assert not (study_here.studies_dir / "tiny" / "report.html").exists()


def test_json_report_on_stdout(run_cli, study_here) -> None:
    result = run_cli("report", "tiny", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1 and set(data["stages"]) == {"train", "deploy"}


def test_html_goes_beside_the_study_by_default(run_cli, study_here) -> None:
    result = run_cli("report", "tiny", "-f", "html")
    assert result.exit_code == 0, result.stderr
    path = study_here.studies_dir / "tiny" / "report.html"
    assert f"Report written to {path.relative_to(study_here.root)}" in result.stdout
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_output_suffix_chooses_the_format(run_cli, study_here) -> None:
    result = run_cli("report", "tiny", "-o", "out.json")
    assert result.exit_code == 0, result.stderr
    assert json.loads((study_here.root / "out.json").read_text())["study"] == "tiny"
    result = run_cli("report", "tiny", "-o", "out.txt")
    assert "Fastest trials" in (study_here.root / "out.txt").read_text()


def test_storage_option_and_env(run_cli, fake_study, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no studies/ here
    result = run_cli("report", "tiny", "--storage", fake_study.storage, "-f", "json")
    assert result.exit_code == 0, result.stderr
    monkeypatch.setenv("AUTOACCEL_STORAGE", fake_study.storage)
    assert run_cli("report", "tiny", "-f", "json").exit_code == 0


def test_missing_study(run_cli, study_here) -> None:
    result = run_cli("report", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no study named 'nope'")
    assert "Studies here: other, tiny" in result.stderr


def test_missing_storage(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    result = run_cli("report", "tiny")
    assert result.exit_code == 2
    assert "Error: no study storage at studies/autoaccel.db" in result.stderr
    assert "Run autoaccel tune first" in result.stderr
    assert not (tmp_path / "studies").exists()


def test_bad_storage_url(run_cli, tmp_path) -> None:
    result = run_cli("report", "tiny", "--storage", "studies.db")
    assert result.exit_code == 2
    assert "Error: storage URL 'studies.db' is not one autoaccel can use" in result.stderr
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    result = run_cli("report", "tiny", "--storage", f"sqlite:///{notes}")
    assert "is not an SQLite database; it was left untouched" in result.stderr
    assert notes.read_text() == "not a database"


def test_bad_format(run_cli, study_here) -> None:
    result = run_cli("report", "tiny", "--format", "pdf")
    assert result.exit_code == 2
    assert "'pdf' is not one of 'text', 'markdown', 'html', 'json'" in result.stderr


def test_output_into_a_missing_folder(run_cli, study_here) -> None:
    result = run_cli("report", "tiny", "-o", "nowhere/report.html")
    assert result.exit_code == 2
    assert "Error: -o nowhere/report.html: the folder nowhere does not exist" in result.stderr
    assert not (study_here.root / "nowhere").exists()


def test_output_is_a_folder(run_cli, study_here) -> None:
    (study_here.root / "out").mkdir()
    result = run_cli("report", "tiny", "-f", "html", "-o", "out")
    assert result.exit_code == 2
    assert "Error: -o out is a folder; name a file in it, such as out/report.html" in result.stderr


def test_a_stored_name_never_leads_out_of_the_studies_folder(run_cli, study_here) -> None:
    import optuna

    # Another tool sharing the storage may name a study anything.
    for stage in ("train", "deploy"):
        optuna.copy_study(
            from_study_name=f"tiny:{stage}",
            from_storage=study_here.storage,
            to_storage=study_here.storage,
            to_study_name=f"../x:{stage}",
        )
    result = run_cli("report", "../x", "-f", "html")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the study name '../x' is not one plain folder name")
    assert "Write the report elsewhere with -o FILE." in result.stderr
    assert not (study_here.root / "x").exists()
    result = run_cli("report", "../x", "-o", "x.html")
    assert result.exit_code == 0, result.stderr
    assert (study_here.root / "x.html").read_text().startswith("<!DOCTYPE html>")


def test_help_stays_light() -> None:
    code = (
        "import sys; from autoaccel.cli import main\n"
        "try: main(['report', '--help'])\n"
        "except SystemExit: pass\n"
        "try: main(['studies', '--help'])\n"
        "except SystemExit: pass\n"
        "heavy = ('torch', 'plotly', 'matplotlib', 'optuna')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "--format" in out.stdout and "delete" in out.stdout


@pytest.mark.parametrize("stored", [{"rounds": "not a list"}, "garbage", 42])
def test_a_damaged_confirmation_reads_as_none_and_is_kept(run_cli, study_here, stored) -> None:
    import optuna

    study = optuna.load_study(study_name="tiny:train", storage=study_here.storage)
    study.set_user_attr("confirmation", stored)
    result = run_cli("report", "tiny")
    assert result.exit_code == 0, result.stderr
    assert "from the search alone" in result.stdout
    # Reading never rewrites what is stored.
    assert study.user_attrs["confirmation"] == stored


def test_piped_text_keeps_each_value_on_one_line_without_padding(run_cli, study_here) -> None:
    import json
    import sqlite3

    reason = "the reason runs on " + "and on " * 60 + "to its end"
    with sqlite3.connect(study_here.root / "studies" / "autoaccel.db") as db:
        changed = db.execute(
            "UPDATE trial_user_attributes SET value_json = ? WHERE key = 'reason' AND "
            "trial_id IN (SELECT trial_id FROM trial_user_attributes "
            "WHERE key = 'outcome' AND value_json = '\"crash\"')",
            (json.dumps(reason),),
        ).rowcount
    assert changed
    lines = run_cli("report", "tiny").stdout.splitlines()
    assert any(line.endswith(reason) for line in lines), "a long reason was wrapped"
    assert [line for line in lines if line != line.rstrip()] == []


def test_a_report_lands_beside_the_recommendation_wherever_it_runs(
    run_cli, tmp_path, monkeypatch
) -> None:
    from fakes import tune_with_fakes

    from autoaccel.study import TuneOptions

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    elsewhere.mkdir()
    storage = f"sqlite:///{project}/studies/autoaccel.db"
    options = TuneOptions(
        storage=storage, stage="train", trials=3, confirm=0, studies_dir=project / "studies"
    )
    tune_with_fakes(options)
    monkeypatch.chdir(elsewhere)
    result = run_cli("report", "tiny", "--storage", storage, "-f", "html")
    beside = project / "studies" / "tiny" / "report.html"
    assert result.exit_code == 0, result.stderr
    assert f"Report written to {beside}" in result.stdout and beside.is_file()
    assert not (elsewhere / "studies").exists()
    # Deleting from elsewhere removes the study's files where they are.
    assert run_cli("studies", "delete", "tiny", "--storage", storage, "--yes").exit_code == 0
    assert not (project / "studies" / "tiny").exists()


def test_a_study_tuned_elsewhere_reports_into_the_working_folder(run_cli, study_here) -> None:
    import shutil

    import optuna

    for stage in ("train", "deploy"):
        study = optuna.load_study(study_name=f"tiny:{stage}", storage=study_here.storage)
        study.set_user_attr("studies_dir", "/nowhere/on/this/machine")
    shutil.rmtree(study_here.studies_dir / "tiny")  # only the database was copied here
    result = run_cli("report", "tiny", "-f", "html")
    assert result.exit_code == 0, result.stderr
    assert "Report written to studies/tiny/report.html" in result.stdout
