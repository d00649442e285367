"""The user's side: ``autoaccel.Task`` and reading it from a script.

Importing this package does not import torch.
"""

from __future__ import annotations

from autoaccel.task._load import (
    ScriptTarget,
    is_user_file,
    load_task,
    resolve_script,
    user_traceback,
)
from autoaccel.task._task import Task

__all__ = [
    "ScriptTarget",
    "Task",
    "is_user_file",
    "load_task",
    "resolve_script",
    "user_traceback",
]
