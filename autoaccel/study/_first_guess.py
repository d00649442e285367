"""Trial 1: a first guess from the probed hardware, before the sampler knows anything.

The guess follows the usual advice for the device; the search then measures whether the
advice holds for this model on this machine.
"""

from __future__ import annotations

from typing import Any

from autoaccel.knobs import Config, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.study._space import SearchSpace

GUESS_FACTORS = (4, 2)
MIN_GUESS_STEPS = 256


def first_guess(
    space: SearchSpace, hw: HardwareProfile, facts: TaskFacts, baseline: Config
) -> Config:
    """The hardware's usual best practice, snapped to choices the space holds."""
    wishes = (
        _train_wishes(hw, facts, baseline)
        if space.stage == "train"
        else _deploy_wishes(hw, facts, baseline)
    )
    values = {}
    for name, wish in wishes.items():
        if name in space.choices:
            values[name] = _nearest(space.choices[name], wish)
        elif name in space.ranges:
            span = space.ranges[name]
            values[name] = min(max(wish, span.low), span.high)
    return space.config(baseline, values)


def _fast_precision(hw: HardwareProfile) -> str:
    cc = hw.cuda_capability
    if cc is not None:
        return "bf16" if cc >= (8, 0) else "fp16"
    isa = hw.cpu.isa
    # Without native bf16 instructions the CPU emulates bf16 matrix math, slowly.
    native_bf16 = isa.get("avx512_bf16") or isa.get("amx_bf16") or isa.get("bf16")
    return "bf16" if hw.device == "cpu" and native_bf16 else "fp32"


def budget_steps(facts: TaskFacts, batch_size: int) -> int:
    """Optimizer steps in the task's training budget at ``batch_size``."""
    return int(facts.epochs * (facts.train_samples // batch_size))


def first_guess_batch(facts: TaskFacts, baseline: Config) -> int:
    """The largest of 4x, 2x and 1x the baseline batch that leaves the budget enough steps.

    Fewer optimizer steps in the same budget learn less: on the CNN example, 64 steps
    instead of the baseline's 128 lost 2.4 points of accuracy, while the MLP example kept
    its metric at 256 steps instead of 1,024 (benchmarks/step_budget.py). The guess keeps
    at least ``MIN_GUESS_STEPS``, or the baseline's steps when it has fewer.
    """
    needed = min(budget_steps(facts, baseline.batch_size), MIN_GUESS_STEPS)
    for factor in GUESS_FACTORS:
        if budget_steps(facts, baseline.batch_size * factor) >= needed:
            return baseline.batch_size * factor
    return baseline.batch_size


def _train_wishes(hw: HardwareProfile, facts: TaskFacts, baseline: Config) -> dict[str, Any]:
    on_gpu = hw.device == "cuda"
    # Leave a core for the training process itself.
    workers = max(0, min(8 if on_gpu else 4, hw.usable_cores - 1))
    return {
        "batch_size": first_guess_batch(facts, baseline),
        "precision": _fast_precision(hw),
        "num_workers": workers,
        "pin_memory": on_gpu,
        "persistent_workers": True,
        "prefetch_factor": 4,
        "channels_last": facts.has_conv2d,
        # On a CPU, compile time rarely pays back within a short accuracy budget.
        "compile": "default" if on_gpu else "off",
    }


def _deploy_wishes(hw: HardwareProfile, facts: TaskFacts, baseline: Config) -> dict[str, Any]:
    on_gpu = hw.device == "cuda"
    cc = hw.cuda_capability
    if on_gpu:
        quantization = "fp8_torchao" if cc is not None and cc >= (8, 9) else "none"
    else:
        quantization = "int8_dynamic_torch_ao" if facts.has_linear else "none"
    return {
        "batch_size": baseline.batch_size * 4,
        "precision": _fast_precision(hw),
        "channels_last": facts.has_conv2d,
        "compile": "default" if on_gpu else "off",
        "pruning_ratio": 0.0,
        "quantization": quantization,
    }


def _nearest(choices: list[Any], wish: Any) -> Any:
    """The wished value if the space has it; for numbers the closest one; else the first."""
    if wish in choices:
        return wish
    numbers = [c for c in choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
    if isinstance(wish, (int, float)) and not isinstance(wish, bool) and numbers:
        return min(numbers, key=lambda c: (abs(c - wish), c))
    return choices[0]
