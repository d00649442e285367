"""Studies for report tests, built by the real tuner with a fake trial runner (no trial
processes): the approach of tests/study_tests/conftest.py, with every kind of outcome."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from autoaccel.knobs import Config, TaskFacts
from autoaccel.measure import Measurement, Throughput
from autoaccel.probe import Accelerator, CpuInfo, HardwareProfile, Software
from autoaccel.runner import TrialResult, TrialSpec
from autoaccel.study import TuneOptions, tune

TASKS = Path(__file__).parent.parent / "fixtures" / "tasks"
PEAK_BF16 = 989e12
GPU_MEMORY = 80 * 2**30


def gpu_profile() -> HardwareProfile:
    return HardwareProfile(
        cpu=CpuInfo(model="Intel Xeon", arch="x86_64", usable_cores=8, cxx_compiler="/usr/bin/g++"),
        accelerators=[
            Accelerator(
                kind="cuda",
                name="NVIDIA H100 80GB HBM3",
                compute_capability="9.0",
                memory_total_bytes=GPU_MEMORY,
                peak_flops={"bf16": PEAK_BF16, "fp16": PEAK_BF16, "tf32": 495e12, "fp32": 67e12},
            )
        ],
        software=Software(
            torch="2.11.0", cuda="13.0", triton="3.6.0", torchao="0.18.0", torch_pruning="1.6.0"
        ),
    )


def task_facts(name: str = "tiny") -> TaskFacts:
    return TaskFacts(
        name=name,
        script=str(TASKS / "tiny.py"),
        script_sha256="abc",
        metric_name="accuracy",
        baseline=Config(batch_size=64),
        epochs=10.0,
        parameters=100,
        has_conv2d=True,
        has_linear=True,
        train_samples=16384,
        eval_samples=4096,
    )


def measurement(stage: str, rate: float, metric: float, config: Config) -> Measurement:
    flops_per_sample = 3e9
    peak = PEAK_BF16 if config.precision in ("bf16", "fp16") else 67e12
    return Measurement(
        stage=stage,
        throughput=Throughput.from_windows([rate * 0.97, rate, rate * 1.01, rate * 1.03]),
        metric=metric,
        metric_name="accuracy",
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
        outcome="ok", measurement=measurement(stage, rate, metric, config), duration_s=2.0
    )


@dataclasses.dataclass
class FakeRunner:
    """Answers with ``varied_model``; the ``interrupt_at``-th trial is stopped by Ctrl-C."""

    interrupt_at: int | None = None
    calls: int = 0

    def __call__(self, spec: TrialSpec, timeout_s: float) -> TrialResult:
        if spec.weights_out:
            Path(spec.weights_out).write_bytes(b"weights")
            return varied_model(spec.config or Config(), "train")
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        stage = "train" if spec.action == "train" else "deploy"
        return varied_model(spec.config or Config(), stage)


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
        stage=stage,
        trials=trials,
        studies_dir=root / "studies",
    )
    facts = task_facts(name)
    for runner in (FakeRunner(interrupt_at=interrupt_at), FakeRunner()):
        tune(
            str(TASKS / "tiny.py"),
            options,
            run=runner,
            hardware=hardware or gpu_profile(),
            inspect=lambda target: facts,
        )
        if interrupt_at is None:
            break
    return storage
