"""The profile as JSON and its fingerprint: stable for one machine, different across them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoaccel.probe import SCHEMA_VERSION, HardwareProfile, probe

REAL_H100 = Path(__file__).resolve().parents[1] / "data" / "probe" / "h100_cli_real.json"


@pytest.mark.parametrize(
    "name", ["h100x8", "a100", "t4", "zen4", "spr", "graviton3", "apple_m2", "tpu_v4", "mi300x"]
)
def test_json_round_trip(host, name: str) -> None:
    profile = probe(host(name).sources)
    text = profile.to_json()

    document = json.loads(text)
    assert list(document)[:2] == ["schema_version", "fingerprint"]
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["fingerprint"] == profile.fingerprint()
    again = HardwareProfile.from_json(text)
    assert again == profile
    assert again.fingerprint() == profile.fingerprint()


def test_fingerprint_ignores_free_memory_and_notes(host) -> None:
    machine = host("h100x8")
    before = probe(machine.sources)
    for device in machine.nvml.devices:
        device["memory_free"] -= 7 * 2**30
    machine.nvml.fail = {"nvmlSystemGetDriverVersion": "Unknown"}  # a new note, too
    after = probe(machine.sources)

    assert after.accelerators[0].memory_free_bytes != before.accelerators[0].memory_free_bytes
    assert after.notes != before.notes
    assert after.fingerprint() == before.fingerprint()


def test_fingerprint_differs_across_gpu_models(host) -> None:
    machine = host("h100x8")
    h100 = probe(machine.sources)
    for device in machine.nvml.devices:
        device["name"] = "NVIDIA H200"
        device["memory_total"] = 150754820096
    h200 = probe(machine.sources)

    assert h100.fingerprint() != h200.fingerprint()
    assert probe(host("a100").sources).fingerprint() != probe(host("t4").sources).fingerprint()


def test_fingerprint_differs_with_usable_cores(host) -> None:
    limited = probe(host("zen4").sources)
    unlimited = probe(host("zen4", {"affinity": 2}).sources)
    assert limited.usable_cores == 4 and unlimited.usable_cores == 2
    assert limited.fingerprint() != unlimited.fingerprint()


def test_stale_fingerprint_in_json_is_recomputed(host) -> None:
    profile = probe(host("t4").sources)
    document = json.loads(profile.to_json())
    document["fingerprint"] = "0000000000000000"
    assert HardwareProfile.from_json(json.dumps(document)).fingerprint() == profile.fingerprint()


def test_plain_pydantic_dump_still_reads_back(host) -> None:
    profile = probe(host("graviton3").sources)
    assert HardwareProfile.from_json(profile.model_dump_json()) == profile


def test_reads_autoaccel_probe_json_saved_on_a_real_h100() -> None:
    """``autoaccel probe --json`` as printed on an H100 80GB HBM3 machine (torch 2.11)."""
    text = REAL_H100.read_text()
    profile = HardwareProfile.from_json(text)

    assert profile.fingerprint() == json.loads(text)["fingerprint"]
    assert profile.device == "cuda"
    assert profile.cuda_capability == (9, 0)
    gpu = profile.primary
    assert gpu is not None
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.multiprocessors == 132
    assert gpu.memory_total_bytes == 85520809984
    assert profile.peak_flops("bf16") == pytest.approx(989.5e12)
    assert profile.software.nvidia_driver == "580.159.04"
    assert profile.software.cudnn == "9.19.0"
    assert profile.cpu.isa["amx_tile"] is True
