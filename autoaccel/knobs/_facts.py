"""What the tuner needs to know about a task, learned in a trial process (plain data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from autoaccel.knobs._config import Config
from autoaccel.knobs._knob import Stage


class TaskFacts(BaseModel):
    """Facts about the user's task, read by a child process so the tuner never imports it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    script: str
    # The Task's name in the script (train.py:NAME); "task" in studies stored without it.
    attribute: str = "task"
    script_sha256: str
    script_args: tuple[str, ...] = ()  # the script's own command-line arguments
    metric_name: str
    baseline: Config
    epochs: float
    run_epochs: float | None = None  # the real training's length, when the task says
    parameters: int
    has_conv2d: bool
    has_linear: bool
    train_samples: int  # per pass; for the task's own batches, at the baseline batch size
    eval_samples: int  # 0: no eval_data (the task evaluates itself)
    own_batches: bool = False  # the task makes its batches (Task.train_batches)
    lr_scaling: str | None = None  # Task.lr_scaling; None in studies stored before it was kept
    hold_effective_batch: bool = False  # Task.hold_effective_batch
    optimizer: str | None = None  # its class, module included; None in older studies
    optimizer_flags: tuple[str, ...] = ()  # of foreach and fused, those its constructor takes
    deterministic_data: bool = False  # declared: the random part is Task.*_augment
    batch_augment: bool = False  # the task has a Task.batch_augment
    sample_bytes: int | None = None  # one train_data sample in the cache; None: not cacheable

    def stage_refusal(self, stage: Stage) -> str | None:
        """Why ``stage`` cannot run for this task, in one sentence, or None."""
        if stage == "deploy" and not self.eval_samples:
            return (
                "the deploy stage serves batches of Task.eval_data and this task has none; "
                "give it eval_data to tune inference, or tune the train stage alone "
                "(--stage train)"
            )
        return None
