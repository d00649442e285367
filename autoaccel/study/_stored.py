"""Reading a stored autoaccel study back, stage by stage, from the storage alone."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autoaccel import defaults
from autoaccel.errors import StorageError
from autoaccel.knobs import Config, Stage, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import Recommendation
from autoaccel.study._folder import StudyFolder
from autoaccel.study._space import SearchSpace
from autoaccel.study._stage_study import ATTR_KIND, StageStudy, creation_cut_short, stored_goal
from autoaccel.study._storage import split_study_name, stage_study_name

STAGES: tuple[Stage, ...] = ("train", "deploy")


def study_names(storage: Any) -> list[str]:
    """autoaccel studies in ``storage``, each once however many stages it holds."""
    import optuna

    names = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        parts = split_study_name(summary.study_name)
        if parts and parts[0] not in names:
            names.append(parts[0])
    return sorted(names)


def load_stage(storage: Any, study: str, stage: Stage) -> StageStudy | None:
    """The stored stage, or None when the study has no such stage."""
    import optuna

    try:
        optuna_study = optuna.load_study(study_name=stage_study_name(study, stage), storage=storage)
    except KeyError:
        return None
    if creation_cut_short(optuna_study):
        return None
    attrs = optuna_study.user_attrs
    try:
        return StageStudy(
            optuna_study=optuna_study,
            name=study,
            stage=stage,
            space=SearchSpace.from_dict(attrs["search_space"]),
            baseline=Config.model_validate(attrs["baseline"]),
            hardware=HardwareProfile.model_validate(attrs["hardware"]),
            task=TaskFacts.model_validate(attrs["task"]),
            max_metric_drop=float(attrs["max_metric_drop"]),
            version=attrs[ATTR_KIND]["version"],
            goal=stored_goal(attrs),
        )
    except (KeyError, TypeError, ValidationError) as error:
        raise StorageError(
            f"study {stage_study_name(study, stage)!r} is not a readable autoaccel study "
            f"({type(error).__name__}: {str(error).splitlines()[0]}). It may come from another "
            "tool or a newer autoaccel; nothing was changed."
        ) from None


def load_stages(storage: Any, study: str) -> dict[Stage, StageStudy]:
    """Every stage the study holds; a missing study is a :class:`StorageError`."""
    stages: dict[Stage, StageStudy] = {}
    for stage in STAGES:
        stored = load_stage(storage, study, stage)
        if stored is not None:
            stages[stage] = stored
    if not stages:
        known = study_names(storage)
        hint = f" Studies here: {', '.join(known)}." if known else " This storage has none yet."
        raise StorageError(f"no study named {study!r} in this storage.{hint}")
    return stages


FILES_ATTR = "studies_dir"  # the folder autoaccel tune last wrote the study's files in


def files_dir(study: str, stage_attrs: Iterable[dict[str, Any]]) -> Path:
    """Where ``study``'s files are on this machine, from its stages' user attributes.

    ``studies/`` of the working folder when the study's folder is there (a copy of a
    project is its own); else the folder ``autoaccel tune`` last wrote them in, when it is
    on this machine, so reports land beside the recommendation wherever the command runs;
    else ``studies/`` of the working folder (a study tuned on another machine)."""
    if not StudyFolder(study, defaults.STUDIES_DIR).is_folder_name:
        return defaults.STUDIES_DIR  # no folder can hold its files anywhere
    if (defaults.STUDIES_DIR / study).is_dir():
        return defaults.STUDIES_DIR
    for attrs in stage_attrs:
        recorded = attrs.get(FILES_ATTR)
        if isinstance(recorded, str) and (Path(recorded) / study).is_dir():
            return Path(recorded)
    return defaults.STUDIES_DIR


def record_files_dir(stages: dict[Stage, StageStudy], studies_dir: Path) -> None:
    for stored in stages.values():
        stored.optuna_study.set_user_attr(FILES_ATTR, str(studies_dir.resolve()))


def recommendation_of(study: str, stages: dict[Stage, StageStudy]) -> Recommendation:
    """The recommendation per stage, recomputed from the stored trials."""
    first = next(iter(stages.values()))
    recommended = {}
    for stage, stored in stages.items():
        choice = stored.recommendation()
        if choice is not None:
            recommended[stage] = choice
    return Recommendation(
        study=study,
        script=first.task.script,
        hardware=first.hardware.summary(),
        fingerprint=first.fingerprint,
        stages=recommended,
    )
