"""Deleting a study: its Optuna studies and the files autoaccel wrote for it.

Deleting is planned first (what exactly would go), so the command can show the plan and
ask before anything is touched.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from autoaccel.errors import StorageError, StorageFault
from autoaccel.study._folder import StudyFolder
from autoaccel.study._storage import open_storage, redact, stage_study_name
from autoaccel.study._stored import STAGES, files_dir, study_names


@dataclasses.dataclass(frozen=True)
class Deletion:
    """What deleting a study removes: its Optuna studies and autoaccel's own files."""

    storage: str
    study: str
    optuna_studies: list[str]
    trials: int
    files: list[Path]
    folder: StudyFolder


def plan_deletion(storage: str, study: str, studies_dir: Path | None = None) -> Deletion:
    """What :func:`delete_study` would remove; nothing is changed. A study that is not in
    ``storage`` is a :class:`StorageError` naming the ones that are. The files are looked
    for in ``studies_dir``, by default where ``autoaccel tune`` wrote them."""
    import optuna

    handle = open_storage(storage, create=False)
    wanted = {stage_study_name(study, stage) for stage in STAGES}
    found = [
        s
        for s in optuna.get_all_study_summaries(handle, include_best_trial=False)
        if s.study_name in wanted
    ]
    if not found:
        known = study_names(handle)
        hint = f" Studies here: {', '.join(known)}." if known else " This storage has none."
        raise StorageError(
            f"no study named {study!r} in {redact(storage)}; nothing was deleted.{hint}"
        )
    if studies_dir is None:
        studies_dir = files_dir(study, (s.user_attrs for s in found))
    folder = StudyFolder(study, studies_dir)
    return Deletion(
        storage=storage,
        study=study,
        optuna_studies=sorted(s.study_name for s in found),
        trials=sum(s.n_trials for s in found),
        files=folder.own_files(),
        folder=folder,
    )


def delete_study(deletion: Deletion) -> list[str]:
    """Remove what ``deletion`` lists; returns what was removed, in words.

    The Optuna studies go first, all or none: a storage that fails leaves the whole study
    and its files."""
    handle = open_storage(deletion.storage, create=False)
    try:
        deleted = _delete_together(handle, deletion.optuna_studies)
    except StorageFault as error:
        raise StorageFault(f"nothing of study {deletion.study!r} was deleted: {error}") from None
    removed = [f"Optuna study {name}" for name in deleted]
    for path in deletion.files:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise StorageFault(
                f"deleted {', '.join(removed)}, but cannot delete {path}: {error.strerror}."
            ) from None
        removed.append(str(path))
    # Folders go only when nothing else is left in them: other files are the user's.
    for folder in deletion.folder.own_folders():
        try:
            folder.rmdir()
        except OSError:
            continue
        removed.append(f"{folder}/")
    return removed


def _delete_together(storage: Any, names: list[str]) -> list[str]:
    """Delete the Optuna studies ``names`` in one transaction, so that a failure leaves
    every one of them; returns the ones found (another process may have deleted some).

    ``optuna.delete_study`` commits one study at a time: a failure after the first would
    leave half of an autoaccel study. This does what it does, for all of them at once.
    """
    from optuna.storages._rdb.models import StudyModel

    session = storage.scoped_session()
    try:
        found = [StudyModel.find_by_name(name, session) for name in names]
        studies = [study for study in found if study is not None]
        for study in studies:
            session.delete(study)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return [study.study_name for study in studies]
