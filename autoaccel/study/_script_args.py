"""A study's script arguments: the command line its trials gave the script, kept with the
study (in its task facts) so a resume cannot mix trials of different arguments."""

from __future__ import annotations

import shlex

from autoaccel.errors import StudyError
from autoaccel.knobs import TaskFacts
from autoaccel.task import ScriptTarget


def describe_arguments(target: ScriptTarget) -> str:
    return f"{target.path.name} runs with the arguments: {shlex.join(target.args)}"


def check_same_arguments(study: str, stored: TaskFacts, target: ScriptTarget) -> None:
    """Refuse to continue ``study`` with other script arguments than it was started with:
    its trials would measure another training run."""
    if tuple(stored.script_args) == target.args:
        return
    before = shlex.join(stored.script_args) or "no arguments"
    now = shlex.join(target.args) or "no arguments"
    raise StudyError(
        f"study {study!r} ran {target.path.name} with {before}; this run gives it {now}. "
        "Its trials would not compare: pass the same arguments after -- to continue it, or "
        "use a new --study name for the new arguments."
    )
