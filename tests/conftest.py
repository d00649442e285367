"""Shared test fixtures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from autoaccel.cli import main
from autoaccel.probe import Accelerator, CpuInfo, HardwareProfile, Software


@dataclasses.dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``autoaccel ARGS...`` in-process through the real entry point (error mapping too)."""

    def run(*args: str) -> CliResult:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """GPU tests run only where torch sees a CUDA device."""
    if not any("gpu" in item.keywords for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


FIXTURE_TASKS = Path(__file__).parent / "fixtures" / "tasks"


@pytest.fixture
def tasks_dir() -> Path:
    return FIXTURE_TASKS


def cpu_host(cores: int = 2, compiler: str | None = "/usr/bin/g++") -> HardwareProfile:
    """A CPU-only machine like the ones CI runs on."""
    return HardwareProfile(
        cpu=CpuInfo(
            model="AMD EPYC",
            arch="x86_64",
            usable_cores=cores,
            logical_cores=cores,
            isa={"avx2": True},
            cxx_compiler=compiler,
        ),
        software=Software(torch="2.13.0", torchao="0.18.0", torch_pruning="1.6.0"),
    )


def gpu_host(name: str, capability: str, peak_bf16: float | None = None) -> HardwareProfile:
    """A machine with one NVIDIA GPU of the given compute capability."""
    peaks = {"bf16": peak_bf16} if peak_bf16 else {}
    return HardwareProfile(
        cpu=CpuInfo(
            model="Intel Xeon", arch="x86_64", usable_cores=16, cxx_compiler="/usr/bin/g++"
        ),
        accelerators=[
            Accelerator(
                kind="cuda",
                name=name,
                compute_capability=capability,
                memory_total_bytes=80 * 2**30,
                peak_flops=peaks,
            )
        ],
        software=Software(
            torch="2.11.0", cuda="13.0", triton="3.6.0", torchao="0.18.0", torch_pruning="1.6.0"
        ),
    )


@pytest.fixture(scope="session")
def cpu_profile() -> HardwareProfile:
    return cpu_host()


@pytest.fixture
def make_gpu_host():
    return gpu_host
