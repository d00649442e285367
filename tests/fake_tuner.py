"""A tuner process for the tests that kill tuners or run two at once: the real ``tune()``
with the fake trial runner, machine and task facts of ``fakes.py``.

    python tests/fake_tuner.py run OPTIONS_JSON EVENTS_FILE TRIAL_S
        Tune, each fake trial taking TRIAL_S seconds; write what the progress showed and
        which configurations this tuner measured to EVENTS_FILE (JSON).

    python tests/fake_tuner.py kill-points OPTIONS_JSON FOLDER TRIALS
        Count the storage writes a fresh tune makes until its TRIALS-th trial is told, then,
        for each write N, tune again on a fresh storage in FOLDER/N in a forked process that
        kills itself with SIGKILL just before write N. Prints, as JSON, each point's write
        and whether the process died there.

OPTIONS_JSON holds TuneOptions fields; ``storage`` and ``studies_dir`` are overridden per
point by kill-points.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fakes import FakeRunner, default_model, tune_with_fakes

from autoaccel.knobs import Config
from autoaccel.runner import TrialResult
from autoaccel.study import SilentProgress, TuneOptions

# What a tuner writes through: the RDB storage's methods that commit a change. The cached
# storage Optuna wraps around it calls the underscored ones.
WRITES = (
    "create_new_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "_create_new_trial",
    "_set_trial_param",
    "set_trial_state_values",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "set_trial_intermediate_value",
)


def options_from(text: str, **changes: Any) -> TuneOptions:
    fields = {**json.loads(text), **changes}
    fields["studies_dir"] = Path(fields["studies_dir"])
    return TuneOptions(**fields)


@contextlib.contextmanager
def watched_writes(before_write: Callable[[int, str, tuple], None]) -> Iterator[None]:
    """Call ``before_write(n, name, arguments)`` before the n-th storage write (from 1)."""
    from optuna.storages import RDBStorage

    count = [0]
    originals = {name: getattr(RDBStorage, name) for name in WRITES}

    def watch(name: str, original: Callable) -> Callable:
        def write(self, *args, **kwargs):
            count[0] += 1
            before_write(count[0], name, (*args, *kwargs.values()))
            return original(self, *args, **kwargs)

        return write

    for name, original in originals.items():
        setattr(RDBStorage, name, watch(name, original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(RDBStorage, name, original)


def describe(name: str, args: tuple) -> str:
    shown = [repr(a) for a in args if isinstance(a, str) and len(a) < 40]
    state = _state(args)
    return f"{name}({', '.join(shown + ([state.name] if state else []))})"


def _state(args: tuple) -> Any:
    return next((a for a in args if hasattr(a, "is_finished")), None)


def kill_points(options_json: str, folder: Path, trials: int) -> list[dict[str, Any]]:
    writes: list[tuple[str, tuple]] = []
    count_options = _at(options_json, folder / "count")
    with watched_writes(lambda n, name, args: writes.append((name, args))):
        tune_with_fakes(count_options)
    told = [
        n
        for n, (name, args) in enumerate(writes, 1)
        if name == "set_trial_state_values" and _state(args).is_finished()
    ]
    last = told[trials - 1]
    points = []
    for point in range(1, last + 1):
        options = _at(options_json, folder / str(point))
        pid = os.fork()
        if pid == 0:
            _tune_until_killed(options, point)
        _, status = os.waitpid(pid, 0)
        points.append(
            {
                "point": point,
                "write": describe(*writes[point - 1]),
                "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                "storage": options.storage,
                "studies_dir": str(options.studies_dir),
            }
        )
    return points


def _at(options_json: str, folder: Path) -> TuneOptions:
    folder.mkdir(parents=True)
    return options_from(
        options_json,
        storage=f"sqlite:///{folder}/autoaccel.db",
        studies_dir=str(folder / "studies"),
    )


def _tune_until_killed(options: TuneOptions, point: int) -> None:
    def before_write(n: int, name: str, args: tuple) -> None:
        if n == point:
            os.kill(os.getpid(), signal.SIGKILL)

    try:
        with watched_writes(before_write):
            tune_with_fakes(options)
    finally:
        os._exit(3)  # never reached the write: the caller sees it was not killed


class EventLog(SilentProgress):
    """Keeps what the progress showed, to check each line names this tuner's own trial."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def trial_started(self, stage: str, number: int, role: str, config: dict[str, Any]) -> None:
        self.started.append(number)

    def trial_finished(self, stage, record, finished, target, best_speedup) -> None:
        self.finished.append({"number": record.number, "finished": finished, "target": target})

    def note(self, text: str) -> None:
        self.notes.append(text)


def _short_sleep(seconds: float) -> None:
    time.sleep(min(seconds, 0.05))


def run(options_json: str, events: Path, trial_s: float) -> None:
    def slow(config: Config, stage: str) -> TrialResult:
        time.sleep(trial_s)
        return default_model(config, stage)

    log, runner = EventLog(), FakeRunner(slow)
    # Waits for another tuner's baseline poll often: its fake trials are short.
    tune_with_fakes(options_from(options_json), runner, progress=log, sleep=_short_sleep)
    measured = [c.model_dump(mode="json") for c in runner.configs("train")]
    events.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "started": log.started,
                "finished": log.finished,
                "measured": measured,
                "notes": log.notes,
            }
        )
    )


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "run":
        run(rest[0], Path(rest[1]), float(rest[2]))
    else:
        print(json.dumps(kill_points(rest[0], Path(rest[1]), int(rest[2]))))
