"""Opening study storage by URL, with errors that say what to do."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

from autoaccel import defaults
from autoaccel.errors import StorageError

STAGE_SEPARATOR = ":"
_SCHEMES = ("sqlite", "postgresql", "mysql")
# File systems allow 255 bytes in a folder name; this leaves room for anything added to it.
MAX_STUDY_NAME = 100


# Query parameters that carry a password: password=, sslpassword=, passwd=, pwd=.
_SECRET_PARAMETER = re.compile(r"(?<=[?&;])([^=&;]*(?:pass|pwd)[^=&;]*)=[^&;]*", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL with every password hidden, for messages; never fails, whatever the text.

    A password ends at the URL's last ``@`` (drivers differ on an unescaped ``@`` in it,
    so hiding up to the last one hides all of it), and ``password=`` in the query is one
    too.
    """
    start, end, password = _password_span(url)
    if password:
        url = f"{url[:start]}***{url[end:]}"
    return _SECRET_PARAMETER.sub(r"\1=***", url)


def _password_span(url: str) -> tuple[int, int, str]:
    """Where the password after ``user:`` lies in ``url``, and the password ("" if none)."""
    after_scheme = url.find("://")
    userinfo_start = after_scheme + 3 if after_scheme >= 0 else 0
    at = url.rfind("@")
    user, colon, _ = url[userinfo_start : max(at, userinfo_start)].partition(":")
    if at < userinfo_start or not colon or "/" in user:  # a path such as sqlite:///a:b@c.db
        return 0, 0, ""
    start = userinfo_start + len(user) + 1
    return start, at, url[start:at]


def _hide_secrets(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with the URL's passwords hidden, and the
    pieces between their ``@`` too: a driver may read one as part of the host name."""
    secrets = [_password_span(url)[2]]
    secrets += [match.group(0).split("=", 1)[1] for match in _SECRET_PARAMETER.finditer(url)]
    pieces = {piece for secret in secrets for piece in (secret, *secret.split("@"))}
    # Shorter pieces would hide ordinary words and give little away.
    for piece in sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def stage_study_name(study: str, stage: str) -> str:
    """The Optuna study that holds one stage of an autoaccel study."""
    return f"{study}{STAGE_SEPARATOR}{stage}"


def split_study_name(optuna_name: str) -> tuple[str, str] | None:
    """``(study, stage)`` for an autoaccel stage study name, else None."""
    study, sep, stage = optuna_name.rpartition(STAGE_SEPARATOR)
    return (study, stage) if sep and study and stage in ("train", "deploy") else None


def check_study_name(name: str) -> str:
    """``name``, if a new study may take it: it names the study's folder."""
    if len(name) > MAX_STUDY_NAME:
        raise StorageError(
            f"study name {name[:20]}... ({len(name)} characters) is too long: a study's folder "
            f"is named after it, so use at most {MAX_STUDY_NAME} characters."
        )
    if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
        raise StorageError(
            f"study name {name!r} is not usable: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit."
        )
    return name


def open_storage(url: str, *, create: bool = True, heartbeat_s: int | None = None) -> Any:
    """An Optuna RDB storage for ``url``.

    For SQLite, the folder is created when ``create`` is set (the first ``tune``); a report
    on a missing file is an error instead of an empty database. A tuner passes
    ``heartbeat_s``: it records a heartbeat of each trial it runs that often, and takes a
    trial whose heartbeat is older than twice that for one whose tuner is gone.
    """
    import sqlalchemy.exc

    from autoaccel.study._storage_faults import explain_faults, storage_fault

    scheme = url.split(":", 1)[0].split("+", 1)[0] if "://" in url else ""
    if scheme not in _SCHEMES:
        raise StorageError(
            f"storage URL {redact(url)!r} is not one autoaccel can use. Use "
            f"{defaults.STORAGE} (the default) or postgresql://USER:PASSWORD@HOST/DATABASE."
        )
    if scheme == "sqlite":
        _prepare_sqlite(url, create)
    try:
        storage = _connect(url, heartbeat_s)
    except ImportError:
        raise StorageError(
            f"the database driver for {redact(url)} is not installed; for PostgreSQL run "
            "pip install 'autoaccel[postgres]'."
        ) from None
    except (sqlalchemy.exc.SQLAlchemyError, RuntimeError, ValueError) as error:
        fault = storage_fault(error, url)
        if fault is not None:
            raise fault from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        first = _hide_secrets(first, url)
        raise StorageError(
            f"cannot open the study storage {redact(url)}: {first}. Check the URL, that the "
            "database server is running, and that this is an Optuna database."
        ) from None
    explain_faults(storage, url)
    return storage


def _connect(url: str, heartbeat_s: int | None, attempts: int = 3) -> Any:
    """Open the storage, retrying when another process created its tables at the same moment.

    Two tuners (or a tuner and a report) opening a new database together both try to create
    Optuna's schema; the slower one fails with "already exists" (a table) or with a unique
    constraint on the schema's version row, and the schema is then there.
    """
    import optuna
    import sqlalchemy.exc

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():  # heartbeat_interval is marked experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, skip_compatibility_check=False, heartbeat_interval=heartbeat_s
                )
        except sqlalchemy.exc.SQLAlchemyError as error:
            if not _created_meanwhile(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _created_meanwhile(error: Exception) -> bool:
    text = str(error)
    return "already exists" in text or (
        "alembic_version" in text and ("UNIQUE" in text or "duplicate key" in text)
    )


def _prepare_sqlite(url: str, create: bool) -> None:
    path_text = url.split(":///", 1)[-1] if ":///" in url else ""
    if not path_text or path_text == ":memory:":
        raise StorageError(
            f"{redact(url)} keeps the studies in memory, and they would be lost when the "
            f"command ends; name a file, such as {defaults.STORAGE}."
        )
    path = Path(path_text)
    try:
        _check_sqlite_file(path, url, create)
    except OSError as error:
        raise StorageError(f"cannot use {path} (from {redact(url)}): {error.strerror}.") from None


def _check_sqlite_file(path: Path, url: str, create: bool) -> None:
    if path.is_dir():
        raise StorageError(f"{redact(url)} names a folder, not a database file.")
    if path.exists():
        with path.open("rb") as handle:
            header = handle.read(16)
        if header and header != b"SQLite format 3\x00":
            raise StorageError(
                f"{path} exists but is not an SQLite database; it was left untouched. Point "
                "--storage at another file."
            )
        return
    if not create:
        raise StorageError(
            f"no study storage at {path} (from {redact(url)}). Run autoaccel tune first, or "
            "pass --storage with the URL your studies are in."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
