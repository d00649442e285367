"""``autoaccel probe``: the readable sections (data), and the command (thin)."""

from __future__ import annotations

import json

import pytest

import autoaccel.cli.probe as probe_cli
from autoaccel.probe import HardwareProfile, probe, profile_sections


def _rows(section) -> dict[str, str]:
    return dict(section.rows)


def test_sections_for_eight_h100(host) -> None:
    profile = probe(host("h100x8").sources)
    sections = profile_sections(profile)

    assert [s.title for s in sections] == [
        "Machine",
        "CPU",
        "GPU 0-7: 8x NVIDIA H100 80GB HBM3",
        "Software",
    ]
    machine, cpu, gpus, software = (_rows(s) for s in sections)
    assert machine["trials run on"] == "cuda (NVIDIA H100 80GB HBM3, index 0)"
    assert machine["fingerprint"] == profile.fingerprint()
    assert cpu["cores"] == "8 usable, 8 logical, 4 physical"
    assert cpu["NUMA nodes"] == "2"
    assert gpus["kind"] == "cuda, supported"
    assert gpus["memory"] == "79.6 GiB total, 79.1 GiB free"
    assert gpus["multiprocessors"] == "132"
    assert gpus["NVLink"] == "18 active links"
    assert gpus["PCIe"] == "gen 5 x16"
    assert gpus["power limit"] == "700 W"
    assert gpus["peak dense TFLOP/s"] == (
        "fp32 67, tf32 494.5, bf16 989.5, fp16 989.5, fp8 1979, int8 1979"
    )
    assert software["cudnn"] == "9.8.0"
    assert software["torch_xla"] == "not installed"


def test_sections_split_gpus_that_differ_and_list_notes(host) -> None:
    machine = host("h100x8", {"nvml": {"fail": {"nvmlDeviceGetMemoryInfo": {"2": "Unknown"}}}})
    machine.nvml.devices[5]["memory_free"] = 10 * 2**30
    sections = profile_sections(probe(machine.sources))

    titles = [s.title for s in sections]
    assert "GPU 0-1, 3-7: 7x NVIDIA H100 80GB HBM3" in titles
    assert "GPU 2: 1x NVIDIA H100 80GB HBM3" in titles
    healthy = _rows(sections[titles.index("GPU 0-1, 3-7: 7x NVIDIA H100 80GB HBM3")])
    assert healthy["memory"] == "79.6 GiB total, 10.0 GiB to 79.1 GiB free"
    broken = sections[titles.index("GPU 2: 1x NVIDIA H100 80GB HBM3")]
    assert ("note", "memory: Unknown Error") in broken.rows
    assert ("memory", "79.6 GiB total") not in broken.rows


def test_sections_for_cpu_only_host(host) -> None:
    sections = profile_sections(probe(host("zen4").sources))

    titles = [s.title for s in sections]
    assert titles == ["Machine", "CPU", "Device 0: 1x Xilinx device 0x5004", "Software", "Notes"]
    cpu = _rows(sections[1])
    assert cpu["instruction sets"] == (
        "avx2 avx512f avx512_bf16 avx512_vnni (lacks avx_vnni amx_tile amx_bf16 amx_int8)"
    )
    assert cpu["C++ compiler"] == "/usr/bin/clang++"
    assert _rows(sections[0])["trials run on"] == "cpu"
    notes = [value for _, value in sections[-1].rows]
    assert any("libnvidia-ml.so.1 not found" in n for n in notes)


@pytest.fixture
def fake_probe(host, monkeypatch: pytest.MonkeyPatch):
    def use(name: str, changes=None) -> HardwareProfile:
        profile = probe(host(name, changes).sources)

        def fake(remeasure_cpu: bool = False) -> HardwareProfile:
            assert remeasure_cpu  # the command times the CPU's matmul again
            return profile

        monkeypatch.setattr(probe_cli, "probe", fake)
        return profile

    return use


def test_cli_probe_table(run_cli, fake_probe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    profile = fake_probe("h100x8", {"nvml": {"fail": {"nvmlSystemGetDriverVersion": "Unknown"}}})
    result = run_cli("probe")

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in (
        "Machine",
        "8x NVIDIA H100 80GB HBM3 + Intel(R) Xeon(R) Platinum 8480C (8 cores)",
        profile.fingerprint(),
        "GPU 0-7: 8x NVIDIA H100 80GB HBM3",
        "fp32 67, tf32 494.5, bf16 989.5, fp16 989.5, fp8 1979, int8 1979",
        "avx512_bf16",
        "2.7.1+cu128",
        "Notes",
        "NVIDIA driver version: Unknown Error",
    ):
        assert text in out, text
    assert not out.lstrip().startswith("{")


def test_cli_probe_json(run_cli, fake_probe) -> None:
    profile = fake_probe("tpu_v4")
    result = run_cli("probe", "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert document["fingerprint"] == profile.fingerprint()
    assert document["accelerators"][0]["kind"] == "tpu"
    assert HardwareProfile.from_json(result.stdout) == profile


def test_cli_probe_on_this_machine(run_cli) -> None:
    table = run_cli("probe")
    assert table.exit_code == 0, table.stderr
    assert "CPU" in table.stdout and "usable" in table.stdout and "Software" in table.stdout

    result = run_cli("probe", "--json")
    assert result.exit_code == 0, result.stderr
    profile = HardwareProfile.from_json(result.stdout)
    assert profile.usable_cores >= 1
    assert json.loads(result.stdout)["fingerprint"] == profile.fingerprint()


def test_cli_probe_shows_both_cpu_peaks(run_cli, fake_probe, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    fake_probe("zen4", {"matmul": {"fp32": 2e11, "bf16": 4e11}})
    result = run_cli("probe")
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "peak " in line}
    assert "fp32 154 GFLOP/s, bf16 307 GFLOP/s" in lines["estimate"]  # 4 x 32 x 2.4 GHz / 2
    assert "fp32 200 GFLOP/s, bf16 400 GFLOP/s (matmul, 4 usable cores)" in lines["measured"]
