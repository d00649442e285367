"""A CPU's peak FLOP/s per precision, two ways: estimated from what the probe read, and
measured once with a matmul (cached by the machine's fingerprint).

Both are per usable core, so a trial that owns a share of the cores gets a share of the
peak. The estimate is cores x clock x FLOPs per cycle; the clock the OS reports is often
the base clock while the cores boost above it, and the vector units are inferred from the
instruction sets, so the two figures differ: reports show both and divide by the larger
(no MFU above 100%). docs/benchmarks.md gives the ratio measured on our machines.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from autoaccel.probe._notes import Notes
from autoaccel.probe._profile import CpuInfo

# The precisions a CPU trial computes in; a matmul measures each.
CPU_DTYPES = ("fp32", "bf16")

# FLOPs per cycle of one Intel AMX core on bf16 tiles (Intel's optimisation manual).
_AMX_BF16_PER_CYCLE = 1024
_FMA = 2  # a fused multiply-add is two FLOPs


def _fp32_per_cycle(cpu: CpuInfo) -> float | None:
    """fp32 FLOPs per cycle of one physical core: lanes x FMA x FMA units."""
    isa = cpu.isa
    if cpu.arch in ("x86_64", "amd64"):
        if isa.get("avx512f"):
            # Zen 4 runs AVX-512 on two 256-bit FMA units; Zen 5 (which added AVX-VNNI)
            # and Intel's server cores have two 512-bit ones.
            lanes = 8 if cpu.vendor == "AMD" and not isa.get("avx_vnni") else 16
        elif isa.get("avx2"):
            lanes = 8
        else:
            lanes = 4
        return lanes * _FMA * 2
    if cpu.arch in ("aarch64", "arm64") and (isa.get("neon") or isa.get("asimd")):
        # 128-bit NEON: two pipelines, four on SVE-era server cores (Neoverse V1/V2).
        return 4 * _FMA * (4 if isa.get("sve") else 2)
    return None


def flops_per_cycle(cpu: CpuInfo) -> dict[str, float]:
    """FLOPs per cycle of one physical core per precision; empty for an unknown CPU.

    bf16 runs on AMX tiles, or at twice the fp32 rate with AVX-512 BF16 / Arm BF16 dot
    products; without either, torch converts to fp32 and can go no faster than fp32.
    """
    fp32 = _fp32_per_cycle(cpu)
    if fp32 is None:
        return {}
    if cpu.isa.get("amx_bf16"):
        bf16 = float(_AMX_BF16_PER_CYCLE)
    elif cpu.isa.get("avx512_bf16") or (cpu.arch in ("aarch64", "arm64") and cpu.isa.get("bf16")):
        bf16 = 2 * fp32
    else:
        bf16 = fp32
    return {"fp32": fp32, "bf16": bf16}


def estimate_core_peaks(cpu: CpuInfo) -> dict[str, float]:
    """Peak FLOP/s of one usable core per precision, from the clock and instruction sets.

    Hyperthreads share their core's vector units: a usable logical CPU counts as
    physical/logical of a core.
    """
    if not cpu.clock_mhz:
        return {}
    share = 1.0
    if cpu.physical_cores and cpu.logical_cores and cpu.logical_cores > cpu.physical_cores:
        share = cpu.physical_cores / cpu.logical_cores
    return {
        dtype: per_cycle * cpu.clock_mhz * 1e6 * share
        for dtype, per_cycle in flops_per_cycle(cpu).items()
    }


def measured_core_peaks(
    fingerprint: str,
    cores: int,
    cache_dir: Path | None,
    measure: Callable[[str, int], float],
    notes: Notes,
    remeasure: bool = False,
) -> dict[str, float]:
    """Matmul FLOP/s of one usable core per precision: read from the cache for this
    fingerprint, or measured now (``measure(dtype, cores)``) and cached.

    ``remeasure``: measure even when cached, and keep the higher figure of each precision:
    a figure measured while other work took the cores is too low, and a peak is the best
    the cores were seen to do.
    """
    cache = cache_dir / "cpu-peaks.json" if cache_dir is not None else None
    known = _read_cache(cache, notes) if cache is not None else {}
    entry = known.get(fingerprint)
    cached = {}
    if isinstance(entry, Mapping) and all(
        isinstance(entry.get(d), (int, float)) for d in CPU_DTYPES
    ):
        cached = {dtype: float(entry[dtype]) for dtype in CPU_DTYPES}
        if not remeasure:
            return cached
    peaks = dict(cached)
    for dtype in CPU_DTYPES:
        rate = notes.attempt(f"CPU {dtype} matmul", lambda d=dtype: measure(d, cores))
        if rate:
            peaks[dtype] = max(float(rate) / cores, cached.get(dtype, 0.0))
    if cache is not None and len(peaks) == len(CPU_DTYPES):
        notes.attempt("CPU peak cache", lambda: _write_cache(cache, {**known, fingerprint: peaks}))
    return peaks


def _read_cache(path: Path, notes: Notes) -> dict[str, object]:
    if not path.exists():
        return {}
    data = notes.attempt("CPU peak cache", lambda: json.loads(path.read_text()))
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict[str, object]) -> None:
    # Written whole under another name, then renamed: two probes at once never leave
    # half a file for the next one to read.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cpu-peaks-")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=1)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
