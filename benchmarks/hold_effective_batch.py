"""Tuning with the effective batch held against tuning without, on one example.

    python benchmarks/hold_effective_batch.py examples/cnn.py --trials 6 --repeats 1

Tunes the train stage of the script into throwaway studies over
benchmarks/spaces/effective_batch.yaml, alternating held (--hold-effective-batch) and
unconstrained, each with real trial processes and no confirmation rounds. Prints, per
tune: the trials, how many finished with a metric under the tolerance (the ones that took
fewer optimizer steps), the effective batches tried, and the best feasible throughput
against the baseline's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from autoaccel.study import TuneOptions, tune

SPACE = Path(__file__).parent / "spaces" / "effective_batch.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--max-metric-drop", type=float, default=0.01)
    parser.add_argument("--modes", nargs="+", default=["held", "free"], choices=["held", "free"])
    args = parser.parse_args()
    print(
        f"{'mode':7} {'trials':>6} {'metric fell':>11} {'failed':>6} {'baseline/s':>10} "
        f"{'best/s':>8} {'ratio':>6}  effective batches tried; best"
    )
    for repeat in range(args.repeats):
        for mode in args.modes:
            with tempfile.TemporaryDirectory() as folder:
                options = TuneOptions(
                    study="benchmark",
                    storage=f"sqlite:///{folder}/benchmark.db",
                    space=SPACE,
                    stage="train",
                    trials=args.trials,
                    max_metric_drop=args.max_metric_drop,
                    seed=repeat,
                    confirm=0,
                    studies_dir=Path(folder),
                    hold_effective_batch=mode == "held",
                )
                records = tune(args.script, options).records["train"]
            _row(mode, records, args.max_metric_drop)


def _row(mode: str, records: list, drop: float) -> None:
    baseline = next(r for r in records if r.role == "baseline" and r.ok)
    floor = baseline.measurement.metric - drop
    finished = [r for r in records if r.ok]
    fell = [r for r in finished if r.measurement.metric < floor]
    feasible = [r for r in finished if r.measurement.metric >= floor]
    best = max(feasible, key=lambda r: r.measurement.throughput.rate)
    rate, base = best.measurement.throughput.rate, baseline.measurement.throughput.rate
    tried = sorted({r.config.batch_size * r.config.accumulation_steps for r in records})
    shape = f"{best.config.batch_size}x{best.config.accumulation_steps}, {best.config.num_workers}w"
    print(
        f"{mode:7} {len(records):>6} {len(fell):>11} {len(records) - len(finished):>6} "
        f"{base:>10,.0f} {rate:>8,.0f} {rate / base:>6.2f}  {tried}; {shape}"
    )


if __name__ == "__main__":
    main()
