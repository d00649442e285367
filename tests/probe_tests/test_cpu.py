"""CPUs: instruction sets per architecture, cores a process may really use, compilers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from autoaccel.probe import probe
from autoaccel.probe._cpu import cgroup_cpu_limit, find_cxx, isa_flags, parse_cpuinfo

GIB = 2**30


def test_amd_zen4_avx512_bf16_and_cgroup_v2_quota(host) -> None:
    profile = probe(host("zen4").sources)

    cpu = profile.cpu
    assert cpu.model == "AMD EPYC 9654 96-Core Processor"
    assert cpu.vendor == "AMD"
    assert cpu.arch == "x86_64"
    assert (cpu.logical_cores, cpu.physical_cores) == (16, 8)
    # 16 CPUs in the affinity mask, but cpu.max allows 4 CPUs' worth of time.
    assert cpu.usable_cores == 4
    assert profile.usable_cores == 4
    assert any("limited to 4 by the cgroup CPU quota" in n for n in profile.notes)
    assert cpu.isa == {
        "avx2": True,
        "avx512f": True,
        "avx512_bf16": True,
        "avx512_vnni": True,
        "avx_vnni": False,  # Zen 4 has AVX-512 VNNI but not the VEX-encoded AVX-VNNI
        "amx_tile": False,
        "amx_bf16": False,
        "amx_int8": False,
    }
    assert cpu.memory_total_bytes == 396000000 * 1024
    assert cpu.memory_available_bytes == 380000000 * 1024
    assert cpu.numa_nodes == 1
    assert cpu.torch_cpu_capability == "AVX512"
    assert cpu.cxx_compiler == "/usr/bin/clang++"  # CXX=clang++ wins over g++
    assert profile.device == "cpu"
    assert profile.software.cuda is None and profile.software.cudnn is None


def test_intel_sapphire_rapids_amx_and_cgroup_v1_quota(host) -> None:
    profile = probe(host("spr").sources)

    cpu = profile.cpu
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8488C"
    assert cpu.vendor == "Intel"
    assert all(cpu.isa.values()), cpu.isa  # AMX, AVX-512 BF16/VNNI and AVX-VNNI alike
    assert set(cpu.isa) == {
        "avx2",
        "avx512f",
        "avx512_bf16",
        "avx512_vnni",
        "avx_vnni",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
    }
    # The pod's cpu.cfs_quota_us is 150000/100000: 1.5 CPUs rounds up to 2.
    assert cpu.usable_cores == 2
    assert cpu.cxx_compiler is None
    assert any(n.startswith("C++ compiler: none of g++, c++, clang++") for n in profile.notes)


def test_arm_graviton3_features(host) -> None:
    profile = probe(host("graviton3").sources)

    cpu = profile.cpu
    assert cpu.arch == "aarch64"
    assert cpu.vendor == "ARM"
    assert cpu.model == "ARM Neoverse-V1"
    assert cpu.isa == {"neon": True, "asimd": True, "sve": True, "bf16": True, "i8mm": True}
    assert "avx2" not in cpu.isa
    assert (cpu.logical_cores, cpu.physical_cores, cpu.usable_cores) == (4, 4, 4)
    assert cpu.torch_cpu_capability == "SVE256"


def test_apple_m2_without_proc(host) -> None:
    profile = probe(host("apple_m2").sources)

    cpu = profile.cpu
    assert cpu.model == "Apple M2 Max"
    assert cpu.vendor == "Apple"
    assert cpu.arch == "arm64"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.usable_cores) == (12, 12, 12)
    assert cpu.memory_total_bytes == 32 * GIB
    assert cpu.isa == {"neon": True, "asimd": True, "bf16": True, "i8mm": True, "sve": False}
    assert cpu.cxx_compiler == "/usr/bin/clang++"  # clang++ first on macOS
    # Nothing about /proc, /sys, affinity or NVML, which macOS does not have.
    assert profile.notes == []


def test_missing_proc_files_fall_back_to_psutil_with_notes(host, tmp_path: Path) -> None:
    machine = host("t4")
    sources = dataclasses.replace(machine.sources, proc_root=tmp_path, sys_root=tmp_path)
    profile = probe(sources)

    cpu = profile.cpu
    assert cpu.model is None and cpu.isa == {}
    assert (cpu.logical_cores, cpu.physical_cores) == (4, 2)  # from psutil
    assert cpu.memory_total_bytes == 63288557568
    assert cpu.numa_nodes is None
    assert f"CPU model and flags: {tmp_path / 'cpuinfo'} not found" in profile.notes
    assert any(n.startswith("NUMA nodes:") for n in profile.notes)
    assert any(n.startswith("PCI devices:") for n in profile.notes)
    assert profile.accelerators[0].name == "Tesla T4"  # NVML does not need /proc


def _no_psutil() -> object:
    raise ImportError("No module named 'psutil'")


def test_psutil_is_needed_only_where_proc_cannot_answer(host, tmp_path: Path) -> None:
    machine = host("a100")

    def no_affinity() -> set[int]:
        raise OSError("sched_getaffinity failed")

    sources = dataclasses.replace(machine.sources, load_psutil=_no_psutil, affinity=no_affinity)
    profile = probe(sources)

    assert profile.cpu.logical_cores == 8 and profile.cpu.physical_cores == 4  # /proc/cpuinfo
    assert profile.cpu.usable_cores == 8  # no affinity: every logical core
    assert profile.notes == ["CPU affinity: OSError: sched_getaffinity failed"]

    profile = probe(dataclasses.replace(sources, proc_root=tmp_path))
    assert profile.cpu.logical_cores is None and profile.cpu.memory_total_bytes is None
    assert profile.usable_cores == 1  # the profile's floor when nothing is known
    assert "psutil: No module named 'psutil'" in profile.notes


def test_numa_nodes_counted(host) -> None:
    assert probe(host("h100x8").sources).cpu.numa_nodes == 2


def test_parse_cpuinfo_blocks() -> None:
    text = "processor\t: 0\nflags\t\t: fpu avx2\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n"
    assert parse_cpuinfo(text) == [
        {"processor": "0", "flags": "fpu avx2"},
        {"processor": "1", "flags": "fpu avx2"},
    ]


def test_isa_flags_neon_from_asimd_and_unknown_arch() -> None:
    assert isa_flags("aarch64", {"asimd"})["neon"] is True
    assert isa_flags("armv7l", {"neon"})["neon"] is True
    assert isa_flags("riscv64", {"v"}) == {}
    assert isa_flags("x86_64", {"avx2"})["avx2"] is True


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_tightest_limit_over_parents(tmp_path: Path) -> None:
    _write(tmp_path / "proc/self/cgroup", "0::/slice/job\n")
    _write(tmp_path / "sys/fs/cgroup/slice/cpu.max", "250000 100000\n")
    _write(tmp_path / "sys/fs/cgroup/slice/job/cpu.max", "max 100000\n")
    cores, where = cgroup_cpu_limit(tmp_path / "proc", tmp_path / "sys")
    assert cores == 2.5
    assert where.endswith("slice/cpu.max")


def test_cgroup_without_quota(tmp_path: Path) -> None:
    _write(tmp_path / "sys/fs/cgroup/cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path / "proc", tmp_path / "sys") is None
    _write(tmp_path / "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n")
    _write(tmp_path / "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path / "proc", tmp_path / "sys") is None
    assert cgroup_cpu_limit(tmp_path / "nothing", tmp_path / "nothing") is None


@pytest.mark.parametrize(
    ("environ", "on_path", "system", "expected", "note"),
    [
        ({}, {"g++": "/usr/bin/g++", "clang++": "/c"}, "Linux", "/usr/bin/g++", None),
        ({}, {"g++": "/usr/bin/g++", "clang++": "/c"}, "Darwin", "/c", None),
        ({"CXX": "ccache g++"}, {"ccache": "/usr/bin/ccache"}, "Linux", "/usr/bin/ccache", None),
        ({"CXX": "/opt/missing/g++"}, {"g++": "/usr/bin/g++"}, "Linux", None, "CXX="),
        ({}, {}, "Linux", None, "none of"),
    ],
)
def test_find_cxx(environ, on_path, system, expected, note) -> None:
    path, why = find_cxx(environ, on_path.get, system)
    assert path == expected
    assert (why is None) if note is None else (note in why)
