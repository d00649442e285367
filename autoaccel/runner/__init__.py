"""Running trials: one fresh process per trial, a timeout, a process-group kill, and an
outcome for however it ended (ok, oom, timeout, crash, diverged, user_error)."""

from __future__ import annotations

from autoaccel.runner._inspect import inspect_script
from autoaccel.runner._machine import CpuCounters, LoadMeter, MachineLoad
from autoaccel.runner._outcome import classify_exception, is_oom_error
from autoaccel.runner._result import OUTCOMES, Action, Outcome, TrialResult, TrialSpec
from autoaccel.runner._spawn import run_trial, stop_trials, trial_environment

__all__ = [
    "OUTCOMES",
    "Action",
    "CpuCounters",
    "LoadMeter",
    "MachineLoad",
    "Outcome",
    "TrialResult",
    "TrialSpec",
    "classify_exception",
    "inspect_script",
    "is_oom_error",
    "run_trial",
    "stop_trials",
    "trial_environment",
]
