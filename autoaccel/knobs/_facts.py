"""What the tuner needs to know about a task, learned in a trial process (plain data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from autoaccel.knobs._config import Config


class TaskFacts(BaseModel):
    """Facts about the user's task, read by a child process so the tuner never imports it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    script: str
    script_sha256: str
    script_args: tuple[str, ...] = ()  # the script's own command-line arguments
    metric_name: str
    baseline: Config
    epochs: float
    run_epochs: float | None = None  # the real training's length, when the task says
    parameters: int
    has_conv2d: bool
    has_linear: bool
    train_samples: int
    eval_samples: int
