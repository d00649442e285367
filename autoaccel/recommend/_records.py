"""One finished trial as plain data, read back from the storage: what recommendations and
reports are computed from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autoaccel.knobs import Config
from autoaccel.measure import Measurement
from autoaccel.runner import MachineLoad, Outcome

# Why a trial ran: the baseline to beat, a first guess from the hardware, a sampled
# configuration, or one queued again after its tuner stopped.
Role = Literal["baseline", "first_guess", "search", "retry"]


class TrialRecord(BaseModel):
    """A trial of one stage: its configuration, how it ended, and what it measured."""

    model_config = ConfigDict(frozen=True)

    number: int
    role: Role = "search"
    config: Config
    outcome: Outcome
    reason: str | None = None
    measurement: Measurement | None = None
    duration_s: float | None = None
    repeat_of: int | None = None
    skipped: bool = False
    traceback: str | None = None
    log_tail: str | None = None
    machine: MachineLoad | None = None
    unstable: str | None = Field(
        default=None, description="Why its windows stayed in disagreement when measured again."
    )

    @property
    def measured(self) -> bool:
        """Whether a trial process ran for it (not a copy of an earlier trial's result)."""
        return self.repeat_of is None and not self.skipped

    @property
    def ok(self) -> bool:
        return self.outcome == "ok" and self.measurement is not None

    @property
    def throughput(self) -> float:
        return self.measurement.throughput.rate if self.ok and self.measurement else 0.0

    @property
    def served(self) -> Measurement | None:
        """Its measurement when it finished; None otherwise."""
        return self.measurement if self.ok else None

    @property
    def metric(self) -> float | None:
        return self.measurement.metric if self.ok and self.measurement else None
