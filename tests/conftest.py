"""Shared test fixtures."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import TASKS, StoredStudy, cpu_host, gpu_host, trial_processes

from autoaccel.cli import main
from autoaccel.probe import HardwareProfile


@dataclasses.dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``autoaccel ARGS...`` in-process through the real entry point (error mapping too)."""

    def run(*args: str) -> CliResult:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of the real study share one worker; GPU tests run only where there is CUDA.

    The real study takes a minute to build: a second worker needing it would wait idle that
    long, so its tests all go to the worker that builds it (with ``--dist loadgroup``).
    """
    for item in items:
        if "real_study" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("real_study"))
    if not any("gpu" in item.keywords for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tasks_dir() -> Path:
    return TASKS


@pytest.fixture(scope="module")
def tiny():
    """The MLP task of tests/fixtures/tasks/tiny.py."""
    from autoaccel.task import load_task

    return load_task(str(TASKS / "tiny.py"))


@pytest.fixture(scope="module")
def conv():
    """The task of tests/fixtures/tasks/tiny.py with a 2-D convolution."""
    from autoaccel.task import load_task

    return load_task(str(TASKS / "tiny.py:conv"))


@pytest.fixture(scope="session")
def cpu_profile() -> HardwareProfile:
    return cpu_host()


@pytest.fixture
def make_gpu_host():
    return gpu_host


@dataclasses.dataclass(frozen=True, kw_only=True)
class RealStudy(StoredStudy):
    """A study tuned with real trial processes: its tuner was killed with SIGKILL in the
    middle of a trial, then the same command resumed it and went on to the deploy stage.
    ``root`` is the working directory the tuner ran in."""

    before_kill: dict[int, Any]  # finished trials' values when the tuner was killed
    killed_trial: int  # the trial left RUNNING by the killed tuner
    killed_config: dict[str, Any]
    orphans_after_kill: list[int]  # trial processes still running 10 s after the kill
    resume_output: str


@pytest.fixture(scope="session")
def built_once(tmp_path_factory: pytest.TempPathFactory):
    """``built_once(name, build) -> folder``: ``build(folder)`` runs once per test run,
    whichever pytest-xdist worker asks first; the others wait for it and share the folder."""

    def get(name: str, build: Any) -> Path:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        base = tmp_path_factory.getbasetemp()
        root = base.parent / f"{name}-{run}" if run else base / name
        root.mkdir(exist_ok=True)
        with (root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / ".built").exists():
                build(root)
                (root / ".built").touch()
        return root

    return get


@pytest.fixture(scope="session")
def real_study(built_once) -> RealStudy:
    """Built once per test run: about a minute of real trial processes."""

    def build(root: Path) -> None:
        study = _build_real_study(root)
        (root / "study.json").write_text(json.dumps(dataclasses.asdict(study), default=str))

    data = json.loads((built_once("real-study", build) / "study.json").read_text())
    data["before_kill"] = {int(k): v for k, v in data["before_kill"].items()}
    return RealStudy(**{**data, "root": Path(data["root"])})


def _build_real_study(root: Path) -> RealStudy:
    import optuna
    import sqlalchemy.exc

    storage = f"sqlite:///{root}/studies/autoaccel.db"
    command = [
        sys.executable,
        "-m",
        "autoaccel",
        "tune",
        f"{TASKS / 'tiny.py'}:slow",
        "--trials",
        "2",
        "--storage",
        storage,
    ]

    def trials() -> list[Any]:
        if not (root / "studies" / "autoaccel.db").exists():
            return []
        try:
            return optuna.load_study(study_name="tiny:train", storage=storage).get_trials()
        except (KeyError, sqlalchemy.exc.SQLAlchemyError):  # not created yet, or half-way
            return []

    log = root / "tuner-killed.log"
    with log.open("wb") as output:
        tuner = subprocess.Popen(
            [*command, "--stage", "train"], cwd=root, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 240  # generous: CI machines are shared and slow
    while time.monotonic() < deadline:
        if tuner.poll() is not None:
            raise AssertionError(f"the tuner ended before it could be killed:\n{log.read_text()}")
        current = trials()
        done = [t for t in current if t.state.name == "COMPLETE"]
        running = [t for t in current if t.state.name == "RUNNING" and "config" in t.user_attrs]
        if done and running and trial_processes(root):
            break
        time.sleep(0.2)
    else:
        tuner.kill()
        raise AssertionError(
            f"the tuner never had a finished and a running trial:\n{log.read_text()}"
        )
    tuner.send_signal(signal.SIGKILL)
    tuner.wait()
    before = {t.number: t.values for t in trials() if t.state.name == "COMPLETE"}
    (killed,) = [t for t in trials() if t.state.name == "RUNNING"]
    deadline = time.monotonic() + 10
    while trial_processes(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = trial_processes(root)
    resumed = subprocess.run(
        [*command, "--stage", "all"], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    return RealStudy(
        root=root,
        storage=storage,
        before_kill=before,
        killed_trial=killed.number,
        killed_config=killed.user_attrs["config"],
        orphans_after_kill=orphans,
        resume_output=resumed.stdout,
    )
