"""Classifying how a trial ended, without running one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autoaccel.engine import Diverged
from autoaccel.runner import classify_exception, is_oom_error
from autoaccel.runner._outcome import describe_exit


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


def raise_here(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
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


def test_exit_descriptions() -> None:
    assert "killed by SIGSEGV" in describe_exit(-11)
    assert "out-of-memory killer" in describe_exit(-9)
    assert "exited with code 3" in describe_exit(3)


def test_too_slow_is_pruned(tmp_path) -> None:
    from autoaccel.engine import TooSlow

    outcome, reason, trace = classify_exception(raise_here(TooSlow("12 samples/s")), tmp_path)
    assert (outcome, reason, trace) == ("pruned", "12 samples/s", None)
