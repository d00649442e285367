"""Distillation: its loss on tiny tensors, the pruning it needs, and that a distilled
fine-tune really learns from the unpruned model."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from autoaccel import knobs
from autoaccel.knobs import Config
from autoaccel.knobs._distill import TEMPERATURE, WEIGHT, Student


def test_the_soft_term_is_zero_when_student_and_teacher_agree() -> None:
    logits = torch.randn(8, 5)
    task_loss = torch.tensor(0.7)
    assert knobs.distill.loss(logits, logits.clone(), task_loss).item() == pytest.approx(
        (1 - WEIGHT) * 0.7
    )


def test_the_blend_weights_and_temperature() -> None:
    student, teacher = torch.randn(4, 3), torch.randn(4, 3)
    task_loss = torch.tensor(1.5)
    assert knobs.distill.loss(student, teacher, task_loss, weight=0.0).item() == pytest.approx(1.5)
    # All soft: T^2 times the KL divergence of the softened student from the softened teacher.
    t = 3.0
    p = torch.softmax(teacher / t, -1)
    kl = (p * (p.log() - torch.log_softmax(student / t, -1))).sum(-1).mean()
    soft = knobs.distill.loss(student, teacher, task_loss, temperature=t, weight=1.0)
    assert soft.item() == pytest.approx(t**2 * kl.item(), rel=1e-5)
    assert (TEMPERATURE, WEIGHT) == (2.0, 0.5)


def test_the_gradient_flows_to_the_student_only() -> None:
    student = torch.randn(6, 4, requires_grad=True)
    teacher = torch.randn(6, 4, requires_grad=True)
    knobs.distill.loss(student, teacher.detach(), torch.tensor(0.0)).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_token_logits_count_every_position() -> None:
    # (batch, tokens, vocabulary): the same as flattening the tokens into the batch.
    student, teacher = torch.randn(2, 5, 7), torch.randn(2, 5, 7)
    flat = knobs.distill.loss(student.reshape(10, 7), teacher.reshape(10, 7), 0.0)
    assert knobs.distill.loss(student, teacher, 0.0).item() == pytest.approx(flat.item())


def test_outputs_that_are_not_one_logits_tensor_are_refused() -> None:
    with pytest.raises(ValueError, match="one tensor of logits"):
        knobs.distill.loss({"logits": torch.zeros(2, 3)}, torch.zeros(2, 3), 0.0)


def test_distill_needs_pruning() -> None:
    with pytest.raises(ValidationError, match="distill needs pruning_ratio > 0"):
        Config(distill="on")
    assert Config(pruning_ratio=0.3, distill="on").distill == "on"


def test_the_student_runs_the_teacher_on_the_same_inputs() -> None:
    torch.manual_seed(0)
    teacher = torch.nn.Linear(3, 2)
    student_module = torch.nn.Linear(3, 2)
    student = Student(student_module, teacher)
    x = torch.randn(4, 3)
    out = student_module(x)
    assert torch.equal(student.teacher_logits, teacher(x))
    blended = student.loss(lambda outputs, targets: outputs.sum() * 0)(out, None)
    assert blended.item() > 0  # the models disagree: the soft term is not zero
    student.close()
    student.teacher_logits = None
    student_module(x)
    assert student.teacher_logits is None  # the hook is gone


def test_a_distilled_fine_tune_uses_the_teacher(tiny, cpu_profile, tmp_path, monkeypatch) -> None:
    from autoaccel.knobs import _distill
    from autoaccel.measure import measure_deploy, measure_train

    weights = tmp_path / "tiny.pt"
    measure_train(tiny, Config(batch_size=16), cpu_profile, save_weights=weights)
    calls = []
    real = _distill.loss

    def watched(student, teacher, task_loss, *args):
        calls.append(teacher.shape)
        return real(student, teacher, task_loss, *args)

    monkeypatch.setattr(_distill, "loss", watched)
    plain = Config(batch_size=32, pruning_ratio=0.5)
    measure_deploy(tiny, plain, cpu_profile, weights, window_s=0.01)
    assert calls == []
    m = measure_deploy(tiny, plain.replace(distill="on"), cpu_profile, weights, window_s=0.01)
    assert calls and m.finetune_s is not None and 0.0 <= m.metric <= 1.0
