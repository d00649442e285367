"""The tuner's search replayed on a grid that ``oracle.py --out`` measured: no trial runs.

    python benchmarks/replay.py results.json --space benchmarks/spaces/cpu_train.yaml \\
        --trials 10 --seeds 20

Each trial's result is looked up in the grid, so every seed sees the same measurements and
run-to-run noise is gone: what is left is how well the search strategy finds the oracle's
configuration with a trial budget. Prints, over the seeds, how often the tuner's choice is
the oracle's, and the tuner's choice over the oracle's throughput (median and worst).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _train_study import train_study_options

from autoaccel.knobs import Config
from autoaccel.probe import probe
from autoaccel.runner import TrialResult, TrialSpec, inspect_script
from autoaccel.study import tune
from autoaccel.task import resolve_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="the JSON that oracle.py --out wrote")
    parser.add_argument("--space", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--max-metric-drop", type=float, default=0.01)
    args = parser.parse_args()

    recorded = json.loads(args.grid.read_text())
    results = {
        _key(Config(**row["config"])): TrialResult.model_validate(
            {"outcome": row["outcome"], "measurement": row["measurement"], "duration_s": 1.0}
        )
        for row in recorded["grid"]
    }
    hardware = probe()
    facts = inspect_script(resolve_script(recorded["script"]))
    oracle = recorded["oracle_best"]

    def replay(spec: TrialSpec, timeout_s: float) -> TrialResult:
        return results[_key(spec.config)]

    shares, hits = [], 0
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as folder:
            options = train_study_options(folder, args, seed)
            tuned = tune(
                recorded["script"],
                options,
                hardware=hardware,
                inspect=lambda target: facts,
                run=replay,
            )
        choice = tuned.recommendation.stages["train"].throughput.median
        shares.append(choice / oracle)
        hits += choice == oracle
    print(f"{recorded['script']}: {args.trials} trials over a grid of {len(results)}")
    print(f"  the oracle's configuration chosen: {hits} of {args.seeds} seeds")
    print(
        f"  tuner / oracle throughput: median {statistics.median(shares):.3f}, "
        f"worst {min(shares):.3f}"
    )


def _key(config: Config) -> str:
    return config.model_dump_json()


if __name__ == "__main__":
    main()
