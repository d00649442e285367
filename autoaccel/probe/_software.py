"""Versions of the software that decides what runs fast, read without importing it."""

from __future__ import annotations

from collections.abc import Callable

from autoaccel.probe._notes import Notes
from autoaccel.probe._profile import Software
from autoaccel.probe._sources import PlatformFacts, TorchFacts

# Triton ships under other names with ROCm, XPU and nightly builds of torch.
_TRITON = ("triton", "pytorch-triton", "pytorch-triton-rocm", "pytorch-triton-xpu")


def cudnn_text(version: int | None) -> str | None:
    """torch's cuDNN number as text: 90100 -> "9.1.0" (cuDNN 9), 8902 -> "8.9.2" (cuDNN 8)."""
    if not version:
        return None
    major, rest = divmod(version, 10000 if version >= 10000 else 1000)
    minor, patch = divmod(rest, 100)
    return f"{major}.{minor}.{patch}"


def read_software(
    package_version: Callable[[str], str | None],
    facts: PlatformFacts,
    torch: TorchFacts | None,
    nvidia_driver: str | None,
    notes: Notes,
) -> Software:
    def version(*names: str) -> str | None:
        for name in names:
            found = notes.attempt(f"{name} version", lambda name=name: package_version(name))
            if found:
                return found
        return None

    return Software(
        python=facts.python,
        torch=version("torch") or (torch.version if torch else None),
        cuda=torch.cuda if torch else None,
        hip=torch.hip if torch else None,
        # On ROCm builds torch reports MIOpen's version there, which is not cuDNN.
        cudnn=cudnn_text(torch.cudnn) if torch and not torch.hip else None,
        nvidia_driver=nvidia_driver,
        triton=version(*_TRITON),
        torchao=version("torchao"),
        torch_pruning=version("torch-pruning"),
        torch_xla=version("torch-xla"),
        optuna=version("optuna"),
        distributed=torch.distributed if torch else None,
    )
