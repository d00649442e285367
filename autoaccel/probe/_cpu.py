"""The CPU: model, cores this process may really use, memory, NUMA, instruction sets."""

from __future__ import annotations

import contextlib
import functools
import math
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autoaccel.probe._notes import Notes
from autoaccel.probe._profile import ARM_ISA, X86_ISA, CpuInfo
from autoaccel.probe._sources import PlatformFacts, ProbeSources, TorchFacts

_X86 = ("x86_64", "amd64", "i386", "i686")
_ARM = ("aarch64", "arm64", "armv8l", "armv7l")

# /proc/cpuinfo on Arm names the designer and the core by number only (as lscpu's table).
_ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "APM",
    0x51: "Qualcomm",
    0x61: "Apple",
    0xC0: "Ampere",
}
_ARM_PARTS = {
    (0x41, 0xD03): "Cortex-A53",
    (0x41, 0xD08): "Cortex-A72",
    (0x41, 0xD0B): "Cortex-A76",
    (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD40): "Neoverse-V1",
    (0x41, 0xD49): "Neoverse-N2",
    (0x41, 0xD4F): "Neoverse-V2",
    (0x41, 0xD84): "Neoverse-V3",
    (0x41, 0xD8E): "Neoverse-N3",
    (0xC0, 0xAC3): "AmpereOne",
    (0xC0, 0xAC4): "AmpereOne",
}
_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}
# macOS spells the Arm features it has as sysctl keys.
_DARWIN_ISA = {
    "neon": "hw.optional.neon",
    "asimd": "hw.optional.neon",
    "bf16": "hw.optional.arm.FEAT_BF16",
    "i8mm": "hw.optional.arm.FEAT_I8MM",
    "sve": "hw.optional.arm.FEAT_SVE",
}


def is_x86(machine: str | None) -> bool:
    return (machine or "").lower() in _X86


def is_arm(machine: str | None) -> bool:
    return (machine or "").lower() in _ARM


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """The blocks of /proc/cpuinfo (one per logical CPU on x86 and Arm), as dicts."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def isa_flags(machine: str | None, flags: set[str]) -> dict[str, bool]:
    """The instruction sets torch's CPU kernels care about; empty for other architectures.

    Keys use /proc/cpuinfo's spelling (``avx512_bf16``, ``amx_tile``, ``asimd``).
    """
    if is_x86(machine):
        return {name: name in flags for name in X86_ISA}
    if is_arm(machine):
        isa = {name: name in flags for name in ARM_ISA}
        # 64-bit Arm calls NEON "asimd"; 32-bit kernels list "neon" itself.
        isa["neon"] = "neon" in flags or "asimd" in flags
        return isa
    return {}


def cgroup_cpu_limit(proc_root: Path, sys_root: Path) -> tuple[float, str] | None:
    """The tightest CPU quota over this process's cgroups: (cores, file it came from).

    cgroup v2 ``cpu.max`` ("max 100000" or "400000 100000") and v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: none), read in the process's own
    cgroup and every parent, since a limit anywhere above applies too. None: no quota.
    """
    base = sys_root / "fs" / "cgroup"
    membership = _cgroup_membership(proc_root)
    limits: list[tuple[float, str]] = []
    for directory in _with_parents(base, membership.get("")):
        limit = _cpu_max(directory / "cpu.max")
        if limit is not None:
            limits.append(limit)
    for mount in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        if (base / mount).is_dir():
            for directory in _with_parents(base / mount, membership.get("cpu")):
                limit = _cfs_quota(directory)
                if limit is not None:
                    limits.append(limit)
            break
    return min(limits, default=None)


def _cgroup_membership(proc_root: Path) -> dict[str, str]:
    """Controller -> cgroup path from /proc/self/cgroup ("" is the v2 unified tree)."""
    try:
        text = (proc_root / "self" / "cgroup").read_text()
    except OSError:
        return {}
    membership: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            membership[""] = path
        for controller in controllers.split(","):
            if controller == "cpu":
                membership["cpu"] = path
    return membership


def _with_parents(root: Path, path: str | None) -> list[Path]:
    """``root/path`` and each parent up to ``root``, those that exist.

    Inside a container the path often names the host's view and does not exist there;
    the container's own cgroup is then ``root`` itself.
    """
    directories = []
    if path and path.strip("/"):
        current = root / path.strip("/")
        while current != root and root in current.parents:
            if current.is_dir():
                directories.append(current)
            current = current.parent
    directories.append(root)
    return directories


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cpu_max(path: Path) -> tuple[float, str] | None:
    text = _read(path)
    if not text:
        return None
    quota, _, period = text.partition(" ")
    if quota == "max":
        return None
    try:
        cores = int(quota) / int(period or "100000")
    except (ValueError, ZeroDivisionError):
        return None
    return (cores, str(path)) if cores > 0 else None


def _cfs_quota(directory: Path) -> tuple[float, str] | None:
    quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
    try:
        cores = int(quota or "-1") / int(period or "100000")
    except (ValueError, ZeroDivisionError):
        return None
    return (cores, str(directory / "cpu.cfs_quota_us")) if cores > 0 else None


def find_cxx(
    environ: Mapping[str, str], which: Callable[[str], str | None], system: str | None
) -> tuple[str | None, str | None]:
    """(path of the C++ compiler torch.compile would use on CPU, note when there is none).

    Inductor takes ``CXX`` when set, else a compiler on PATH.
    """
    cxx = environ.get("CXX", "").strip()
    if cxx:
        words = shlex.split(cxx)
        # "ccache g++" runs ccache, which is what has to exist.
        path = which(words[0]) if words else None
        if path:
            return path, None
        return None, f"C++ compiler: CXX={cxx} is set but not found: torch.compile on CPU fails"
    names = ("clang++", "g++", "c++") if system == "Darwin" else ("g++", "c++", "clang++")
    for name in names:
        path = which(name)
        if path:
            return path, None
    return (
        None,
        "C++ compiler: none of g++, c++, clang++ found: torch.compile cannot build CPU code",
    )


def numa_node_count(sys_root: Path) -> int:
    """NUMA nodes listed in sysfs; raises when the folder is missing."""
    node_dir = sys_root / "devices" / "system" / "node"
    nodes = [p for p in node_dir.iterdir() if re.fullmatch(r"node\d+", p.name)]
    return len(nodes) or 1


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as bytes ("MemTotal: 24683656 kB")."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            scale = 1024 if len(words) > 1 and words[1].lower() == "kb" else 1
            values[key.strip()] = int(words[0]) * scale
    return values


def probe_cpu(
    sources: ProbeSources, facts: PlatformFacts, torch: TorchFacts | None, notes: Notes
) -> CpuInfo:
    """Everything :class:`CpuInfo` holds; unknown fields stay None with a note."""

    @functools.cache
    def psutil() -> Any:
        # Loaded only where /proc cannot answer, so a missing psutil costs nothing there.
        return notes.attempt("psutil", sources.load_psutil)

    if facts.system == "Linux":
        info = _linux_cpu(sources, facts, psutil, notes)
    elif facts.system == "Darwin":
        info = _darwin_cpu(sources, facts, psutil, notes)
    else:
        info = _generic_cpu(facts, psutil, notes)
    found = notes.attempt(
        "C++ compiler", lambda: find_cxx(sources.environ, sources.which, facts.system)
    )
    cxx, cxx_note = found or (None, None)
    if cxx_note:
        notes.add(cxx_note)
    return CpuInfo(
        **info,
        arch=facts.machine,
        torch_cpu_capability=torch.cpu_capability if torch else None,
        cxx_compiler=cxx,
    )


def _cpu_count(psutil: Callable[[], Any], notes: Notes, *, logical: bool) -> int | None:
    module = psutil()
    if module is None:
        return None
    what = "logical cores" if logical else "physical cores"
    return notes.attempt(what, lambda: module.cpu_count(logical=logical))


def _memory(psutil: Callable[[], Any], notes: Notes) -> tuple[int | None, int | None]:
    module = psutil()
    memory = notes.attempt("memory", module.virtual_memory) if module is not None else None
    if memory is None:
        return None, None
    return int(memory.total), int(memory.available)


def _linux_cpu(
    sources: ProbeSources, facts: PlatformFacts, psutil: Callable[[], Any], notes: Notes
) -> dict[str, Any]:
    text = notes.attempt("CPU model and flags", (sources.proc_root / "cpuinfo").read_text)
    blocks = [b for b in parse_cpuinfo(text or "") if "processor" in b]
    first = blocks[0] if blocks else {}

    logical = len(blocks) or _cpu_count(psutil, notes, logical=True)
    # x86 names each logical CPU's socket and core; the pairs count the physical cores.
    pairs = {
        (b["physical id"], b["core id"]) for b in blocks if "physical id" in b and "core id" in b
    }
    physical = len(pairs) or _cpu_count(psutil, notes, logical=False)

    model, vendor = first.get("model name"), None
    if is_x86(facts.machine):
        vendor = _X86_VENDORS.get(first.get("vendor_id", ""), first.get("vendor_id"))
        flags = set(first.get("flags", "").split())
    else:
        vendor, arm_model = _arm_names(first)
        model = model or arm_model
        flags = set(first.get("Features", "").split())
    isa = isa_flags(facts.machine, flags) if flags else {}
    if text is not None and not flags and (is_x86(facts.machine) or is_arm(facts.machine)):
        notes.add("CPU instruction sets: no flags line in /proc/cpuinfo")

    meminfo = parse_meminfo(
        notes.attempt("memory", (sources.proc_root / "meminfo").read_text) or ""
    )
    total, available = meminfo.get("MemTotal"), meminfo.get("MemAvailable")
    if total is None:
        total, available = _memory(psutil, notes)

    return {
        "model": model,
        "vendor": vendor,
        "clock_mhz": max_clock_mhz(sources.sys_root, blocks),
        "physical_cores": physical,
        "logical_cores": logical,
        "usable_cores": _usable_cores(sources, logical, notes),
        "memory_total_bytes": total,
        "memory_available_bytes": available,
        "numa_nodes": notes.attempt("NUMA nodes", lambda: numa_node_count(sources.sys_root)),
        "isa": isa,
    }


def max_clock_mhz(sys_root: Path, blocks: list[dict[str, str]]) -> float | None:
    """The highest clock the OS reports: cpufreq's maximum (kHz), else the largest
    ``cpu MHz`` in /proc/cpuinfo (virtual machines often have only that)."""
    text = _read(sys_root / "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    with contextlib.suppress(ValueError):
        if text and int(text) > 0:
            return int(text) / 1000
    clocks = []
    for block in blocks:
        with contextlib.suppress(KeyError, ValueError):
            clocks.append(float(block["cpu MHz"]))
    return max((c for c in clocks if c > 0), default=None)


def _arm_names(block: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(vendor, model) of an Arm core from its implementer and part numbers."""
    try:
        implementer = int(block["CPU implementer"], 16)
    except (KeyError, ValueError):
        return None, None
    vendor = _ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer:#x}")
    try:
        part = int(block["CPU part"], 16)
    except (KeyError, ValueError):
        return vendor, None
    return vendor, f"{vendor} {_ARM_PARTS.get((implementer, part), f'part {part:#x}')}"


def _usable_cores(sources: ProbeSources, logical: int | None, notes: Notes) -> int | None:
    affinity = notes.attempt("CPU affinity", lambda: len(sources.affinity()))
    usable = affinity or logical
    limit = cgroup_cpu_limit(sources.proc_root, sources.sys_root)
    if limit is not None:
        cores, where = limit
        quota = max(1, math.ceil(cores))
        if usable is None or quota < usable:
            notes.add(f"usable cores limited to {quota} by the cgroup CPU quota ({where})")
            usable = quota
    return usable


def _darwin_cpu(
    sources: ProbeSources, facts: PlatformFacts, psutil: Callable[[], Any], notes: Notes
) -> dict[str, Any]:
    sysctl = parse_sysctl(
        notes.attempt(
            "sysctl",
            lambda: sources.run_command(["sysctl", "machdep.cpu.brand_string", "hw.optional"]),
        )
        or ""
    )
    model = sysctl.get("machdep.cpu.brand_string") or facts.processor
    physical = _cpu_count(psutil, notes, logical=False)
    logical = _cpu_count(psutil, notes, logical=True)
    total, available = _memory(psutil, notes)
    isa: dict[str, bool] = {}
    if is_arm(facts.machine) and sysctl:
        isa = {name: sysctl.get(key) == "1" for name, key in _DARWIN_ISA.items()}
    return {
        "model": model,
        "vendor": "Apple" if (model or "").startswith("Apple") else None,
        "physical_cores": physical,
        "logical_cores": logical,
        # macOS has no CPU affinity or cgroups: every core is usable.
        "usable_cores": logical,
        "memory_total_bytes": total,
        "memory_available_bytes": available,
        "numa_nodes": 1,
        "isa": isa,
    }


def parse_sysctl(text: str) -> dict[str, str]:
    """``sysctl name ...`` output ("hw.optional.neon: 1") as a dict."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _generic_cpu(facts: PlatformFacts, psutil: Callable[[], Any], notes: Notes) -> dict[str, Any]:
    logical = _cpu_count(psutil, notes, logical=True)
    total, available = _memory(psutil, notes)
    return {
        "model": facts.processor,
        "physical_cores": _cpu_count(psutil, notes, logical=False),
        "logical_cores": logical,
        "usable_cores": logical,
        "memory_total_bytes": total,
        "memory_available_bytes": available,
    }
