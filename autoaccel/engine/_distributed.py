"""Data parallel training: what one rank of a ``world_size`` > 1 run does.

Every rank runs the same :class:`~autoaccel.engine.TrainingRun`: the model wrapped in
``DistributedDataParallel`` (gradients averaged over the ranks at every step), the training
data sharded by a ``DistributedSampler`` (a new shuffle each epoch, the same on every rank).
The ranks are started by whoever trains (the trial process, ``autoaccel.train``) with
:func:`rank_environment`; a started rank calls :func:`join` before it trains.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from autoaccel.errors import ConfigError

T = TypeVar("T")
ADDRESS = "127.0.0.1"  # every rank on this machine


@dataclasses.dataclass(frozen=True)
class Rank:
    """This process's place among the ranks, and where rank 0 meets the others."""

    rank: int
    world_size: int
    port: int
    address: str = ADDRESS

    @property
    def main(self) -> bool:
        """Rank 0: the one that measures, evaluates, saves and speaks."""
        return self.rank == 0


def rank_environment(rank: int, world_size: int, port: int) -> dict[str, str]:
    """The environment a started rank reads (torch.distributed's own names)."""
    return {
        "MASTER_ADDR": ADDRESS,
        "MASTER_PORT": str(port),
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "WORLD_SIZE": str(world_size),
    }


def rank_from_environment(environ: Mapping[str, str] = os.environ) -> Rank | None:
    """The rank this process was started as, or None when it was not started as one."""
    if "RANK" not in environ or "WORLD_SIZE" not in environ:
        return None
    return Rank(
        rank=int(environ["RANK"]),
        world_size=int(environ["WORLD_SIZE"]),
        port=int(environ["MASTER_PORT"]),
        address=environ.get("MASTER_ADDR", ADDRESS),
    )


def free_port() -> int:
    """A TCP port no one listens on now, for rank 0 to meet the others."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ADDRESS, 0))
        return int(probe.getsockname()[1])


def join(rank: Rank, device_type: str) -> None:
    """Join the ranks: gloo on a CPU, NCCL on CUDA with rank r on GPU r of the visible ones.

    Each rank computes on its own share of this process's cores (affinity; ``use_cores``
    then starts one thread per core of it), so ranks do not fight over cores.
    """
    if not dist.is_available():
        raise ConfigError("world_size > 1 needs torch.distributed, which this torch build lacks.")
    _take_core_share(rank)
    if device_type == "cuda":
        torch.cuda.set_device(rank.rank)
    dist.init_process_group(
        "nccl" if device_type == "cuda" else "gloo",
        init_method=f"tcp://{rank.address}:{rank.port}",
        rank=rank.rank,
        world_size=rank.world_size,
    )


def leave(*, finished: bool) -> None:
    """Leave the ranks, if this process joined them.

    ``finished``: this rank's work ended well, so every rank waits for the others first and
    none tears its connections down while a peer still talks on them (gloo's threads then
    abort the process at its exit). After a failure a peer may be gone: no wait. The DDP
    models that hold the group are collected first, not left to the interpreter's exit.
    """
    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        gc.collect()
        dist.destroy_process_group()


def _take_core_share(rank: Rank) -> None:
    if not hasattr(os, "sched_setaffinity"):
        return  # macOS: no affinity; the threads share the cores
    cores = sorted(os.sched_getaffinity(0))
    share = len(cores) // rank.world_size
    if share == 0:
        return  # fewer cores than ranks: the knob refuses it, a direct caller shares
    os.sched_setaffinity(0, cores[rank.rank * share : (rank.rank + 1) * share])


def in_group() -> bool:
    return dist.is_available() and dist.is_initialized()


def is_main_rank() -> bool:
    """Whether this process is rank 0, or trains alone."""
    return not in_group() or dist.get_rank() == 0


def wait_for_ranks() -> None:
    """Return once every rank got here: a clock read after it covers every rank's work."""
    if in_group():
        dist.barrier()


def from_main_rank(compute: Callable[[], T]) -> T:
    """``compute()`` run on rank 0 alone, its value handed to every rank (the same metric,
    the same decision everywhere, so the ranks keep stepping together)."""
    if not in_group():
        return compute()
    box = [compute() if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[return-value]


def data_parallel(model: Any, world_size: int, device: torch.device) -> Any:
    """``model`` wrapped in DistributedDataParallel, or as it is for one rank."""
    if world_size == 1:
        return model
    _check_joined(world_size)
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return DistributedDataParallel(model, device_ids=[index])
    return DistributedDataParallel(model)


def _check_joined(world_size: int) -> None:
    if not in_group() or dist.get_world_size() != world_size:
        joined = f"{dist.get_world_size()} ranks" if in_group() else "no ranks"
        raise ConfigError(
            f"world_size={world_size} trains in that many rank processes, and this one has "
            f"joined {joined}: let autoaccel start them (autoaccel tune, autoaccel bench, "
            "autoaccel.train)."
        )


class ShardedBatches:
    """This rank's batches: a DataLoader over its shard, reshuffled at each pass (epoch)
    by the sampler's ``set_epoch``, which every rank calls with the same epoch."""

    def __init__(self, loader: Any, sampler: Any) -> None:
        self.loader = loader
        self.sampler = sampler
        self._epoch = 0

    def __iter__(self) -> Iterator[Any]:
        self.sampler.set_epoch(self._epoch)
        self._epoch += 1
        return iter(self.loader)

    def __len__(self) -> int:
        return len(self.loader)


def shard_sampler(dataset: Any, world_size: int, seed: int) -> Any:
    """The sampler of this rank's shard: disjoint from every other rank's, shuffled with
    ``seed``; the last ``len(dataset) % world_size`` samples of each shuffle are dropped so
    every rank steps the same number of times."""
    _check_joined(world_size)
    from torch.utils.data import DistributedSampler

    return DistributedSampler(
        dataset,
        num_replicas=world_size,
        rank=dist.get_rank(),
        shuffle=True,
        seed=seed,
        drop_last=True,
    )
