"""Fault injection: every way a trial can end is a result, and nothing is left running."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time

import optuna
import psutil
import pytest

from autoaccel.errors import BaselineFailedError
from autoaccel.knobs import Config
from autoaccel.runner import TrialSpec, _tree, run_trial
from autoaccel.runner._result import TUNER_PID_VARIABLE
from autoaccel.study import TuneOptions, tune

pytestmark = pytest.mark.slow


def spec(tasks_dir, name: str, profile, **config) -> TrialSpec:
    return TrialSpec(
        action="train",
        script=f"{tasks_dir / 'faulty.py'}:{name}",
        config=Config(**{"batch_size": 16, **config}),
        hardware=profile,
    )


def test_out_of_memory_above_a_batch_size(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "oom", cpu_profile, batch_size=64))
    assert result.outcome == "oom"
    assert "CUDA out of memory" in result.reason


def test_a_segfault_in_the_tasks_code_names_the_signal_and_where(tasks_dir, cpu_profile):
    result = run_trial(spec(tasks_dir, "segv", cpu_profile))
    assert result.outcome == "user_error"
    assert result.reason.startswith("the trial process was killed by SIGSEGV")
    assert "while running the task's code (faulty.py, line" in result.reason
    assert "in forward" in result.reason
    assert result.exit_code == -11
    # The Python stack at the moment of the crash is kept, for the report and bench.
    assert "Segmentation fault" in result.traceback and "faulty.py" in result.traceback


def test_sys_exit_in_the_tasks_code_is_the_users(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "exits", cpu_profile))
    assert result.outcome == "user_error"
    assert "the task's code called sys.exit(3) (faulty.py, line" in result.reason
    assert "faulty.py" in result.traceback and "SystemExit: 3" in result.traceback


def test_nan_loss_is_diverged(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "diverges", cpu_profile))
    assert result.outcome == "diverged"
    assert "became nan" in result.reason


def test_dataset_error_is_the_users_with_their_traceback(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "bad_data", cpu_profile))
    assert result.outcome == "user_error"
    assert "corrupt record at index 37" in result.reason
    assert "faulty.py" in result.traceback and "__getitem__" in result.traceback
    # The user's frames, not autoaccel's internals, lead the traceback.
    assert "autoaccel/measure" not in result.traceback


def test_dataset_error_inside_a_loader_worker(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "bad_data", cpu_profile, num_workers=1))
    assert result.outcome == "user_error"
    assert "corrupt record at index 37" in result.traceback


def test_a_hang_times_out_and_leaves_no_process(tasks_dir, cpu_profile) -> None:
    started = []

    def popen(*args, **kwargs):
        process = subprocess.Popen(*args, **kwargs)
        started.append(process.pid)
        return process

    begin = time.monotonic()
    result = run_trial(spec(tasks_dir, "hang", cpu_profile, num_workers=2), 12, popen=popen)
    assert result.outcome == "timeout"
    assert "12 s limit" in result.reason
    assert time.monotonic() - begin < 30
    group = started[0]
    time.sleep(0.2)
    running = [p.pid for p in psutil.process_iter() if _running_in_group(p, group)]
    assert running == [], f"processes left running in the trial's group: {running}"


def _running_in_group(process: psutil.Process, group: int) -> bool:
    # Killed workers may linger as zombies until init reaps them: dead, not running.
    try:
        return os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE
    except (ProcessLookupError, psutil.NoSuchProcess):
        return False


def test_a_trial_whose_tuner_died_while_it_started_ends_itself(
    tasks_dir, cpu_profile, tmp_path
) -> None:
    # The tuner was killed before this trial finished importing: its parent is already
    # someone else, and only the pid the tuner left in the environment tells it so.
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(spec(tasks_dir, "hang", cpu_profile).model_dump_json())
    gone_tuner = subprocess.Popen(["true"])
    gone_tuner.wait()
    env = {**os.environ, TUNER_PID_VARIABLE: str(gone_tuner.pid)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autoaccel.runner._child",
            spec_path,
            tmp_path / "r",
            tmp_path / "s",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        child.kill()


def test_script_error_while_loading_is_a_user_error(tasks_dir) -> None:
    result = run_trial(TrialSpec(action="inspect", script=str(tasks_dir / "raises_on_import.py")))
    assert result.outcome == "user_error"
    assert "FileNotFoundError" in result.traceback and "/data/train.csv" in result.traceback
    assert "raises_on_import.py" in result.traceback


def test_inspect_reports_task_facts(tasks_dir) -> None:
    result = run_trial(TrialSpec(action="inspect", script=f"{tasks_dir / 'tiny.py'}:conv"))
    assert result.outcome == "ok", result.log_tail
    facts = result.facts
    assert facts.has_conv2d and facts.has_linear
    assert (facts.train_samples, facts.eval_samples) == (256, 64)
    assert facts.baseline.batch_size == 16 and facts.name == "tiny"


def test_a_pace_trial_times_training_without_a_metric(tasks_dir, cpu_profile) -> None:
    result = run_trial(
        TrialSpec(
            action="pace",
            stage="train",
            script=str(tasks_dir / "tiny.py"),
            config=Config(batch_size=16),
            hardware=cpu_profile,
        )
    )
    assert result.ok, result.log_tail
    assert result.measurement is None
    assert result.pace is not None and result.pace.throughput.rate > 0
    assert result.pace.throughput.boundaries >= 2  # tiny epochs: whole ones are timed
    # The tuner read the machine's counters around the trial.
    assert result.machine is not None and result.machine.cores >= 1


def test_a_trial_computes_on_the_cores_the_probe_says_it_may_use(tasks_dir, cpu_profile):
    one_core = cpu_profile.model_copy(
        update={"cpu": cpu_profile.cpu.model_copy(update={"usable_cores": 1})}
    )
    result = run_trial(
        TrialSpec(
            action="train",
            script=f"{tasks_dir / 'tiny.py'}:threads",
            config=Config(batch_size=16),
            hardware=one_core,
        )
    )
    assert result.ok, result.log_tail
    assert result.measurement is not None and result.measurement.metric == 1.0


def test_a_nan_metric_is_diverged_and_says_what_to_check(tasks_dir, cpu_profile) -> None:
    result = run_trial(spec(tasks_dir, "nan_metric", cpu_profile))
    assert result.outcome == "diverged", result.reason
    assert "the metric accuracy came out nan" in result.reason
    assert "Task.metric" in result.reason


def test_a_nan_metric_in_the_baseline_is_recorded_and_stops_tuning(
    tasks_dir, cpu_profile, tmp_path
) -> None:
    options = TuneOptions(
        storage=f"sqlite:///{tmp_path}/autoaccel.db",
        stage="train",
        trials=2,
        studies_dir=tmp_path / "studies",
    )
    with pytest.raises(BaselineFailedError) as error:
        tune(f"{tasks_dir / 'faulty.py'}:nan_metric", options, hardware=cpu_profile)
    message = str(error.value)
    assert "ended with diverged: the metric accuracy came out nan" in message
    assert "batch_size" not in message  # the batch size has nothing to do with it
    (baseline,) = optuna.load_study(study_name="faulty:train", storage=options.storage).get_trials(
        states=(optuna.trial.TrialState.COMPLETE,)
    )
    assert baseline.user_attrs["outcome"] == "diverged"
    assert baseline.values == [0.0, -math.inf]


def test_a_result_that_cannot_be_read_back_is_not_called_missing(tasks_dir, cpu_profile):
    def popen(args, **kwargs):
        # A trial process that writes a result with a hole where a number should be.
        broken = '{"outcome": "ok", "duration_s": null}'
        write = f"import sys; open(sys.argv[1], 'w').write({broken!r})"
        result_path = next(arg for arg in args if arg.endswith("result.json"))
        return subprocess.Popen([sys.executable, "-c", write, result_path], **kwargs)

    result = run_trial(spec(tasks_dir, "nan_metric", cpu_profile), popen=popen)
    assert result.outcome == "crash"
    assert "without a result" not in result.reason
    assert "cannot be read back" in result.reason and "duration_s" in result.reason


@pytest.mark.parametrize("task", ["leaves_a_process", "leaves_an_orphan"])
def test_a_process_the_task_started_in_its_own_session_ends_with_the_trial(
    task, tasks_dir, cpu_profile, tmp_path, monkeypatch
) -> None:
    # The tuner does not look at the trial's processes: the trial process ends them itself,
    # the orphan too, whose parent exited before the trial did.
    monkeypatch.setattr(_tree, "LOOK_EVERY_S", 3600.0)
    assert _left_behind(run_task(tasks_dir, task, cpu_profile, tmp_path, monkeypatch)) == []


@pytest.mark.parametrize(
    ("task", "timeout_s"),
    [("leaves_a_process_and_dies", 60), ("leaves_a_process_and_hangs", 8)],
)
def test_the_tuner_ends_what_a_dead_or_stopped_trial_started(
    task, timeout_s, tasks_dir, cpu_profile, tmp_path, monkeypatch
) -> None:
    pids = run_task(tasks_dir, task, cpu_profile, tmp_path, monkeypatch, timeout_s)
    assert _left_behind(pids) == []


def run_task(tasks_dir, task, profile, tmp_path, monkeypatch, timeout_s=60.0) -> list[int]:
    """Run a task of faulty.py that starts processes; the pids it started."""
    pid_file = tmp_path / "pids"
    monkeypatch.setenv("FAULTY_PID_FILE", str(pid_file))
    run_trial(spec(tasks_dir, task, profile), timeout_s)
    pids = [int(line) for line in pid_file.read_text().split()]
    assert pids
    return pids


def _left_behind(pids: list[int]) -> list[int]:
    """Which of ``pids`` still run (a kill takes a moment to land); they are killed now."""
    running = _still_running(pids)
    for pid in _still_running(pids, wait_s=0):
        os.kill(pid, signal.SIGKILL)
    return running


def _still_running(pids: list[int], wait_s: float = 5.0) -> list[int]:
    """Which of ``pids`` still run after up to ``wait_s`` (a kill takes a moment to land)."""
    deadline = time.monotonic() + wait_s
    while True:
        running = [pid for pid in pids if _running(pid)]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
