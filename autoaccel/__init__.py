"""autoaccel: measure-driven search for the fastest PyTorch setup whose accuracy holds.

Importing this package stays light (no torch): the CLI answers ``--help`` fast, and the
tuner's parent process never needs torch. ``Task`` and ``train`` load torch on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoaccel._version import __version__

if TYPE_CHECKING:
    from autoaccel._train import train
    from autoaccel.knobs import Config
    from autoaccel.task import Task

__all__ = ["Config", "Task", "__version__", "train"]

_LAZY = {"Task": "autoaccel.task", "train": "autoaccel._train", "Config": "autoaccel.knobs"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autoaccel' has no attribute {name!r}")
