"""The parts of autoaccel import in one direction only: no circles, no arrow up.

The layers below are the table of docs/architecture.md; a part may import its own layer's
foundation modules and any part in a lower layer, never one above. Read with ``ast``, so
lazy imports inside functions and ``TYPE_CHECKING`` blocks count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autoaccel"

# Lowest first. A part is a subpackage or a top-level module of autoaccel.
LAYERS: list[set[str]] = [
    {"errors", "_version", "defaults", "_format"},
    {"probe"},
    {"knobs"},
    {"task"},
    {"engine"},
    {"measure"},
    {"runner"},
    {"recommend"},
    {"study"},
    {"report"},
    {"bench", "_train"},
    {"cli", "__main__", "__init__"},
]
LAYER_OF = {part: index for index, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(module: str) -> set[str]:
    """The autoaccel modules ``module`` imports (``from autoaccel import knobs`` is knobs)."""
    tree = ast.parse(MODULES[module].read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module in MODULES:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found - {module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_part_has_a_layer() -> None:
    assert {part_of(m) for m in MODULES} <= set(LAYER_OF)


def test_no_part_imports_a_higher_one() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if LAYER_OF[part_of(target)] > LAYER_OF[part_of(module)]
    )
    assert upward == []


def test_no_part_imports_another_part_s_private_module() -> None:
    private = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if part_of(target) != part_of(module)
        and target.count(".") >= 2
        and target.rsplit(".", 1)[1].startswith("_")
    )
    assert private == []


def test_no_import_circles_between_parts() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        for target in targets:
            if part_of(target) != part_of(module):
                edges.setdefault(part_of(module), set()).add(part_of(target))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = sorted(part for part in edges if reaches(part, part, {part}))
    assert circles == []


@pytest.mark.parametrize("layer", range(len(LAYERS)))
def test_a_layer_s_parts_do_not_import_each_other(layer: int) -> None:
    # Parts of one layer are siblings: an import between them would be an unlisted floor.
    across = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if part_of(module) in LAYERS[layer]
        and part_of(target) in LAYERS[layer]
        and part_of(target) != part_of(module)
        and part_of(module) not in ("cli", "__main__", "__init__")
    )
    assert across == []
