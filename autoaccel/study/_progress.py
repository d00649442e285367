"""What the tuner tells whoever watches it; the CLI draws it, tests record it."""

from __future__ import annotations

from typing import Any, Protocol

from autoaccel.recommend import TrialRecord


class TuneProgress(Protocol):
    """Receives events while a study runs. Implementations only display; they decide nothing."""

    def stage_started(self, stage: str, finished: int, target: int, space_size: int) -> None:
        """A stage begins with ``finished`` of ``target`` trials already done."""

    def trial_started(self, stage: str, number: int, role: str, config: dict[str, Any]) -> None:
        """A trial process is about to run ``config``."""

    def trial_finished(
        self,
        stage: str,
        record: TrialRecord,
        finished: int,
        target: int,
        best_speedup: float | None,
    ) -> None:
        """A trial ended (any outcome); ``best_speedup`` is over the baseline so far."""

    def note(self, text: str) -> None:
        """Something the user should know (a resumed study, a changed script...)."""


class SilentProgress(TuneProgress):
    """Shows nothing: the protocol's methods do nothing."""
