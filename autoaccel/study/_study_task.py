"""Which task a study tunes: the script and the name of its Task, kept in the study's task
facts, so a resume cannot measure another task against the first one's baseline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autoaccel.errors import StudyError
from autoaccel.knobs import TaskFacts
from autoaccel.task import ScriptTarget


def check_same_task(
    study: str,
    stored: TaskFacts,
    target: ScriptTarget,
    inspect: Callable[[ScriptTarget], TaskFacts],
) -> None:
    """Refuse to continue ``study``, which tunes the task of ``stored``, with ``target``'s.

    ``target`` is inspected first, so a Task name its script does not define is refused
    with the names it does define.
    """
    tuned = ScriptTarget(Path(stored.script).resolve(), stored.attribute)
    if (tuned.path, tuned.attribute) == (target.path, target.attribute):
        return
    inspect(target)
    raise StudyError(
        f"study {study!r} tunes {tuned.spec}; {target.spec} is another task, and its trials "
        "would be measured against the first one's baseline: use a new --study name for it."
    )
