"""Studies for report tests, built by the real tuner with the shared fakes (no trial
processes): a pretend H100, and a model of the task in which every kind of outcome occurs."""

from __future__ import annotations

from pathlib import Path

import yaml
from fakes import FakeRunner, gpu_host, measurement, task_facts, tune_with_fakes

from autoaccel.knobs import Config
from autoaccel.measure import Measurement
from autoaccel.probe import HardwareProfile
from autoaccel.runner import TrialResult
from autoaccel.study import TuneOptions, default_space_path

# Knobs the pretend model says nothing about: searching them would only repeat
# configurations it cannot tell apart.
UNMODELLED = ("backend", "distill")

PEAK_BF16 = 989e12


def gpu_profile() -> HardwareProfile:
    peaks = {"bf16": PEAK_BF16, "fp16": PEAK_BF16, "tf32": 495e12, "fp32": 67e12}
    return gpu_host("NVIDIA H100 80GB HBM3", "9.0", peak_flops=peaks, cores=8)


def gpu_measurement(stage: str, rate: float, metric: float, config: Config) -> Measurement:
    flops_per_sample = 3e9
    peak = PEAK_BF16 if config.precision in ("bf16", "fp16") else 67e12
    return measurement(
        stage,
        rate,
        metric,
        spread=(0.97, 1.0, 1.01, 1.03),
        warmup_s=0.5,
        first_step_s=0.2,
        timed_steps=40,
        data_wait_share=0.2 if config.num_workers == 0 and stage == "train" else 0.02,
        peak_memory_bytes=config.batch_size * 20 * 2**20,
        memory_kind="cuda_allocated",
        flops_per_sample=flops_per_sample,
        achieved_flops=rate * flops_per_sample,
        mfu=rate * flops_per_sample / peak,
        peak_flops=peak,
    )


def varied_model(config: Config, stage: str) -> TrialResult:
    """Faster with larger batches, bf16 and compilation; every failure kind appears."""
    if config.batch_size >= 1024:
        return TrialResult(outcome="oom", reason="CUDA out of memory. Tried to allocate 2.0 GiB")
    if config.compile == "max-autotune-no-cudagraphs":
        return TrialResult(outcome="timeout", reason="no result after 600 s")
    if config.compile == "reduce-overhead" and config.channels_last:
        return TrialResult(outcome="crash", reason="killed by SIGSEGV")
    if config.precision == "fp16" and config.batch_size >= 256:
        return TrialResult(outcome="diverged", reason="the training loss in epoch 1 is nan")
    rate = config.batch_size * 20.0
    rate *= {"fp32": 1.0, "tf32": 1.4, "bf16": 2.0, "fp16": 1.9}[config.precision]
    rate *= 1.0 + 0.05 * min(config.num_workers, 4)
    rate *= 1.3 if config.compile == "default" else 1.0
    metric = 0.90 - (0.04 if config.batch_size >= 512 else 0.0)
    if stage == "deploy":
        rate *= (1.0 + config.pruning_ratio) * (1.5 if config.quantization != "none" else 1.0)
        metric -= config.pruning_ratio / 20
    return TrialResult(
        outcome="ok", measurement=gpu_measurement(stage, rate, metric, config), duration_s=2.0
    )


def build_study(
    root: Path,
    *,
    name: str = "tiny",
    stage: str = "all",
    trials: int = 14,
    hardware: HardwareProfile | None = None,
    interrupt_at: int | None = 5,
) -> str:
    """A study in ``root/studies/autoaccel.db`` (files in ``root/studies/<name>``): one
    run stopped by Ctrl-C, then resumed to ``trials`` per stage. Returns the storage URL."""
    storage = f"sqlite:///{root}/studies/autoaccel.db"
    options = TuneOptions(
        study=name,
        storage=storage,
        space=_modelled_space(root),
        stage=stage,
        trials=trials,
        studies_dir=root / "studies",
    )
    facts = task_facts(name=name, has_conv2d=True, eval_samples=4096)
    for runner in (FakeRunner(varied_model, interrupt_at), FakeRunner(varied_model)):
        tune_with_fakes(options, runner, facts=facts, hardware=hardware or gpu_profile())
        if interrupt_at is None:
            break
    return storage


def _modelled_space(root: Path) -> Path:
    """The default spaces of both stages, less the knobs ``varied_model`` ignores."""
    stages = {}
    for stage in ("train", "deploy"):
        space = yaml.safe_load(default_space_path(stage).read_text())
        stages[stage] = {k: v for k, v in space.items() if k not in UNMODELLED}
    path = root / "space.yaml"
    path.write_text(yaml.safe_dump(stages))
    return path
