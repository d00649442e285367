"""A fake trial runner: tuner logic is tested without starting trial processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from autoaccel.knobs import Config
from autoaccel.measure import Measurement, Throughput
from autoaccel.runner import TrialResult, TrialSpec
from autoaccel.study import TuneOptions
from autoaccel.task import TaskFacts


def measurement(stage: str, throughput: float, metric: float, **extra) -> Measurement:
    return Measurement(
        stage=stage,
        throughput=Throughput.from_windows([throughput * 0.98, throughput, throughput * 1.02]),
        metric=metric,
        metric_name="accuracy",
        warmup_s=0.1,
        first_step_s=0.05,
        timed_steps=30,
        peak_memory_bytes=2**28,
        memory_kind="process_rss",
        **extra,
    )


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
    """Records every spec it is given and answers with ``model(config, stage)``."""

    model: Callable[[Config, str], TrialResult] = default_model
    specs: list[TrialSpec] = dataclasses.field(default_factory=list)

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        self.specs.append(spec)
        if spec.weights_out:
            Path(spec.weights_out).write_bytes(b"weights")
        return self.model(spec.config, "train" if spec.action == "train" else "deploy")

    def configs(self, action: str) -> list[Config]:
        return [s.config for s in self.specs if s.action == action and not s.weights_out]


@pytest.fixture
def facts(tasks_dir) -> TaskFacts:
    return TaskFacts(
        name="tiny",
        script=str(tasks_dir / "tiny.py"),
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


@pytest.fixture
def options(tmp_path) -> TuneOptions:
    return TuneOptions(
        storage=f"sqlite:///{tmp_path}/studies/autoaccel.db",
        stage="train",
        trials=6,
        studies_dir=tmp_path / "studies",
    )


@pytest.fixture
def tune_fake(tasks_dir, facts, cpu_profile):
    """tune() on tiny.py with a fake runner, the CPU profile and fixed task facts."""
    from autoaccel.study import tune

    def run(options: TuneOptions, runner: FakeRunner | None = None, **kwargs):
        runner = runner or FakeRunner()
        kwargs.setdefault("hardware", cpu_profile)
        task_facts = kwargs.pop("facts", facts)
        kwargs.setdefault("inspect", lambda target: task_facts)
        result = tune(str(tasks_dir / "tiny.py"), options, run=runner, **kwargs)
        return result, runner

    return run
