"""The user's side: ``autoaccel.Task``, loading it from a script, and the loop that trains it.

Importing this package does not import torch; the loop does when a trial runs.
"""

from __future__ import annotations

from autoaccel.task._facts import TaskFacts
from autoaccel.task._load import ScriptTarget, load_task, resolve_script, user_traceback
from autoaccel.task._task import Task
from autoaccel.task._train import TrainResult, train

__all__ = [
    "ScriptTarget",
    "Task",
    "TaskFacts",
    "TrainResult",
    "load_task",
    "resolve_script",
    "train",
    "user_traceback",
]
