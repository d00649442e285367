"""Trials of world_size 2 on CPU cores: they finish like any trial, and a rank that fails
or hangs ends the whole trial with nothing left running."""

from __future__ import annotations

import os
import subprocess
import time

import psutil
import pytest

from autoaccel import defaults
from autoaccel.knobs import Config
from autoaccel.runner import TrialSpec, run_trial

pytestmark = pytest.mark.slow


def spec(tasks_dir, script: str, profile, world_size: int) -> TrialSpec:
    return TrialSpec(
        action="train",
        script=str(tasks_dir / script),
        config=Config(batch_size=16, world_size=world_size),
        hardware=profile,
    )


def test_two_ranks_train_and_the_metric_holds(tasks_dir, cpu_profile) -> None:
    alone = run_trial(spec(tasks_dir, "tiny.py:task", cpu_profile, 1))
    ranks = run_trial(spec(tasks_dir, "tiny.py:task", cpu_profile, 2))
    assert (alone.outcome, ranks.outcome) == ("ok", "ok")
    # The tuner's rule: the metric may drop at most MAX_METRIC_DROP below the baseline's.
    assert alone.measurement.metric - ranks.measurement.metric <= defaults.MAX_METRIC_DROP
    # 512 samples a pass, 16 a rank each step: half the steps of one rank, twice the samples.
    assert ranks.measurement.timed_steps < alone.measurement.timed_steps


def trial_group(tasks_dir, name: str, profile, timeout_s: float):
    """Run ``ranks.py:NAME`` on two ranks; its result and the trial's process group."""
    started = []

    def popen(*args, **kwargs):
        process = subprocess.Popen(*args, **kwargs)
        started.append(process.pid)
        return process

    result = run_trial(spec(tasks_dir, f"ranks.py:{name}", profile, 2), timeout_s, popen=popen)
    return result, started[0]


def left_running(group: int) -> list[int]:
    time.sleep(0.2)
    running = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return running


def test_a_rank_that_raises_ends_the_trial_with_its_reason(tasks_dir, cpu_profile) -> None:
    begin = time.monotonic()
    result, group = trial_group(tasks_dir, "rank_raises", cpu_profile, 60)
    assert result.outcome == "user_error"
    assert result.reason == "rank 1 of 2: RuntimeError: rank one broke"
    assert "ranks.py" in result.traceback
    assert time.monotonic() - begin < 45, "rank 0 waited for the broken rank"
    assert left_running(group) == []


def test_a_rank_that_hangs_times_out_and_leaves_no_process(tasks_dir, cpu_profile) -> None:
    result, group = trial_group(tasks_dir, "rank_hangs", cpu_profile, 15)
    assert result.outcome == "timeout"
    assert "15 s limit" in result.reason
    assert left_running(group) == []
