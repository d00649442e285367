"""The ranks of a data parallel trial (``world_size`` > 1).

The trial process starts one ``python -m autoaccel.runner._ranks SPEC RESULT STACK``
process per rank, in its own process group (so the tuner's kill at the timeout reaches
them) and as its children (so it ends them as it ends). Every rank trains and measures the
same configuration on its share of the data; rank 0's result is the trial's. The first rank
to fail ends the trial: the others, likely waiting for it in a collective, are killed, and
the trial's outcome and reason are that rank's. A rank that hangs holds the others at their
next collective until the trial's timeout.
"""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autoaccel.runner._result import TUNER_PID_VARIABLE, TrialResult, TrialSpec
from autoaccel.runner._spawn import _died, _read_result

LOOK_EVERY_S = 0.05
# After a rank fails, how long the others get to end on their own: a rank that lost its
# peer fails too, and the first to fail is the one to blame.
SETTLE_S = 1.0


def needs_ranks(spec: TrialSpec) -> bool:
    """Whether ``spec`` trains in several rank processes."""
    trains = spec.action == "train" or (spec.action == "pace" and spec.stage == "train")
    return trains and spec.config is not None and spec.config.world_size > 1


def run_ranks(spec: TrialSpec) -> TrialResult:
    """Run ``spec`` in ``world_size`` rank processes; rank 0's result, or the first failure's."""
    from autoaccel.engine import free_port, rank_environment

    assert spec.config is not None
    world_size = spec.config.world_size
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autoaccel-ranks-") as folder:
        spec_path = Path(folder, "spec.json")
        spec_path.write_text(spec.model_dump_json())
        results = [Path(folder, f"result-{rank}.json") for rank in range(world_size)]
        stacks = [Path(folder, f"stack-{rank}.txt") for rank in range(world_size)]
        port = free_port()
        # A rank ends itself when this process, its parent, is gone.
        base = {**os.environ, TUNER_PID_VARIABLE: str(os.getpid())}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", __name__, str(spec_path), str(results[r]), str(stacks[r])],
                env={**base, **rank_environment(r, world_size, port)},
                stdin=subprocess.DEVNULL,
            )
            for r in range(world_size)
        ]
        try:
            _wait(processes, results)
            ended = [r for r in range(world_size) if processes[r].poll() is not None]
        finally:
            for process in processes:
                process.kill()
                process.wait()
        outcomes = {
            r: _read_result(results[r]) or _died(processes[r].returncode, stacks[r], spec)
            for r in ended
        }
        duration = {"duration_s": time.perf_counter() - start}
        # Ranks still running were stopped here: the failure is the others'.
        failed = [r for r in ended if not outcomes[r].ok]
        if not failed:
            return outcomes[0].model_copy(update=duration)
        first = min(failed, key=lambda r: _written_at(results[r]))
        reason = f"rank {first} of {world_size}: {outcomes[first].reason}"
        return outcomes[first].model_copy(update={"reason": reason, **duration})


def _wait(processes: list[subprocess.Popen[bytes]], results: list[Path]) -> None:
    """Until every rank ended, or one failed and the others had :data:`SETTLE_S` to end."""
    while any(p.poll() is None for p in processes):
        if any(_failed(p, path) for p, path in zip(processes, results, strict=True)):
            settle = time.monotonic() + SETTLE_S
            while time.monotonic() < settle and any(p.poll() is None for p in processes):
                time.sleep(LOOK_EVERY_S)
            return
        time.sleep(LOOK_EVERY_S)


def _failed(process: subprocess.Popen[bytes], result: Path) -> bool:
    if process.poll() is None:
        return False
    found = _read_result(result)
    return found is None or not found.ok


def _written_at(result: Path) -> float:
    """When a rank wrote its result. A rank killed by a signal wrote none and comes first:
    a signal is never a peer's failure passed on, as a lost connection is."""
    try:
        return result.stat().st_mtime
    except OSError:
        return float("-inf")


def main(argv: list[str]) -> int:
    from autoaccel.engine import leave, rank_from_environment
    from autoaccel.runner._child import die_with_parent, execute

    spec_path, result_path, stack_path = (Path(arg) for arg in argv)
    rank = rank_from_environment()
    assert rank is not None, "started without RANK and WORLD_SIZE"
    with stack_path.open("w") as stack:
        faulthandler.enable(stack, all_threads=False)
        die_with_parent()
        result = None
        try:
            spec = TrialSpec.model_validate_json(spec_path.read_text())
            result = execute(spec, rank)
            result.write(result_path)
        finally:
            leave(finished=result is not None and result.ok)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
