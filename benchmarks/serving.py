"""Deploy configurations of an example side by side: throughput, latency, metric.

    python benchmarks/serving.py examples/mlp.py '{}' '{"backend": "onnxruntime"}' --repeat 3

Trains the example's baseline once (a trial process), then runs every deploy configuration
(JSON on top of the baseline) in its own trial process, interleaved, ``--repeat`` times;
repeat ``r`` runs with seed ``r``. Each trial times requests of one sample alone (p50,
p99) besides its throughput at its own batch size. Prints one row per trial, then per
configuration the medians over repeats: the throughput ratio to configuration 0, p50 and
p99 at batch 1, and the metric (its change from configuration 0: with pruning, what the
fine-tune kept).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from autoaccel import knobs
from autoaccel.probe import probe
from autoaccel.runner import TrialSpec, inspect_script, run_trial
from autoaccel.task import resolve_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("configs", nargs="*", default=["{}"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_intermixed_args()

    hardware = probe()
    target = resolve_script(args.script)
    facts = inspect_script(target)
    configs = [
        knobs.config_from_dict(json.loads(text), source=text, base=facts.baseline)
        for text in args.configs
    ]
    print(f"{target.spec} on {hardware.summary()}")
    weights = str(Path(tempfile.mkdtemp(prefix="autoaccel-serving-")) / "weights.pt")
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
    rows: dict[int, list[tuple[float, float, float, float]]] = {i: [] for i in range(len(configs))}
    for repeat in range(args.repeat):
        for index, config in enumerate(configs):
            # Each repeat fine-tunes a pruned model with its own seed: the metric's median
            # is not one seed's luck.
            spec = TrialSpec(
                action="deploy",
                script=target.spec,
                config=config,
                hardware=hardware,
                weights_in=weights,
                seed=repeat,
                latency_batch=1,
            )
            result = run_trial(spec, 900.0)
            m = result.measurement
            if m is None:
                print(f"{index:>2} {result.outcome} {result.reason}", flush=True)
                continue
            one = m.latency_at(1)
            assert one is not None
            rows[index].append((m.throughput.rate, one.p50_ms, one.p99_ms, m.metric))
            print(
                f"{index:>2} {m.throughput.rate:>11,.0f}/s  p50 {one.p50_ms:.3f} ms  "
                f"p99 {one.p99_ms:.3f} ms ({one.requests} requests)  metric {m.metric:.4f}  "
                f"trial {result.duration_s:.0f} s",
                flush=True,
            )
    print("\nmedians over repeats; ratio of throughput to configuration 0; batch-1 latency:")
    base_rate = statistics.median(r[0] for r in rows[0]) if rows[0] else None
    base_metric = statistics.median(r[3] for r in rows[0]) if rows[0] else None
    for index, values in rows.items():
        if not values:
            continue
        rate, p50, p99, metric = (statistics.median(v) for v in zip(*values, strict=True))
        ratio = f"{rate / base_rate:.2f}x" if base_rate else "-"
        change = f"{metric - base_metric:+.4f}" if base_metric is not None else ""
        print(
            f"{index:>2} {rate:>11,.0f}/s {ratio:>6}  p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
            f"metric {metric:.4f} ({change})  n={len(values)}  {args.configs[index]}"
        )


if __name__ == "__main__":
    main()
