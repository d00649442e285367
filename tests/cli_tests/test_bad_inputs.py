"""Every bad input to the command line, one row each: exit code 2, exactly one ``Error:``
line on stderr, no traceback, no password from a URL, and the stored study unchanged.

Each row runs the real command in a folder holding a stored study of
tests/fixtures/tasks/tiny.py under the default storage (``studies/autoaccel.db``, with
``studies/tiny/recommendation.json``), made once with a fake trial runner. Rows fail
before any trial runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from fakes import TINY, task_facts, tune_with_fakes

from autoaccel.probe import probe
from autoaccel.study import TuneOptions

FOLDER = None  # a value of Bad.files: make a folder there
BINARY = bytes(range(256)) * 4  # not UTF-8, not YAML, not JSON


@dataclasses.dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]  # after `autoaccel`
    says: str  # in the error
    files: dict[str, str | bytes | None]  # written in the folder first
    secret: str | None  # in the arguments, never in the output


def bad(
    id: str,
    *args: str,
    says: str,
    files: dict[str, str | bytes | None] | None = None,
    secret: str | None = None,
):
    return pytest.param(Bad(args, says, files or {}, secret), id=id)


def tune(*args: str) -> tuple[str, ...]:
    return ("tune", str(TINY), "--stage", "train", *args)


ROWS = [
    *(
        bad(f"{flag}={value}", *tune(flag, value), says=f"{flag} must be a positive number")
        for flag in ("--trial-timeout", "--timeout", "--run-epochs")
        for value in ("nan", "inf", "-inf", "-1", "0")
    ),
    *(
        bad(f"--max-metric-drop={value}", *tune("--max-metric-drop", value), says="a number >= 0")
        for value in ("nan", "inf", "-1")
    ),
    *(
        bad(f"--seed={value}", *tune("--seed", value), says="--seed must be between 0 and")
        for value in ("-1", str(2**32), str(2**40))
    ),
    *(
        bad(f"--jobs={value}", *tune("--jobs", value), says="--jobs must be at least 1")
        for value in ("0", "-2")
    ),
    bad(
        "--jobs=more-than-the-cores",
        *tune("--jobs", "4097"),
        says="--jobs 4097 asks for more trials at once than the",
    ),
    bad("--heartbeat=0", *tune("--heartbeat", "0"), says="--heartbeat must be at least 1 second"),
    *(
        bad(
            f"{flag}={value}",
            *("tune", str(TINY), "--stage", "deploy", flag, value),
            says=says,
        )
        for flag, value, says in (
            ("--objective", "fastest", "--objective must be throughput or latency"),
            ("--latency-batch", "0", "--latency-batch must be between 1 and"),
            ("--latency-batch", "100000", "--latency-batch must be between 1 and"),
            *(
                ("--max-latency-ms", value, "--max-latency-ms must be a positive number")
                for value in ("nan", "inf", "-1", "0")
            ),
            *(
                ("--max-memory", value, "--max-memory must be a size with a unit")
                for value in ("2", "2 parsecs", "-1GiB", "GiB", "1e3MiB")
            ),
            ("--max-memory", "0GiB", "--max-memory must be more than zero bytes"),
            ("--max-memory", "", "--max-memory must be a size such as 2GiB"),
        )
    ),
    bad(
        "latency limit on the train stage",
        *tune("--max-latency-ms", "5"),
        says="judge the deploy stage; use --stage deploy or --stage all",
    ),
    *(
        bad(
            f"bench --timeout={value}",
            *("bench", str(TINY), "--timeout", value),
            says="--timeout must be a positive number of seconds",
        )
        for value in ("nan", "inf", "-inf", "-1", "0")
    ),
]


# 100 batch sizes x 101 worker counts x 64 prefetch factors: a short file, a huge grid.
LARGE_SPACE = (
    f"batch_size: {list(range(1, 101))}\n"
    f"num_workers: {list(range(101))}\n"
    f"prefetch_factor: {list(range(1, 65))}\n"
)


def space(id: str, text: str | bytes | None, says: str, stage: str = "train"):
    """A row tuning with ``--space space.yaml`` holding ``text`` (None: a folder)."""
    args = ("tune", str(TINY), "--stage", stage, "--space", "space.yaml")
    return bad(f"--space {id}", *args, says=says, files={"space.yaml": text})


ROWS += [
    space("binary", BINARY, "space.yaml is not text"),
    space("folder", FOLDER, "space.yaml is a folder"),
    space("empty", "", "must map knob names to their choices"),
    space("string batch size", 'batch_size: ["64"]', "'64' is not allowed"),
    space("bool batch size", "batch_size: [true]", "True is not allowed"),
    space("bool workers", "num_workers: [false, 2]", "False is not allowed"),
    space("number for a bool", "pin_memory: [1]", "1 is not allowed"),
    space("nan step", "pruning_ratio: {low: 0, high: 0.5, step: .nan}", "needs numbers", "deploy"),
    space("inf high", "pruning_ratio: {low: 0, high: .inf, step: 0.1}", "needs numbers", "deploy"),
    space("quoted low", 'pruning_ratio: {low: "0", high: 0.5, step: 0.1}', "as text", "deploy"),
    space("1e-9 is text", "pruning_ratio: {low: 0, high: 0.5, step: 1e-9}", "as text", "deploy"),
    space("bool step", "pruning_ratio: {low: 0, high: 0.5, step: true}", "numbers", "deploy"),
    space(
        "tiny step",
        "pruning_ratio: {low: 0, high: 0.9, step: 1.0e-9}",
        "more than 100 values",
        "deploy",
    ),
    space(
        "denormal step",
        "pruning_ratio: {low: 0, high: 0.9, step: 5.0e-324}",
        "more than 100 values",
        "deploy",
    ),
    space("unknown backend", "backend: [tensorrt]", "'tensorrt' is not allowed", "deploy"),
    space("bool distill", "distill: [true]", "True is not allowed", "deploy"),
    space("deep", "[" * 100_000, "nested too deeply"),
    space("too many configurations", LARGE_SPACE, "646400 configurations"),
    space("train only, all stages", "train:\n  batch_size: [16]", "no deploy: section", "all"),
]


def config(id: str, value: str, says: str, files: dict[str, str | bytes | None] | None = None):
    """A row benchmarking tiny.py with ``--config value``."""
    return bad(f"--config {id}", "bench", str(TINY), "--config", value, says=says, files=files)


RECOMMENDATION = "studies/tiny/recommendation.json"
ROWS += [
    config("binary file", "config.json", "config.json is not text", {"config.json": BINARY}),
    config("folder", "configs", "configs is a folder", {"configs": FOLDER}),
    config("missing file", "nope.json", "neither a JSON object nor an existing file"),
    config("long file name", "c" * 300, "File name too long"),
    config("invalid JSON file", "config.json", "is not valid JSON", {"config.json": "{bad"}),
    config("invalid JSON", '{"batch_size": 8', "--config is not valid JSON"),
    config("a list", "config.json", "must hold a JSON object", {"config.json": "[1, 2]"}),
    config("deep", "config.json", "nested too deeply", {"config.json": "[" * 100_000}),
    config("unknown knob", '{"batch_sise": 8}', "batch_sise: unknown knob"),
    config("bool batch size", '{"batch_size": true}', "valid integer (got True)"),
    config("string batch size", '{"batch_size": "64"}', "valid integer (got '64')"),
    config("nan ratio", '{"pruning_ratio": NaN}', "pruning_ratio: Input should be"),
    config("unknown backend", '{"backend": "tensorrt"}', "backend: Input should be 'torch'"),
    config("bool distill", '{"distill": true}', "distill: Input should be 'off' or 'on'"),
    config("distill without pruning", '{"distill": "on"}', "distill needs pruning_ratio > 0"),
    config(
        "onnxruntime with compile",
        '{"backend": "onnxruntime", "compile": "default"}',
        "compile=default does not apply with backend=onnxruntime: ONNX Runtime serves",
    ),
    config("damaged recommendation", RECOMMENDATION, "not text", {RECOMMENDATION: BINARY}),
    config("cut recommendation", RECOMMENDATION, "not valid JSON", {RECOMMENDATION: '{"stag'}),
    config(
        "odd recommendation",
        RECOMMENDATION,
        "is not a readable recommendation",
        {RECOMMENDATION: '{"study": "tiny", "stages": {"train": {"config": 3}}}'},
    ),
]


LONG_NAME = "a" * 300
ROWS += [
    bad("--study too long", *tune("--study", LONG_NAME), says="at most 100 characters"),
    bad("--study with a space", *tune("--study", "my study"), says="'my study' is not usable"),
    bad("--study a path", *tune("--study", "../x"), says="'../x' is not usable"),
]


def storage(id: str, url: str, says: str, secret: str | None = None, **files: str | None):
    """A row listing the studies in ``--storage url``."""
    args = ("studies", "list", "--storage", url)
    return bad(f"--storage {id}", *args, says=says, secret=secret, files=files)


ROWS += [
    storage("password", "postgresql://bob:hunter2x@127.0.0.1:1/db", "cannot open", "hunter2x"),
    storage("@ in password", "postgresql://bob:p@ssw0rd@127.0.0.1:1/db", "cannot open", "ssw0rd"),
    storage("query password", "postgresql://127.0.0.1:1/db?password=hunter2x", "open", "hunter2x"),
    storage("odd case", "postgresql://127.0.0.1:1/db?PassWord=hunter2x", "open", "hunter2x"),
    storage("no scheme", "bob:hunter2x@host", "not one autoaccel can use", "hunter2x"),
    storage("other scheme", "mongodb://bob:hunter2x@host/db", "can use", "hunter2x"),
    storage("bad host", "postgresql://bob:hunter2x@[::1/db", "cannot open", "hunter2x"),
    storage("folder", "sqlite:///studies", "names a folder"),
    storage("not a database", "sqlite:///notes.db", "not an SQLite database", **{"notes.db": "hi"}),
    storage("long file name", f"sqlite:///{'x' * 300}.db", "File name too long"),
    storage("in memory", "sqlite://", "in memory"),
    storage("in memory, named", "sqlite:///:memory:", "in memory"),
    bad(
        "tune --storage in memory",
        *tune("--storage", "sqlite://"),
        says="in memory",
    ),
]


ROWS += [
    bad(
        "--hold-effective-batch for deploy",
        "tune",
        str(TINY),
        "--stage",
        "deploy",
        "--hold-effective-batch",
        says="--hold-effective-batch holds the train stage's effective batch",
    ),
    bad("missing script", "tune", "train.py", says="train.py: no such file"),
    bad("script name too long", "tune", f"{'t' * 300}.py", says="File name too long"),
    bad("bench script name too long", "bench", f"{'t' * 300}.py", says="File name too long"),
    bad("script is a folder", "tune", "studies", says="studies is not a Python file"),
    bad(
        "script is text", "tune", "notes.txt", says="is not a Python file", files={"notes.txt": ""}
    ),
    bad("report, no such study", "report", "nosuch", says="nosuch"),
    bad("show, no such study", "studies", "show", "nosuch", says="nosuch"),
    bad("delete, no such study", "studies", "delete", "nosuch", "--yes", says="nosuch"),
    bad("report, no storage", "report", "tiny", "--storage", "sqlite:///none.db", says="none.db"),
    bad("report, bad format", "report", "tiny", "--format", "pdf", says="--format"),
]
ROWS += [
    bad("another task", "tune", f"{TINY}:conv", says=f"{TINY}:conv is another task"),
    bad("no such task", "tune", f"{TINY}:nosuch", says="It defines these Tasks: task, conv"),
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A studies folder holding a study of tiny.py, stored with a fake trial runner."""
    studies = tmp_path_factory.mktemp("stored") / "studies"
    options = TuneOptions(
        storage=f"sqlite:///{studies}/autoaccel.db", stage="train", trials=3, studies_dir=studies
    )
    # This machine and the script as it is: a resume would go on without inspecting it.
    facts = task_facts(script_sha256=hashlib.sha256(TINY.read_bytes()).hexdigest())
    tune_with_fakes(options, facts=facts, hardware=probe())
    # A study stored before names had a length limit: too long to name a folder.
    tune_with_fakes(dataclasses.replace(options, study="long"))
    with sqlite3.connect(studies / "autoaccel.db") as db:
        db.execute(
            "UPDATE studies SET study_name = ? WHERE study_name = ?",
            (f"{LONG_NAME}:train", "long:train"),
        )
    shutil.rmtree(studies / "long")
    return studies


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("bad", ROWS)
def test_bad_input(bad: Bad, stored, run_cli, tmp_path, monkeypatch) -> None:
    shutil.copytree(stored, tmp_path / "studies")
    for name, content in bad.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is FOLDER:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    monkeypatch.chdir(tmp_path)
    before = digests(tmp_path / "studies")
    result = run_cli(*bad.args)
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output
    assert sum(line.startswith("Error:") for line in result.stderr.splitlines()) == 1, output
    assert bad.says in result.stderr, output
    assert "Traceback" not in output
    assert digests(tmp_path / "studies") == before
    if bad.secret is not None:
        assert bad.secret not in output


def test_a_stored_name_too_long_for_a_folder_is_reported_and_deleted(
    stored, run_cli, tmp_path, monkeypatch
) -> None:
    shutil.copytree(stored, tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    report = run_cli("report", LONG_NAME)
    assert report.exit_code == 0, report.stderr
    assert "names no folder" in report.stdout
    deleted = run_cli("studies", "delete", LONG_NAME, "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    listed = json.loads(run_cli("studies", "list", "--json").stdout)["studies"]
    assert [study["name"] for study in listed] == ["tiny"]
