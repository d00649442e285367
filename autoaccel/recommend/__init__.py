"""The recommendation: the fastest feasible configuration per stage, with its evidence."""

from __future__ import annotations

from autoaccel.recommend._model import (
    FILE_NAME,
    Recommendation,
    StageRecommendation,
    read_recommendation,
    recommendation_path,
    stage_config_data,
)

__all__ = [
    "FILE_NAME",
    "Recommendation",
    "StageRecommendation",
    "read_recommendation",
    "recommendation_path",
    "stage_config_data",
]
