"""Data parallel training: the task trained by ``world_size`` processes at once.

Unlike the other knobs it acts outside the step lists: a trial with ``world_size`` k starts
k rank processes (``runner``), each joins a ``torch.distributed`` group (gloo on a CPU,
NCCL on CUDA GPUs, rank r on GPU r), wraps the model in ``DistributedDataParallel`` and
trains on its own shard of ``Task.train_data`` (``engine``). ``batch_size`` is per rank: a
step trains ``world_size * batch_size`` samples, and the learning-rate rule follows that
global batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile


class WorldSize(Knob):
    """Rank processes that train together, each on its share of the data and of the
    machine: a GPU each on CUDA, a disjoint share of the cores each on a CPU."""

    name = "world_size"
    values = int
    field = Field(default=1, ge=1, le=1024)
    stages = ("train",)

    def refusal(
        self, value: int, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == 1:
            return None
        if hw.software.distributed is False:
            return f"world_size={value} needs torch.distributed, which this torch build lacks"
        if facts is not None and facts.own_batches:
            return own_batches_refusal(value)
        if hw.device == "cuda":
            gpus = sum(1 for a in hw.accelerators if a.supported and a.kind in ("cuda", "rocm"))
            if value > gpus:
                return f"world_size={value} needs a GPU per rank; the probe saw {gpus}"
            return None
        if hw.device != "cpu":
            return (
                f"world_size={value} runs ranks on CUDA GPUs (NCCL) or on CPU cores (gloo); "
                f"autoaccel does not start ranks on {hw.device}"
            )
        if value > hw.usable_cores:
            return (
                f"world_size={value} needs a core per rank; this process may use {hw.usable_cores}"
            )
        return None


def own_batches_refusal(value: int) -> str:
    return (
        f"world_size={value} shards Task.train_data between ranks; this task makes its own "
        "batches (Task.train_batches), which autoaccel cannot shard"
    )


KNOB = WorldSize()
