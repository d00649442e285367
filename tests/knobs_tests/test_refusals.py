"""Which knob values each kind of hardware can run, and why not."""

from __future__ import annotations

import pytest
from fakes import task_facts

from autoaccel import knobs
from autoaccel.knobs import Config


def test_cpu_refuses_gpu_only_choices(cpu_profile) -> None:
    config = Config(precision="fp16", pin_memory=True, compile="reduce-overhead")
    reasons = knobs.refusals(config, cpu_profile, task_facts(), "train")
    assert any("fp16 with loss scaling needs a CUDA GPU" in r for r in reasons)
    assert any("pin_memory only helps copies to a CUDA GPU" in r for r in reasons)
    assert any("reduce-overhead uses CUDA graphs" in r for r in reasons)


def test_cpu_runs_bf16_and_compile_with_a_compiler(cpu_profile) -> None:
    config = Config(precision="bf16", compile="default", num_workers=2)
    assert knobs.refusals(config, cpu_profile, task_facts(), "train") == []


def test_compile_needs_a_cxx_compiler_on_cpu(cpu_profile) -> None:
    hw = cpu_profile.model_copy(
        update={"cpu": cpu_profile.cpu.model_copy(update={"cxx_compiler": None})}
    )
    assert "needs a C++ compiler" in knobs.choice_refusal("compile", "default", hw)


def test_workers_are_capped_by_usable_cores(cpu_profile) -> None:
    assert knobs.choice_refusal("num_workers", 2, cpu_profile) is None
    assert "more than the 2 cores" in knobs.choice_refusal("num_workers", 3, cpu_profile)


@pytest.mark.parametrize(
    ("capability", "tf32", "bf16", "fp8"),
    [("7.5", False, False, False), ("8.0", True, True, False), ("9.0", True, True, True)],
)
def test_gpu_generation_decides_precisions(make_gpu_host, capability, tf32, bf16, fp8) -> None:
    hw = make_gpu_host("GPU", capability)
    assert (knobs.choice_refusal("precision", "tf32", hw) is None) is tf32
    assert (knobs.choice_refusal("precision", "bf16", hw) is None) is bf16
    assert (knobs.choice_refusal("quantization", "fp8_torchao", hw) is None) is fp8
    assert knobs.choice_refusal("precision", "fp16", hw) is None


def test_channels_last_needs_2d_convolutions(cpu_profile) -> None:
    refusal = knobs.choice_refusal("channels_last", True, cpu_profile, task_facts())
    assert "2-D convolutions" in refusal
    assert (
        knobs.choice_refusal("channels_last", True, cpu_profile, task_facts(has_conv2d=True))
        is None
    )


def test_torch_ao_int8_is_cpu_only(cpu_profile, make_gpu_host) -> None:
    assert knobs.choice_refusal("quantization", "int8_dynamic_torch_ao", cpu_profile) is None
    gpu = make_gpu_host("H100", "9.0")
    assert "CPU only" in knobs.choice_refusal("quantization", "int8_dynamic_torch_ao", gpu)


def test_batch_too_large_for_the_training_budget_is_refused(cpu_profile) -> None:
    task = task_facts(train_samples=1000, epochs=2.0)
    assert knobs.choice_refusal("batch_size", 128, cpu_profile, task) is None  # 14 steps
    reason = knobs.choice_refusal("batch_size", 256, cpu_profile, task)  # 6 steps
    assert "leaves 6 steps in the task's training budget" in reason


def test_stage_decides_which_knobs_are_checked(cpu_profile) -> None:
    # pin_memory is a train-stage knob: the deploy stage never looks at it.
    config = Config(pin_memory=True)
    assert knobs.refusals(config, cpu_profile, task_facts(), "deploy") == []
    assert knobs.refusals(config, cpu_profile, task_facts(), "train") != []


@pytest.mark.parametrize(("rule", "expected"), [("none", 1.0), ("linear", 4.0), ("sqrt", 2.0)])
def test_learning_rate_follows_batch_size(rule, expected) -> None:
    assert knobs.batch_size.lr_factor(256, 64, rule) == pytest.approx(expected)
