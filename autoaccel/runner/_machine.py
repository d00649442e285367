"""What else the machine was doing while a trial ran: other processes on the trial's cores
and on the GPUs, time stolen by the hypervisor, the load average.

Read by the tuner around the trial process, from the kernel's CPU counters and NVML (which
is not CUDA: the tuner still never touches a device), so nothing runs inside the trial to
disturb it.
"""

from __future__ import annotations

import dataclasses
import os
import resource
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

BUSY_OTHERS_SHARE = 0.10  # of the trial's cores, used by other processes
BUSY_STEAL_SHARE = 0.05  # of the trial's cores, taken by the hypervisor


class MachineLoad(BaseModel):
    """The machine's state over one trial, as shares of the cores the trial could use."""

    model_config = ConfigDict(frozen=True)

    cores: int
    others_share: float
    steal_share: float
    load_average: float | None = None
    gpu_processes: list[int] = Field(
        default_factory=list, description="Other processes computing on the GPUs meanwhile."
    )

    @property
    def busy(self) -> bool:
        return (
            self.others_share > BUSY_OTHERS_SHARE
            or self.steal_share > BUSY_STEAL_SHARE
            or bool(self.gpu_processes)
        )

    def describe(self) -> str:
        parts = [f"other processes used {self.others_share:.0%} of its {self.cores} cores"]
        if self.gpu_processes:
            parts.append(f"{len(self.gpu_processes)} other process(es) computed on the GPU")
        if self.steal_share > 0.005:
            parts.append(f"the hypervisor stole {self.steal_share:.0%}")
        if self.load_average is not None:
            parts.append(f"load average {self.load_average:.1f}")
        return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class CpuCounters:
    """Cumulative CPU seconds on the trial's cores, and what this process and its waited-for
    children used."""

    busy_s: float
    steal_s: float
    own_s: float


def read_counters(cpus: Sequence[int]) -> CpuCounters:
    """The kernel's counters now, summed over ``cpus``."""
    import psutil

    per_cpu = psutil.cpu_times(percpu=True)
    busy = steal = 0.0
    for index in cpus:
        if index >= len(per_cpu):
            continue
        times = per_cpu[index]
        idle = times.idle + getattr(times, "iowait", 0.0)
        stolen = getattr(times, "steal", 0.0)
        # psutil's user time on Linux already contains guest time: count neither twice.
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        busy += total - idle - stolen
        steal += stolen
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return CpuCounters(busy, steal, own)


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return list(range(os.cpu_count() or 1))


class LoadMeter:
    """Reads the counters when a trial starts and when it ends."""

    def __init__(
        self,
        cpus: Sequence[int] | None = None,
        read: Callable[[Sequence[int]], CpuCounters] = read_counters,
        load_average: Callable[[], float | None] = lambda: _load_average(),
        gpu_processes: Callable[[], set[int]] = lambda: _gpu_processes(),
    ) -> None:
        self._cpus = list(cpus) if cpus is not None else usable_cpus()
        self._read = read
        self._load_average = load_average
        self._gpu_processes = gpu_processes
        self._start: CpuCounters | None = None
        self._gpu_before: set[int] = set()

    def start(self) -> None:
        """Before the trial starts: whatever computes on a GPU now is another process."""
        self._start = self._read(self._cpus)
        self._gpu_before = self._gpu_processes()

    def stop(self, wall_s: float) -> MachineLoad | None:
        """The load over the ``wall_s`` seconds since :meth:`start`; None if unknown."""
        if self._start is None or wall_s <= 0:
            return None
        end = self._read(self._cpus)
        capacity = wall_s * len(self._cpus)
        others = (end.busy_s - self._start.busy_s) - (end.own_s - self._start.own_s)
        return MachineLoad(
            cores=len(self._cpus),
            others_share=min(1.0, max(0.0, others / capacity)),
            steal_share=min(1.0, max(0.0, (end.steal_s - self._start.steal_s) / capacity)),
            load_average=self._load_average(),
            # After the trial ended, whatever computes on a GPU is another process too.
            gpu_processes=sorted(self._gpu_before | self._gpu_processes()),
        )


def _gpu_processes() -> set[int]:
    """Pids with a compute context on any NVIDIA GPU, this process excluded; none without
    NVML or a GPU."""
    try:
        import pynvml
    except ImportError:
        return set()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return set()
    try:
        pids = set()
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            pids |= {p.pid for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle)}
        return pids - {os.getpid()}
    except pynvml.NVMLError:
        return set()
    finally:
        pynvml.nvmlShutdown()


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
