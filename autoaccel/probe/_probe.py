"""The probe: read every source, tolerate every failure, return one HardwareProfile."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from autoaccel.probe._amd import probe_amd
from autoaccel.probe._cpu import probe_cpu
from autoaccel.probe._cpu_peak import estimate_core_peaks, measured_core_peaks
from autoaccel.probe._notes import Notes, describe
from autoaccel.probe._nvidia import probe_nvidia
from autoaccel.probe._pci import (
    AMD,
    DISPLAY,
    GOOGLE,
    NVIDIA,
    PciDevice,
    other_accelerators,
    read_pci_devices,
)
from autoaccel.probe._profile import Accelerator, CpuInfo, HardwareProfile, Software
from autoaccel.probe._software import read_software
from autoaccel.probe._sources import PlatformFacts, ProbeSources
from autoaccel.probe._torch_devices import probe_mps, probe_xpu
from autoaccel.probe._tpu import probe_tpu

T = TypeVar("T")


def probe(sources: ProbeSources | None = None, *, remeasure_cpu: bool = False) -> HardwareProfile:
    """What this machine can do: CPU, accelerators, software versions.

    Never raises: whatever cannot be read is ``None`` (or absent) in the profile, and
    ``notes`` (on the profile, or on one accelerator) says why. Never creates a CUDA
    context: NVIDIA facts come from NVML, torch is asked only what it was built for.

    Where trials run on the CPU, its matmul peak is measured the first time and cached by
    fingerprint; ``remeasure_cpu`` measures it again and keeps the higher figure.
    """
    sources = sources or ProbeSources()
    notes = Notes()

    def part(what: str, read: Callable[[], T], fallback: T) -> T:
        # Each part already turns the failures it expects into notes; this catches bugs,
        # so that one broken part still leaves the others.
        try:
            return read()
        except Exception as error:
            notes.add(f"{what}: unexpected error: {describe(error)}")
            return fallback

    facts = notes.attempt("platform", sources.platform) or PlatformFacts()
    torch = notes.attempt("torch", sources.torch_facts)
    for line in torch.notes if torch else ():
        notes.add(line)

    cpu = part("CPU", lambda: probe_cpu(sources, facts, torch, notes), CpuInfo(arch=facts.machine))
    nvidia: list[Accelerator] = []
    driver: str | None = None
    if facts.system != "Darwin":  # macOS has had no NVIDIA driver since 10.13
        nvidia, driver = part(
            "NVIDIA",
            lambda: probe_nvidia(sources.load_nvml, sources.environ, torch, notes),
            ([], None),
        )
    pci: list[PciDevice] = []
    if facts.system == "Linux":
        pci = notes.attempt("PCI devices", lambda: read_pci_devices(sources.sys_root)) or []
    amd = part("AMD", lambda: probe_amd(pci, torch), [])
    xpu = part("XPU", lambda: probe_xpu(torch), [])
    mps = part("MPS", lambda: probe_mps(torch, cpu), [])
    tpu = part("TPU", lambda: probe_tpu(sources.dev_root, sources.environ, torch), [])

    skip = {AMD} | ({NVIDIA} if nvidia else set()) | ({GOOGLE} if tpu else set())
    other = part("PCI accelerators", lambda: other_accelerators(pci, skip), [])
    unseen = [d for d in pci if d.vendor == NVIDIA and d.base_class == DISPLAY]
    if unseen and not nvidia:
        notes.add(f"{len(unseen)} NVIDIA GPU(s) on PCI that NVML cannot read: see the NVML note")

    accelerators: list[Accelerator] = [*nvidia, *amd, *xpu, *mps, *tpu, *other]
    software = part(
        "software",
        lambda: read_software(sources.package_version, facts, torch, driver, notes),
        Software(python=facts.python),
    )
    try:
        profile = HardwareProfile(
            hostname=facts.hostname,
            cpu=cpu,
            accelerators=accelerators,
            software=software,
            notes=notes.lines,
        )
    except Exception as error:  # a source gave a value of the wrong type: keep the CPU
        notes.add(f"profile: unexpected error: {describe(error)}")
        return HardwareProfile(cpu=cpu, notes=notes.lines)
    if profile.primary is not None:
        return profile  # trials run on the accelerator: its datasheet peak is the one
    return part(
        "CPU peak", lambda: _with_cpu_peaks(profile, sources, notes, remeasure_cpu), profile
    )


def _with_cpu_peaks(
    profile: HardwareProfile, sources: ProbeSources, notes: Notes, remeasure: bool
) -> HardwareProfile:
    """The profile with the CPU's estimated and measured peak FLOP/s per usable core."""
    measured = measured_core_peaks(
        profile.fingerprint(),
        profile.usable_cores,
        sources.cache_dir,
        sources.cpu_matmul,
        notes,
        remeasure,
    )
    cpu = profile.cpu.model_copy(
        update={
            "core_peak_flops_estimate": estimate_core_peaks(profile.cpu),
            "core_peak_flops_measured": measured,
        }
    )
    return profile.model_copy(update={"cpu": cpu, "notes": notes.lines})
