"""The onnxruntime backend: refused without its packages, refused with torch's serving
knobs, exported and served for real on a small model, and a failed export classified."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest
import torch
from pydantic import ValidationError

from autoaccel import knobs
from autoaccel.knobs import Config
from autoaccel.knobs._backend import ExportFailed, Session, export
from autoaccel.runner import classify_exception


@pytest.mark.parametrize("package", ["onnx", "onnxruntime", "onnxscript"])
def test_refused_with_the_install_line_when_a_package_is_missing(
    monkeypatch, cpu_profile, package
) -> None:
    assert knobs.choice_refusal("backend", "onnxruntime", cpu_profile, None, "deploy") is None
    monkeypatch.setitem(sys.modules, package, None)  # its import fails
    reason = knobs.choice_refusal("backend", "onnxruntime_int8", cpu_profile, None, "deploy")
    assert reason == f"the onnxruntime backend needs {package} (pip install 'autoaccel[onnx]')"
    assert knobs.choice_refusal("backend", "torch", cpu_profile, None, "deploy") is None


@pytest.mark.parametrize(
    "other",
    [
        {"compile": "default"},
        {"quantization": "int8_dynamic_torch_ao"},
        {"channels_last": True},
        {"precision": "bf16"},
    ],
)
def test_torch_serving_knobs_do_not_combine_with_onnxruntime(other) -> None:
    ((name, value),) = other.items()
    with pytest.raises(ValidationError, match=f"{name}={value} does not apply with backend="):
        Config(backend="onnxruntime", **other)
    assert Config(**other).backend == "torch"


def test_a_search_with_onnxruntime_does_not_ask_for_torch_serving_knobs(tmp_path) -> None:
    from autoaccel.study import load_space

    path = tmp_path / "deploy.yaml"
    path.write_text('backend: [torch, onnxruntime]\ncompile: ["off", default]\n')
    space = load_space(path, "deploy")
    base = Config(batch_size=8, precision="bf16")  # a baseline that autocasts
    # FixedTrial fails on a parameter it was not given: compile is not asked for.
    served = space.suggest(optuna.trial.FixedTrial({"backend": "onnxruntime"}), base)
    assert (served.backend, served.compile, served.precision) == ("onnxruntime", "off", "fp32")
    torch_served = space.suggest(
        optuna.trial.FixedTrial({"backend": "torch", "compile": "default"}), base
    )
    assert (torch_served.compile, torch_served.precision) == ("default", "bf16")
    assert len(space.grid(base)) == 3


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory, cpu_profile) -> Path:
    from autoaccel.measure import measure_train

    weights = tmp_path_factory.mktemp("weights") / "tiny.pt"
    measure_train(tiny, Config(batch_size=16), cpu_profile, save_weights=weights)
    return weights


def test_the_metric_is_computed_through_the_onnxruntime_session(
    tiny, trained, cpu_profile, monkeypatch
) -> None:
    from autoaccel.measure import measure_deploy

    calls = []
    real = Session.__call__

    def watched(self, *inputs):
        calls.append(inputs[0].shape[0])
        return real(self, *inputs)

    monkeypatch.setattr(Session, "__call__", watched)
    fp32 = Config(batch_size=32, backend="onnxruntime")
    base = measure_deploy(tiny, Config(batch_size=32), cpu_profile, trained, window_s=0.01)
    assert calls == []
    served = measure_deploy(tiny, fp32, cpu_profile, trained, window_s=0.01)
    assert served.metric == pytest.approx(base.metric, abs=1e-6)
    assert 1 in calls and 32 in calls  # a dynamic batch: latency requests and the eval set
    # Outputs the session changes show in the metric.
    monkeypatch.setattr(Session, "__call__", lambda self, *inputs: -real(self, *inputs))
    broken = measure_deploy(tiny, fp32, cpu_profile, trained, window_s=0.01)
    assert broken.metric < base.metric - 0.2


def test_int8_quantizes_the_exported_weights(tmp_path) -> None:
    import onnx

    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    x = torch.randn(3, 16)
    plain = export(model, x, tmp_path / "fp32.onnx")
    int8 = export(model, x, tmp_path / "int8.onnx", int8=True)
    ops = {node.op_type for node in onnx.load(int8).graph.node}
    assert "DynamicQuantizeLinear" in ops or "MatMulInteger" in ops
    assert not {n.op_type for n in onnx.load(plain).graph.node} & {"MatMulInteger"}
    session = Session(int8)
    assert torch.allclose(session(x), model(x), atol=0.1)
    assert session(torch.randn(7, 16)).shape == (7, 4)


def test_a_failed_export_is_a_crash_with_the_exporters_reason(tmp_path, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise RuntimeError("Unsupported operator aten::weird\nmore detail")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    with pytest.raises(ExportFailed) as caught:
        export(torch.nn.Linear(2, 2), torch.zeros(1, 2), tmp_path / "m.onnx")
    outcome, reason, _ = classify_exception(caught.value, tmp_path / "user")
    assert outcome == "crash"
    assert reason == (
        "ExportFailed: torch.onnx could not export the model: "
        "RuntimeError: Unsupported operator aten::weird"
    )


def test_dict_inputs_cannot_be_exported(tmp_path) -> None:
    with pytest.raises(ExportFailed, match="tensor inputs, not a dict"):
        export(torch.nn.Linear(2, 2), {"x": torch.zeros(1, 2)}, tmp_path / "m.onnx")


def test_how_to_use_it_loads_and_calls_the_saved_file() -> None:
    from autoaccel.recommend import StageRecommendation
    from autoaccel.report._apply import how_to_apply

    config = Config(batch_size=8, backend="onnxruntime_int8")
    rec = StageRecommendation.model_construct(stage="deploy", config=config)
    code = how_to_apply(rec, "tiny", "tiny.py", {}, Path("studies")).code
    assert 'knobs.backend.apply(model, "onnxruntime_int8", example_inputs, "model.onnx")' in code
    assert 'onnxruntime.InferenceSession("model.onnx"' in code
    assert 'session.run(["output"], {"input_0": inputs.numpy()})' in code
