"""``autoaccel.train``: train a task for real, with the recommended configuration.

The same loop that trials measure, so what was measured is what trains.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoaccel import defaults, knobs
from autoaccel.errors import ConfigError
from autoaccel.knobs import Config
from autoaccel.task import Task

if TYPE_CHECKING:
    from autoaccel.probe import HardwareProfile


@dataclasses.dataclass
class TrainResult:
    """The trained model and how it did. ``epoch_rates``: samples/s of each epoch, its
    loader start and every periodic cost included."""

    model: Any
    metric: float
    metric_name: str
    config: Config
    seconds: float
    samples_per_s: float
    epoch_rates: list[float] = dataclasses.field(default_factory=list)


def train(
    task: Task,
    config: Config | dict[str, Any] | None = None,
    *,
    epochs: float | None = None,
    study: str | None = None,
    studies_dir: str | Path = defaults.STUDIES_DIR,
    seed: int = 0,
    log: Any = print,
) -> TrainResult:
    """Train ``task`` for ``epochs`` and evaluate it: by default as long as the task's real
    training runs (``Task.run_epochs``), else for ``Task.epochs``.

    Without ``config``, the train-stage recommendation saved by ``autoaccel tune`` is used
    (``studies/<study>/recommendation.json``, the study named after the script by default);
    without one, the task's baseline. A recommendation this machine cannot run (it was
    tuned elsewhere) falls back to the baseline, and says so; an explicit ``config`` that
    cannot run is an error.
    """
    from autoaccel.probe import probe

    hardware = probe()
    baseline = task.baseline
    assert isinstance(baseline, Config)
    if config is None:
        config, source = _recommended(task, baseline, study, Path(studies_dir))
        reasons = knobs.refusals(config, hardware, None, "train")
        if reasons:
            log(
                f"autoaccel: the recommendation cannot run here ({'; '.join(reasons)}); "
                "training with the baseline instead"
            )
            config, source = baseline, "the task's baseline"
    else:
        if isinstance(config, dict):
            config = knobs.config_from_dict(config, source="train(config=...)", base=baseline)
        source = "the given configuration"
        reasons = knobs.refusals(config, hardware, None, "train")
        if reasons:
            raise ConfigError(f"this configuration cannot run here: {'; '.join(reasons)}.")
    log(
        f"autoaccel: training with {source}: "
        + ", ".join(f"{k}={v}" for k, v in config.for_stage("train").items())
    )
    return _train(task, config, hardware, epochs or task.run_epochs or task.epochs, seed, log)


def _recommended(
    task: Task, baseline: Config, study: str | None, studies_dir: Path
) -> tuple[Config, str]:
    from autoaccel.recommend import read_recommendation
    from autoaccel.study import StudyFolder

    name = study or task.name or _main_script_name()
    path = StudyFolder(name, studies_dir).recommendation if name else None
    if path is None or not path.exists():
        return baseline, "the task's baseline (no recommendation saved yet)"
    recommendation = read_recommendation(path)
    choice = recommendation.stages.get("train")
    if choice is None:
        return baseline, f"the task's baseline ({path} has no train stage)"
    return choice.config, f"the recommendation in {path} ({choice.speedup:.2f}x)"


def _main_script_name() -> str | None:
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    return Path(file).stem if file else None


def _train(
    task: Task, config: Config, hardware: HardwareProfile, epochs: float, seed: int, log: Any
) -> TrainResult:
    import torch

    from autoaccel.engine import TrainingRun, check_finite, synchronize, use_cores

    use_cores(hardware.usable_cores)
    device = torch.device(hardware.device)
    run = TrainingRun(task, config, device, seed, epochs)
    total = run.total_steps
    start = time.perf_counter()
    samples = 0
    done = 0
    epoch = 0
    epoch_rates = []
    while done < total:
        epoch += 1
        steps = min(run.steps_per_epoch, total - done)
        loss_sum = torch.zeros((), device=device)
        epoch_start = time.perf_counter()
        for batch in run.batches(steps):
            loss_sum = loss_sum + run.step(batch).float()
        done += steps
        epoch_samples = steps * run.samples_per_step
        samples += epoch_samples
        check_finite(loss_sum, f"the training loss in epoch {epoch}")  # waits for the device
        metric = run.end_epoch()  # the task's epoch-end hook, its evaluation timed with the epoch
        epoch_rates.append(epoch_samples / (time.perf_counter() - epoch_start))
        seen = f", {task.metric_name} {metric:.4f}" if metric is not None else ""
        log(
            f"autoaccel: epoch {epoch}: mean loss {float(loss_sum) / max(steps, 1):.4f}, "
            f"{epoch_rates[-1]:,.0f} samples/s{seen}"
        )
    synchronize(device)
    seconds = time.perf_counter() - start
    metric = run.evaluate()
    log(
        f"autoaccel: {task.metric_name} {metric:.4f} after {seconds:.1f} s "
        f"({samples / seconds:,.0f} samples/s)"
    )
    return TrainResult(
        run.model, metric, task.metric_name, config, seconds, samples / seconds, epoch_rates
    )
