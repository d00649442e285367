"""Measuring one configuration, inside a trial process. Nothing here writes to storage.

``Measurement`` and ``Throughput`` are plain data and import no torch; the measuring
functions load torch on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoaccel.measure._result import Measurement, MemoryKind, Throughput

if TYPE_CHECKING:
    from autoaccel.measure._deploy import measure_deploy
    from autoaccel.measure._train import measure_train

__all__ = ["Measurement", "MemoryKind", "Throughput", "measure_deploy", "measure_train"]

_LAZY = {"measure_train": "autoaccel.measure._train", "measure_deploy": "autoaccel.measure._deploy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoaccel.measure' has no attribute {name!r}")
