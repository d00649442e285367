"""The user's side: ``autoaccel.Task``, loading it from a script, and the loop that trains it.

Importing this package does not import torch; the loop does when a trial runs.
"""

from __future__ import annotations

from autoaccel.task._facts import TaskFacts
from autoaccel.task._load import ScriptTarget, load_task, resolve_script, user_traceback
from autoaccel.task._task import Task

__all__ = ["ScriptTarget", "Task", "TaskFacts", "load_task", "resolve_script", "user_traceback"]
