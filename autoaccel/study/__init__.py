"""Studies: the Optuna search over knobs, its storage, resuming, and reading it back;
listing and deleting studies, and the folder of files kept beside them.

The tuner's process alone talks to the storage; it never imports the user's code.
"""

from __future__ import annotations

from autoaccel.study._catalog import StageSummary, StudySummary, list_studies, show_study
from autoaccel.study._delete import Deletion, delete_study, plan_deletion
from autoaccel.study._devices import describe_sharing
from autoaccel.study._folder import StudyFolder
from autoaccel.study._progress import SilentProgress, TuneProgress
from autoaccel.study._space import SearchSpace, default_space_path, fit_to, load_space
from autoaccel.study._stage_study import StageStudy
from autoaccel.study._state import TuneOptions
from autoaccel.study._storage import (
    open_storage,
    redact,
    stage_study_name,
)
from autoaccel.study._stored import (
    STAGES,
    files_dir,
    load_stage,
    load_stages,
    recommendation_of,
    study_names,
)
from autoaccel.study._tune import TuneResult, tune

__all__ = [
    "STAGES",
    "Deletion",
    "SearchSpace",
    "SilentProgress",
    "StageStudy",
    "StageSummary",
    "StudyFolder",
    "StudySummary",
    "TuneOptions",
    "TuneProgress",
    "TuneResult",
    "default_space_path",
    "delete_study",
    "describe_sharing",
    "files_dir",
    "fit_to",
    "list_studies",
    "load_space",
    "load_stage",
    "load_stages",
    "open_storage",
    "plan_deletion",
    "recommendation_of",
    "redact",
    "show_study",
    "stage_study_name",
    "study_names",
    "tune",
]
