"""The studies in a storage: a line each, a short summary of one, and deleting one.

Deleting is planned first (what exactly would go), so the command can show the plan and
ask before anything is touched.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autoaccel import defaults
from autoaccel.errors import StorageError
from autoaccel.recommend import FILE_NAME, recommend_stage
from autoaccel.report._summary import changed_knobs

# Files autoaccel itself writes into studies/<name>/: deleting a study deletes them too.
_OWN_FILES = (FILE_NAME, "report.html", "report.md")
_OWN_GLOBS = ("weights-*.pt",)
_OWN_FOLDERS = ("report_files",)


class StageSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str
    optuna_study: str
    trials: int
    finished: int
    outcomes: dict[str, int]
    feasible: int | None = None
    speedup: float | None = None
    recommended_trial: int | None = None
    baseline_trial: int | None = None
    recommended: dict[str, Any] | None = None
    changed: dict[str, Any] | None = Field(default=None, description="Unlike the baseline.")


class StudySummary(BaseModel):
    """One study at a glance; ``error`` says why a stored study could not be read."""

    model_config = ConfigDict(frozen=True)

    name: str
    script: str | None = None
    hardware: str | None = None
    fingerprint: str | None = None
    last_update: datetime.datetime | None = None
    stages: dict[str, StageSummary] = Field(default_factory=dict)
    error: str | None = None

    @property
    def best_speedup(self) -> float | None:
        speedups = [s.speedup for s in self.stages.values() if s.speedup is not None]
        return max(speedups, default=None)


def list_studies(storage: str) -> list[StudySummary]:
    """Every autoaccel study in ``storage``; one that cannot be read is listed with why."""
    from autoaccel.study import open_storage, study_names

    handle = open_storage(storage, create=False)
    summaries = []
    for name in study_names(handle):
        try:
            summaries.append(_summary(handle, name))
        except StorageError as error:
            summaries.append(StudySummary(name=name, error=str(error)))
    return summaries


def show_study(storage: str, name: str) -> StudySummary:
    """The summary of study ``name``; a missing one is a :class:`StorageError`."""
    from autoaccel.study import open_storage

    return _summary(open_storage(storage, create=False), name)


def _summary(handle: Any, name: str) -> StudySummary:
    from autoaccel.study import load_stages

    stages = load_stages(handle, name)
    first = next(iter(stages.values()))
    summaries = {}
    completed = []
    for stage, stored in stages.items():
        trials = stored.optuna_study.get_trials(deepcopy=False)
        completed += [t.datetime_complete for t in trials if t.datetime_complete is not None]
        records = stored.records()
        rec = recommend_stage(records, stage, stored.max_metric_drop, stored.largest_batch)
        summaries[stage] = StageSummary(
            stage=stage,
            optuna_study=stored.optuna_study.study_name,
            trials=len(trials),
            finished=stored.finished_count(),
            outcomes=dict(Counter(r.outcome for r in records)),
            feasible=rec.feasible_trials if rec else None,
            speedup=rec.speedup if rec else None,
            recommended_trial=rec.trial if rec else None,
            baseline_trial=rec.baseline_trial if rec else None,
            recommended=rec.config.for_stage(stage) if rec else None,
            changed=changed_knobs(rec, stored.baseline.for_stage(stage)) if rec else None,
        )
    return StudySummary(
        name=name,
        script=first.task.script,
        hardware=first.hardware.summary(),
        fingerprint=first.fingerprint,
        last_update=max(completed, default=None),
        stages=summaries,
    )


@dataclasses.dataclass(frozen=True)
class Deletion:
    """What deleting a study removes: its Optuna studies and autoaccel's own files."""

    storage: str
    study: str
    optuna_studies: list[str]
    trials: int
    files: list[Path]
    folder: Path


def plan_deletion(storage: str, study: str, studies_dir: Path = defaults.STUDIES_DIR) -> Deletion:
    """What :func:`delete_study` would remove; nothing is changed. A study that is not in
    ``storage`` is a :class:`StorageError` naming the ones that are."""
    import optuna

    from autoaccel.study import STAGES, open_storage, redact, stage_study_name, study_names

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
    folder = studies_dir / study
    return Deletion(
        storage=storage,
        study=study,
        optuna_studies=sorted(s.study_name for s in found),
        trials=sum(s.n_trials for s in found),
        files=_own_files(folder) if Path(study).name == study else [],
        folder=folder,
    )


def delete_study(deletion: Deletion) -> list[str]:
    """Remove what ``deletion`` lists; returns what was removed, in words."""
    import optuna

    from autoaccel.study import open_storage

    handle = open_storage(deletion.storage, create=False)
    removed = []
    for name in deletion.optuna_studies:
        try:
            optuna.delete_study(study_name=name, storage=handle)
        except KeyError:
            continue  # deleted meanwhile, by another process
        removed.append(f"Optuna study {name}")
    for path in deletion.files:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise StorageError(
                f"deleted {', '.join(removed)}, but cannot delete {path}: {error.strerror}."
            ) from None
        removed.append(str(path))
    # Folders go only when nothing else is left in them: other files are the user's.
    for folder in [*(deletion.folder / name for name in _OWN_FOLDERS), deletion.folder]:
        try:
            folder.rmdir()
        except OSError:
            continue
        removed.append(f"{folder}/")
    return removed


def _own_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [folder / name for name in _OWN_FILES if (folder / name).is_file()]
    for pattern in _OWN_GLOBS:
        files += sorted(folder.glob(pattern))
    for name in _OWN_FOLDERS:
        if (folder / name).is_dir():
            files += sorted(p for p in (folder / name).glob("*.png") if p.is_file())
    return files
