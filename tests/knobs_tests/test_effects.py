"""Each knob changes what it says it changes: the model, its inputs, its arithmetic, its
loader. Checked on the objects the training engine and the deploy steps build, each next
to the same setup without the knob, so a knob that did nothing fails here."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autoaccel import knobs
from autoaccel.engine import TrainingRun
from autoaccel.knobs import Config

CPU = torch.device("cpu")


def run(task, device: torch.device = CPU, **knob_values) -> TrainingRun:
    return TrainingRun(task, Config(batch_size=16, **knob_values), device, seed=0, epochs=1)


def served(task, **knob_values):
    """The task's model through every deploy step, as the deploy measurement builds it."""
    config = Config(batch_size=16, **knob_values)
    example, _ = task.split(next(iter(torch.utils.data.DataLoader(task.eval_data, 2))))
    placement = knobs.Placement(CPU, training=False, example_inputs=lambda: example)
    module = knobs.DEPLOY.build_module(task.model(), config, placement)
    return knobs.DEPLOY.build_served(module, config, placement)


def channels_last(tensor: torch.Tensor) -> bool:
    return tensor.is_contiguous(memory_format=torch.channels_last) and not tensor.is_contiguous()


def test_torch_ao_quantization_converts_the_linear_layers(tiny) -> None:
    assert type(served(tiny)[0]) is nn.Linear
    quantized = served(tiny, quantization="int8_dynamic_torch_ao")
    assert isinstance(quantized[0], torch.ao.nn.quantized.dynamic.Linear)
    assert isinstance(quantized[2], torch.ao.nn.quantized.dynamic.Linear)


def test_torchao_quantization_stores_int8_weights(tiny) -> None:
    assert served(tiny)[0].weight.dtype == torch.float32
    torchao = served(tiny, quantization="int8_weight_only_torchao")
    assert type(torchao[0].weight).__name__ == "Int8Tensor"
    assert torchao[0].weight.qdata.dtype == torch.int8


def test_channels_last_reaches_the_weights_and_the_inputs(conv) -> None:
    for knob_on in (False, True):
        training = run(conv, channels_last=knob_on)
        inputs, _ = training.prepare(next(training.batches(1)))
        assert channels_last(training.model[0].weight) is knob_on
        assert channels_last(inputs) is knob_on
    deployed = served(conv, channels_last=True)
    assert channels_last(deployed[0].weight)
    batch = knobs.DEPLOY.prepare_inputs(torch.randn(2, 3, 8, 8), Config(channels_last=True))
    assert channels_last(batch)


@pytest.mark.parametrize(
    ("precision", "dtype"), [("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_precision_sets_the_compute_dtype(tiny, precision, dtype) -> None:
    training = run(tiny, precision=precision)
    seen = []
    training.model[0].register_forward_hook(lambda _m, _in, out: seen.append(out.dtype))
    training.step(next(training.batches(1)))
    assert seen == [dtype]


@pytest.mark.parametrize(
    ("precision", "scales"), [("fp16", True), ("bf16", False), ("fp32", False)]
)
def test_only_fp16_trains_with_a_grad_scaler(tiny, precision, scales) -> None:
    assert run(tiny, precision=precision).scaler.is_enabled() is scales


def test_compile_wraps_what_the_loop_calls(tiny) -> None:
    plain, compiled = run(tiny), run(tiny, compile="default")
    assert plain.step_model is plain.model
    assert isinstance(compiled.step_model, torch._dynamo.eval_frame.OptimizedModule)
    assert compiled.step_model._orig_mod is compiled.model  # the weights stay the module's
    assert isinstance(served(tiny, compile="default"), torch._dynamo.eval_frame.OptimizedModule)


def test_pruning_removes_channels_then_finetunes(conv) -> None:
    finetuned = []
    config = Config(pruning_ratio=0.5)
    example = torch.randn(2, 3, 8, 8)
    placement = knobs.Placement(
        CPU, False, example_inputs=lambda: example, finetune=finetuned.append
    )
    model = knobs.DEPLOY.build_module(conv.model(), config, placement)
    assert model[0].out_channels == 4 and model[0].weight.shape[0] == 4
    assert model[4].in_features == 4 and model[4].out_features == 2  # predictions stay
    assert finetuned == [model]
    assert model(example).shape == (2, 2)


@pytest.mark.gpu
def test_pin_memory_pins_the_batches_of_a_cuda_run(tiny) -> None:
    for knob_on in (False, True):
        training = run(tiny, torch.device("cuda"), pin_memory=knob_on)
        inputs, targets = next(iter(training.loader))
        assert inputs.is_pinned() is knob_on and targets.is_pinned() is knob_on
