"""Which tuner runs a trial: written with the trial in the storage write that creates it, so
a later tuner can tell a trial left by one that was killed from a trial still running."""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any

OWNER_ATTRS = ("host", "pid", "pid_started")


@dataclasses.dataclass(frozen=True)
class TrialOwner:
    """A tuner process. Its start time tells it apart from a later process given its id."""

    host: str
    pid: int
    pid_started: float

    @classmethod
    def this_process(cls) -> TrialOwner:
        import psutil

        return cls(socket.gethostname(), os.getpid(), psutil.Process().create_time())

    @classmethod
    def of(cls, trial: Any) -> TrialOwner | None:
        """The owner stored with an Optuna trial, or None if it has none."""
        attrs = trial.user_attrs
        try:
            return cls(str(attrs["host"]), int(attrs["pid"]), float(attrs["pid_started"]))
        except (KeyError, TypeError, ValueError):
            return None

    def attrs(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def is_gone(self, here: TrialOwner) -> bool:
        """Whether this tuner no longer runs, as far as ``here`` (the asking tuner) can tell.

        A tuner on another host (a shared PostgreSQL study) cannot be checked: it counts as
        running. A trial of the asking process itself was left by an earlier call in it that
        stopped half-way: the asking tuner leaves out the trials it runs now.
        """
        import psutil

        if self.host != here.host:
            return False
        if self.pid == here.pid:
            return True
        try:
            return psutil.Process(self.pid).create_time() != self.pid_started
        except psutil.NoSuchProcess:
            return True


def is_left_over(trial: Any, here: TrialOwner) -> bool:
    """Whether a RUNNING trial was left by a tuner that stopped without finishing it.

    autoaccel writes the owner in the same storage write that creates the trial, so a trial
    without one was made by an older autoaccel killed before it wrote the owner.
    """
    owner = TrialOwner.of(trial)
    return owner is None or owner.is_gone(here)
