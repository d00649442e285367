"""The optimizer's implementation: PyTorch's per-parameter loop, ``foreach`` (one kernel per
operation over every parameter) or ``fused`` (one kernel for the whole update).

The update is the same arithmetic either way; only how many kernels compute it changes.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.errors import ConfigError
from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

OptimizerImpl = Literal["default", "foreach", "fused"]
FLAGS = ("foreach", "fused")
# torch 2.13's fused optimizer kernels (torch.utils._foreach_utils): Adam, AdamW, SGD and
# Adagrad take fused=True on these device types, the CPU included.
FUSED_DEVICES = ("cuda", "cpu", "mps", "xpu", "hpu")


class OptimizerImplKnob(Knob):
    """The task's optimizer built again, same class, parameter groups and hyper-parameters,
    with ``foreach=True`` or ``fused=True``, before its first step; ``default`` keeps the
    optimizer the task built."""

    name = "optimizer_impl"
    values = OptimizerImpl
    field = Field(default="default")
    stages = ("train",)

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        if value == "default":
            return None
        if value == "fused" and hw.device not in FUSED_DEVICES:
            return f"fused optimizers run on {', '.join(FUSED_DEVICES)} devices, not {hw.device}"
        if facts is None:
            return None  # the optimizer's class is known once built: rebuild() says then
        if facts.optimizer is None:
            return (
                f"optimizer_impl={value} needs the optimizer's class, which this study's "
                "stored task facts do not hold; start a new study to try it"
            )
        if value not in facts.optimizer_flags:
            return not_taken(facts.optimizer, value)
        return None


KNOB = OptimizerImplKnob()


def not_taken(optimizer: str, flag: str) -> str:
    return (
        f"{optimizer} takes no {flag}= argument; optimizer_impl={flag} needs an optimizer "
        "that does, such as torch.optim.AdamW, Adam or SGD"
    )


def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def flags_taken(cls: type) -> tuple[str, ...]:
    """The implementation flags ``cls``'s constructor names (``**kwargs`` names none)."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(flag for flag in FLAGS if flag in parameters)


def rebuild(optimizer: Any, value: str) -> Any:
    """``optimizer`` built again with ``value``'s flag set; itself for ``default``.

    Built again rather than changed in place: constructors check their flags (fused with
    ``differentiable``, fused with foreach) and set up state for them.
    """
    if value == "default":
        return optimizer
    cls = type(optimizer)
    taken = flags_taken(cls)
    if value not in taken:
        raise ConfigError(f"{not_taken(class_name(cls), value)}.")
    flags = {flag: flag == value for flag in taken}
    groups = [{**group, **flags} for group in optimizer.param_groups]
    parameters = inspect.signature(cls).parameters
    hyper = {k: v for k, v in optimizer.defaults.items() if k in parameters}
    return cls(groups, **{**hyper, **flags})
