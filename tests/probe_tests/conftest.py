"""Fake hosts for the probe: a file tree plus a ``host.json`` per machine.

``tests/data/probe/hosts/<name>/`` holds ``proc/``, ``sys/`` and ``dev/`` as the probe
reads them, and ``host.json`` the rest: platform, environment, affinity, psutil numbers,
compilers on PATH, torch facts, package versions, command outputs and an NVML script
that :class:`FakeNvml` plays back. A value ``"error:<Name>"`` in the NVML script makes
that call raise pynvml's ``NVMLError_<Name>``.
"""

from __future__ import annotations

import copy
import json
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pynvml
import pytest

from autoaccel.probe import PlatformFacts, ProbeSources, TorchFacts, XpuDevice

DATA = Path(__file__).resolve().parents[1] / "data" / "probe"
HOSTS = DATA / "hosts"


def nvml_error(name: str) -> Exception:
    return getattr(pynvml, f"NVMLError_{name}")()


class FakeNvml:
    """Plays back a host's NVML script through pynvml's function names and errors.

    Handles are device indices. ``fail`` maps a function name to an error name (fails
    always) or to ``{"<device index>": error name}``.
    """

    NVML_CLOCK_SM = pynvml.NVML_CLOCK_SM
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM
    NVML_FEATURE_ENABLED = pynvml.NVML_FEATURE_ENABLED
    NVML_NVLINK_MAX_LINKS = pynvml.NVML_NVLINK_MAX_LINKS

    def __init__(self, script: dict[str, Any]) -> None:
        self.driver = script.get("driver")
        self.fail: dict[str, Any] = script.get("fail", {})
        self.devices: list[dict[str, Any]] = []
        for template in script.get("devices", []):
            for _ in range(template.get("count", 1)):
                index = len(self.devices)
                device = {k: copy.deepcopy(v) for k, v in template.items() if k != "count"}
                device.setdefault("uuid", f"GPU-{index:08x}-0000-0000-0000-000000000000")
                self.devices.append(device)
        self.initialised = False
        self.shut_down = False

    def __getattr__(self, name: str) -> Any:
        # NVMLError classes come from the real bindings, so the probe can tell them apart.
        if name.startswith("NVMLError"):
            return getattr(pynvml, name)
        raise AttributeError(name)

    def _check(self, function: str, index: int | None = None) -> None:
        rule = self.fail.get(function)
        if isinstance(rule, str):
            raise nvml_error(rule)
        if isinstance(rule, dict) and str(index) in rule:
            raise nvml_error(rule[str(index)])

    def _value(self, function: str, handle: int, key: str) -> Any:
        self._check(function, handle)
        value = self.devices[handle][key]
        if isinstance(value, str) and value.startswith("error:"):
            raise nvml_error(value.removeprefix("error:"))
        return value

    def nvmlInit(self) -> None:
        self._check("nvmlInit")
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlSystemGetDriverVersion(self) -> str:
        self._check("nvmlSystemGetDriverVersion")
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        self._check("nvmlDeviceGetCount")
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._check("nvmlDeviceGetHandleByIndex", index)
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self._value("nvmlDeviceGetName", handle, "name")

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return self._value("nvmlDeviceGetUUID", handle, "uuid")

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        total = self._value("nvmlDeviceGetMemoryInfo", handle, "memory_total")
        free = self.devices[handle]["memory_free"]
        return types.SimpleNamespace(total=total, free=free, used=total - free)

    def nvmlDeviceGetCudaComputeCapability(self, handle: int) -> tuple[int, int]:
        return tuple(self._value("nvmlDeviceGetCudaComputeCapability", handle, "cuda_capability"))

    def nvmlDeviceGetAttributes(self, handle: int) -> Any:
        count = self._value("nvmlDeviceGetAttributes", handle, "attributes")
        return types.SimpleNamespace(multiprocessorCount=count)

    def nvmlDeviceGetNumGpuCores(self, handle: int) -> int:
        return self._value("nvmlDeviceGetNumGpuCores", handle, "gpu_cores")

    def nvmlDeviceGetMaxClockInfo(self, handle: int, clock: int) -> int:
        key = "max_clock_sm" if clock == self.NVML_CLOCK_SM else "max_clock_mem"
        return self._value("nvmlDeviceGetMaxClockInfo", handle, key)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return self._value("nvmlDeviceGetEnforcedPowerLimit", handle, "power_limit_mw")

    def nvmlDeviceGetMaxPcieLinkGeneration(self, handle: int) -> int:
        return self._value("nvmlDeviceGetMaxPcieLinkGeneration", handle, "pcie_generation")

    def nvmlDeviceGetMaxPcieLinkWidth(self, handle: int) -> int:
        return self._value("nvmlDeviceGetMaxPcieLinkWidth", handle, "pcie_width")

    def nvmlDeviceGetNvLinkState(self, handle: int, link: int) -> int:
        nvlink = self._value("nvmlDeviceGetNvLinkState", handle, "nvlink")
        if link >= nvlink["links"]:
            raise nvml_error("InvalidArgument")
        return int(link < nvlink["active"])


class FakePsutil:
    def __init__(self, numbers: dict[str, int]) -> None:
        self.numbers = numbers

    def cpu_count(self, logical: bool = True) -> int:
        return self.numbers["logical" if logical else "physical"]

    def virtual_memory(self) -> Any:
        return types.SimpleNamespace(
            total=self.numbers["total"], available=self.numbers["available"]
        )


def _merge(spec: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(spec)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _torch_facts(spec: dict[str, Any] | None) -> Callable[[], TorchFacts]:
    def read() -> TorchFacts:
        if spec is None:
            raise ImportError("No module named 'torch'")
        values = dict(spec)
        values["xpu_devices"] = tuple(XpuDevice(**d) for d in values.get("xpu_devices", ()))
        return TorchFacts(**values)

    return read


def _nvml_loader(script: dict[str, Any]) -> tuple[Callable[[], Any], FakeNvml | None]:
    if script.get("missing"):

        def missing() -> Any:
            raise ImportError("No module named 'pynvml'")

        return missing, None
    fake = FakeNvml(script)
    return (lambda: fake), fake


def _affinity(count: int | None) -> Callable[[], set[int]]:
    def read() -> set[int]:
        if count is None:
            raise AttributeError("module 'os' has no attribute 'sched_getaffinity'")
        return set(range(count))

    return read


class Host:
    """One fake machine: ``sources`` for the probe, ``nvml`` to inspect afterwards."""

    def __init__(self, name: str, changes: dict[str, Any] | None = None) -> None:
        root = HOSTS / name
        spec = _merge(json.loads((root / "host.json").read_text()), changes or {})
        self.spec = spec
        load_nvml, self.nvml = _nvml_loader(spec["nvml"])
        commands: dict[str, str] = spec.get("commands", {})
        versions: dict[str, str] = spec.get("versions", {})
        which: dict[str, str] = spec.get("which", {})

        def run_command(argv: Sequence[str]) -> str | None:
            return commands.get(" ".join(argv))

        self.sources = ProbeSources(
            proc_root=root / "proc",
            sys_root=root / "sys",
            dev_root=root / "dev",
            environ=spec.get("environ", {}),
            platform=lambda: PlatformFacts(**spec["platform"]),
            torch_facts=_torch_facts(spec.get("torch")),
            load_nvml=load_nvml,
            load_psutil=lambda: FakePsutil(spec["psutil"]),
            affinity=_affinity(spec.get("affinity")),
            which=which.get,
            package_version=versions.get,
            run_command=run_command,
            cpu_matmul=self.matmul,
            cache_dir=None,
        )
        self.matmul_calls: list[tuple[str, int]] = []

    def matmul(self, dtype: str, cores: int) -> float:
        """The host's ``matmul`` FLOP/s per dtype (all cores); none given: it cannot run."""
        self.matmul_calls.append((dtype, cores))
        rates = self.spec.get("matmul")
        if rates is None:
            raise RuntimeError("no matmul on this fake host")
        return float(rates[dtype])


@pytest.fixture
def host() -> Callable[..., Host]:
    """``host("h100x8", {"environ": {...}})``: a fake machine, with changes to its spec."""

    def make(name: str, changes: dict[str, Any] | None = None) -> Host:
        return Host(name, changes)

    return make
