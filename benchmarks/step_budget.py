"""How few optimizer steps a task's budget can take before its metric drops.

    python benchmarks/step_budget.py examples/mlp.py examples/cnn.py --factors 1 2 4 8 --seeds 0 1

Trains each example for its own budget (Task.epochs) at its baseline batch size times each
factor, everything else as the baseline, in this process and interleaved across seeds.
Prints the metric and the optimizer steps of each run, and the drop from the factor-1 run
of the same seed beside the seed-to-seed difference at factor 1: the first guess must keep
the steps of the largest factor whose drop stays inside the tolerance.
"""

from __future__ import annotations

import argparse
import statistics

import autoaccel
from autoaccel.task import load_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="+")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    for script in args.scripts:
        task = load_task(script)
        base = task.baseline.batch_size
        metrics: dict[tuple[int, int], float] = {}
        for seed in args.seeds:
            for factor in args.factors:
                result = autoaccel.train(
                    task, {"batch_size": base * factor}, seed=seed, log=lambda _: None
                )
                metrics[factor, seed] = result.metric
        steps = {f: int(task.epochs * (len(task.train_data) // (base * f))) for f in args.factors}
        first = args.factors[0]
        seed_gap = max(metrics[first, s] for s in args.seeds) - min(
            metrics[first, s] for s in args.seeds
        )
        print(f"\n{script}: baseline batch {base}, budget {task.epochs} epochs")
        print(f"  seed-to-seed difference at factor {first}: {seed_gap:.4f}")
        print("  factor  batch  steps  metric (per seed)           mean drop")
        for factor in args.factors:
            values = [metrics[factor, s] for s in args.seeds]
            drop = statistics.mean(metrics[first, s] - metrics[factor, s] for s in args.seeds)
            shown = " ".join(f"{v:.4f}" for v in values)
            row = f"{factor:>6}  {base * factor:>5}  {steps[factor]:>5}  {shown:<26}"
            print(f"  {row}  {drop:+.4f}")


if __name__ == "__main__":
    main()
