"""The defaults the command line and the library share, in one place.

Both read these names, so ``autoaccel tune`` and ``autoaccel.study.tune()`` cannot drift
apart. Plain values only: this module imports nothing from autoaccel.
"""

from __future__ import annotations

from pathlib import Path

STUDIES_DIR = Path("studies")  # relative to the working directory
STORAGE = f"sqlite:///{STUDIES_DIR.as_posix()}/autoaccel.db"
TRIALS = 20  # finished trials per stage
TRIAL_TIMEOUT_S = 600.0  # seconds before one trial process is stopped
MAX_METRIC_DROP = 0.01  # in the metric's own units: one point of accuracy
CONFIRM_CANDIDATES = 3  # the best feasible trials measured again against the baseline
CONFIRM_MAX_ROUNDS = 8  # interleaved rounds at most, when candidates stay hard to tell apart
HEARTBEAT_S = 30  # seconds between a running trial's heartbeats; stale after two missed
