"""Every process a trial started ends with it, even one in a session of its own.

Killing the trial's process group ends its DataLoader and compiler workers, but the task's
code may start a process in a new session (``setsid``, ``start_new_session=True``), out of
the group's reach. On Linux the trial process makes itself a child subreaper: a process
whose parent exits is handed to it rather than to init, so while the trial process lives,
every process it started, however detached, is among its descendants. The trial process
ends them when it is done; the tuner notes them as the trial runs and ends them after it,
which covers a trial process killed at its timeout or by a signal.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterable

import psutil

PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
LOOK_EVERY_S = 0.5


def adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def end_descendants() -> None:
    """Kill every process this one started (and, as a subreaper, every orphan of those)."""
    _kill(psutil.Process().children(recursive=True))


class TrialTree:
    """The trial process's descendants, as seen while it ran: they can be ended after it is
    gone, when they are no longer anybody's descendants."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._seen: set[psutil.Process] = set()

    def wait(self, timeout_s: float) -> bool:
        """Wait for the trial process, noting its descendants meanwhile; True if it was still
        running after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._process.wait(timeout=min(left, LOOK_EVERY_S))
                return False
            except subprocess.TimeoutExpired:
                self._look()
        return self._process.poll() is None

    def end(self) -> None:
        """Kill every descendant seen, the ones there now included."""
        self._look()
        _kill(self._seen)

    def _look(self) -> None:
        # Once reaped, the trial's pid may be another process's: look only while it is not.
        if self._process.poll() is not None:
            return
        with contextlib.suppress(psutil.Error):
            self._seen.update(psutil.Process(self._process.pid).children(recursive=True))


def _kill(processes: Iterable[psutil.Process]) -> None:
    for process in processes:
        # psutil checks the process is the one seen, not a new one given the same pid.
        with contextlib.suppress(psutil.Error):
            process.kill()
