"""NVIDIA GPUs through NVML: read-only driver queries, no CUDA context anywhere.

Each NVML call is guarded on its own: a card that does not support one query (power
limit on a vGPU, NVLink on a PCIe card) keeps everything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from autoaccel.probe._notes import Notes, describe
from autoaccel.probe._peak import find_part
from autoaccel.probe._profile import Accelerator
from autoaccel.probe._sources import TorchFacts

# CUDA cores per SM, to turn nvmlDeviceGetNumGpuCores into an SM count (CUDA C
# Programming Guide, "Compute Capabilities").
_CORES_PER_SM = {
    (6, 0): 64,
    (6, 1): 128,
    (6, 2): 128,
    (7, 0): 64,
    (7, 2): 64,
    (7, 5): 64,
    (8, 0): 64,
    (8, 6): 128,
    (8, 7): 128,
    (8, 9): 128,
    (9, 0): 128,
    (10, 0): 128,
    (10, 3): 128,
    (12, 0): 128,
    (12, 1): 128,
}


def cuda_features(capability: tuple[int, int] | None) -> dict[str, bool]:
    """What the tensor cores of a compute capability can do; empty when unknown."""
    if capability is None:
        return {}
    return {
        "tf32": capability >= (8, 0),
        "bf16": capability >= (8, 0),
        "fp16_tensor_cores": capability >= (7, 0),
        "fp8": capability >= (8, 9),
        "sparsity_2_4": capability >= (8, 0),
    }


def _is(nvml: Any, error: BaseException, name: str) -> bool:
    cls = getattr(nvml, f"NVMLError_{name}", None)
    return isinstance(cls, type) and isinstance(error, cls)


def _why(nvml: Any, error: BaseException) -> str:
    if _is(nvml, error, "LibraryNotFound"):
        return "libnvidia-ml.so.1 not found (no NVIDIA driver here): NVIDIA GPUs cannot be seen"
    if _is(nvml, error, "DriverNotLoaded"):
        return "the NVIDIA driver is not loaded"
    if type(error).__name__.startswith("NVMLError"):
        return str(error) or type(error).__name__
    return describe(error)


class _Device:
    """Guarded NVML queries for one GPU; failures become notes on that GPU."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml = nvml
        self.handle = handle
        self.notes: list[str] = []

    def get(self, what: str, function: str, *args: Any, silent: bool = False) -> Any:
        """``nvml.<function>(handle, *args)``, or None and a note (none when ``silent``)."""
        try:
            return getattr(self.nvml, function)(self.handle, *args)
        except Exception as error:
            if not silent:
                self.notes.append(f"{what}: {_why(self.nvml, error)}")
            return None

    def nvlink_links(self) -> int | None:
        """Active NVLink links; 0 on cards without NVLink (every link "Not Supported")."""
        enabled = getattr(self.nvml, "NVML_FEATURE_ENABLED", 1)
        active, answered, failure = 0, False, None
        for link in range(int(getattr(self.nvml, "NVML_NVLINK_MAX_LINKS", 18))):
            try:
                state = self.nvml.nvmlDeviceGetNvLinkState(self.handle, link)
            except Exception as error:
                # Links past the card's own count answer NotSupported or InvalidArgument.
                if not (
                    _is(self.nvml, error, "NotSupported")
                    or _is(self.nvml, error, "InvalidArgument")
                ):
                    failure = failure or error
                continue
            answered = True
            active += state == enabled
        if failure is not None and not answered:
            self.notes.append(f"NVLink: {_why(self.nvml, failure)}")
            return None
        return active

    def multiprocessors(self, capability: tuple[int, int] | None, name: str | None) -> int | None:
        """SM count: device attributes, else CUDA cores / cores per SM, else the parts table.

        nvmlDeviceGetAttributes answers on MIG slices and recent drivers only, and
        nvmlDeviceGetNumGpuCores counts CUDA cores, not SMs.
        """
        attributes = self.get("", "nvmlDeviceGetAttributes", silent=True)
        count = getattr(attributes, "multiprocessorCount", None)
        if isinstance(count, int) and count > 0:
            return count
        cores = self.get("", "nvmlDeviceGetNumGpuCores", silent=True)
        per_sm = _CORES_PER_SM.get(capability) if capability else None
        if isinstance(cores, int) and cores > 0 and per_sm and cores % per_sm == 0:
            return cores // per_sm
        part = find_part(name)
        return part.multiprocessors if part else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def visible_indices(environ: Mapping[str, str], uuids: list[str | None]) -> list[int] | None:
    """NVML indices CUDA exposes, in CUDA's order, from ``CUDA_VISIBLE_DEVICES``.

    None when the variable is unset (all GPUs, NVML order). Like CUDA, parsing stops at
    the first entry that names no GPU; UUIDs may be given by a unique prefix.
    """
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    visible: list[int] = []
    for token in (t.strip() for t in value.split(",")):
        if token.lstrip("-").isdigit():
            index = int(token)
            if not 0 <= index < len(uuids):
                break
        elif token.startswith("GPU-"):
            matches = [i for i, uuid in enumerate(uuids) if uuid and uuid.startswith(token)]
            if len(matches) != 1:
                break
            index = matches[0]
        else:
            break
        if index in visible:
            break
        visible.append(index)
    return visible


def probe_nvidia(
    load_nvml: Callable[[], Any],
    environ: Mapping[str, str],
    torch: TorchFacts | None,
    notes: Notes,
) -> tuple[list[Accelerator], str | None]:
    """(NVIDIA GPUs, driver version). Never raises; NVML missing gives ``[]`` and a note."""
    try:
        nvml = load_nvml()
    except ImportError:
        notes.add("NVML: nvidia-ml-py is not installed: NVIDIA GPUs cannot be seen")
        return [], None
    except Exception as error:
        notes.add(f"NVML: {describe(error)}")
        return [], None
    try:
        nvml.nvmlInit()
    except Exception as error:
        notes.add(f"NVML: {_why(nvml, error)}")
        return [], None
    try:
        return _read_gpus(nvml, environ, torch, notes)
    except Exception as error:  # a bug or a broken binding: still no exception out
        notes.add(f"NVML: {_why(nvml, error)}")
        return [], None
    finally:
        with contextlib.suppress(Exception):
            nvml.nvmlShutdown()


def _read_gpus(
    nvml: Any, environ: Mapping[str, str], torch: TorchFacts | None, notes: Notes
) -> tuple[list[Accelerator], str | None]:
    driver: str | None = None
    try:
        driver = _text(nvml.nvmlSystemGetDriverVersion())
    except Exception as error:
        notes.add(f"NVIDIA driver version: {_why(nvml, error)}")
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except Exception as error:
        notes.add(f"NVML device count: {_why(nvml, error)}")
        return [], driver

    devices: list[_Device | None] = []
    for index in range(count):
        try:
            devices.append(_Device(nvml, nvml.nvmlDeviceGetHandleByIndex(index)))
        except Exception as error:
            notes.add(f"GPU {index}: skipped, NVML cannot open it: {_why(nvml, error)}")
            devices.append(None)
    uuids = [_text(d.get("", "nvmlDeviceGetUUID", silent=True)) if d else None for d in devices]
    visible = visible_indices(environ, uuids)

    if torch is None:
        unusable = "torch cannot be imported, so trials cannot use this GPU"
    elif not torch.cuda:
        build = f"torch {torch.version}" if torch.version else "torch"
        unusable = f"{build} is not a CUDA build: install a CUDA build of torch to use this GPU"
    else:
        unusable = None

    gpus: list[Accelerator] = []
    for index, device in enumerate(devices):
        if device is None:
            continue
        hidden = visible is not None and index not in visible
        reason = "hidden by CUDA_VISIBLE_DEVICES" if hidden else unusable
        try:
            gpus.append(_accelerator(device, index, reason))
        except Exception as error:  # an answer of an unexpected type: lose this GPU only
            notes.add(f"GPU {index}: skipped: {describe(error)}")
    # cuda:0 is the first visible GPU: list visible ones first, in CUDA's order.
    order = {index: rank for rank, index in enumerate(visible or [])}
    gpus.sort(key=lambda gpu: order.get(gpu.index, len(order) + gpu.index))
    return gpus, driver


def _accelerator(device: _Device, index: int, unusable: str | None) -> Accelerator:
    nvml = device.nvml
    name = _text(device.get("name", "nvmlDeviceGetName"))
    memory = device.get("memory", "nvmlDeviceGetMemoryInfo")
    raw_capability = device.get("compute capability", "nvmlDeviceGetCudaComputeCapability")
    capability = (int(raw_capability[0]), int(raw_capability[1])) if raw_capability else None
    sm_clock = device.get("max SM clock", "nvmlDeviceGetMaxClockInfo", nvml.NVML_CLOCK_SM)
    mem_clock = device.get("max memory clock", "nvmlDeviceGetMaxClockInfo", nvml.NVML_CLOCK_MEM)
    # Enforced: what the board really runs at, after any administrator cap.
    power_mw = device.get("power limit", "nvmlDeviceGetEnforcedPowerLimit")
    pcie_generation = device.get("PCIe generation", "nvmlDeviceGetMaxPcieLinkGeneration")
    pcie_width = device.get("PCIe width", "nvmlDeviceGetMaxPcieLinkWidth")
    nvlink = device.nvlink_links()
    multiprocessors = device.multiprocessors(capability, name)

    part = find_part(name)
    if part is None:
        device.notes.append(f"peak FLOP/s unknown for {name or 'this GPU'}")
    if unusable:
        device.notes.append(unusable)
    return Accelerator(
        kind="cuda",
        index=index,
        name=name,
        memory_total_bytes=int(memory.total) if memory is not None else None,
        memory_free_bytes=int(memory.free) if memory is not None else None,
        compute_capability=f"{capability[0]}.{capability[1]}" if capability else None,
        multiprocessors=multiprocessors,
        max_sm_clock_mhz=sm_clock,
        max_memory_clock_mhz=mem_clock,
        power_limit_w=power_mw / 1000 if power_mw is not None else None,
        pcie_generation=pcie_generation,
        pcie_width=pcie_width,
        nvlink_peers=nvlink,
        features=cuda_features(capability),
        peak_flops=dict(part.flops) if part else {},
        supported=unusable is None,
        notes=device.notes,
    )
