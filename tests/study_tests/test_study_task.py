"""A study tunes one task: a resume with another script or another Task of the same script
is refused before any trial, and a Task name the script lacks is refused with the ones it
has."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from fakes import TINY, FakeRunner, cpu_host, task_facts, tune_with_fakes

from autoaccel.errors import StudyError, TaskError
from autoaccel.study import tune

# The script's own digest: a resume of an unchanged script reuses the stored facts.
FACTS = task_facts(script_sha256=hashlib.sha256(TINY.read_bytes()).hexdigest())


def start(options) -> None:
    tune_with_fakes(dataclasses.replace(options, trials=2), facts=FACTS)


def test_another_task_of_the_same_script_is_refused(options, tmp_path) -> None:
    start(options)
    runner = FakeRunner()
    with pytest.raises(StudyError) as error:
        tune_with_fakes(options, runner, script=f"{TINY}:conv", facts=FACTS)
    assert f"study 'tiny' tunes {TINY}; {TINY}:conv is another task" in str(error.value)
    assert "use a new --study name" in str(error.value)
    assert runner.specs == []


def test_another_script_of_the_same_name_is_refused(options, tmp_path) -> None:
    start(options)
    other = tmp_path / "elsewhere" / "tiny.py"
    other.parent.mkdir()
    other.write_text(TINY.read_text())
    with pytest.raises(StudyError, match=f"{other} is another task"):
        tune_with_fakes(options, script=str(other), facts=task_facts(script=str(other)))


def test_the_same_task_resumes(options) -> None:
    start(options)
    result = tune_with_fakes(dataclasses.replace(options, trials=3), facts=FACTS)
    assert result.recommendation.stages["train"].finished_trials == 3


def test_a_task_name_the_script_lacks_is_named_with_the_ones_it_has(options) -> None:
    start(options)

    def inspect(target):
        raise TaskError(f"{target.path} has no {target.attribute!r}. It defines: task, conv.")

    runner = FakeRunner()
    with pytest.raises(TaskError, match="has no 'nosuch'. It defines: task, conv."):
        tune(f"{TINY}:nosuch", options, run=runner, hardware=cpu_host(), inspect=inspect)
    assert runner.specs == []
