"""The trial engine on a CUDA GPU: every GPU-only knob applied and measured for real.

Skipped where torch sees no CUDA device (see tests/conftest.py).
"""

from __future__ import annotations

import pytest

from autoaccel.knobs import Config
from autoaccel.runner import TrialSpec, run_trial

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def gpu():
    from autoaccel.probe import probe

    profile = probe()
    assert profile.device == "cuda", profile.notes
    return profile


@pytest.mark.parametrize(
    "config",
    [
        Config(batch_size=16, precision="bf16"),
        Config(batch_size=16, precision="fp16"),
        Config(batch_size=16, precision="tf32"),
        Config(batch_size=16, channels_last=True, precision="bf16"),
        Config(batch_size=16, pin_memory=True, num_workers=2, persistent_workers=True),
        Config(batch_size=16, compile="default"),
    ],
    ids=["bf16", "fp16-gradscaler", "tf32", "channels-last", "pinned-workers", "compile"],
)
def test_train_knobs_on_cuda(conv, gpu, config) -> None:
    from autoaccel.measure import measure_train

    m = measure_train(conv, config, gpu)
    assert m.memory_kind == "cuda_allocated" and m.peak_memory_bytes > 0
    assert m.throughput.rate > 0 and 0.0 <= m.metric <= 1.0
    if gpu.peak_flops(config.precision):
        assert m.mfu is not None and 0 < m.mfu < 1


def test_fp16_uses_a_scaler_that_scales() -> None:
    from autoaccel import knobs

    assert knobs.precision.grad_scaler("fp16", "cuda").is_enabled()
    assert not knobs.precision.grad_scaler("bf16", "cuda").is_enabled()


def test_fp8_and_int8_deploy_on_cuda(request, gpu, tmp_path) -> None:
    from autoaccel.measure import measure_deploy, measure_train
    from autoaccel.task import load_task

    task = load_task(str(request.config.rootpath / "tests/fixtures/tasks/tiny.py"))
    weights = tmp_path / "w.pt"
    measure_train(task, Config(batch_size=16), gpu, save_weights=weights)
    choices = ["int8_weight_only_torchao", "int8_dynamic_torchao"]
    cc = gpu.cuda_capability
    if cc is not None and cc >= (8, 9):
        choices.append("fp8_torchao")
    for quantization in choices:
        config = Config(batch_size=64, quantization=quantization, precision="bf16")
        m = measure_deploy(task, config, gpu, weights, window_s=0.02)
        assert m.throughput.rate > 0, quantization


def test_real_cuda_out_of_memory_is_an_oom_result(tmp_path, gpu) -> None:
    script = tmp_path / "huge.py"
    script.write_text(
        "import torch, autoaccel\n"
        "from torch import nn\n"
        "from torch.utils.data import TensorDataset\n"
        "data = TensorDataset(torch.randn(64, 8), torch.zeros(64, dtype=torch.long))\n"
        "class Huge(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layer = nn.Linear(8, 2)\n"
        "    def forward(self, x):\n"
        "        if self.training:\n"
        "            torch.empty(1 << 50, device=x.device)  # a petabyte\n"
        "        return self.layer(x)\n"
        "task = autoaccel.Task(model=Huge, train_data=data, eval_data=data,\n"
        "    loss=nn.functional.cross_entropy,\n"
        "    optimizer=lambda p: torch.optim.SGD(p, lr=0.1),\n"
        "    metric=lambda o, y: (o.argmax(1) == y).float().mean(), baseline={'batch_size': 8})\n"
    )
    spec = TrialSpec(action="train", script=str(script), config=Config(batch_size=8), hardware=gpu)
    result = run_trial(spec, 120)
    assert result.outcome == "oom", (result.reason, result.log_tail)
    assert "out of memory" in result.reason.lower()
