"""The code a report prints for the deploy stage does what the deploy measurement did, in
the same order: both are watched calling the public knob functions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autoaccel import knobs
from autoaccel.knobs import Config
from autoaccel.measure import measure_deploy, measure_train
from autoaccel.recommend import StageRecommendation
from autoaccel.report._apply import how_to_apply

# The public functions the snippet calls, the position of the knob's value among their
# arguments, and the values that leave the model, its inputs and torch's flags as a fresh
# process has them (the snippet leaves those calls out).
WATCHED = {
    (knobs.pruning, "apply"): (1, {0.0}),
    (knobs.precision, "set_matmul_flags"): (0, {"fp32", "bf16", "fp16"}),
    (knobs.quantization, "apply"): (1, {"none"}),
    (knobs.channels_last, "apply_to_model"): (1, {False}),
    (knobs.compile, "apply"): (1, {"off"}),
    (knobs.backend, "apply"): (1, {"torch"}),
    (knobs.channels_last, "apply_to_inputs"): (1, {False}),
    (knobs.precision, "autocast"): (0, {"fp32", "tf32"}),
}
# Recorded without running: global flags would outlive the test, and compiling on the CPU
# takes longer than the whole test. Where compile goes in the order is what counts here.
NOT_RUN = {(knobs.precision, "set_matmul_flags"), (knobs.compile, "apply")}


@pytest.fixture(scope="module")
def trained(conv, tmp_path_factory, cpu_profile) -> Path:
    weights = tmp_path_factory.mktemp("weights") / "conv.pt"
    measure_train(conv, Config(batch_size=16), cpu_profile, save_weights=weights)
    return weights


def watch(monkeypatch) -> list[str]:
    """Record, in order, every watched call that changes something."""
    calls: list[str] = []
    for (module, name), (position, idle) in WATCHED.items():
        label = f"{module.__name__.rsplit('._', 1)[-1]}.{name}"
        run = getattr(module, name) if (module, name) not in NOT_RUN else _first_argument
        monkeypatch.setattr(module, name, _recorder(calls, label, run, position, idle))
    return calls


def _recorder(calls: list[str], label: str, run, position: int, idle: set):
    def record(*args):
        if args[position] not in idle:
            calls.append(label)
        return run(*args)

    return record


def _first_argument(*args):
    return args[0]


def first_of_each(calls: list[str]) -> list[str]:
    return list(dict.fromkeys(calls))


@pytest.mark.parametrize(
    "config",
    [
        Config(
            batch_size=16,
            precision="bf16",
            pruning_ratio=0.5,
            quantization="int8_weight_only_torchao",
            channels_last=True,
            compile="default",
        ),
        Config(batch_size=16, precision="tf32", channels_last=True),
        Config(batch_size=16, pruning_ratio=0.5, distill="on", backend="onnxruntime"),
    ],
    ids=["every-model-step", "tf32", "onnxruntime"],
)
def test_the_printed_code_repeats_the_measured_steps(
    conv, trained, cpu_profile, monkeypatch, tmp_path, config
) -> None:
    monkeypatch.chdir(tmp_path)  # the onnxruntime code saves model.onnx here
    calls = watch(monkeypatch)
    measure_deploy(conv, config, cpu_profile, trained, window_s=0.01)
    measured = first_of_each(calls)

    rec = StageRecommendation.model_construct(stage="deploy", config=config)
    code = how_to_apply(rec, "conv", "tiny.py", {}, Path("studies")).code
    calls.clear()
    model = conv.model()
    model.load_state_dict(torch.load(trained, weights_only=True))
    inputs, _ = conv.split(next(iter(torch.utils.data.DataLoader(conv.eval_data, 16))))
    names = {"model": model, "example_inputs": inputs, "inputs": inputs, "torch": torch}
    exec(code, {**names, "device": torch.device("cpu")})
    assert first_of_each(calls) == measured
    # onnxruntime leaves torch's serving knobs at their defaults: prune, then the backend.
    assert len(measured) >= (2 if config.backend != "torch" else 3)
