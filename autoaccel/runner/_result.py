"""What a trial process hands back (plain data, JSON across the process boundary)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from autoaccel.knobs import Config, Stage, TaskFacts
from autoaccel.measure import Measurement, Pace
from autoaccel.probe import HardwareProfile
from autoaccel.runner._machine import MachineLoad

# Names the tuner's pid to its trial process, which ends itself when that tuner dies.
TUNER_PID_VARIABLE = "AUTOACCEL_TUNER_PID"

Outcome = Literal[
    "ok", "oom", "pruned", "timeout", "crash", "diverged", "user_error", "interrupted"
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# "pace" times a configuration with no metric, for the confirmation rounds.
Action = Literal["inspect", "train", "deploy", "pace"]


class TrialSpec(BaseModel):
    """Everything a trial process needs; it never opens the study storage."""

    model_config = ConfigDict(frozen=True)

    action: Action
    script: str = Field(description="path or path:attribute of the user's script")
    script_args: tuple[str, ...] = Field(default=(), description="the script's own sys.argv[1:]")
    config: Config | None = None
    hardware: HardwareProfile | None = None
    seed: int = 0
    weights_in: str | None = Field(default=None, description="deploy: trained weights to load")
    weights_out: str | None = Field(default=None, description="train: save trained weights")
    min_throughput: float | None = Field(
        default=None, description="Stop early (pruned) when clearly slower than this."
    )
    stage: Stage = Field(default="train", description="pace: which stage's loop to time")
    devices: tuple[int, ...] = Field(
        default=(), description="Accelerators (the probe's indices) the trial sees; (): all."
    )
    cores: tuple[int, ...] = Field(
        default=(), description="CPU cores the trial is pinned to; (): all this process may use."
    )

    @property
    def threads(self) -> int:
        """Compute threads: one per core the trial may use."""
        if self.cores:
            return len(self.cores)
        return self.hardware.usable_cores if self.hardware else 1

    @property
    def trial_hardware(self) -> HardwareProfile | None:
        """The hardware as the trial sees it: pinned to some cores, it may use only those,
        and a CPU's peak FLOP/s (per usable core) is theirs."""
        if self.hardware is None or not self.cores:
            return self.hardware
        cpu = self.hardware.cpu.model_copy(update={"usable_cores": len(self.cores)})
        return self.hardware.model_copy(update={"cpu": cpu})

    latency_batch: int = Field(default=1, description="deploy: also time requests this large")

    @property
    def user_folder(self) -> Path:
        """The script's folder: frames of files under it are the task's own code."""
        return Path(self.script.rsplit(":", 1)[0]).resolve().parent


class TrialResult(BaseModel):
    """How a trial ended and what it measured."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: str | None = Field(default=None, description="One line: why it did not finish.")
    measurement: Measurement | None = None
    pace: Pace | None = None
    facts: TaskFacts | None = None
    traceback: str | None = None
    log_tail: str = ""
    duration_s: float = 0.0
    exit_code: int | None = None
    machine: MachineLoad | None = Field(
        default=None, description="What else the machine was doing while the trial ran."
    )

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def write(self, path: Path) -> None:
        """Write atomically: a reader never sees half a result."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json())
        tmp.replace(path)
