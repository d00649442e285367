"""``autoaccel studies``: list, show, delete; nothing stored is lost by mistake."""

from __future__ import annotations

import json
import re

import optuna
import pytest

from autoaccel.study import list_studies, plan_deletion


def test_list(run_cli, study_here) -> None:
    result = run_cli("studies", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["study", "finished", "trials"]
    tiny = next(line for line in lines if line.startswith("tiny"))
    assert "train 12, deploy 12" in tiny and "NVIDIA H100" in tiny
    # The best speedup is a confirmed claim: with its 95% interval in brackets.
    assert re.search(r"\d+\.\d\dx \[\d+\.\d\d-\d+\.\d\d\]", tiny), tiny
    other = next(line for line in lines if line.startswith("other"))
    assert "train 2" in other and "deploy" not in other
    # Without a command, studies lists.
    assert run_cli("studies").stdout == result.stdout


def test_list_json(run_cli, study_here) -> None:
    data = json.loads(run_cli("studies", "list", "--json").stdout)
    studies = {s["name"]: s for s in data["studies"]}
    assert set(studies) == {"tiny", "other"}
    tiny = studies["tiny"]
    assert tiny["stages"]["train"]["finished"] == 12
    assert tiny["stages"]["train"]["outcomes"]["interrupted"] == 1
    assert tiny["stages"]["deploy"]["speedup"] > 1
    low, high = tiny["stages"]["train"]["speedup_ci"]
    assert low <= tiny["stages"]["train"]["speedup"] <= high
    assert tiny["last_update"] and tiny["hardware"].startswith("1x NVIDIA H100")


def test_an_unreadable_study_is_listed_not_fatal(study_here) -> None:
    storage = optuna.storages.RDBStorage(study_here.storage)
    optuna.create_study(study_name="foreign:train", storage=storage)
    summaries = {s.name: s for s in list_studies(study_here.storage)}
    assert "not a readable autoaccel study" in summaries["foreign"].error
    assert summaries["tiny"].error is None


def test_show(run_cli, study_here) -> None:
    result = run_cli("studies", "show", "tiny")
    assert result.exit_code == 0, result.stderr
    for expected in (
        "tiny:train",
        "tiny:deploy",
        "1 interrupted",
        "recommendation",
        "autoaccel report tiny",
    ):
        assert expected in result.stdout
    data = json.loads(run_cli("studies", "show", "tiny", "--json").stdout)
    assert data["stages"]["deploy"]["recommended"]["pruning_ratio"] is not None


def test_show_missing(run_cli, study_here) -> None:
    result = run_cli("studies", "show", "nope")
    assert result.exit_code == 2
    assert (
        "Error: no study named 'nope' in this storage. Studies here: other, tiny" in result.stderr
    )


def test_delete_asks_and_no_keeps_everything(run_cli, study_here, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", _Input("n\n"))
    result = run_cli("studies", "delete", "tiny")
    assert result.exit_code == 1
    assert "Optuna study tiny:train" in result.stdout and "Nothing was deleted." in result.stdout
    assert {s.name for s in list_studies(study_here.storage)} == {"tiny", "other"}
    assert (study_here.studies_dir / "tiny" / "recommendation.json").exists()


def test_delete_with_yes(run_cli, study_here) -> None:
    folder = study_here.studies_dir / "tiny"
    (folder / "notes.txt").write_text("mine")  # not autoaccel's: stays
    result = run_cli("studies", "delete", "tiny", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted Optuna study tiny:train" in result.stdout
    assert "deleted Optuna study tiny:deploy" in result.stdout
    assert "recommendation.json" in result.stdout and "weights-" in result.stdout
    assert [s.name for s in list_studies(study_here.storage)] == ["other"]
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (study_here.studies_dir / "other" / "recommendation.json").exists()


def test_delete_confirmed_removes_the_folder(run_cli, study_here, monkeypatch) -> None:
    folder = study_here.studies_dir / "tiny"
    (folder / "report.html").write_text("<html></html>")
    (folder / "report_files").mkdir()
    (folder / "report_files" / "pareto-train.png").write_bytes(b"png")
    monkeypatch.setattr("sys.stdin", _Input("y\n"))
    result = run_cli("studies", "delete", "tiny")
    assert result.exit_code == 0, result.stderr
    assert "report.html" in result.stdout and "pareto-train.png" in result.stdout
    assert not folder.exists()


def test_delete_missing_name_deletes_nothing(run_cli, study_here) -> None:
    result = run_cli("studies", "delete", "tin", "--yes")
    assert result.exit_code == 2
    assert "Error: no study named 'tin'" in result.stderr
    assert "nothing was deleted. Studies here: other, tiny" in result.stderr
    assert {s.name for s in list_studies(study_here.storage)} == {"tiny", "other"}


def test_delete_plan_ignores_path_like_names(study_here, tmp_path) -> None:
    # A study name is never a path: files outside studies/ are out of reach.
    with pytest.raises(Exception, match="no study named"):
        plan_deletion(study_here.storage, "../tiny")


def test_deleting_a_path_like_stored_name_touches_no_files(run_cli, study_here) -> None:
    # Made by another tool sharing the storage: studies/../tiny is a folder of the user's.
    optuna.copy_study(
        from_study_name="tiny:train",
        from_storage=study_here.storage,
        to_storage=study_here.storage,
        to_study_name="../tiny:train",
    )
    mine = study_here.root / "tiny" / "recommendation.json"
    mine.parent.mkdir()
    mine.write_text("{}")
    result = run_cli("studies", "delete", "../tiny", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted Optuna study ../tiny:train" in result.stdout
    assert mine.read_text() == "{}"
    assert {s.name for s in list_studies(study_here.storage)} == {"tiny", "other"}


def test_bad_storage(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("studies", "list", "--storage", "redis://x")
    assert result.exit_code == 2 and result.stderr.startswith("Error: storage URL")
    result = run_cli("studies", "delete", "tiny", "--yes")
    assert "Error: no study storage at studies/autoaccel.db" in result.stderr


class _Input:
    """A stdin that answers the confirmation prompt."""

    def __init__(self, text: str) -> None:
        import io

        self._stream = io.StringIO(text)

    def readline(self, *args) -> str:
        return self._stream.readline(*args)

    def read(self, *args) -> str:
        return self._stream.read(*args)

    def isatty(self) -> bool:
        return False


def test_storage_given_to_studies_itself(run_cli, fake_study, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no storage here: only --storage can find the study
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    listed = run_cli("studies", "--storage", fake_study.storage)
    assert listed.exit_code == 0 and "tiny" in listed.stdout and "other" in listed.stdout
    as_json = run_cli("studies", "--storage", fake_study.storage, "--json")
    assert {s["name"] for s in json.loads(as_json.stdout)["studies"]} == {"tiny", "other"}
    shown = run_cli("studies", "--storage", fake_study.storage, "show", "tiny")
    assert shown.exit_code == 0 and "tiny" in shown.stdout
    # The hint names the storage, so it works where it is pasted.
    assert f"Full report: autoaccel report tiny --storage {fake_study.storage}" in shown.stdout
    # A command's own --storage wins over the one given to studies.
    own = run_cli(
        "studies", "--storage", "sqlite:///nowhere.db", "list", "--storage", fake_study.storage
    )
    assert own.exit_code == 0 and "tiny" in own.stdout


def test_the_report_hint_keeps_the_storage_and_hides_its_password() -> None:
    from autoaccel.cli._render import report_hint

    assert report_hint("tiny", "sqlite:///studies/autoaccel.db").plain == (
        "Full report: autoaccel report tiny"
    )
    hint = report_hint("my study", "postgresql://me:secret@db/studies").plain
    assert (
        hint
        == "Full report: autoaccel report 'my study' --storage 'postgresql://me:***@db/studies'"
    )
