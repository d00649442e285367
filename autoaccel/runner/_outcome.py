"""Turning how a trial ended into an outcome and a one-line reason."""

from __future__ import annotations

import math
import re
import signal
import traceback
from pathlib import Path

from autoaccel.errors import TaskError
from autoaccel.measure import Measurement
from autoaccel.runner._result import Outcome
from autoaccel.task import is_user_file, user_traceback

# Messages of allocation failures that do not arrive as torch.OutOfMemoryError.
_OOM_MARKERS = (
    "out of memory",
    "CUBLAS_STATUS_ALLOC_FAILED",
    "CUDNN_STATUS_ALLOC_FAILED",
    "CUDA error: out of memory",
)


def is_oom_error(error: BaseException) -> bool:
    """Whether ``error`` means the device or host ran out of memory."""
    if isinstance(error, MemoryError):
        return True
    if type(error).__name__ == "OutOfMemoryError":  # torch.OutOfMemoryError and its aliases
        return True
    return isinstance(error, RuntimeError) and any(m in str(error) for m in _OOM_MARKERS)


def classify_exception(error: BaseException, user_folder: Path) -> tuple[Outcome, str, str | None]:
    """``(outcome, reason, traceback)`` for an exception raised inside a trial.

    An exception that passed through the user's own files (or a DataLoader worker running
    them) is a ``user_error`` and keeps the user's part of the traceback; anything else is a
    ``crash`` of the configuration (a compiler failure, say) with its full traceback.
    """
    from autoaccel.engine import Diverged, TooSlow

    if isinstance(error, SystemExit):
        return _exit_call(error, user_folder)
    reason = _first_line(error)
    if isinstance(error, Diverged):
        return "diverged", reason, None
    if isinstance(error, TooSlow):
        return "pruned", str(error), None
    if is_oom_error(error):
        return "oom", reason, None
    if isinstance(error, TaskError):
        return "user_error", reason, str(error)
    frames = traceback.extract_tb(error.__traceback__)
    # A DataLoader worker's exception is re-raised in the trial with the worker's traceback
    # folded into its message.
    in_user_code = any(is_user_file(f.filename, user_folder) for f in frames) or (
        str(user_folder) in str(error)
    )
    if in_user_code:
        return "user_error", reason, user_traceback(error, user_folder)
    return "crash", reason, "".join(traceback.format_exception(error)).rstrip()


def classify_exit(
    exit_code: int, fatal_stack: str, user_folder: Path
) -> tuple[Outcome, str, str | None]:
    """``(outcome, reason, traceback)`` for a trial process that ended without a result.

    ``fatal_stack`` is what faulthandler wrote when a fatal signal hit it ("" if nothing): the
    Python stack at that moment. A process that died with the task's code on that stack (a
    native extension it called, say) is a ``user_error`` naming the innermost such frame;
    one that died elsewhere, or left no stack, is a ``crash``.
    """
    reason = describe_exit(exit_code)
    frames = [
        traceback.FrameSummary(m["file"], int(m["line"]), m["name"])
        for m in _FATAL_FRAME.finditer(fatal_stack)
    ]
    frames.reverse()  # faulthandler lists the most recent call first
    stack = fatal_stack.split("\nExtension modules:", 1)[0].strip() or None
    where = _innermost(frames, user_folder)
    if where is not None:
        return "user_error", f"{reason} while running the task's code ({where})", stack
    if frames:
        return "crash", f"{reason} outside the task's code ({_place(frames[-1])})", stack
    return "crash", reason, stack


def metric_problem(measurement: Measurement) -> str | None:
    """Why ``measurement``'s metric cannot be judged (it is NaN or infinite), or None.

    The training loss was checked as it went, so the metric itself, or the outputs it was
    computed from, went wrong.
    """
    if math.isfinite(measurement.metric):
        return None
    after = "training" if measurement.stage == "train" else "preparing the model for inference"
    return (
        f"the metric {measurement.metric_name} came out {measurement.metric} after {after}: "
        "check that Task.metric cannot return NaN (a division by zero, an empty batch) and "
        "that the model's outputs stay finite under this configuration"
    )


def describe_exit(exit_code: int) -> str:
    """Why a trial process that wrote no result ended, in words."""
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        hint = " (often the kernel's out-of-memory killer)" if name == "SIGKILL" else ""
        return f"the trial process was killed by {name}{hint}"
    return f"the trial process exited with code {exit_code} without a result"


def _exit_call(error: SystemExit, user_folder: Path) -> tuple[Outcome, str, str | None]:
    call = f"sys.exit({error.code!r})"
    where = _innermost(traceback.extract_tb(error.__traceback__), user_folder)
    if where is None:
        trace = "".join(traceback.format_exception(error)).rstrip()
        return "crash", f"{call} was called outside the task's code", trace
    return (
        "user_error",
        f"the task's code called {call} ({where})",
        user_traceback(error, user_folder),
    )


# One frame of a faulthandler dump: '  File "/path/model.py", line 12 in forward'.
_FATAL_FRAME = re.compile(r'^\s+File "(?P<file>.+)", line (?P<line>\d+) in (?P<name>\S+)', re.M)


def _innermost(frames: list[traceback.FrameSummary], user_folder: Path) -> str | None:
    """Where the task's own code was last on ``frames`` (outermost first), or None."""
    mine = [f for f in frames if is_user_file(f.filename, user_folder)]
    return _place(mine[-1]) if mine else None


def _place(frame: traceback.FrameSummary) -> str:
    return f"{Path(frame.filename).name}, line {frame.lineno}, in {frame.name}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
