"""A trial's own devices and cores: the environment that hides other GPUs, the affinity
that pins it, and stopping every trial a tuner runs at once."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from fakes import TINY, cpu_host, gpu_host

from autoaccel.knobs import Config
from autoaccel.probe import Accelerator
from autoaccel.runner import TrialSpec, run_trial, stop_trials, trial_environment

# Stands in for the trial process: reports what it was given as its result's reason.
REPORTER = """
import json, os, sys, time
result = sys.argv[4]
seen = {"cores": sorted(os.sched_getaffinity(0)), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}
if os.environ.get("SLEEP"):
    time.sleep(float(os.environ["SLEEP"]))
open(result, "w").write(json.dumps({"outcome": "crash", "reason": json.dumps(seen)}))
"""


def spec(hardware, **fields) -> TrialSpec:
    return TrialSpec(action="train", script=str(TINY), config=Config(), hardware=hardware, **fields)


@pytest.fixture
def reporter(tmp_path):
    """A stand-in interpreter: ``python -m autoaccel.runner._child SPEC RESULT STACK``
    runs REPORTER instead."""
    script = tmp_path / "reporter.py"
    script.write_text(REPORTER)
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    python.chmod(0o755)
    return str(python)


def test_a_trial_sees_only_its_own_gpus() -> None:
    gpu = gpu_host("NVIDIA H100", "9.0")
    assert trial_environment(spec(gpu, devices=(1,)), {})["CUDA_VISIBLE_DEVICES"] == "1"
    # The tuner itself was given GPUs 4 and 6: the probe's GPU 1 is the machine's 6.
    narrowed = trial_environment(spec(gpu, devices=(1,)), {"CUDA_VISIBLE_DEVICES": "4,6"})
    assert narrowed["CUDA_VISIBLE_DEVICES"] == "6"
    rocm = gpu.model_copy(update={"accelerators": [Accelerator(kind="rocm")]})
    assert trial_environment(spec(rocm, devices=(0, 1)), {})["HIP_VISIBLE_DEVICES"] == "0,1"
    # Alone on the machine, or on a CPU, the environment is the tuner's.
    assert trial_environment(spec(gpu), {"A": "b"}) == {"A": "b"}
    assert trial_environment(spec(cpu_host(), devices=(0,)), {}) == {}


def test_threads_follow_the_trials_cores() -> None:
    assert spec(cpu_host(cores=8)).threads == 8
    assert spec(cpu_host(cores=8), cores=(2, 3)).threads == 2


def test_a_trial_on_a_share_of_the_cores_measures_against_that_share_s_peak() -> None:
    host = cpu_host(cores=8)
    cpu = host.cpu.model_copy(update={"core_peak_flops_measured": {"fp32": 1e10}})
    host = host.model_copy(update={"cpu": cpu})
    assert spec(host).trial_hardware.peak_flops("fp32") == 8e10
    assert spec(host, cores=(2, 3)).trial_hardware.peak_flops("fp32") == 2e10


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_trial_process_is_pinned_to_its_cores_and_sees_its_gpu(reporter) -> None:
    core = sorted(os.sched_getaffinity(0))[-1]
    gpu = gpu_host("NVIDIA H100", "9.0")
    result = run_trial(spec(gpu, devices=(0,), cores=(core,)), 30, python=reporter)
    assert result.reason == f'{{"cores": [{core}], "cuda": "0"}}'


@pytest.mark.slow
def test_stop_trials_kills_every_running_trial(reporter, monkeypatch) -> None:
    monkeypatch.setenv("SLEEP", "60")
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(run_trial(spec(cpu_host()), 120, python=reporter))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    stop_trials()
    for thread in threads:
        thread.join(timeout=10)
    assert time.monotonic() - started < 10 and len(results) == 2
    assert all(r.exit_code == -9 for r in results)
