"""The profile for people: plain sections first (tested), then drawn with rich."""

from __future__ import annotations

import dataclasses
import json

from rich.console import Console
from rich.table import Table

from autoaccel import _format as fmt
from autoaccel._format import plain
from autoaccel.probe._profile import Accelerator, HardwareProfile

UNKNOWN = "unknown"
_KIND_LABELS = {"tpu": "TPU", "other": "Device"}
_PACKAGES = ("torch", "triton", "torchao", "torch_pruning", "torch_xla", "optuna")


@dataclasses.dataclass(frozen=True)
class ProfileSection:
    """One block of the readable profile: a title and (label, value) rows.

    A ``bulleted`` block (the notes) is a plain list: its labels are empty.
    """

    title: str
    rows: tuple[tuple[str, str], ...]
    bulleted: bool = False


def _gib(value: int | None) -> str:
    return f"{value / 2**30:.1f} GiB" if value is not None else UNKNOWN


def _number(value: object) -> str:
    return UNKNOWN if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 3, 5] -> "0-3, 5"."""
    spans: list[list[int]] = []
    for index in sorted(indices):
        if spans and index == spans[-1][1] + 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _cpu_section(profile: HardwareProfile) -> ProfileSection:
    cpu = profile.cpu
    has = [name for name, present in cpu.isa.items() if present]
    lacks = [name for name, present in cpu.isa.items() if not present]
    isa = " ".join(has) or "none of the tracked ones"
    if lacks:
        isa += f" (lacks {' '.join(lacks)})"
    cores = (
        f"{_number(cpu.usable_cores)} usable, {_number(cpu.logical_cores)} logical, "
        f"{_number(cpu.physical_cores)} physical"
    )
    rows = [
        ("model", cpu.model or UNKNOWN),
        ("vendor", cpu.vendor or UNKNOWN),
        ("architecture", cpu.arch or UNKNOWN),
        ("cores", cores),
        (
            "memory",
            f"{_gib(cpu.memory_total_bytes)} total, {_gib(cpu.memory_available_bytes)} available",
        ),
        ("NUMA nodes", _number(cpu.numa_nodes)),
        ("instruction sets", isa if cpu.isa else UNKNOWN),
        ("torch CPU capability", cpu.torch_cpu_capability or UNKNOWN),
        ("C++ compiler", cpu.cxx_compiler or "none found"),
        ("clock", f"{cpu.clock_mhz:,.0f} MHz" if cpu.clock_mhz else UNKNOWN),
    ]
    cores_used = profile.usable_cores
    for label, per_core in (
        ("peak estimate", cpu.core_peak_flops_estimate),
        ("peak measured", cpu.core_peak_flops_measured),
    ):
        if per_core:
            figures = ", ".join(
                f"{dtype} {fmt.flops(per * cores_used, '/s')}" for dtype, per in per_core.items()
            )
            how = "cores x clock x FLOPs per cycle" if label == "peak estimate" else "matmul"
            rows.append((label, f"{figures} ({how}, {cores_used} usable cores)"))
    return ProfileSection("CPU", tuple(rows))


def _group(accelerators: list[Accelerator]) -> list[list[Accelerator]]:
    """Identical devices (free memory aside) together, in the order they were listed."""
    groups: dict[str, list[Accelerator]] = {}
    for acc in accelerators:
        key = json.dumps(acc.model_dump(exclude={"index", "memory_free_bytes"}), sort_keys=True)
        groups.setdefault(key, []).append(acc)
    return list(groups.values())


def _memory(group: list[Accelerator]) -> str | None:
    """A group's memory, e.g. "79.6 GiB total, 70.2 GiB to 79.1 GiB free"; None if unknown."""
    parts = []
    if group[0].memory_total_bytes is not None:
        parts.append(f"{_gib(group[0].memory_total_bytes)} total")
    free = sorted(a.memory_free_bytes for a in group if a.memory_free_bytes is not None)
    if free:
        low, high = _gib(free[0]), _gib(free[-1])
        parts.append(f"{low if low == high else f'{low} to {high}'} free")
    return ", ".join(parts) or None


def _accelerator_section(group: list[Accelerator]) -> ProfileSection:
    acc = group[0]
    label = _KIND_LABELS.get(acc.kind, "GPU")
    title = f"{label} {_ranges([a.index for a in group])}: {len(group)}x {acc.name or acc.kind}"
    # TPUs and unknown cards report no memory: leave the row out rather than "unknown".
    memory = _memory(group) or (None if acc.kind in ("tpu", "other") else UNKNOWN)
    rows: list[tuple[str, str | None]] = [
        ("kind", f"{acc.kind}, {'supported' if acc.supported else 'not supported'}"),
        ("memory", memory),
    ]
    if acc.kind == "cuda":
        clocks = None
        if acc.max_sm_clock_mhz is not None or acc.max_memory_clock_mhz is not None:
            clocks = (
                f"SM {_number(acc.max_sm_clock_mhz)} MHz, "
                f"memory {_number(acc.max_memory_clock_mhz)} MHz"
            )
        pcie = None
        if acc.pcie_generation is not None or acc.pcie_width is not None:
            pcie = f"gen {_number(acc.pcie_generation)} x{_number(acc.pcie_width)}"
        power = f"{acc.power_limit_w:g} W" if acc.power_limit_w is not None else None
        nvlink = f"{acc.nvlink_peers} active links" if acc.nvlink_peers is not None else None
        rows += [
            ("compute capability", acc.compute_capability or UNKNOWN),
            ("multiprocessors", _number(acc.multiprocessors)),
            ("max clocks", clocks or UNKNOWN),
            ("power limit", power or UNKNOWN),
            ("PCIe", pcie or UNKNOWN),
            ("NVLink", nvlink or UNKNOWN),
        ]
    if acc.features:
        rows.append(("features", " ".join(k for k, v in acc.features.items() if v) or "none"))
    if acc.peak_flops:
        peaks = ", ".join(f"{k} {v / 1e12:g}" for k, v in acc.peak_flops.items())
        rows.append(("peak dense TFLOP/s", peaks))
    rows += [("note", note) for note in acc.notes]
    return ProfileSection(title, tuple((k, v) for k, v in rows if v is not None))


def _software_section(profile: HardwareProfile) -> ProfileSection:
    rows = []
    for name, version in profile.software.model_dump().items():
        missing = "not installed" if name in _PACKAGES else "none"
        rows.append((name, version or missing))
    return ProfileSection("Software", tuple(rows))


def profile_sections(profile: HardwareProfile) -> list[ProfileSection]:
    """The readable profile as plain data: machine, CPU, accelerators, software, notes."""
    primary = profile.primary
    runs_on = "cpu"
    if primary is not None:
        runs_on = f"{profile.device} ({primary.name or primary.kind}, index {primary.index})"
    sections = [
        ProfileSection(
            "Machine",
            (
                ("host", profile.hostname or UNKNOWN),
                ("summary", profile.summary()),
                ("trials run on", runs_on),
                ("fingerprint", profile.fingerprint()),
            ),
        ),
        _cpu_section(profile),
    ]
    groups = _group(profile.accelerators)
    sections += [_accelerator_section(group) for group in groups]
    if not groups:
        sections.append(ProfileSection("Accelerators", (("found", "none"),)))
    sections.append(_software_section(profile))
    if profile.notes:
        notes = tuple(("", note) for note in profile.notes)
        sections.append(ProfileSection("Notes", notes, bulleted=True))
    return sections


def render_profile(profile: HardwareProfile, console: Console | None = None) -> None:
    """Print the profile as titled blocks of label and value."""
    console = console or Console(highlight=False)
    sections = profile_sections(profile)
    # One label width for every block, so that all values start in the same column.
    width = max(len(label) for section in sections for label, _ in section.rows)
    for number, section in enumerate(sections):
        if number:
            console.print()
        table = Table(
            title=plain(section.title, "bold"),
            title_justify="left",
            show_header=False,
            box=None,
            padding=(0, 1, 0, 2),
        )
        if section.bulleted:
            table.add_column(no_wrap=True)
            table.add_column(overflow="fold")
            for _, value in section.rows:
                table.add_row("-", plain(value))
        else:
            table.add_column(style="cyan", no_wrap=True, min_width=width)
            table.add_column(overflow="fold")
            for label, value in section.rows:
                table.add_row(plain(label), plain(value))
        console.print(table)
