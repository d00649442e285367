"""What each of the trials that run at once may use: a GPU of its own, or on a CPU a share
of the cores no other trial touches.

A trial's throughput is only comparable with another's when both ran on the same kind of
share, so CPU shares are equal (leftover cores stay idle) and a GPU is never shared.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Iterable
from typing import Any

from autoaccel.errors import ConfigError
from autoaccel.knobs import Config
from autoaccel.probe import HardwareProfile

# Accelerators whose trials are given devices through the environment (see runner/_spawn.py).
SPLIT_KINDS = ("cuda", "rocm")


@dataclasses.dataclass(frozen=True)
class Placement:
    """What one trial runs on: accelerator indices as the probe numbers them, and the CPU
    cores it may use; empty means all of them, as a trial alone on the machine has."""

    devices: tuple[int, ...] = ()
    cores: tuple[int, ...] = ()

    def __add__(self, other: Placement) -> Placement:
        return Placement(self.devices + other.devices, self.cores + other.cores)

    def describe(self) -> str:
        if self.devices:
            return f"GPU {','.join(map(str, self.devices))}"
        if self.cores:
            return f"cores {','.join(map(str, self.cores))}"
        return "the whole machine"


def placement_attr(jobs: int, placement: Placement) -> dict[str, Any]:
    """The trial attribute that says what a trial ran on when trials ran at once."""
    return {"jobs": jobs, "devices": list(placement.devices), "cores": list(placement.cores)}


def describe_sharing(trials: Iterable[Any]) -> str | None:
    """How a stage's trials (Optuna trials) shared the machine, for reports; None when
    each ran alone."""
    placed = [t.user_attrs["placement"] for t in trials if "placement" in t.user_attrs]
    if not placed:
        return None
    jobs = max(p["jobs"] for p in placed)
    if any(p["devices"] for p in placed):
        return f"up to {jobs} trials ran at once, each on a GPU of its own"
    cores = min(len(p["cores"]) for p in placed)
    return (
        f"up to {jobs} trials ran at once and shared this machine, each pinned to {cores} "
        "core(s) of its own: their throughputs compare with each other, and memory bandwidth "
        "and caches were shared"
    )


def devices_needed(config: Config) -> int:
    """How many devices a trial of ``config`` runs on: GPUs, or cores on a CPU. One per
    data-parallel rank."""
    return config.world_size


class DevicePool:
    """The units trials take and give back, and how many trials may run at once."""

    def __init__(self, units: list[Placement], jobs: int, what: str) -> None:
        self.units = units
        self.free = list(units)
        self.jobs = jobs
        self.running = 0
        self.what = what  # "GPU" or "cores": what each trial gets of its own

    @property
    def shares_cpu(self) -> bool:
        """Whether trials run side by side on one CPU's cores (the report says so)."""
        return self.jobs > 1 and self.what == "cores"

    def has_room(self) -> bool:
        return self.running < self.jobs and bool(self.free)

    def take(self, devices: int) -> Placement | None:
        """Units holding ``devices`` GPUs (or cores) for one trial, or None until enough are
        given back. A trial that needs more than the pool holds gets all of it (knobs refuse
        what the machine cannot run); alone on a CPU, a trial has the whole machine."""
        count = min(len(self.units), self._units_for(devices))
        if self.running >= self.jobs or count > len(self.free):
            return None
        taken, self.free = self.free[:count], self.free[count:]
        self.running += 1
        placement = Placement()
        for unit in taken:
            placement += unit
        return placement

    def _units_for(self, devices: int) -> int:
        per_unit = len(self.units[0].devices or self.units[0].cores)
        return -(-devices // per_unit) if per_unit else 1

    def give_back(self, placement: Placement) -> None:
        self.running -= 1
        self.free += [u for u in self.units if _within(u, placement)]
        self.free.sort(key=self.units.index)


def _within(unit: Placement, placement: Placement) -> bool:
    return set(unit.devices) <= set(placement.devices) and set(unit.cores) <= set(placement.cores)


def device_pool(
    hardware: HardwareProfile,
    jobs: int | None,
    affinity: Callable[[], Collection[int]] | None = None,
) -> DevicePool:
    """The pool for ``--jobs`` trials at once (None: one per GPU, or 1 on a CPU).

    ``affinity`` gives the cores this process may run on (``os.sched_getaffinity``).
    """
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}.")
    gpus = [a.index for a in hardware.accelerators if a.supported and a.kind in SPLIT_KINDS]
    if hardware.device != "cpu" and gpus:
        if jobs is not None and jobs > len(gpus):
            raise ConfigError(
                f"--jobs {jobs} asks for more trials at once than the {len(gpus)} GPU(s) this "
                f"machine has; each trial needs a GPU of its own: use --jobs {len(gpus)} or less."
            )
        return DevicePool([Placement(devices=(i,)) for i in gpus], jobs or len(gpus), "GPU")
    if jobs is None or jobs == 1:
        return DevicePool([Placement()], 1, "cores")
    if hardware.device != "cpu":
        raise ConfigError(
            f"--jobs {jobs}: trials on {hardware.device} cannot be given devices of their own; "
            "run with --jobs 1."
        )
    cores = _usable_cores(hardware, affinity)
    if cores is None:
        raise ConfigError(
            f"--jobs {jobs}: this system cannot pin a trial to cores of its own; run with --jobs 1."
        )
    if jobs > len(cores):
        raise ConfigError(
            f"--jobs {jobs} asks for more trials at once than the {len(cores)} cores this "
            f"process may use; each trial needs a core of its own: use --jobs {len(cores)} or less."
        )
    share = len(cores) // jobs
    units = [Placement(cores=tuple(cores[i * share : (i + 1) * share])) for i in range(jobs)]
    return DevicePool(units, jobs, "cores")


def _usable_cores(
    hardware: HardwareProfile, affinity: Callable[[], Collection[int]] | None
) -> list[int] | None:
    """The cores trials may be pinned to: those this process runs on, as many as the probe
    found usable (a cgroup quota may allow fewer than the affinity lists)."""
    if affinity is None:
        if not hasattr(os, "sched_getaffinity"):
            return None
        affinity = _this_process_cores
    return sorted(affinity())[: hardware.usable_cores]


def _this_process_cores() -> Collection[int]:
    return os.sched_getaffinity(0)
