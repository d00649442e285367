"""A CPU's peak FLOP/s: estimated from clock and instruction sets, measured by a matmul
once per machine (cached by fingerprint), and the larger of the two divides MFU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoaccel.probe import HardwareProfile, probe
from autoaccel.probe._cpu import max_clock_mhz
from autoaccel.probe._cpu_peak import flops_per_cycle
from autoaccel.probe._profile import CpuInfo

AVX2 = {"avx2": True, "avx512f": False}


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        # Zen 4: AVX-512 on two 256-bit FMA units; BF16 dot products double it.
        (
            CpuInfo(arch="x86_64", vendor="AMD", isa={"avx512f": True, "avx512_bf16": True}),
            {"fp32": 32, "bf16": 64},
        ),
        # Sapphire Rapids: two 512-bit FMA units, and AMX tiles for bf16.
        (
            CpuInfo(arch="x86_64", vendor="Intel", isa={"avx512f": True, "amx_bf16": True}),
            {"fp32": 64, "bf16": 1024},
        ),
        # AVX2 only: bf16 is converted to fp32, no faster.
        (CpuInfo(arch="x86_64", vendor="Intel", isa=AVX2), {"fp32": 32, "bf16": 32}),
        # Neoverse V1 (Graviton3): four 128-bit pipes, BF16 dot products.
        (
            CpuInfo(arch="aarch64", isa={"neon": True, "sve": True, "bf16": True}),
            {"fp32": 32, "bf16": 64},
        ),
        (CpuInfo(arch="riscv64"), {}),
    ],
)
def test_flops_per_cycle_follow_the_vector_units(cpu: CpuInfo, expected: dict) -> None:
    assert flops_per_cycle(cpu) == expected


def test_estimate_is_clock_times_flops_per_cycle_per_physical_share(host) -> None:
    fake = host("zen4", {"matmul": {"fp32": 1e11, "bf16": 2e11}})
    profile = probe(fake.sources)

    cpu = profile.cpu
    assert cpu.clock_mhz == 2400.0
    # 8 physical cores under 16 logical: each usable CPU is half a core's vector units.
    assert cpu.core_peak_flops_estimate == {
        "fp32": pytest.approx(32 * 2.4e9 / 2),
        "bf16": pytest.approx(64 * 2.4e9 / 2),
    }
    # The matmul ran on the 4 usable cores and is kept per core.
    assert fake.matmul_calls == [("fp32", 4), ("bf16", 4)]
    assert cpu.core_peak_flops_measured == {"fp32": 2.5e10, "bf16": 5e10}


def test_mfu_divides_by_the_larger_figure_for_the_cores_the_profile_may_use(host) -> None:
    # The matmul beat the fp32 estimate (a boost clock): the estimate was low.
    fake = host("zen4", {"matmul": {"fp32": 2e11, "bf16": 1e11}})
    profile = probe(fake.sources)

    assert profile.peak_flops("fp32") == pytest.approx(4 * 2e11 / 4)
    assert profile.peak_flops("bf16") == pytest.approx(4 * 64 * 2.4e9 / 2)
    assert profile.peak_flops("fp16") is None
    assert profile.best_peak() == ("bf16", pytest.approx(4 * 64 * 2.4e9 / 2))
    # A trial given one of the four cores gets a quarter of the peak.
    share = profile.model_copy(update={"cpu": profile.cpu.model_copy(update={"usable_cores": 1})})
    assert share.peak_flops("fp32") == pytest.approx(profile.peak_flops("fp32") / 4)


def test_the_matmul_runs_once_per_machine(host, tmp_path: Path) -> None:
    fake = host("zen4", {"matmul": {"fp32": 1e11, "bf16": 2e11}})
    sources = fake.sources.__class__(**{**fake.sources.__dict__, "cache_dir": tmp_path})

    first = probe(sources)
    second = probe(sources)

    assert len(fake.matmul_calls) == 2  # fp32 and bf16, at the first probe only
    assert second.cpu.core_peak_flops_measured == first.cpu.core_peak_flops_measured
    cached = json.loads((tmp_path / "cpu-peaks.json").read_text())
    assert list(cached) == [first.fingerprint()]

    other = host("spr", {"matmul": {"fp32": 1e11, "bf16": 8e11}})
    other_sources = other.sources.__class__(**{**other.sources.__dict__, "cache_dir": tmp_path})
    probe(other_sources)
    assert len(other.matmul_calls) == 2  # another machine measures its own
    assert set(json.loads((tmp_path / "cpu-peaks.json").read_text())) == {
        first.fingerprint(),
        probe(other_sources).fingerprint(),
    }


def test_a_damaged_cache_is_measured_again_and_rewritten(host, tmp_path: Path) -> None:
    (tmp_path / "cpu-peaks.json").write_text("{not json")
    fake = host("zen4", {"matmul": {"fp32": 1e11, "bf16": 2e11}})
    sources = fake.sources.__class__(**{**fake.sources.__dict__, "cache_dir": tmp_path})

    profile = probe(sources)

    assert profile.cpu.core_peak_flops_measured["fp32"] == 2.5e10
    assert any(note.startswith("CPU peak cache:") for note in profile.notes)
    assert profile.fingerprint() in json.loads((tmp_path / "cpu-peaks.json").read_text())


def test_a_failed_matmul_leaves_the_estimate_and_caches_nothing(host, tmp_path: Path) -> None:
    fake = host("zen4")  # no matmul figures: it raises
    sources = fake.sources.__class__(**{**fake.sources.__dict__, "cache_dir": tmp_path})

    profile = probe(sources)

    assert profile.cpu.core_peak_flops_measured == {}
    assert profile.peak_flops("fp32") == pytest.approx(4 * 32 * 2.4e9 / 2)
    assert any(note.startswith("CPU fp32 matmul:") for note in profile.notes)
    assert not (tmp_path / "cpu-peaks.json").exists()


def test_a_machine_whose_trials_run_on_a_gpu_measures_no_cpu_matmul(host) -> None:
    fake = host("h100x8", {"matmul": {"fp32": 1e11, "bf16": 2e11}})
    profile = probe(fake.sources)

    assert fake.matmul_calls == []
    assert profile.cpu.core_peak_flops_measured == {}
    assert profile.peak_flops("bf16") == 989.5e12  # the datasheet's


def test_cpufreq_maximum_wins_over_the_current_clock(tmp_path: Path) -> None:
    freq = tmp_path / "devices/system/cpu/cpu0/cpufreq"
    freq.mkdir(parents=True)
    (freq / "cpuinfo_max_freq").write_text("3700000\n")
    blocks = [{"cpu MHz": "2400.000"}, {"cpu MHz": "2987.5"}]

    assert max_clock_mhz(tmp_path, blocks) == 3700.0
    assert max_clock_mhz(tmp_path / "nothing", blocks) == 2987.5
    assert max_clock_mhz(tmp_path / "nothing", [{"cpu MHz": "?"}]) is None


def test_a_profile_stored_before_cpu_peaks_reads_without_them() -> None:
    old = HardwareProfile(cpu=CpuInfo(model="old", usable_cores=2)).model_dump(mode="json")
    for field in ("clock_mhz", "core_peak_flops_estimate", "core_peak_flops_measured"):
        del old["cpu"][field]

    profile = HardwareProfile.model_validate(old)

    assert profile.peak_flops("fp32") is None
    assert profile.best_peak() is None


def test_remeasuring_keeps_the_best_figure_seen(host, tmp_path: Path) -> None:
    busy = host("zen4", {"matmul": {"fp32": 1e11, "bf16": 2e11}})
    sources = busy.sources.__class__(**{**busy.sources.__dict__, "cache_dir": tmp_path})
    probe(sources)  # measured while the machine was busy

    quiet = host("zen4", {"matmul": {"fp32": 2e11, "bf16": 1e11}})
    quiet_sources = quiet.sources.__class__(**{**quiet.sources.__dict__, "cache_dir": tmp_path})
    assert probe(quiet_sources).cpu.core_peak_flops_measured["fp32"] == 2.5e10  # cached
    assert quiet.matmul_calls == []

    again = probe(quiet_sources, remeasure_cpu=True)

    assert quiet.matmul_calls == [("fp32", 4), ("bf16", 4)]
    # fp32 ran faster now; bf16 slower, so the earlier, higher figure stays.
    assert again.cpu.core_peak_flops_measured == {"fp32": 5e10, "bf16": 5e10}
    assert probe(quiet_sources).cpu.core_peak_flops_measured == {"fp32": 5e10, "bf16": 5e10}
