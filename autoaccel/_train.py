"""``autoaccel.train``: train a task for real, with the recommended configuration.

The same loop that trials measure, so what was measured is what trains. With
``world_size`` k > 1 the user's process is rank 0 and starts the script again for ranks
1..k-1; each trains on its shard and ends inside ``train``, so the script's code after it
(printing, saving) runs once, on rank 0.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoaccel import defaults, knobs
from autoaccel.errors import ConfigError, RunFailedError
from autoaccel.knobs import Config
from autoaccel.task import Task

# How long the ranks get to end once rank 0 failed: one whose failure broke rank 0's
# collective is still ending, and is then named as the cause.
FAILED_RANK_ENDS_S = 5.0

if TYPE_CHECKING:
    from autoaccel.engine import Rank
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
    from autoaccel.engine import rank_from_environment
    from autoaccel.probe import probe

    started_rank = rank_from_environment()
    if started_rank is not None and not started_rank.main:
        log = _quiet  # rank 0 speaks for every rank
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
    epochs = epochs or task.run_epochs or task.epochs
    if config.world_size == 1:
        return _train(task, config, hardware, epochs, seed, log)
    if started_rank is None:
        with _other_ranks(config.world_size) as rank:
            return _train_as(rank, task, config, hardware, epochs, seed, log)
    result = _train_as(started_rank, task, config, hardware, epochs, seed, log)
    if started_rank.main:  # started by a launcher of the user's own (torchrun)
        return result
    sys.exit(0)  # the script's code after train() is rank 0's


def _quiet(*_: Any) -> None:
    pass


def _train_as(
    rank: Rank, task: Task, config: Config, hw: HardwareProfile, epochs: float, seed: int, log: Any
) -> TrainResult:
    from autoaccel.engine import join, leave

    join(rank, hw.device)
    trained = None
    try:
        trained = _train(task, config, hw, epochs, seed, log)
        return trained
    finally:
        leave(finished=trained is not None)


@contextlib.contextmanager
def _other_ranks(world_size: int) -> Iterator[Rank]:
    """This process as rank 0, with ranks 1..world_size-1 running the same command line.

    A rank that fails makes rank 0's next collective fail too: that failure is then said to
    be the rank's (its traceback is in the output above), as is a rank that ends badly after
    rank 0 finished. None is left running.
    """
    from autoaccel.engine import Rank, free_port, rank_environment

    if getattr(sys.modules.get("__main__"), "__file__", None) is None:
        raise ConfigError(
            f"world_size={world_size} starts the script once more per rank: run it as "
            "python train.py, not from a notebook or python -c."
        )
    port = free_port()
    command = [sys.executable, *sys.orig_argv[1:]]
    others = {
        rank: subprocess.Popen(
            command, env={**os.environ, **rank_environment(rank, world_size, port)}
        )
        for rank in range(1, world_size)
    }
    try:
        yield Rank(0, world_size, port)
    except Exception as error:
        _check_others(others, world_size, within_s=FAILED_RANK_ENDS_S, cause=error)
        raise
    else:
        _check_others(others, world_size, within_s=None)
    finally:
        for process in others.values():
            process.kill()
            process.wait()


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


def _check_others(
    others: dict[int, subprocess.Popen[bytes]],
    world_size: int,
    *,
    within_s: float | None,
    cause: BaseException | None = None,
) -> None:
    """Raise :class:`RunFailedError` for the first rank that ended badly, giving them
    ``within_s`` in all to end (None: as long as they take)."""
    deadline = None if within_s is None else time.monotonic() + within_s
    for rank, process in others.items():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if process.returncode not in (None, 0):
            raise RunFailedError(
                f"rank {rank} of {world_size} ended with exit code {process.returncode}; its "
                "output is above."
            ) from cause


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
