"""Distillation for pruned models: the pruned student is fine-tuned against the unpruned
trained model's outputs, not only the task's own loss.

The loss is the task's loss blended with the KL divergence between the two models' logits,
both softened by a temperature: ``(1 - WEIGHT) * task_loss + WEIGHT * T**2 * KL``. T**2
keeps the soft term's gradients on the scale of the task's as T grows (Hinton et al.,
2015). T = 2 and an even blend are the usual starting point and are not searched: the
fine-tune is short, and one more knob would halve the trials each value gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from autoaccel.knobs._knob import Knob

if TYPE_CHECKING:
    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.knobs._knob import Stage
    from autoaccel.probe import HardwareProfile

TEMPERATURE = 2.0
WEIGHT = 0.5  # of the soft (teacher) term; the task's own loss gets the rest


class DistillKnob(Knob):
    """How the pruned model recovers: fine-tuned on the task's loss alone (off), or also
    against the unpruned model's softened outputs (on). Meaningful only with pruning."""

    name = "distill"
    values = Literal["off", "on"]
    field = Field(default="off")
    stages = ("deploy",)
    needs = "pruning_ratio"

    def refusal(
        self, value: str, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        return None


KNOB = DistillKnob()


def loss(
    student_logits: Any,
    teacher_logits: Any,
    task_loss: Any,
    temperature: float = TEMPERATURE,
    weight: float = WEIGHT,
) -> Any:
    """The task's loss blended with the temperature-softened KL divergence of the student's
    logits from the teacher's (the last dimension holds the classes; every other position,
    a token say, counts as one sample)."""
    import torch.nn.functional as F

    if not hasattr(student_logits, "shape") or student_logits.shape != teacher_logits.shape:
        raise ValueError(
            "distill needs the model to return one tensor of logits, the same shape pruned "
            "and unpruned"
        )
    classes = student_logits.shape[-1]
    soft = F.kl_div(
        F.log_softmax(student_logits.float().reshape(-1, classes) / temperature, dim=-1),
        F.log_softmax(teacher_logits.float().reshape(-1, classes) / temperature, dim=-1),
        log_target=True,
        reduction="batchmean",
    )
    return (1 - weight) * task_loss + weight * temperature**2 * soft


class Student:
    """The pruned model as the fine-tune calls it: each forward pass also runs the teacher
    (no gradients) on the same inputs and keeps its outputs for :meth:`loss`.

    Not a module, so the optimizer sees only the student's parameters; the loop gets the
    student itself through :attr:`module`.
    """

    def __init__(self, student: Any, teacher: Any) -> None:
        self.module = student
        self.teacher = teacher.eval()
        self.teacher_logits: Any = None
        self._hook = student.register_forward_pre_hook(self._run_teacher, with_kwargs=True)

    def _run_teacher(self, module: Any, args: tuple, kwargs: dict) -> None:
        import torch

        with torch.no_grad():
            self.teacher_logits = self.teacher(*args, **kwargs)

    def loss(self, task_loss: Any) -> Any:
        """``task_loss(outputs, targets)`` blended with the soft term of the last pass."""

        def blended(outputs: Any, targets: Any) -> Any:
            return loss(outputs, self.teacher_logits, task_loss(outputs, targets))

        return blended

    def close(self) -> None:
        self._hook.remove()
