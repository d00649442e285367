"""Several tuners on one study: on a real PostgreSQL server they share the target and
measure no configuration twice; on PostgreSQL or SQLite, a tuner killed on a machine the
others cannot see into has its trial taken over once its heartbeat goes stale."""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from fakes import cpu_host, tune_with_fakes

from autoaccel.errors import StudyError

TRIALS = 5


def _can_rename_host() -> bool:
    """Whether a process here can be given a host name of its own (root, or a user
    namespace), to stand in for a tuner on another machine."""
    if shutil.which("unshare") is None:
        return False
    return (
        subprocess.run(["unshare", "--uts", "hostname", "other"], capture_output=True).returncode
        == 0
    )


FAKE_TUNER = Path(__file__).parents[1] / "fake_tuner.py"


def tuner_options(url: str, folder: Path, **changes) -> str:
    fields = {
        "storage": url,
        "studies_dir": str(folder / "studies"),
        "stage": "train",
        "trials": TRIALS,
        "confirm": 0,
        **changes,
    }
    return json.dumps(fields)


def start_tuner(options: str, events: Path, trial_s: float, host: str | None = None):
    command = [sys.executable, str(FAKE_TUNER), "run", options, str(events), str(trial_s)]
    if host is not None:  # a host of its own: the others cannot see whether it is alive
        command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "-", *command]
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def stage_trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="tiny:train", storage=url).get_trials()


def measured(trials) -> list[optuna.trial.FrozenTrial]:
    return [t for t in trials if t.state.name == "COMPLETE" and "repeat_of" not in t.user_attrs]


@pytest.mark.slow
@pytest.mark.parametrize("tuners", [2, 3])
def test_tuners_on_one_postgresql_study_share_its_trials(postgres_url, tmp_path, tuners) -> None:
    url = postgres_url
    options = tuner_options(url, tmp_path)
    events = [tmp_path / f"{n}.json" for n in range(tuners)]
    running = [start_tuner(options, path, 0.5) for path in events]
    for tuner in running:
        _, err = tuner.communicate(timeout=180)
        assert tuner.returncode == 0, err
    trials = stage_trials(url)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    done = measured(trials)
    assert len(done) == TRIALS  # the study's total, not each tuner's
    configs = [json.dumps(t.user_attrs["config"], sort_keys=True) for t in done]
    assert len(set(configs)) == TRIALS
    each = [json.loads(path.read_text())["measured"] for path in events]
    every = [json.dumps(c, sort_keys=True) for log in each for c in log]
    assert len(every) == len(set(every)) == TRIALS  # nothing measured twice, nothing lost
    assert sum(1 for log in each if log) >= 2  # the work was shared


@pytest.mark.slow
@pytest.mark.skipif(not _can_rename_host(), reason="needs unshare --uts for a second host")
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_a_tuner_killed_on_another_host_has_its_trial_taken_over(kind, request, tmp_path) -> None:
    """SQLite too: a killed tuner leaves no lock that blocks the next one."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/studies/autoaccel.db"
    else:
        url = request.getfixturevalue("postgres_url")
    options = tuner_options(url, tmp_path, heartbeat_s=1)
    lost = start_tuner(options, tmp_path / "lost.json", 3.0, host="lost-node")
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline and lost.poll() is None:
        time.sleep(0.3)
        with_trials = stage_trials(url) if _has_study(url) else []
        if measured(with_trials):
            victim = next((t for t in with_trials if t.state.name == "RUNNING"), None)
    assert lost.poll() is None, lost.stderr.read()[-500:]
    assert victim is not None and victim.user_attrs["host"] == "lost-node"
    lost.send_signal(signal.SIGKILL)
    lost.wait()
    # Past the grace (twice the heartbeat): a survivor that reaches the target sooner stops
    # with the dead tuner's trial still counted as running (docs/scaling.md, the limits).
    time.sleep(3.0)
    survivor = start_tuner(options, tmp_path / "survivor.json", 0.2)
    _, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    trials = stage_trials(url)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    assert trials[victim.number].state.name == "FAIL"
    retry = next(t for t in trials if t.user_attrs.get("retry_of") == victim.number)
    assert retry.user_attrs["config"] == victim.user_attrs["config"]
    assert len(measured(trials)) == TRIALS
    notes = json.loads((tmp_path / "survivor.json").read_text())["notes"]
    assert f"train: trial {victim.number} was left running by a stopped tuner; " in " ".join(notes)


def _has_study(url: str) -> bool:
    import sqlalchemy.exc

    try:
        return any(s.study_name == "tiny:train" for s in optuna.get_all_study_summaries(url))
    except sqlalchemy.exc.OperationalError:  # the SQLite file's folder is not made yet
        return False


def test_a_machine_unlike_the_studys_is_refused(postgres_url, options) -> None:
    options = dataclasses.replace(options, storage=postgres_url, trials=2, confirm=0)
    tune_with_fakes(options, hardware=cpu_host(cores=2))
    with pytest.raises(StudyError) as refused:
        tune_with_fakes(options, hardware=cpu_host(cores=4))
    said = str(refused.value)
    assert cpu_host(cores=2).fingerprint() in said and cpu_host(cores=4).fingerprint() in said
    assert "use a new --study name" in said
