"""Fixtures that run the tuner with a fake trial runner (no trial processes)."""

from __future__ import annotations

import functools
import os

import pytest
from fakes import FakeRunner, task_facts, tune_with_fakes

from autoaccel.knobs import TaskFacts
from autoaccel.study import TuneOptions


@pytest.fixture
def facts() -> TaskFacts:
    return task_facts()


@pytest.fixture
def options(tmp_path) -> TuneOptions:
    return TuneOptions(
        storage=f"sqlite:///{tmp_path}/studies/autoaccel.db",
        stage="train",
        trials=6,
        studies_dir=tmp_path / "studies",
    )


@pytest.fixture
def tune_fake():
    """``tune_fake(options, runner=None, **seams) -> (result, runner)``: tune() on tiny.py
    with a fake runner, the CPU host and fixed task facts."""

    def run(options: TuneOptions, runner: FakeRunner | None = None, **seams):
        runner = runner or FakeRunner()
        return tune_with_fakes(options, runner, **seams), runner

    return run


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for this test session: its data in a temporary folder,
    listening on a free port of 127.0.0.1, anyone trusted. Yields the URL of its server
    (no database); stopped and deleted at the end. Skipped where none can be started.

    initdb refuses to run as root, so as root (CI) the server runs as ``nobody``.
    """
    import glob
    import shutil
    import socket
    import subprocess
    import tempfile
    from pathlib import Path

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not found[-1]:
        pytest.skip("no PostgreSQL server here (initdb not found; .ci/run installs one)")
    bindir = Path(found[-1]).parent
    user = {"user": "nobody", "group": "nogroup", "extra_groups": []} if os.geteuid() == 0 else {}
    folder = Path(tempfile.mkdtemp(prefix="autoaccel-postgres-"))
    if user:
        shutil.chown(folder, "nobody", "nogroup")
    data = folder / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = functools.partial(subprocess.run, capture_output=True, text=True, cwd=folder, **user)
    made = run(
        [
            bindir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
        ]
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    started = (
        made.returncode == 0
        and (
            run([bindir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start"])
        ).returncode
        == 0
    )
    if not started:
        log = (folder / "log").read_text() if (folder / "log").exists() else made.stderr
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"no PostgreSQL server could be started here: {log.strip()[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A new, empty database on the session's PostgreSQL server, for one test."""
    import hashlib

    import psycopg

    name = "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:20]
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"
