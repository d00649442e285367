"""Reading a task's facts through a trial process, so the caller never imports user code."""

from __future__ import annotations

from autoaccel.errors import TaskError
from autoaccel.knobs import TaskFacts
from autoaccel.runner._result import TrialSpec
from autoaccel.runner._spawn import run_trial
from autoaccel.task import ScriptTarget

INSPECT_TIMEOUT_S = 300.0


def inspect_script(script: ScriptTarget, timeout_s: float = INSPECT_TIMEOUT_S) -> TaskFacts:
    """Load the script's Task in a trial process and run one small batch through it.

    Raises :class:`TaskError` with the user's traceback when the script or its Task fails.
    """
    spec = TrialSpec(action="inspect", script=script.spec, script_args=script.args)
    result = run_trial(spec, timeout_s)
    if result.ok and result.facts is not None:
        return result.facts
    if result.outcome == "user_error":
        detail = result.traceback or result.reason
        raise TaskError(f"{script.spec} could not be used:\n{detail}")
    tail = f"\nIts last output:\n{result.log_tail[-1500:]}" if result.log_tail.strip() else ""
    raise TaskError(
        f"loading {script.spec} in a trial process ended with {result.outcome}: "
        f"{result.reason}.{tail}"
    )
