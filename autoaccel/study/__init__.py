"""Studies: the Optuna search over knobs, its storage, resuming, and reading it back.

The tuner's process alone talks to the storage; it never imports the user's code.
"""

from __future__ import annotations

from autoaccel.study._progress import SilentProgress, TuneProgress
from autoaccel.study._space import SearchSpace, default_space_path, fit_to, load_space
from autoaccel.study._stage_study import StageStudy
from autoaccel.study._storage import (
    open_storage,
    redact,
    stage_study_name,
)
from autoaccel.study._stored import (
    STAGES,
    load_stage,
    load_stages,
    recommendation_of,
    study_names,
)
from autoaccel.study._tune import (
    TuneOptions,
    TuneResult,
    tune,
)

__all__ = [
    "STAGES",
    "SearchSpace",
    "SilentProgress",
    "StageStudy",
    "TuneOptions",
    "TuneProgress",
    "TuneResult",
    "default_space_path",
    "fit_to",
    "load_space",
    "load_stage",
    "load_stages",
    "open_storage",
    "recommendation_of",
    "redact",
    "stage_study_name",
    "study_names",
    "tune",
]
