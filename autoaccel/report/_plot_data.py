"""What the plots show, apart from how they are drawn: both plot backends read these."""

from __future__ import annotations

import dataclasses

from autoaccel.report._model import StageReport, TrialRow


@dataclasses.dataclass(frozen=True)
class TrialGroup:
    """Trials drawn alike; ``kind`` picks the colour: feasible, infeasible or failed."""

    kind: str
    label: str
    rows: list[TrialRow]

    @property
    def numbers(self) -> list[int]:
        return [r.number for r in self.rows]

    @property
    def rates(self) -> list[float]:
        return [r.throughput.rate if r.throughput else 0.0 for r in self.rows]

    @property
    def spread_below(self) -> list[float]:
        """Distance from the rate down to the first quartile of the timed windows."""
        return [
            max(0.0, r.throughput.rate - r.throughput.q1) if r.throughput else 0.0
            for r in self.rows
        ]

    @property
    def spread_above(self) -> list[float]:
        """Distance from the rate up to the third quartile of the timed windows."""
        return [
            max(0.0, r.throughput.q3 - r.throughput.rate) if r.throughput else 0.0
            for r in self.rows
        ]


def measured_trials(stage: StageReport) -> list[TrialRow]:
    """Trials with both a throughput and a metric, each configuration once."""
    return [
        r
        for r in stage.trials
        if r.throughput is not None and r.metric is not None and r.repeat_of is None
    ]


def pareto_groups(stage: StageReport) -> list[TrialGroup]:
    measured = measured_trials(stage)
    return _non_empty(
        TrialGroup("feasible", "feasible", [r for r in measured if r.feasible]),
        TrialGroup(
            "infeasible",
            f"{stage.metric_name} dropped (infeasible)",
            [r for r in measured if not r.feasible],
        ),
    )


def history_groups(stage: StageReport) -> list[TrialGroup]:
    finished = [r for r in stage.trials if r.outcome == "ok"]
    return _non_empty(
        TrialGroup("feasible", "feasible", [r for r in finished if r.feasible]),
        TrialGroup(
            "infeasible", f"{stage.metric_name} dropped", [r for r in finished if not r.feasible]
        ),
        TrialGroup("failed", "did not finish", [r for r in stage.trials if r.outcome != "ok"]),
    )


def best_so_far(stage: StageReport) -> tuple[list[int], list[float]]:
    """The best feasible throughput after each trial, as x and y of a step line."""
    points = [(n, rate) for n, rate in stage.best_so_far if rate is not None]
    return [n for n, _ in points], [rate for _, rate in points]


def _non_empty(*groups: TrialGroup) -> list[TrialGroup]:
    return [g for g in groups if g.rows]
