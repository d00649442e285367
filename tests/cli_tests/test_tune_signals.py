"""Ctrl-C (SIGINT) and SIGTERM, which schedulers stop jobs with, on a real ``autoaccel tune``:
the trial process ends, the trial runs again on resume, the recommendation so far is saved."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from fakes import TASKS, trial_processes

STOPS = pytest.mark.parametrize(
    ("stop", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)


def stage_trials(storage: str) -> list:
    import sqlalchemy.exc

    try:
        return optuna.load_study(study_name="tiny:train", storage=storage).get_trials()
    except (KeyError, sqlalchemy.exc.SQLAlchemyError):  # not created yet, or half-way
        return []


def wait_for_second_trial(tuner: subprocess.Popen, folder: Path, storage: str) -> None:
    """Until the baseline is finished and the next trial's process runs."""
    deadline = time.monotonic() + 240  # generous: CI machines are shared and slow
    while time.monotonic() < deadline:
        assert tuner.poll() is None, "the tuner ended before it could be stopped"
        trials = stage_trials(storage)
        done = any(t.state.name == "COMPLETE" for t in trials)
        running = any(t.state.name == "RUNNING" and "config" in t.user_attrs for t in trials)
        if done and running and trial_processes(folder):
            return
        time.sleep(0.2)
    tuner.kill()
    raise AssertionError("the tuner never had a finished and a running trial")


@pytest.mark.slow
@STOPS
def test_a_stopped_tuner_saves_what_it_has_and_the_resume_finishes(
    tmp_path, stop, exit_code
) -> None:
    storage = f"sqlite:///{tmp_path}/studies/autoaccel.db"
    command = [
        *(sys.executable, "-m", "autoaccel", "tune", f"{TASKS / 'tiny.py'}:slow"),
        *("--stage", "train", "--trials", "2", "--confirm", "0", "--storage", storage),
    ]
    tuner = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_second_trial(tuner, tmp_path, storage)
    tuner.send_signal(stop)
    out, err = tuner.communicate(timeout=60)
    assert tuner.returncode == exit_code, out + err
    assert "Interrupted" in out and "Traceback" not in err
    assert trial_processes(tmp_path) == []
    trials = stage_trials(storage)
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]
    assert trials[1].user_attrs["outcome"] == "interrupted"
    saved = json.loads((tmp_path / "studies" / "tiny" / "recommendation.json").read_text())
    assert saved["stages"]["train"]["trial"] == 0  # the baseline, all it has

    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    trials = stage_trials(storage)
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    assert trials[2].user_attrs["config"] == trials[1].user_attrs["config"]


@STOPS
def test_a_stop_before_the_search_begins_exits_quietly(
    run_cli, monkeypatch, tmp_path, stop, exit_code
) -> None:
    import autoaccel.study

    def stopped(script, options, progress=None):  # stopped while the task is inspected
        os.kill(os.getpid(), stop)
        raise AssertionError("the signal did not stop the tuner")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(autoaccel.study, "tune", stopped)
    before = signal.getsignal(signal.SIGTERM)
    result = run_cli("tune", str(TASKS / "tiny.py"))
    assert result.exit_code == exit_code
    assert "Interrupted: finished trials are kept" in result.stderr
    assert signal.getsignal(signal.SIGTERM) == before  # restored for whatever runs next


@pytest.mark.slow
@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two cores for two trials at once",
)
def test_sigterm_with_two_trials_running_stops_both(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path}/studies/autoaccel.db"
    space = tmp_path / "one-rank.yaml"  # a trial of several ranks would take both cores
    space.write_text("batch_size: [8, 16, 32]\nprecision: [fp32, bf16]\n")
    command = [
        *(sys.executable, "-m", "autoaccel", "tune", f"{TASKS / 'tiny.py'}:slow", "--jobs", "2"),
        *("--space", str(space)),
        *("--stage", "train", "--trials", "3", "--confirm", "0", "--storage", storage),
    ]
    tuner = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while not two_running(tmp_path, storage):
        assert tuner.poll() is None and time.monotonic() < deadline, "never two trials at once"
        time.sleep(0.2)
    tuner.send_signal(signal.SIGTERM)
    out, err = tuner.communicate(timeout=60)
    assert tuner.returncode == 143, out + err
    assert "Traceback" not in err
    assert trial_processes(tmp_path) == []
    trials = stage_trials(storage)
    assert trials[0].state.name == "COMPLETE"
    assert not [t for t in trials if t.state.name == "RUNNING"]
    stopped = [t for t in trials if t.state.name == "FAIL"]
    assert len(stopped) == 2  # a sampler's repeat of a finished trial may lie between them
    assert all(t.user_attrs["outcome"] == "interrupted" for t in stopped)
    assert {len(t.user_attrs["placement"]["cores"]) for t in stopped} == {1}


def two_running(folder: Path, storage: str) -> bool:
    trials = stage_trials(storage)
    running = [t for t in trials if t.state.name == "RUNNING" and "placement" in t.user_attrs]
    return len(running) == 2 and len(trial_processes(folder)) >= 2
