"""The trial process: ``python -m autoaccel.runner._child SPEC.json RESULT.json STACK.txt``.

It reads a spec, does one thing (inspect, train or deploy), and writes one result. It never
opens the study storage. Whatever happens inside becomes an outcome in the result; only a
hard crash (a signal) leaves no result, and the parent classifies that from the Python stack
this process wrote to STACK.txt as it died.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from autoaccel.measure import Pace
from autoaccel.runner._outcome import classify_exception, metric_problem
from autoaccel.runner._ranks import needs_ranks, run_ranks
from autoaccel.runner._result import TUNER_PID_VARIABLE, TrialResult, TrialSpec
from autoaccel.runner._tree import adopt_orphans, end_descendants
from autoaccel.task import Task, load_task, resolve_script

if TYPE_CHECKING:
    from autoaccel.engine import Rank


def execute(spec: TrialSpec, rank: Rank | None = None) -> TrialResult:
    """Do what ``spec`` asks here, or in ``world_size`` rank processes (``runner._ranks``);
    ``rank``: this process is one of those."""
    if rank is None and needs_ranks(spec):
        return run_ranks(spec)
    start = time.perf_counter()
    try:
        script = resolve_script(spec.script, spec.script_args)
        sys.argv = script.argv  # the user's code sees its own command line, never the trial's
        task = load_task(script)
        if spec.action == "inspect":
            from autoaccel.engine import inspect_task

            return TrialResult(
                outcome="ok",
                facts=inspect_task(task, script),
                duration_s=time.perf_counter() - start,
            )
        assert spec.config is not None and spec.hardware is not None
        from autoaccel.engine import join, use_cores

        if rank is not None:
            join(rank, spec.hardware.device)
        use_cores(spec.threads)
        if spec.action == "pace":
            return TrialResult(
                outcome="ok", pace=_pace(task, spec), duration_s=time.perf_counter() - start
            )
        if spec.action == "train":
            from autoaccel.measure import measure_train

            measurement = measure_train(
                task,
                spec.config,
                spec.trial_hardware,
                seed=spec.seed,
                save_weights=Path(spec.weights_out) if spec.weights_out else None,
                min_throughput=spec.min_throughput,
            )
        else:
            from autoaccel.measure import measure_deploy

            assert spec.weights_in is not None
            measurement = measure_deploy(
                task,
                spec.config,
                spec.trial_hardware,
                Path(spec.weights_in),
                seed=spec.seed,
                min_throughput=spec.min_throughput,
                latency_batch=spec.latency_batch,
            )
        problem = metric_problem(measurement)
        if problem is not None:
            return TrialResult(
                outcome="diverged", reason=problem, duration_s=time.perf_counter() - start
            )
        return TrialResult(
            outcome="ok", measurement=measurement, duration_s=time.perf_counter() - start
        )
    except (Exception, SystemExit) as error:
        outcome, reason, trace = classify_exception(error, spec.user_folder)
        return TrialResult(
            outcome=outcome,
            reason=reason,
            traceback=trace,
            duration_s=time.perf_counter() - start,
        )


def _pace(task: Task, spec: TrialSpec) -> Pace:
    from autoaccel.measure import deploy_pace, train_pace

    hardware = spec.trial_hardware
    assert spec.config is not None and hardware is not None
    if spec.stage == "train":
        return train_pace(task, spec.config, hardware, seed=spec.seed)
    assert spec.weights_in is not None
    return deploy_pace(task, spec.config, hardware, Path(spec.weights_in), seed=spec.seed)


def die_with_parent(poll_s: float = 1.0) -> None:
    """End this trial (and its loader workers) if the tuner that started it dies.

    A tuner killed with SIGKILL cannot stop its trial; without this, a hung trial would run
    on with nobody to enforce its timeout. The tuner names itself in the environment: a
    tuner that died while this process was still importing would otherwise go unnoticed,
    as ``os.getppid()`` would already be the new parent.
    """
    parent = int(os.environ.get(TUNER_PID_VARIABLE, os.getppid()))

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                end_descendants()
                os.killpg(0, signal.SIGKILL)
            time.sleep(poll_s)

    threading.Thread(target=watch, name="autoaccel-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    spec_path, result_path, stack_path = (Path(arg) for arg in argv)
    adopt_orphans()
    with stack_path.open("w") as stack:
        # A fatal signal leaves no result; the stack it hit says whose code was running.
        faulthandler.enable(stack, all_threads=False)
        die_with_parent()
        try:
            spec = TrialSpec.model_validate_json(spec_path.read_text())
            execute(spec).write(result_path)
        finally:
            end_descendants()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
