"""Whether a measurement's timed windows agree well enough to be believed.

A trial's windows can disagree for reasons that have nothing to do with the configuration:
another process took the cores for a moment, the loader restarted its workers, the clock
ticked over a frequency change. Such a measurement is taken again, and if it stays
unstable it is flagged, never silently accepted.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

MAX_SPREAD = 0.15  # interquartile range over the median
GAP_SHARE = 0.3  # a gap in the sorted windows this large, relative to the median, splits modes
MIN_MODE_WINDOWS = 2  # a lone outlier window is noise, not a second mode


def spread(windows: Sequence[float]) -> float:
    """Interquartile range over the median; 0 for fewer than two windows."""
    if len(windows) < 2:
        return 0.0
    q1, median, q3 = statistics.quantiles(sorted(windows), n=4, method="inclusive")
    return (q3 - q1) / median if median > 0 else 0.0


def is_bimodal(windows: Sequence[float]) -> bool:
    """Whether the windows fall into two groups far apart, each of at least two windows.

    Seen as 2,778 2,774 2,811 against 49,207 72,219 70,986: the machine was taken away for
    part of the run. The median of such a set is whichever group is larger, not a rate.
    """
    values = sorted(windows)
    if len(values) < 2 * MIN_MODE_WINDOWS:
        return False
    median = statistics.median(values)
    gaps = [
        (values[i + 1] - values[i], i + 1)
        for i in range(MIN_MODE_WINDOWS - 1, len(values) - MIN_MODE_WINDOWS)
    ]
    widest, _ = max(gaps)
    return median > 0 and widest / median > GAP_SHARE


def instability(windows: Sequence[float], max_spread: float = MAX_SPREAD) -> str | None:
    """Why these windows cannot be believed, or None when they agree."""
    if is_bimodal(windows):
        low, high = min(windows), max(windows)
        return f"the timed windows fall into two groups ({low:,.0f} to {high:,.0f} samples/s)"
    value = spread(windows)
    if value > max_spread:
        return (
            f"the timed windows spread {value:.0%} around their median (more than {max_spread:.0%})"
        )
    return None
