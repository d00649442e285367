"""Fakes shared by every test folder: a task's facts, machines, measurements, a trial
runner that answers without starting a process, where a stored study lies, and the trial
processes a folder started.

Tests import it as ``fakes``: pytest puts tests/ on ``sys.path`` for tests/conftest.py
(rootdir, prepend import mode), whichever folder a test lives in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autoaccel.knobs import Config, TaskFacts
from autoaccel.measure import Measurement, Pace, Throughput
from autoaccel.probe import Accelerator, CpuInfo, HardwareProfile, Software
from autoaccel.runner import TrialResult, TrialSpec

# Bound now: CLI tests replace autoaccel.study.tune with a call of tune_with_fakes.
from autoaccel.study import SilentProgress, TuneOptions, TuneResult, tune

TASKS = Path(__file__).parent / "fixtures" / "tasks"
TINY = TASKS / "tiny.py"
GPU_MEMORY = 80 * 2**30


def task_facts(**changes: Any) -> TaskFacts:
    """The facts a trial process reads from tests/fixtures/tasks/tiny.py, with ``changes``."""
    base: dict[str, Any] = dict(
        name="tiny",
        script=str(TINY),
        script_sha256="abc",
        metric_name="accuracy",
        baseline=Config(batch_size=64),
        epochs=10.0,
        parameters=100,
        has_conv2d=False,
        has_linear=True,
        train_samples=16384,
        eval_samples=1024,
    )
    return TaskFacts(**{**base, **changes})


def cpu_host(cores: int = 2, compiler: str | None = "/usr/bin/g++") -> HardwareProfile:
    """A CPU-only machine like the ones CI runs on."""
    return HardwareProfile(
        cpu=CpuInfo(
            model="AMD EPYC",
            arch="x86_64",
            usable_cores=cores,
            logical_cores=cores,
            isa={"avx2": True},
            cxx_compiler=compiler,
        ),
        software=Software(torch="2.13.0", torchao="0.18.0", torch_pruning="1.6.0"),
    )


def gpu_host(
    name: str,
    capability: str,
    *,
    peak_flops: dict[str, float] | None = None,
    cores: int = 16,
) -> HardwareProfile:
    """A machine with one NVIDIA GPU (``GPU_MEMORY`` bytes) of the given compute capability."""
    return HardwareProfile(
        cpu=CpuInfo(
            model="Intel Xeon", arch="x86_64", usable_cores=cores, cxx_compiler="/usr/bin/g++"
        ),
        accelerators=[
            Accelerator(
                kind="cuda",
                name=name,
                compute_capability=capability,
                memory_total_bytes=GPU_MEMORY,
                peak_flops=peak_flops or {},
            )
        ],
        software=Software(
            torch="2.11.0", cuda="13.0", triton="3.6.0", torchao="0.18.0", torch_pruning="1.6.0"
        ),
    )


def measurement(
    stage: str,
    throughput: float,
    metric: float,
    *,
    spread: Sequence[float] = (0.98, 1.0, 1.02),
    **fields: Any,
) -> Measurement:
    """A measurement of ``throughput`` samples/s, its windows ``spread`` around it; any
    other field of :class:`Measurement` can be given."""
    base: dict[str, Any] = dict(
        metric_name="accuracy",
        warmup_s=0.1,
        first_step_s=0.05,
        timed_steps=30,
        peak_memory_bytes=2**28,
        memory_kind="process_rss",
    )
    return Measurement(
        stage=stage,
        throughput=Throughput.from_windows([throughput * f for f in spread]),
        metric=metric,
        **{**base, **fields},
    )


@dataclasses.dataclass(frozen=True)
class StoredStudy:
    """A study stored in ``root/studies/``: ``autoaccel.db`` and ``<name>/``, its files."""

    root: Path
    storage: str
    name: str = "tiny"

    @property
    def studies_dir(self) -> Path:
        return self.root / "studies"


def default_model(config: Config, stage: str) -> TrialResult:
    """Throughput grows with batch size, bf16 halves it on this pretend CPU, and batches of
    512 lose accuracy beyond tolerance."""
    speed = config.batch_size * 100.0 * (0.5 if config.precision == "bf16" else 1.0)
    speed *= 1.0 + 0.1 * config.num_workers
    metric = 0.90 - (0.05 if config.batch_size >= 512 else 0.0)
    if stage == "deploy":
        speed *= 1.0 + config.pruning_ratio
        metric -= config.pruning_ratio / 10
    return TrialResult(outcome="ok", measurement=measurement(stage, speed, metric), duration_s=1.0)


@dataclasses.dataclass
class FakeRunner:
    """A trial runner without processes: records every spec, writes the weights a spec asks
    for, and answers with ``model(config, stage)``. The ``interrupt_at``-th measured trial
    (counting from 1, weights runs aside) is stopped by Ctrl-C."""

    model: Callable[[Config, str], TrialResult] = default_model
    interrupt_at: int | None = None
    specs: list[TrialSpec] = dataclasses.field(default_factory=list)

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        self.specs.append(spec)
        if spec.weights_out:
            Path(spec.weights_out).write_bytes(b"weights")
        elif len(self.measured()) == self.interrupt_at:
            raise KeyboardInterrupt
        stage = spec.stage if spec.action == "pace" else spec.action
        result = self.model(spec.config or Config(), "train" if stage == "train" else "deploy")
        if spec.action != "pace" or result.measurement is None:
            return result
        m = result.measurement
        pace = Pace(
            stage=m.stage,
            throughput=m.throughput,
            first_step_s=m.first_step_s,
            warmup_s=m.warmup_s,
            warmup_steps=5,
            timed_steps=m.timed_steps,
        )
        return result.model_copy(update={"measurement": None, "pace": pace})

    def measured(self) -> list[TrialSpec]:
        return [s for s in self.specs if not s.weights_out]

    def configs(self, action: str, seed: int = 0) -> list[Config]:
        """The configurations of the measured trials of ``action`` with ``seed``, in order
        (a second seed trains the confirmed winner and the baseline again)."""
        return [
            s.config or Config() for s in self.measured() if s.action == action and s.seed == seed
        ]


def tune_with_fakes(
    options: TuneOptions,
    runner: FakeRunner | None = None,
    *,
    facts: TaskFacts | None = None,
    hardware: HardwareProfile | None = None,
    script: str = str(TINY),
    **seams: Any,
) -> TuneResult:
    """The real ``tune()`` with a fake trial runner, machine (:func:`cpu_host`) and task
    facts (:func:`task_facts`); ``seams`` are its other arguments (``progress``, ``clock``)."""
    known = facts or task_facts()
    return tune(
        script,
        options,
        run=runner or FakeRunner(),
        hardware=hardware or cpu_host(),
        inspect=lambda target: known,
        **seams,
    )


class RecordingProgress(SilentProgress):
    """Keeps the tuner's notes, to check what it told the user."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def trial_processes(folder: Path) -> list[int]:
    """Trial processes (not zombies) started from ``folder``."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "cwd", "status"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            if (
                "autoaccel.runner._child" in cmdline
                and process.info["cwd"] == str(folder)
                and process.info["status"] != psutil.STATUS_ZOMBIE
            ):
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
