"""Classifying how a trial ended, without running one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autoaccel.engine import Diverged
from autoaccel.runner import classify_exception, is_oom_error
from autoaccel.runner._outcome import classify_exit, describe_exit


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB"),
        RuntimeError("CUDA error: out of memory"),
        RuntimeError("cuBLAS failed: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"),
        MemoryError(),
    ],
)
def test_out_of_memory_errors(error) -> None:
    assert is_oom_error(error)


def test_other_errors_are_not_oom() -> None:
    assert not is_oom_error(RuntimeError("shape mismatch"))
    assert not is_oom_error(ValueError("out of memory"))  # not an allocation failure type


def raise_here(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_diverged_and_crash_outcomes(tmp_path) -> None:
    assert classify_exception(raise_here(Diverged("loss became nan")), tmp_path)[:2] == (
        "diverged",
        "Diverged: loss became nan",
    )
    outcome, reason, trace = classify_exception(raise_here(RuntimeError("inductor")), tmp_path)
    assert (outcome, reason) == ("crash", "RuntimeError: inductor")
    assert "Traceback" in trace


def test_error_from_a_worker_names_the_users_file(tmp_path) -> None:
    folded = RuntimeError(
        f'Caught ValueError in DataLoader worker process 0.\n  File "{tmp_path}/train.py"'
    )
    assert classify_exception(raise_here(folded), Path(tmp_path))[0] == "user_error"


def fatal_stack(*frames: str) -> str:
    """What faulthandler writes for a fatal signal, most recent call first."""
    lines = [
        "Fatal Python error: Segmentation fault",
        "",
        "Stack (most recent call first):",
    ]
    lines += [f"  {frame}" for frame in frames]
    return "\n".join([*lines, "", "Extension modules: numpy.core._multiarray_umath (total: 1)"])


def test_a_signal_with_the_tasks_code_on_the_stack_is_the_users(tmp_path) -> None:
    stack = fatal_stack(
        'File "/venv/lib/python3.11/site-packages/native/__init__.py", line 3 in call',
        f'File "{tmp_path}/model.py", line 12 in forward',
        f'File "{tmp_path}/model.py", line 40 in step',
        'File "/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1 in _call',
    )
    outcome, reason, trace = classify_exit(-11, stack, tmp_path)
    assert outcome == "user_error"
    assert reason == (
        "the trial process was killed by SIGSEGV while running the task's code "
        "(model.py, line 12, in forward)"
    )
    assert "native/__init__.py" in trace and "Extension modules" not in trace


def test_a_signal_outside_the_tasks_code_is_a_crash(tmp_path) -> None:
    stack = fatal_stack(
        'File "/venv/lib/python3.11/site-packages/torch/_inductor/x.py", line 9 in run'
    )
    outcome, reason, trace = classify_exit(-11, stack, tmp_path)
    assert outcome == "crash"
    assert (
        reason
        == "the trial process was killed by SIGSEGV outside the task's code (x.py, line 9, in run)"
    )
    assert "_inductor/x.py" in trace


def test_an_exit_without_a_stack_is_a_crash(tmp_path) -> None:
    assert classify_exit(-9, "", tmp_path) == (
        "crash",
        "the trial process was killed by SIGKILL (often the kernel's out-of-memory killer)",
        None,
    )


def test_sys_exit_outside_the_tasks_code_is_a_crash(tmp_path) -> None:
    outcome, reason, trace = classify_exception(raise_here(SystemExit(2)), tmp_path)
    assert (outcome, reason) == ("crash", "sys.exit(2) was called outside the task's code")
    assert "SystemExit: 2" in trace


def test_exit_descriptions() -> None:
    assert "killed by SIGSEGV" in describe_exit(-11)
    assert "out-of-memory killer" in describe_exit(-9)
    assert "exited with code 3" in describe_exit(3)


def test_too_slow_is_pruned(tmp_path) -> None:
    from autoaccel.engine import TooSlow

    outcome, reason, trace = classify_exception(raise_here(TooSlow("12 samples/s")), tmp_path)
    assert (outcome, reason, trace) == ("pruned", "12 samples/s", None)
