"""kill -9 at every storage write of a study's first trials: one resume always finishes it.

A tuner process (tests/fake_tuner.py: the real tune() with fake trial runs) is killed just
before each write it makes, from the study's creation to the end of its third trial; each
killed study is then resumed once, here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest
from fake_tuner import options_from
from fakes import tune_with_fakes

from autoaccel.recommend import baseline_of
from autoaccel.study import load_stages, open_storage

TRIALS = 3
OPTIONS = {"stage": "train", "trials": TRIALS, "confirm": 0}
FAKE_TUNER = Path(__file__).parent / "fake_tuner.py"


@pytest.fixture
def folder(tmp_path):
    """A folder in memory where there is one: the many small SQLite commits here need no
    protection from a power cut, and syncing each to disk would take most of the time."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="autoaccel-kill-points-", dir=shm))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_one_resume_finishes_a_study_killed_at_any_write(folder) -> None:
    options_json = json.dumps({**OPTIONS, "storage": "unused", "studies_dir": "unused"})
    done = subprocess.run(
        [sys.executable, str(FAKE_TUNER), "kill-points", options_json, str(folder), str(TRIALS)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    points = json.loads(done.stdout)
    assert len(points) > 3 * TRIALS  # every trial writes several times
    problems = []
    for point in points:
        where = f"killed before write {point['point']}, {point['write']}"
        if not point["killed"]:
            problems.append(f"{where}: the tuner was not killed there")
            continue
        options = options_from(
            options_json, storage=point["storage"], studies_dir=point["studies_dir"]
        )
        try:
            result = tune_with_fakes(options, sleep=_no_waiting)
        except Exception as error:
            problems.append(f"{where}: the resume failed: {type(error).__name__}: {error}")
            continue
        problems += [f"{where}: {p}" for p in _unfinished(options, result)]
    assert not problems, "\n".join(problems)


def _no_waiting(seconds: float) -> None:
    raise AssertionError("the resumed tuner waited for a trial nobody runs")


def _unfinished(options, result) -> list[str]:
    """What keeps the resumed study from being finished, if anything."""
    study = optuna.load_study(study_name="tiny:train", storage=options.storage)
    trials = study.get_trials(deepcopy=False)
    measured = [
        t
        for t in trials
        if t.state.name == "COMPLETE"
        and "repeat_of" not in t.user_attrs
        and not t.user_attrs.get("skipped")
    ]
    records = load_stages(open_storage(options.storage, create=False), "tiny")["train"].records()
    baseline = baseline_of(records)
    problems = []
    if result.interrupted:
        problems.append("the resume reports an interruption")
    if len(measured) != TRIALS:
        problems.append(f"{len(measured)} measured trials, not {TRIALS}")
    if running := [t.number for t in trials if t.state.name == "RUNNING"]:
        problems.append(f"trials {running} are left running")
    if baseline is None or not baseline.ok:
        problems.append("no finished baseline")
    if not result.path.exists() or "train" not in result.recommendation.stages:
        problems.append("no train recommendation written")
    failed = {t.number for t in trials if t.state.name == "FAIL"}
    if wrong := [r.number for r in records if r.number in failed and r.outcome != "interrupted"]:
        problems.append(f"failed trials {wrong} read as finished")
    return problems
