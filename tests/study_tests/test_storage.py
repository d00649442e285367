"""Storage URLs: every bad one says what to do, and nothing stored is touched."""

from __future__ import annotations

import pytest

from autoaccel.errors import StorageError
from autoaccel.study import StudyFolder, open_storage, redact
from autoaccel.study._storage import check_study_name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("studies.db", "is not one autoaccel can use. Use sqlite:///studies/autoaccel.db"),
        ("redis://localhost/0", "is not one autoaccel can use"),
        ("postgresql://bob:hunter2@127.0.0.1:1/db", "cannot open the study storage"),
    ],
)
def test_bad_urls(url, expected) -> None:
    if url.startswith("postgresql"):
        pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    with pytest.raises(StorageError) as error:
        open_storage(url)
    assert expected in str(error.value)
    assert "hunter2" not in str(error.value)


def test_missing_driver_says_what_to_install(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(StorageError, match=r"pip install 'autoaccel\[postgres\]'"):
        open_storage("postgresql://bob@127.0.0.1:1/db")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:hunter2@db/x", "postgresql://bob:***@db/x"),
        ("postgresql://bob:p@ss@db/x", "postgresql://bob:***@db/x"),
        ("postgresql://bob:a/b?c@db/x", "postgresql://bob:***@db/x"),
        ("postgresql://:hunter2@db/x", "postgresql://:***@db/x"),
        ("postgresql://h:1/db?password=hunter2", "postgresql://h:1/db?password=***"),
        (
            "postgresql://h/db?sslmode=require&PassWord=hunter2&sslpassword=x2;a=1",
            "postgresql://h/db?sslmode=require&PassWord=***&sslpassword=***;a=1",
        ),
        ("bob:hunter2@host", "bob:***@host"),
        ("postgresql://bob@db/x", "postgresql://bob@db/x"),
        ("sqlite:///studies/a@b:c.db", "sqlite:///studies/a@b:c.db"),
        ("sqlite:///C:/studies@home/a.db", "sqlite:///C:/studies@home/a.db"),
        ("", ""),
        ("@@::??==", "@@::??=="),
    ],
)
def test_passwords_are_hidden(url, shown) -> None:
    assert redact(url) == shown


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("my precious notes")
    with pytest.raises(StorageError, match="is not an SQLite database; it was left untouched"):
        open_storage(f"sqlite:///{notes}")
    assert notes.read_text() == "my precious notes"


def test_a_folder_is_not_a_database(tmp_path) -> None:
    with pytest.raises(StorageError, match="names a folder"):
        open_storage(f"sqlite:///{tmp_path}")


def test_missing_database_for_reading(tmp_path) -> None:
    with pytest.raises(StorageError, match="Run autoaccel tune first"):
        open_storage(f"sqlite:///{tmp_path}/none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_creates_the_folder_for_a_new_database(tmp_path) -> None:
    open_storage(f"sqlite:///{tmp_path}/new/autoaccel.db")
    assert (tmp_path / "new" / "autoaccel.db").exists()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("CREATE TABLE studies", "table studies already exists"),
        (
            "INSERT INTO alembic_version",
            "UNIQUE constraint failed: alembic_version.version_num",
        ),
    ],
)
def test_a_schema_created_by_another_process_at_the_same_moment(
    tmp_path, monkeypatch, statement, message
) -> None:
    # Two tuners open a new database together: the slower one's CREATE TABLE, or its row of
    # the schema's version, fails because the faster one's just succeeded. Opening again
    # finds the schema in place.
    import optuna
    import sqlalchemy.exc

    real = optuna.storages.RDBStorage
    calls = []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            real(url, **kwargs)  # the other process wins the race
            raise sqlalchemy.exc.OperationalError(statement, {}, Exception(message))
        return real(url, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    url = f"sqlite:///{tmp_path}/new.db"
    storage = open_storage(url)
    monkeypatch.undo()
    optuna.create_study(study_name="s:train", storage=storage)
    assert len(calls) == 2
    assert optuna.get_all_study_names(url) == ["s:train"]


def test_other_database_errors_are_not_retried(tmp_path, monkeypatch) -> None:
    import optuna
    import sqlalchemy.exc

    calls = []

    def broken(url, **kwargs):
        calls.append(url)
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", broken)
    with pytest.raises(StorageError, match="disk I/O error"):
        open_storage(f"sqlite:///{tmp_path}/new.db")
    assert len(calls) == 1


def test_study_names_fit_a_folder_name() -> None:
    assert check_study_name("a" * 100) == "a" * 100
    with pytest.raises(StorageError, match="at most 100 characters"):
        check_study_name("a" * 101)
    assert StudyFolder("a" * 100).is_folder_name
    assert not StudyFolder("a" * 101).is_folder_name
