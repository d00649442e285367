"""Every place the probe reads the outside world, as one object with real defaults.

Tests replace any of them (a fixture file tree for ``/proc`` and ``/sys``, a fake NVML
module, made-up torch facts) and run on any machine, without a GPU.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PlatformFacts:
    """What Python's ``platform`` module says about this machine."""

    system: str | None = None  # "Linux", "Darwin", "Windows"
    machine: str | None = None  # "x86_64", "aarch64", "arm64"
    processor: str | None = None
    python: str | None = None
    hostname: str | None = None


def read_platform() -> PlatformFacts:
    return PlatformFacts(
        system=platform.system() or None,
        machine=platform.machine() or None,
        processor=platform.processor() or None,
        python=platform.python_version(),
        hostname=platform.node() or None,
    )


@dataclasses.dataclass(frozen=True)
class XpuDevice:
    name: str | None = None
    memory_total_bytes: int | None = None


@dataclasses.dataclass(frozen=True)
class TorchFacts:
    """What the installed torch was built for, read without creating a CUDA context.

    ``notes`` says which of these facts torch could not give.
    """

    version: str | None = None
    cuda: str | None = None  # torch.version.cuda: the CUDA runtime torch was built with
    hip: str | None = None  # torch.version.hip: set on ROCm builds
    cudnn: int | None = None  # cuDNN as one number, e.g. 90100 (MIOpen's on ROCm builds)
    cpu_capability: str | None = None  # "AVX512", "AVX2", "DEFAULT", ...
    mps_available: bool = False
    xpu_devices: tuple[XpuDevice, ...] = ()
    xla_available: bool = False  # torch_xla importable (looked up, never imported)
    distributed: bool | None = None  # torch.distributed.is_available()
    notes: tuple[str, ...] = ()


def read_torch_facts() -> TorchFacts:
    """Import torch and read its build facts; raises only when torch cannot be imported.

    No ``torch.cuda`` call here: those initialise CUDA in the calling process, and the
    tuner's parent process must never hold a CUDA context. NVIDIA facts come from NVML.
    """
    import importlib.util

    xla_available = importlib.util.find_spec("torch_xla") is not None
    import torch

    notes: list[str] = []

    def attempt(what: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except Exception as error:
            notes.append(f"torch {what}: {type(error).__name__}: {error}")
            return None

    def xpu_devices() -> tuple[XpuDevice, ...]:
        xpu = getattr(torch, "xpu", None)
        if xpu is None or not xpu.is_available():
            return ()
        devices = []
        for index in range(xpu.device_count()):
            props = xpu.get_device_properties(index)
            devices.append(XpuDevice(props.name, getattr(props, "total_memory", None)))
        return tuple(devices)

    return TorchFacts(
        version=str(torch.__version__),
        cuda=torch.version.cuda,
        hip=getattr(torch.version, "hip", None),
        cudnn=attempt("cuDNN version", lambda: _cudnn_version(torch)),
        cpu_capability=attempt("CPU capability", torch.backends.cpu.get_cpu_capability),
        mps_available=bool(attempt("MPS", torch.backends.mps.is_available)),
        xpu_devices=attempt("XPU devices", xpu_devices) or (),
        xla_available=xla_available,
        distributed=attempt("distributed", torch.distributed.is_available),
        notes=tuple(notes),
    )


def _cudnn_version(torch: ModuleType) -> int | None:
    # torch.backends.cudnn.version() checks the GPUs' capabilities through torch.cuda,
    # which initialises CUDA; the library's own version call does not.
    cudnn = getattr(torch._C, "_cudnn", None)
    return int(cudnn.getVersionInt()) if cudnn is not None else None


def import_pynvml() -> Any:
    """The NVML bindings (nvidia-ml-py); importing them loads no driver library yet."""
    import pynvml

    return pynvml


def import_psutil() -> Any:
    import psutil

    return psutil


def sched_affinity() -> Collection[int]:
    """CPUs this process may run on (Linux; raises AttributeError on macOS and Windows)."""
    return os.sched_getaffinity(0)


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None; nothing is imported."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def run_command(argv: Sequence[str]) -> str | None:
    """Stdout of a short command, or None when it cannot run or fails."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def measure_matmul(dtype: str, cores: int) -> float:
    """FLOP/s of a square matmul in ``dtype`` on ``cores`` threads: the best of a few
    0.1 s spans after warm-up (about a second for both precisions)."""
    import torch

    size = 1024
    kind = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a = torch.randn(size, size, dtype=kind)
    b = torch.randn(size, size, dtype=kind)
    threads = torch.get_num_threads()
    torch.set_num_threads(cores)
    try:
        for _ in range(2):
            a @ b
        best = 0.0
        for _ in range(4):
            start, count = time.perf_counter(), 0
            while time.perf_counter() - start < 0.1:
                a @ b
                count += 1
            best = max(best, 2 * size**3 * count / (time.perf_counter() - start))
        return best
    finally:
        torch.set_num_threads(threads)  # autoaccel.train probes inside the user's process


def _environ() -> Mapping[str, str]:
    return os.environ


def cache_dir() -> Path:
    """Where the probe keeps what it measured once per machine: ``$XDG_CACHE_HOME/autoaccel``
    (``~/.cache/autoaccel`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autoaccel"


@dataclasses.dataclass(frozen=True)
class ProbeSources:
    """Where :func:`autoaccel.probe.probe` reads from; every field has a real default.

    Loaders (``load_nvml``, ``torch_facts``, ``load_psutil``) may raise: the probe turns
    that into an unknown value and a note.
    """

    proc_root: Path = Path("/proc")  # cpuinfo, meminfo, self/cgroup
    sys_root: Path = Path("/sys")  # NUMA nodes, cgroup CPU quota, PCI devices
    dev_root: Path = Path("/dev")  # TPU chips (/dev/accel*, /dev/vfio/*)
    environ: Mapping[str, str] = dataclasses.field(default_factory=_environ)
    platform: Callable[[], PlatformFacts] = read_platform
    torch_facts: Callable[[], TorchFacts] = read_torch_facts
    load_nvml: Callable[[], Any] = import_pynvml
    load_psutil: Callable[[], Any] = import_psutil
    affinity: Callable[[], Collection[int]] = sched_affinity
    which: Callable[[str], str | None] = shutil.which
    package_version: Callable[[str], str | None] = package_version
    run_command: Callable[[Sequence[str]], str | None] = run_command
    # The CPU's matmul FLOP/s in a dtype on so many threads (imports torch), and where it
    # is kept per fingerprint (None: measured at every probe).
    cpu_matmul: Callable[[str, int], float] = measure_matmul
    cache_dir: Path | None = dataclasses.field(default_factory=cache_dir)
