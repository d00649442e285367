"""Storage that fails after it was opened: a read-only database or folder, a full disk, a
corrupt page, a deletion that fails half-way. Each is an ``Error:`` that says what happened
and what to do, and nothing stored is lost."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from fakes import TINY, FakeRunner, StoredStudy, tune_with_fakes

from autoaccel.cli._errors import file_refusal
from autoaccel.errors import StorageError
from autoaccel.study import TuneOptions, delete_study, plan_deletion
from autoaccel.study._storage_faults import storage_fault


def build(root: Path, *, trials: int = 4) -> TuneOptions:
    options = TuneOptions(
        storage=f"sqlite:///{root}/studies/autoaccel.db",
        studies_dir=root / "studies",
        trials=trials,
        confirm=0,
    )
    tune_with_fakes(options)
    return options


@pytest.fixture
def study(built_once, tmp_path, monkeypatch) -> StoredStudy:
    """Study "tiny" (both stages, 4 trials each) in ``tmp_path/studies``, the working
    directory, at the default storage URL."""
    shutil.copytree(built_once("storage-faults", build) / "studies", tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    return StoredStudy(tmp_path, f"sqlite:///{tmp_path}/studies/autoaccel.db")


def database(study: StoredStudy) -> Path:
    return study.studies_dir / "autoaccel.db"


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run_bound_by_permissions(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``autoaccel ARGS`` run in ``root`` by a user whom file permissions bind. Root is not
    bound by them, so as root it runs in a user namespace of its own, where it is not."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("running as root, and without unshare to drop the privilege")
        prefix = ["unshare", "--user"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "autoaccel", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def assert_error(result: subprocess.CompletedProcess[str], *expected: str, code: int = 1) -> None:
    """An ``Error:`` with ``expected`` in it; by default a run that failed (exit code 1)."""
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr


def test_tune_into_a_read_only_database(study) -> None:
    before = fingerprint(study.studies_dir)
    with read_only(database(study), study.studies_dir):
        result = run_bound_by_permissions(
            study.root, "tune", str(TINY), "--study", "fresh", "--stage", "train"
        )
    assert_error(
        result,
        "the study storage studies/autoaccel.db cannot be written",
        "attempt to write a readonly database",
        "Check that you may write",
    )
    assert "invalid data in the commit" not in result.stderr
    assert fingerprint(study.studies_dir) == before


def test_studies_delete_on_a_read_only_database_deletes_nothing(study) -> None:
    before = fingerprint(study.studies_dir)
    with read_only(database(study), study.studies_dir, study.studies_dir / "tiny"):
        result = run_bound_by_permissions(study.root, "studies", "delete", "tiny", "--yes")
    assert_error(result, "nothing of study 'tiny' was deleted", "cannot be written")
    assert fingerprint(study.studies_dir) == before


def test_an_html_report_into_a_read_only_studies_folder(study) -> None:
    with read_only(study.studies_dir / "tiny"):
        result = run_bound_by_permissions(study.root, "report", "tiny", "-f", "html")
    assert_error(result, "cannot write the report to studies/tiny/report.html", code=2)


def test_tune_with_a_read_only_studies_folder_keeps_its_trials(tmp_path) -> None:
    studies = tmp_path / "studies"
    studies.mkdir()
    storage = f"sqlite:///{tmp_path}/elsewhere.db"
    with read_only(studies):
        result = run_bound_by_permissions(
            tmp_path,
            "tune",
            str(TINY),
            "--storage",
            storage,
            "--stage",
            "train",
            "--trials",
            "1",
            "--confirm",
            "0",
        )
    assert_error(result, "studies/tiny", "Permission denied", "ls -ld")
    (baseline,) = completed(storage).values()
    assert baseline[0] > 0  # its throughput, kept in the storage


def corrupt_page_of(db: Path, table: str) -> None:
    """Overwrite the first page that holds ``table``, as a failing disk would."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        (page,) = connection.execute(
            "SELECT min(pageno) FROM dbstat WHERE name = ?", (table,)
        ).fetchone()
        (size,) = connection.execute("PRAGMA page_size").fetchone()
    with db.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xff" * size)


@pytest.mark.parametrize("table", ["studies", "trial_user_attributes"])
@pytest.mark.parametrize("command", [("studies", "list"), ("report", "tiny")])
def test_a_corrupt_page(study, run_cli, table, command) -> None:
    corrupt_page_of(database(study), table)
    result = run_cli(*command)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: the study storage studies/autoaccel.db is damaged "
        "(database disk image is malformed); autoaccel changed nothing in it. "
        "Restore it from a backup copy"
    )
    assert "sqlite3 studies/autoaccel.db .recover" in result.stderr


@contextlib.contextmanager
def on_every_connection(statement: str) -> Iterator[None]:
    """Run ``statement`` on every SQLite connection opened meanwhile, in this process."""

    def run(connection, record) -> None:
        connection.execute(statement)

    sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", run)
    try:
        yield
    finally:
        sqlalchemy.event.remove(sqlalchemy.pool.Pool, "connect", run)


def completed(storage: str) -> dict[int, list[float]]:
    study = optuna.load_study(study_name="tiny:train", storage=storage)
    return {t.number: t.values for t in study.trials if t.state.name == "COMPLETE"}


def test_a_full_disk_while_tuning_keeps_what_was_stored(tmp_path) -> None:
    options = build(tmp_path)
    before = completed(options.storage)
    with contextlib.closing(sqlite3.connect(tmp_path / "studies" / "autoaccel.db")) as db:
        (pages,) = db.execute("PRAGMA page_count").fetchone()
    more = dataclasses.replace(options, trials=40, stage="train")
    # SQLite's own limit on the file's size fails a write as a full disk does.
    with (
        on_every_connection(f"PRAGMA max_page_count = {pages}"),
        pytest.raises(StorageError) as error,
    ):
        tune_with_fakes(more, FakeRunner())
    message = str(error.value)
    assert "database or disk is full" in message and "Free space" in message
    stopped = completed(options.storage)
    assert stopped.items() >= before.items()
    # With space again, the same command carries on where it stopped.
    tune_with_fakes(more, FakeRunner())
    resumed = completed(options.storage)
    assert resumed.items() >= stopped.items() and len(resumed) > len(stopped)


@contextlib.contextmanager
def failing_deletes(of: Callable[[object], bool]) -> Iterator[None]:
    """A disk error on every ``DELETE FROM studies`` whose parameters ``of`` picks."""

    def fail(connection, cursor, statement, parameters, context, executemany) -> None:
        rows = parameters if executemany else [parameters]
        if statement.startswith("DELETE FROM studies") and any(of(row) for row in rows):
            raise sqlite3.OperationalError("disk I/O error")

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", fail)


def test_a_deletion_that_fails_half_way_deletes_nothing(study) -> None:
    before = fingerprint(study.studies_dir)
    train_id = optuna.storages.RDBStorage(study.storage).get_study_id_from_name("tiny:train")
    plan = plan_deletion(study.storage, "tiny", study.studies_dir)
    assert plan.optuna_studies == ["tiny:deploy", "tiny:train"]
    with (
        failing_deletes(lambda row: train_id in tuple(row)),
        pytest.raises(StorageError, match="nothing of study 'tiny' was deleted"),
    ):
        delete_study(plan)
    assert sorted(optuna.get_all_study_names(study.storage)) == ["tiny:deploy", "tiny:train"]
    assert fingerprint(study.studies_dir) == before


def test_a_file_the_tuner_cannot_write_is_an_error(run_cli, monkeypatch, tmp_path) -> None:
    import autoaccel.study

    def cannot_write(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "studies/tiny/recommendation.tmp")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(autoaccel.study, "tune", cannot_write)
    result = run_cli("tune", str(TINY))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: studies/tiny/recommendation.tmp: No space left on device."
    )
    assert "Free space" in result.stderr


class ServerError(Exception):
    """A PostgreSQL driver's error: its SQLSTATE code says what failed."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


SERVER = "postgresql://bob:hunter2@db/studies"


@pytest.mark.parametrize(
    ("error", "url", "expected"),
    [
        (
            sqlite3.OperationalError("database is locked"),
            "sqlite:///s.db",
            "the study storage s.db stayed locked by another process (database is locked). "
            "Wait for the other autoaccel command",
        ),
        (
            sqlite3.OperationalError("unable to open database file"),
            "sqlite:////data/s.db",
            "the study storage /data/s.db cannot be opened any more",
        ),
        (
            sqlite3.OperationalError("disk I/O error"),
            "sqlite:///s.db",
            "the study storage s.db could not be read or written (disk I/O error). Check the "
            "disk it is on",
        ),
        (
            sqlite3.DatabaseError("file is not a database"),
            "sqlite:///s.db",
            "the study storage s.db is damaged (file is not a database)",
        ),
        (
            ServerError("53100", "could not extend file: No space left on device"),
            SERVER,
            "the study storage postgresql://bob:***@db/studies is out of space (could not "
            "extend file: No space left on device); the change was not saved, and what it "
            "holds is intact. Free space on the database server",
        ),
        (
            ServerError("25006", "cannot execute INSERT in a read-only transaction"),
            SERVER,
            "cannot be written (cannot execute INSERT in a read-only transaction); the change "
            "was not saved, and what it holds is intact. Connect as a user who may write",
        ),
        (ServerError("XX001", "invalid page in block 7"), SERVER, "Restore the database"),
        (ServerError("58030", "could not read block 7"), SERVER, "the database server's disk"),
    ],
)
def test_what_each_storage_failure_means(error, url, expected) -> None:
    fault = storage_fault(error, url)
    assert fault is not None and expected in str(fault)
    assert "hunter2" not in str(fault)


def test_other_database_errors_are_left_as_they_are() -> None:
    assert (
        storage_fault(sqlite3.OperationalError("no such table: studies"), "sqlite:///s.db") is None
    )
    assert storage_fault(ServerError("42P01", 'relation "studies" does not exist'), SERVER) is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.ENOSPC, "No space left on device. Free space on its disk (df -h studies/tiny)"),
        (errno.EDQUOT, "Your disk quota is used up"),
        (errno.EROFS, "Run autoaccel from a folder on a writable file system"),
        (errno.EACCES, "Check that you may write there (ls -ld studies/tiny)"),
        (errno.EPERM, "Check that you may write there (ls -ld studies/tiny)"),
    ],
)
def test_what_each_refused_file_means(code, expected) -> None:
    refusal = file_refusal(OSError(code, os.strerror(code), "studies/tiny/recommendation.tmp"))
    assert refusal is not None
    assert refusal.startswith("studies/tiny/recommendation.tmp: ") and expected in refusal


def test_other_file_errors_keep_their_traceback() -> None:
    assert file_refusal(OSError(errno.ENOENT, "No such file or directory", "x.yaml")) is None
    assert file_refusal(OSError(errno.ENOSPC, "No space left on device")) is None
