"""The recommendation: the fastest feasible configuration per stage, with its evidence.

Pure functions of stored trial records, so a recommendation can be rebuilt anywhere from
the database alone.
"""

from __future__ import annotations

from autoaccel.recommend._compute import (
    baseline_of,
    best_feasible,
    closest_to_limits,
    is_feasible,
    limits,
    recommend_stage,
)
from autoaccel.recommend._goal import (
    LATENCY_LIMIT,
    MEMORY_LIMIT,
    OBJECTIVES,
    Objective,
    ServingGoal,
    parse_memory,
)
from autoaccel.recommend._model import (
    FILE_NAME,
    Recommendation,
    StageRecommendation,
    read_recommendation,
    stage_config_data,
)
from autoaccel.recommend._paired import (
    MAX_ROUNDS,
    MIN_ROUNDS,
    Confirmation,
    Estimate,
    MetricCheck,
    Round,
    Verdict,
    estimate,
    judge,
    ratios,
)
from autoaccel.recommend._records import Role, TrialRecord

__all__ = [
    "FILE_NAME",
    "LATENCY_LIMIT",
    "MAX_ROUNDS",
    "MEMORY_LIMIT",
    "MIN_ROUNDS",
    "OBJECTIVES",
    "Confirmation",
    "Estimate",
    "MetricCheck",
    "Objective",
    "Recommendation",
    "Role",
    "Round",
    "ServingGoal",
    "StageRecommendation",
    "TrialRecord",
    "Verdict",
    "baseline_of",
    "best_feasible",
    "closest_to_limits",
    "estimate",
    "is_feasible",
    "judge",
    "limits",
    "parse_memory",
    "ratios",
    "read_recommendation",
    "recommend_stage",
    "stage_config_data",
]
