"""A fake trial runner: tuner logic is tested without starting trial processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from autoaccel.knobs import Config
from autoaccel.measure import Measurement, Throughput
from autoaccel.runner import TrialResult, TrialSpec


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
