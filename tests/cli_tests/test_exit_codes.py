"""Exit codes: 0 done, 1 the run failed, 2 usage or bad input (the ``--help`` epilog)."""

from __future__ import annotations

import pytest

from autoaccel import errors


def test_usage_errors_exit_2(run_cli) -> None:
    assert run_cli("tune", "--no-such-flag").exit_code == 2
    assert run_cli("tune").exit_code == 2  # the script is missing


def test_bad_input_exits_2(run_cli, tasks_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("tune", str(tasks_dir / "tiny.py"), "--trials", "0")
    assert (result.exit_code, result.stderr[:6]) == (2, "Error:")
    result = run_cli("report", "nosuch")  # no storage here
    assert (result.exit_code, result.stderr[:6]) == (2, "Error:")


def test_a_baseline_that_fails_exits_1(run_cli, tasks_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("tune", f"{tasks_dir / 'faulty.py'}:bad_data", "--trials", "2")
    assert (result.exit_code, result.stderr[:6]) == (1, "Error:"), result.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.TaskError, 2),
        (errors.ConfigError, 2),
        (errors.SearchSpaceError, 2),
        (errors.StorageError, 2),
        (errors.StudyError, 2),
        (errors.ReportError, 2),
        (errors.RunFailedError, 1),
        (errors.BaselineFailedError, 1),
        (errors.StorageFault, 1),
    ],
)
def test_each_error_class_has_its_code(error, code, run_cli, monkeypatch) -> None:
    import autoaccel.study

    def fail(*args, **kwargs):
        raise error("what happened; what to do")

    monkeypatch.setattr(autoaccel.study, "list_studies", fail)
    result = run_cli("studies", "list")
    assert result.exit_code == code
    assert result.stderr == "Error: what happened; what to do\n"
