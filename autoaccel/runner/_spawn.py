"""Running one trial in a fresh process, with a timeout and nothing left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from autoaccel import defaults
from autoaccel.runner._machine import LoadMeter
from autoaccel.runner._outcome import describe_exit
from autoaccel.runner._result import TUNER_PID_VARIABLE, TrialResult, TrialSpec

LOG_TAIL_CHARS = 4000


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
    DataLoader workers and compiler workers included. The group is killed after every trial
    anyway, so no process is left behind. KeyboardInterrupt kills the trial and propagates.
    ``meter`` reads what else the machine did meanwhile; this process only waits.
    """
    meter = meter or LoadMeter()
    with tempfile.TemporaryDirectory(prefix="autoaccel-trial-") as folder:
        spec_path = Path(folder, "spec.json")
        result_path = Path(folder, "result.json")
        log_path = Path(folder, "log.txt")
        spec_path.write_text(spec.model_dump_json())
        env = {**os.environ, "PYTHONUNBUFFERED": "1", TUNER_PID_VARIABLE: str(os.getpid())}
        meter.start()
        start = clock()
        with log_path.open("wb") as log:
            process = popen(
                [python, "-m", "autoaccel.runner._child", str(spec_path), str(result_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
            timed_out = False
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process.pid)
                process.wait()
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
        result = _read_result(result_path)
        if not isinstance(result, TrialResult):
            return TrialResult(
                outcome="crash",
                reason=result or describe_exit(process.returncode),
                log_tail=tail,
                duration_s=duration,
                exit_code=process.returncode,
                machine=machine,
            )
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


def _read_result(path: Path) -> TrialResult | str | None:
    """The trial's result; None when it wrote none, else why the one it wrote is unreadable."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"the trial's result cannot be read back ({error.strerror})"
    try:
        return TrialResult.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"the trial's result cannot be read back ({where}: {first['msg']})"


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-LOG_TAIL_CHARS:].decode("utf-8", errors="replace")
