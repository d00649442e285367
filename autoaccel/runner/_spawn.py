"""Running one trial in a fresh process, with a timeout and nothing left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import ValidationError

from autoaccel import defaults
from autoaccel.runner._machine import LoadMeter
from autoaccel.runner._outcome import classify_exit
from autoaccel.runner._result import TUNER_PID_VARIABLE, TrialResult, TrialSpec
from autoaccel.runner._tree import TrialTree

LOG_TAIL_CHARS = 4000
# The variable that picks the devices a trial sees, per accelerator kind. ROCm's lower-level
# ROCR_VISIBLE_DEVICES is left as it is: the probe numbered the devices it lets through.
VISIBLE_DEVICES = {"cuda": "CUDA_VISIBLE_DEVICES", "rocm": "HIP_VISIBLE_DEVICES"}

# The process groups of the trials this process runs now, several when trials run at once.
_running: set[int] = set()
_running_lock = threading.Lock()


def stop_trials() -> None:
    """Kill the process group of every trial this process runs now. A tuner running trials
    in threads calls it on Ctrl-C: each thread's ``run_trial`` then returns."""
    with _running_lock:
        groups = list(_running)
    for group in groups:
        _kill_group(group)


def trial_environment(spec: TrialSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """The trial's environment: ``environ``, with only ``spec.devices`` visible.

    The probe numbered the devices this process sees, so where ``environ`` already narrows
    them, index i is the i-th entry of that list.
    """
    env = dict(environ)
    primary = spec.hardware.primary if spec.hardware else None
    if not spec.devices or primary is None or primary.kind not in VISIBLE_DEVICES:
        return env
    name = VISIBLE_DEVICES[primary.kind]
    seen = environ.get(name) or environ.get("CUDA_VISIBLE_DEVICES") or ""
    listed = [entry.strip() for entry in seen.split(",") if entry.strip()]
    env[name] = ",".join(listed[i] if i < len(listed) else str(i) for i in spec.devices)
    return env


def run_trial(
    spec: TrialSpec,
    timeout_s: float = defaults.TRIAL_TIMEOUT_S,
    *,
    popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen,
    python: str = sys.executable,
    clock: Callable[[], float] = time.monotonic,
    meter: LoadMeter | None = None,
) -> TrialResult:
    """Run ``spec`` in a new Python process (its own process group) and return its result.

    The trial may not outlive ``timeout_s``: past it, the whole process group is killed, its
    DataLoader workers and compiler workers included. The group, and any process the trial
    started in a session of its own, is killed after every trial anyway, so no process is
    left behind. KeyboardInterrupt kills the trial and propagates.
    ``meter`` reads what else the machine did meanwhile; this process only waits.
    """
    meter = meter or LoadMeter()
    with tempfile.TemporaryDirectory(prefix="autoaccel-trial-") as folder:
        spec_path = Path(folder, "spec.json")
        result_path = Path(folder, "result.json")
        log_path = Path(folder, "log.txt")
        stack_path = Path(folder, "stack.txt")
        spec_path.write_text(spec.model_dump_json())
        env = {
            **trial_environment(spec, os.environ),
            "PYTHONUNBUFFERED": "1",
            TUNER_PID_VARIABLE: str(os.getpid()),
        }
        meter.start()
        start = clock()
        with log_path.open("wb") as log:
            process = popen(
                [
                    python,
                    "-m",
                    "autoaccel.runner._child",
                    *map(str, (spec_path, result_path, stack_path)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
            with _running_lock:
                _running.add(process.pid)
            tree = TrialTree(process)
            timed_out = False
            try:
                if spec.cores:
                    # Popen returns once the child runs Python, before it starts a thread:
                    # every thread and process it starts inherits these cores.
                    os.sched_setaffinity(process.pid, spec.cores)
                timed_out = tree.wait(timeout_s)
            finally:
                tree.end()
                _kill_group(process.pid)
                process.wait()
                with _running_lock:
                    _running.discard(process.pid)
        duration = clock() - start
        machine = meter.stop(duration)
        tail = _tail(log_path)
        if timed_out:
            return TrialResult(
                outcome="timeout",
                reason=f"the trial ran past its {timeout_s:g} s limit and was stopped",
                log_tail=tail,
                duration_s=duration,
                machine=machine,
            )
        result = _read_result(result_path) or _died(process.returncode, stack_path, spec)
        return result.model_copy(
            update={
                "log_tail": tail,
                "duration_s": duration,
                "exit_code": process.returncode,
                "machine": machine,
            }
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _read_result(path: Path) -> TrialResult | None:
    """The result the trial wrote; None if it wrote none. One it wrote that cannot be read
    back is a crash saying why."""
    if not path.exists():
        return None
    try:
        return TrialResult.model_validate_json(path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        problem = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    except OSError as error:
        problem = str(error.strerror)
    return TrialResult(
        outcome="crash", reason=f"the trial's result cannot be read back ({problem})"
    )


def _died(exit_code: int, stack_path: Path, spec: TrialSpec) -> TrialResult:
    """The result of a trial process that ended without writing one."""
    outcome, reason, stack = classify_exit(exit_code, _read_text(stack_path), spec.user_folder)
    return TrialResult(outcome=outcome, reason=reason, traceback=stack)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-LOG_TAIL_CHARS:].decode("utf-8", errors="replace")
