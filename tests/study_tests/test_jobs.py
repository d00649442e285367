"""--jobs: several trials at once in one tuner, each on devices of its own, the baseline
alone first, no configuration measured twice, and every trial stopped on Ctrl-C."""

from __future__ import annotations

import dataclasses
import io
import os
import threading
import time

import optuna
import pytest
from fakes import FakeRunner, cpu_host, gpu_host, tune_with_fakes

from autoaccel.errors import ConfigError
from autoaccel.knobs import Config
from autoaccel.probe import Accelerator, HardwareProfile
from autoaccel.runner import TrialResult, TrialSpec
from autoaccel.study._devices import Placement, device_pool, devices_needed

# Four configurations: the baseline (batch 64) and three others, so that samplers asking
# while other trials run suggest a running configuration again.
SMALL_SPACE = "batch_size: [32, 64, 128, 256]\nprecision: [fp32]\nnum_workers: [0]\n"
# One rank per trial (world_size is left out), so each trial takes one GPU.
WIDE_SPACE = (
    "batch_size: [32, 64, 128, 256, 512]\nprecision: [fp32, bf16]\nnum_workers: [0, 1, 2]\n"
)


def gpus(count: int, cores: int = 16) -> HardwareProfile:
    host = gpu_host("NVIDIA H100", "9.0", cores=cores)
    (gpu,) = host.accelerators
    return host.model_copy(
        update={"accelerators": [gpu.model_copy(update={"index": i}) for i in range(count)]}
    )


@dataclasses.dataclass
class TimedRunner(FakeRunner):
    """A fake runner whose trials take ``trial_s`` and that notes which ran at once."""

    trial_s: float = 0.2
    spans: list[tuple[float, float, TrialSpec]] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        start = time.monotonic()
        result = super().__call__(spec, timeout_s)
        time.sleep(self.trial_s)
        with self.lock:
            self.spans.append((start, time.monotonic(), spec))
        return result

    def running_at(self, moment: float) -> int:
        return sum(1 for start, end, _ in self.spans if start <= moment < end)

    def overlapping(self, spec: TrialSpec) -> list[TrialSpec]:
        (start, end) = next((s, e) for s, e, other in self.spans if other is spec)
        return [o for s, e, o in self.spans if o is not spec and s < end and start < e]


@dataclasses.dataclass
class CtrlCWhenThreeRun(FakeRunner):
    """Ctrl-C arrives in the third trial that runs at once (after the baseline)."""

    in_flight: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        result = super().__call__(spec, timeout_s)
        if spec.config == Config(batch_size=64):
            return result
        with self.lock:
            self.in_flight += 1
            third = self.in_flight == 3
        if third:
            raise KeyboardInterrupt
        time.sleep(2.0)
        return result


def small_options(options, folder, space_text=SMALL_SPACE, **changes):
    folder.mkdir(parents=True, exist_ok=True)
    space = folder / "small.yaml"
    space.write_text(space_text)
    return dataclasses.replace(options, space=space, confirm=0, **changes)


def stage_trials(options) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="tiny:train", storage=options.storage).get_trials()


def test_trials_run_at_once_each_on_a_gpu_of_its_own_after_the_baseline(options, tmp_path) -> None:
    options = small_options(options, tmp_path, WIDE_SPACE, trials=6)
    runner = TimedRunner(trial_s=1.0)  # longer than starting a trial takes
    tune_with_fakes(options, runner, hardware=gpus(3))
    search = [spec for _, _, spec in runner.spans if spec.action == "train"]
    baseline = next(s for s in search if s.config == Config(batch_size=64))
    assert runner.overlapping(baseline) == []  # the other slots waited for it
    assert max(runner.running_at(start) for start, _, _ in runner.spans) == 3
    for spec in search:
        assert len(spec.devices) == 1
        assert all(o.devices != spec.devices for o in runner.overlapping(spec))
    trials = stage_trials(options)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    measured = [t for t in trials if t.state.name == "COMPLETE" and "repeat_of" not in t.user_attrs]
    assert len(measured) == 6
    assert {t.user_attrs["placement"]["jobs"] for t in measured} == {3}


@pytest.mark.parametrize("seed", range(6))
def test_no_configuration_is_measured_twice_while_several_run(options, tmp_path, seed) -> None:
    """With seeds 4 and 5 the sampler suggests the configuration a running trial measures:
    that trial waits for it and copies its result instead."""
    options = small_options(options, tmp_path, trials=4, seed=seed)
    runner = TimedRunner(trial_s=0.1)
    tune_with_fakes(options, runner, hardware=gpus(3))
    measured = [s.config for _, _, s in runner.spans if s.action == "train"]
    assert len(measured) == len(set(measured)) == 4  # every configuration of the space, once
    trials = stage_trials(options)
    assert not [t for t in trials if t.state.name == "RUNNING"]


def test_ctrl_c_with_several_trials_running_marks_each_interrupted(options, tmp_path) -> None:
    options = small_options(options, tmp_path, WIDE_SPACE, trials=8)
    runner = CtrlCWhenThreeRun()
    result = tune_with_fakes(options, runner, hardware=gpus(3))
    assert result.interrupted
    trials = stage_trials(options)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    stopped = [t for t in trials if t.state.name == "FAIL"]
    assert len(stopped) == 3  # the one stopped by Ctrl-C and the two running beside it
    assert all(t.user_attrs["outcome"] == "interrupted" for t in stopped)


def test_a_trial_needs_a_device_per_rank() -> None:
    assert devices_needed(Config()) == 1
    assert devices_needed(Config(world_size=2)) == 2


def test_a_data_parallel_trial_takes_as_many_devices_as_it_has_ranks() -> None:
    pool = device_pool(gpus(3), None)
    assert pool.take(2) == Placement(devices=(0, 1))
    assert pool.take(2) is None  # one GPU is left: it waits
    assert pool.take(1) == Placement(devices=(2,))
    # On a CPU, shares of two cores: two ranks fit in one share, three need two.
    pool = device_pool(cpu_host(cores=4), 2, affinity=lambda: range(4))
    assert pool.take(3) == Placement(cores=(0, 1, 2, 3))
    pool = device_pool(cpu_host(cores=4), 2, affinity=lambda: range(4))
    assert pool.take(2) == Placement(cores=(0, 1))
    # Alone on the machine, a trial has all of it, however many ranks it runs.
    assert device_pool(cpu_host(cores=4), None).take(4) == Placement()


def test_gpu_pool_gives_each_trial_its_own_gpu() -> None:
    pool = device_pool(gpus(2), None)
    assert pool.jobs == 2
    first, second = pool.take(1), pool.take(1)
    assert {first, second} == {Placement(devices=(0,)), Placement(devices=(1,))}
    assert pool.take(1) is None and not pool.has_room()
    pool.give_back(first)
    assert pool.take(1) == first


def test_cpu_pool_splits_the_cores_into_equal_disjoint_shares() -> None:
    assert device_pool(cpu_host(cores=8), None).units == [Placement()]  # alone: unchanged
    pool = device_pool(cpu_host(cores=8), 3, affinity=lambda: range(8))
    assert [u.cores for u in pool.units] == [(0, 1), (2, 3), (4, 5)]  # cores 6, 7 idle
    assert pool.shares_cpu
    # A cgroup quota of 4 cores: only 4 of the 8 cores the affinity lists are used.
    pool = device_pool(cpu_host(cores=4), 2, affinity=lambda: range(8))
    assert [u.cores for u in pool.units] == [(0, 1), (2, 3)]


@pytest.mark.parametrize(
    ("hardware", "jobs", "says"),
    [
        (cpu_host(cores=2), 0, "--jobs must be at least 1, got 0"),
        (cpu_host(cores=2), -1, "--jobs must be at least 1"),
        (cpu_host(cores=2), 3, "more trials at once than the 2 cores"),
        (gpus(2), 3, "more trials at once than the 2 GPU(s)"),
        (
            cpu_host().model_copy(update={"accelerators": [Accelerator(kind="mps")]}),
            2,
            "trials on mps cannot be given devices of their own",
        ),
    ],
)
def test_jobs_the_machine_cannot_give_are_refused(hardware, jobs, says) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        device_pool(hardware, jobs, affinity=lambda: range(2))


def test_bad_jobs_and_heartbeat_options_are_refused(options) -> None:
    with pytest.raises(ConfigError, match="--jobs must be at least 1"):
        dataclasses.replace(options, jobs=0).check()
    with pytest.raises(ConfigError, match="--heartbeat must be at least 1 second"):
        dataclasses.replace(options, heartbeat_s=0).check()


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two cores to give two trials one each",
)
def test_the_report_says_trials_shared_the_cpu(options, tmp_path) -> None:
    from rich.console import Console

    from autoaccel.report import build_report, print_text

    options = small_options(options, tmp_path, trials=4, jobs=2)  # one rank per trial
    runner = TimedRunner(trial_s=0.5)
    tune_with_fakes(options, runner, hardware=cpu_host(cores=2))
    cores = [s.cores for _, _, s in runner.spans if s.action == "train"]
    assert all(len(c) == 1 for c in cores) and len(set(cores)) == 2
    console = Console(file=io.StringIO(), width=200)
    print_text(build_report(options.storage, "tiny", studies_dir=options.studies_dir), console)
    assert (
        "Shared machine: up to 2 trials ran at once and shared this machine, each pinned to "
        "1 core(s) of its own" in console.file.getvalue()
    )
    # Alone on the machine, nothing is said.
    alone = dataclasses.replace(options, study="alone", jobs=1)
    tune_with_fakes(alone, hardware=cpu_host(cores=2))
    console = Console(file=io.StringIO(), width=200)
    print_text(build_report(options.storage, "alone", studies_dir=options.studies_dir), console)
    assert "Shared machine" not in console.file.getvalue()


@dataclasses.dataclass
class TakenOverOnce(FakeRunner):
    """While the first search trial runs, another tuner fails it, as it does a trial whose
    heartbeat went stale."""

    storage: str = ""
    taken: list[int] = dataclasses.field(default_factory=list)

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        if spec.config != Config(batch_size=64) and not self.taken:
            study = optuna.load_study(study_name="tiny:train", storage=self.storage)
            (running,) = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
            study.tell(running.number, state=optuna.trial.TrialState.FAIL)
            self.taken.append(running.number)
        return super().__call__(spec, timeout_s)


def test_a_trial_taken_over_while_it_ran_keeps_what_the_other_tuner_stored(
    options, tmp_path
) -> None:
    options = small_options(options, tmp_path, WIDE_SPACE, trials=4)
    runner = TakenOverOnce(storage=options.storage)
    result = tune_with_fakes(options, runner)
    trials = stage_trials(options)
    (taken,) = runner.taken
    assert trials[taken].state.name == "FAIL"
    assert not [t for t in trials if t.state.name == "RUNNING"]
    done = [t for t in trials if t.state.name == "COMPLETE" and "repeat_of" not in t.user_attrs]
    assert len(done) == 4
    retry = next(t for t in trials if t.user_attrs.get("retry_of") == taken)
    assert retry.user_attrs["config"] == trials[taken].user_attrs["config"]
    assert result.recommendation.stages["train"] is not None
