"""Finding the Task in a user's script, and every way that can go wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autoaccel.errors import TaskError
from autoaccel.task import Task, load_task, resolve_script


def test_default_attribute_and_name(tasks_dir) -> None:
    task = load_task(str(tasks_dir / "tiny.py"))
    assert isinstance(task, Task)
    assert task.name == "tiny"


def test_named_attribute(tasks_dir) -> None:
    target = resolve_script(f"{tasks_dir / 'tiny.py'}:conv")
    assert target.attribute == "conv" and target.spec.endswith("tiny.py:conv")
    assert isinstance(load_task(target), Task)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("nowhere/train.py", "nowhere/train.py: no such file. Pass the path of your training"),
        ("README.md", "is not a Python file"),
        (f"{'t' * 300}.py", "cannot use t+.py as the training script: File name too long"),
    ],
)
def test_missing_or_wrong_file(script, expected, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("hi")
    with pytest.raises(TaskError, match=expected):
        resolve_script(script)


def test_syntax_error_names_file_and_line(tasks_dir) -> None:
    with pytest.raises(TaskError) as error:
        load_task(str(tasks_dir / "syntax_error.py"))
    message = str(error.value)
    assert "syntax_error.py, line 3: syntax error" in message


def test_no_task_says_what_to_add(tasks_dir) -> None:
    with pytest.raises(TaskError) as error:
        load_task(str(tasks_dir / "no_task.py"))
    assert "has no 'task'" in str(error.value)
    assert "task = autoaccel.Task(...)" in str(error.value)


def test_no_task_by_that_name_lists_the_tasks_found(tasks_dir) -> None:
    with pytest.raises(TaskError, match="It defines these Tasks: .*oom.*segv"):
        load_task(f"{tasks_dir / 'faulty.py'}:nothing_here")


def test_wrong_type(tasks_dir) -> None:
    with pytest.raises(TaskError, match="faulty.py:not_a_task is a int, not an autoaccel.Task"):
        load_task(f"{tasks_dir / 'faulty.py'}:not_a_task")


def test_exception_while_loading_keeps_the_users_traceback(tasks_dir) -> None:
    with pytest.raises(TaskError) as error:
        load_task(str(tasks_dir / "raises_on_import.py"))
    message = str(error.value)
    assert "raised FileNotFoundError while loading: /data/train.csv" in message
    assert 'raises_on_import.py", line 2, in load_dataset' in message


def test_factory_function_is_called(tmp_path) -> None:
    script = tmp_path / "factory.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "def make():\n"
        "    from tiny import build\n"
        "    return build()\n"
    )
    (tmp_path / "tiny.py").write_text(
        (
            pytest.importorskip("pathlib").Path(__file__).parents[1] / "fixtures/tasks/tiny.py"
        ).read_text()
    )
    assert isinstance(load_task(f"{script}:make"), Task)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model": 3}, "Task.model must be callable"),
        ({"train_data": [1, 2, 3][0]}, "Task.train_data must be a map-style dataset"),
        ({"eval_data": []}, "Task.eval_data is empty"),
        ({"epochs": 0}, "Task.epochs must be > 0"),
        ({"run_epochs": -3}, "Task.run_epochs must be > 0"),
        ({"run_epochs": float("nan")}, "Task.run_epochs must be > 0"),
        ({"lr_scaling": "cubic"}, "Task.lr_scaling must be one of none, linear, sqrt"),
        ({"baseline": {"batch_size": -1}}, "Task.baseline: batch_size: Input should be greater"),
        ({"baseline": "fast"}, "Task.baseline must be an autoaccel.Config or a dict"),
    ],
)
def test_bad_task_fields(tasks_dir, changes, expected) -> None:
    import sys

    sys.path.insert(0, str(tasks_dir))
    from tiny import build

    with pytest.raises(TaskError, match=expected):
        build(**changes)


def test_batches_that_are_not_pairs_need_split_batch(tasks_dir) -> None:
    task = load_task(str(tasks_dir / "tiny.py"))
    with pytest.raises(TaskError, match="give the Task a split_batch"):
        task.split({"x": 1})


ARGPARSE_SCRIPT = Path(__file__).parents[1] / "scripts_tests" / "scripts" / "argparse_mlp.py"


def test_the_script_reads_its_own_arguments_while_it_loads() -> None:
    before = list(sys.argv)
    task = load_task(resolve_script(str(ARGPARSE_SCRIPT), ["--lr", "0.5", "--hidden", "4"]))
    assert task.metric_name == "accuracy (argparse_mlp.py --lr 0.5 --hidden 4)"
    assert sys.argv == before  # the caller's own command line is back


def test_a_script_that_exits_on_its_arguments_says_where_they_go() -> None:
    with pytest.raises(TaskError, match=r"exited while loading \(sys.exit\(2\)\).*after --"):
        load_task(resolve_script(str(ARGPARSE_SCRIPT), ["--no-such-flag"]))
