"""Measuring one configuration, inside a trial process. Nothing here writes to storage.

``Measurement`` and ``Throughput`` are plain data and import no torch; the measuring
functions load torch on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoaccel.measure._latency import Latency, percentile, summarise
from autoaccel.measure._result import Measurement, MemoryKind, Pace, Throughput
from autoaccel.measure._stability import instability, is_bimodal

if TYPE_CHECKING:
    from autoaccel.measure._deploy import deploy_pace, measure_deploy
    from autoaccel.measure._pace import train_pace
    from autoaccel.measure._train import measure_train

__all__ = [
    "Latency",
    "Measurement",
    "MemoryKind",
    "Pace",
    "Throughput",
    "deploy_pace",
    "instability",
    "is_bimodal",
    "measure_deploy",
    "measure_train",
    "percentile",
    "summarise",
    "train_pace",
]

_LAZY = {
    "measure_train": "autoaccel.measure._train",
    "measure_deploy": "autoaccel.measure._deploy",
    "deploy_pace": "autoaccel.measure._deploy",
    "train_pace": "autoaccel.measure._pace",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoaccel.measure' has no attribute {name!r}")
