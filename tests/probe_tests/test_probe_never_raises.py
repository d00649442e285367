"""Whatever the sources do, the probe returns a profile and says what it could not read."""

from __future__ import annotations

from pathlib import Path

from autoaccel.probe import HardwareProfile, ProbeSources, probe


def _broken(*_args: object) -> object:
    raise RuntimeError("source is broken")


def test_every_source_failing(tmp_path: Path) -> None:
    sources = ProbeSources(
        proc_root=tmp_path / "proc",
        sys_root=tmp_path / "sys",
        dev_root=tmp_path / "dev",
        environ={},
        platform=_broken,
        torch_facts=_broken,
        load_nvml=_broken,
        load_psutil=_broken,
        affinity=_broken,
        which=_broken,
        package_version=_broken,
        run_command=_broken,
    )
    profile = probe(sources)

    assert isinstance(profile, HardwareProfile)
    assert profile.device == "cpu"
    assert profile.accelerators == []
    assert profile.usable_cores == 1
    assert profile.cpu.model is None
    assert profile.software.torch is None
    assert profile.software.distributed is None  # unknown: world_size is not refused for it
    for expected in (
        "platform: RuntimeError: source is broken",
        "torch: RuntimeError: source is broken",
        "NVML: RuntimeError: source is broken",
        "torch version: RuntimeError: source is broken",
        "C++ compiler: RuntimeError: source is broken",
    ):
        assert expected in profile.notes, expected
    assert not any("unexpected error" in n for n in profile.notes)
    HardwareProfile.from_json(profile.to_json())


def test_linux_sources_failing_on_linux(host, tmp_path: Path) -> None:
    machine = host("h100x8")
    sources = ProbeSources(
        proc_root=tmp_path,
        sys_root=tmp_path,
        dev_root=tmp_path,
        environ={},
        platform=machine.sources.platform,
        torch_facts=machine.sources.torch_facts,
        load_nvml=_broken,
        load_psutil=_broken,
        affinity=_broken,
        which=lambda name: None,
        package_version=lambda name: None,
        run_command=_broken,
    )
    profile = probe(sources)

    assert profile.cpu.logical_cores is None
    assert profile.cpu.torch_cpu_capability == "AVX512"
    assert profile.software.cuda == "12.8"
    assert {n.split(":")[0] for n in profile.notes} >= {
        "CPU model and flags",
        "psutil",
        "memory",
        "CPU affinity",
        "NUMA nodes",
        "NVML",
        "PCI devices",
        "C++ compiler",
    }


def test_a_bug_in_one_part_leaves_the_others(host, monkeypatch) -> None:
    import autoaccel.probe._probe as probe_module

    def broken_amd(*_args: object) -> list:
        raise KeyError("bug")

    monkeypatch.setattr(probe_module, "probe_amd", broken_amd)
    profile = probe(host("mi300x").sources)

    assert profile.accelerators == []
    assert "AMD: unexpected error: KeyError: 'bug'" in profile.notes
    assert profile.cpu.model == "AMD EPYC 9654 96-Core Processor"
