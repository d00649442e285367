"""The training engine: the loop autoaccel owns, applying every knob the same way to any
task. Trial measurement and ``autoaccel.train`` both train through it, so what is measured
is what trains. It knows nothing of studies or reports.

Importing this package imports torch: only trial processes and ``autoaccel.train`` do.
"""

from __future__ import annotations

from autoaccel.engine._distributed import (
    Rank,
    free_port,
    from_main_rank,
    is_main_rank,
    join,
    leave,
    rank_environment,
    rank_from_environment,
)
from autoaccel.engine._inspect import inspect_task
from autoaccel.engine._loop import (
    Diverged,
    TooSlow,
    TrainingRun,
    call_model,
    check_finite,
    check_pace,
    eval_loader,
    evaluate,
    sample_count,
    seed_everything,
    synchronize,
    to_device,
    use_cores,
)

__all__ = [
    "Diverged",
    "Rank",
    "TooSlow",
    "TrainingRun",
    "call_model",
    "check_finite",
    "check_pace",
    "eval_loader",
    "evaluate",
    "free_port",
    "from_main_rank",
    "inspect_task",
    "is_main_rank",
    "join",
    "leave",
    "rank_environment",
    "rank_from_environment",
    "sample_count",
    "seed_everything",
    "synchronize",
    "to_device",
    "use_cores",
]
