"""Measure configurations of an example side by side, each in its own trial process.

    python benchmarks/engine.py examples/cnn.py '{}' '{"num_workers": 1}' ...
    python benchmarks/engine.py examples/mlp.py '{}' --repeat 5     # spread and overhead

Each JSON is applied on top of the example's baseline. Prints one row per trial, then the
ratio of each configuration's median throughput to the first one's. With --repeat N the
configurations run N times each, interleaved, and the spread across repeats is printed,
with the fixed cost of a trial (process start, imports, loading the task).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from autoaccel import knobs
from autoaccel.probe import probe
from autoaccel.runner import TrialSpec, inspect_script, run_trial
from autoaccel.task import resolve_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("configs", nargs="*", default=["{}"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stage", default="train", choices=["train", "deploy"])
    args = parser.parse_intermixed_args()

    hardware = probe()
    target = resolve_script(args.script)
    start = time.perf_counter()
    facts = inspect_script(target)
    inspect_s = time.perf_counter() - start
    configs = [
        knobs.config_from_dict(json.loads(text), source=text, base=facts.baseline)
        for text in args.configs
    ]
    print(f"{target.spec} on {hardware.summary()}; inspect trial {inspect_s:.1f} s")
    weights = None
    if args.stage == "deploy":
        weights = "/tmp/autoaccel-bench-weights.pt"
        trained = run_trial(
            TrialSpec(
                action="train",
                script=target.spec,
                config=facts.baseline,
                hardware=hardware,
                weights_out=weights,
            )
        )
        assert trained.ok, trained.reason
    rates: dict[int, list[float]] = {i: [] for i in range(len(configs))}
    header = (
        f"{'#':>2} {'outcome':9} {'samples/s':>11} {'spread':>7} {'metric':>7} "
        f"{'wait':>6} {'memory':>9} {'MFU':>6} {'warmup':>7} {'trial':>6} {'fixed':>6}  config"
    )
    print(header)
    for _ in range(args.repeat):
        for index, config in enumerate(configs):
            spec = TrialSpec(
                action=args.stage,
                script=target.spec,
                config=config,
                hardware=hardware,
                weights_in=weights,
            )
            result = run_trial(spec)
            m = result.measurement
            changed = {
                k: v
                for k, v in config.for_stage(args.stage).items()
                if getattr(facts.baseline, k) != v
            }
            if m is None:
                print(f"{index:>2} {result.outcome:9} {result.reason}  {changed}")
                continue
            rates[index].append(m.throughput.median)
            wait = f"{m.data_wait_share:.0%}" if m.data_wait_share is not None else "-"
            mfu = f"{m.mfu:.1%}" if m.mfu is not None else "-"
            memory = f"{(m.peak_memory_bytes or 0) / 2**20:.0f}MiB"
            # The fixed cost of a trial: everything but the training budget itself.
            fixed = result.duration_s - (m.train_time_s or 0.0)
            print(
                f"{index:>2} {result.outcome:9} {m.throughput.median:>11,.0f} "
                f"{m.throughput.spread:>7.1%} {m.metric:>7.4f} {wait:>6} {memory:>9} "
                f"{mfu:>6} {m.warmup_s:>6.1f}s {result.duration_s:>5.1f}s {fixed:>5.1f}s  "
                f"{changed}",
                flush=True,
            )
    base = statistics.median(rates[0]) if rates[0] else None
    print("\nmedian samples/s over repeats, and the ratio to configuration 0:")
    for index, values in rates.items():
        if not values:
            continue
        median = statistics.median(values)
        across = (max(values) - min(values)) / median if len(values) > 1 else 0.0
        ratio = f"{median / base:.2f}x" if base else "-"
        print(
            f"{index:>2} {median:>11,.0f}  {ratio:>6}  max-min across {len(values)} "
            f"repeats {across:.1%}"
        )


if __name__ == "__main__":
    main()
