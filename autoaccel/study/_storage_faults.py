"""What a failing study storage means, in words a user can act on.

Optuna reports every failed commit as "invalid data in the commit, e.g. exceeding max
length", whatever the cause. Every storage autoaccel opens hands its database errors to
:func:`storage_fault` first (SQLAlchemy's ``handle_error`` event), so what is raised is a
:class:`StorageFault` naming the cause (read-only, full, damaged...) and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoaccel.errors import StorageFault
from autoaccel.study._storage import redact

# Fragments of SQLite's messages for its result codes, and what each means.
_SQLITE_MESSAGES = (
    ("readonly database", "read_only"),
    ("database or disk is full", "full"),
    ("database disk image is malformed", "damaged"),
    ("file is not a database", "damaged"),
    ("disk I/O error", "disk"),
    ("database is locked", "locked"),
    ("unable to open database file", "gone"),
)
# PostgreSQL's SQLSTATE codes for the same.
_SQLSTATES = {
    "25006": "read_only",  # read_only_sql_transaction
    "53100": "full",  # disk_full
    "XX001": "damaged",  # data_corrupted
    "XX002": "damaged",  # index_corrupted
    "58030": "disk",  # io_error
}
# Per cause: what happened, what to do with an SQLite file, and with a database server.
_ADVICE = {
    "read_only": (
        "cannot be written ({detail}); the change was not saved, and what it holds is intact",
        "Check that you may write the file and its folder (ls -l {where}), or copy it to a "
        "folder you can write and pass --storage sqlite:///PATH-OF-THE-COPY",
        "Connect as a user who may write, to a server that is not a read-only replica",
    ),
    "full": (
        "is out of space ({detail}); the change was not saved, and what it holds is intact",
        "Free space on its disk (df -h {folder}), then run the same command again: "
        "autoaccel tune resumes a study",
        "Free space on the database server, then run the same command again: autoaccel "
        "tune resumes a study",
    ),
    "damaged": (
        "is damaged ({detail}); autoaccel changed nothing in it",
        "Restore it from a backup copy, or keep what SQLite can still read: sqlite3 {where} "
        ".recover | sqlite3 recovered.db, then pass --storage sqlite:///recovered.db",
        "Restore the database from a backup; the server's log says what is damaged",
    ),
    "disk": (
        "could not be read or written ({detail})",
        "Check the disk it is on (dmesg) and its free space, then run the command again",
        "Check the database server's disk and its log, then run the command again",
    ),
    "locked": (
        "stayed locked by another process ({detail})",
        "Wait for the other autoaccel command using it to finish, or stop it, then run "
        "this one again",
        "Wait for the other autoaccel command using it to finish, or stop it, then run "
        "this one again",
    ),
    "gone": (
        "cannot be opened any more ({detail})",
        "Check that the file and its folder still exist and that you may read and write "
        "both: SQLite writes a journal beside the file",
        "Check that the database server is running and reachable",
    ),
}


def storage_fault(error: BaseException, url: str) -> StorageFault | None:
    """The :class:`StorageFault` that explains ``error`` (a DB-API or SQLAlchemy error)
    from the storage at ``url``; None for an error that says nothing about the storage."""
    cause = getattr(error, "orig", None) or error
    kind = _kind(cause)
    if kind is None:
        return None
    text = str(cause).strip()
    detail = text.splitlines()[0] if text else type(cause).__name__
    path = _sqlite_file(url)
    happened, file_advice, server_advice = _ADVICE[kind]
    template = "the study storage {where} " + happened + ". "
    template += (file_advice if path else server_advice) + "."
    folder = str(Path(path).parent) if path else ""
    return StorageFault(template.format(detail=detail, where=path or redact(url), folder=folder))


def explain_faults(storage: Any, url: str) -> None:
    """Make every later database error of ``storage`` (an Optuna RDB storage) that
    :func:`storage_fault` explains raise its :class:`StorageFault` instead."""
    from sqlalchemy import event

    def explain(context: Any) -> StorageFault | None:
        return storage_fault(context.original_exception, url)

    event.listen(storage.engine, "handle_error", explain)


def _kind(error: BaseException) -> str | None:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if code in _SQLSTATES:
        return _SQLSTATES[code]
    text = str(error)
    return next((kind for marker, kind in _SQLITE_MESSAGES if marker in text), None)


def _sqlite_file(url: str) -> str | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1] if ":///" in url else ""
    return path if path and path != ":memory:" else None
