"""Wall time of one small study with --jobs 1 against --jobs N, on this machine.

    python benchmarks/jobs.py --jobs 2 --repeats 3 --trials 6

Each run is `autoaccel tune SCRIPT --stage train --confirm 0` in a fresh study; the runs
alternate between the two settings (1, N, N, 1, 1, N, ...) so that a machine whose load
drifts weighs on both alike. Prints each run's wall time, and per repeat the ratio of the
pair measured side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = Path(__file__).parents[1] / "tests" / "fixtures" / "tasks" / "tiny.py"


def tune(script: str, trials: int, jobs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="autoaccel-jobs-") as folder:
        start = time.perf_counter()
        subprocess.run(
            [
                *(sys.executable, "-m", "autoaccel", "tune", script, "--stage", "train"),
                *("--trials", str(trials), "--confirm", "0", "--jobs", str(jobs)),
                *("--storage", f"sqlite:///{folder}/b.db", "--json"),
            ],
            cwd=folder,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", default=str(TINY))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], args.jobs: []}
    ratios = []
    for repeat in range(args.repeats):
        order = [1, args.jobs] if repeat % 2 == 0 else [args.jobs, 1]
        pair = {}
        for jobs in order:
            pair[jobs] = tune(args.script, args.trials, jobs)
            times[jobs].append(pair[jobs])
            print(f"repeat {repeat + 1}: --jobs {jobs}: {pair[jobs]:.1f} s", flush=True)
        ratios.append(pair[1] / pair[args.jobs])
    summary = {f"jobs_{jobs}_s": [round(t, 1) for t in values] for jobs, values in times.items()}
    summary["speedup_per_repeat"] = [round(r, 2) for r in ratios]
    summary["median_speedup"] = round(statistics.median(ratios), 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
