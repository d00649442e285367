"""The tuner against the oracle: every configuration of a train space measured (the grid),
then ``autoaccel tune`` with a trial budget, in one run on one machine.

    python benchmarks/oracle.py examples/mlp.py --space benchmarks/spaces/cpu_train.yaml \\
        --trials 12 --out results.json

Prints the oracle's best throughput, the tuner's, their ratio (also with the tuner's choice
as the grid measured it, which removes run-to-run noise), and the grid's wall time over the
tuner's. Target: at least 95% of the oracle's throughput in at most a quarter of its time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _train_study import train_study_options

from autoaccel.probe import probe
from autoaccel.recommend import TrialRecord, recommend_stage
from autoaccel.runner import TrialSpec, inspect_script, run_trial
from autoaccel.study import fit_to, load_space, tune
from autoaccel.task import resolve_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--space", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--max-metric-drop", type=float, default=0.01)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    hardware = probe()
    target = resolve_script(args.script)
    facts = inspect_script(target)
    space = fit_to(load_space(args.space, "train"), hardware, facts, facts.baseline)
    grid = space.grid(facts.baseline)
    assert facts.baseline in grid, "the space must hold the baseline"
    grid.sort(key=lambda c: c != facts.baseline)  # the baseline first, as in a study
    print(f"{target.spec} on {hardware.summary()}: grid of {len(grid)} configurations", flush=True)

    start = time.perf_counter()
    records = []
    for number, config in enumerate(grid):
        spec = TrialSpec(action="train", script=target.spec, config=config, hardware=hardware)
        result = run_trial(spec)
        records.append(
            TrialRecord(
                number=number,
                role="baseline" if number == 0 else "search",
                config=config,
                outcome=result.outcome,
                reason=result.reason,
                measurement=result.measurement,
                duration_s=result.duration_s,
            )
        )
        rate = f"{result.measurement.throughput.median:,.0f}/s" if result.measurement else ""
        print(
            f"  grid {number + 1}/{len(grid)} {result.outcome} {rate} ({result.duration_s:.0f} s)",
            flush=True,
        )
    grid_s = time.perf_counter() - start
    oracle = recommend_stage(records, "train", args.max_metric_drop)
    assert oracle is not None, "the baseline failed"

    with tempfile.TemporaryDirectory() as folder:
        options = train_study_options(folder, args)
        start = time.perf_counter()
        tuned = tune(target.spec, options, hardware=hardware)
        tune_s = time.perf_counter() - start
    choice = tuned.recommendation.stages["train"]
    in_grid = next(r for r in records if r.config == choice.config)

    summary = {
        "script": target.spec,
        "hardware": hardware.summary(),
        "grid_configurations": len(grid),
        "grid_seconds": grid_s,
        "oracle_best": oracle.throughput.median,
        "oracle_config": oracle.config.for_stage("train"),
        "tuner_trials": args.trials,
        "tuner_seconds": tune_s,
        "tuner_best": choice.throughput.median,
        "tuner_config": choice.config.for_stage("train"),
        "tuner_choice_in_grid": in_grid.throughput,
        "ratio": choice.throughput.median / oracle.throughput.median,
        "ratio_same_measurement": in_grid.throughput / oracle.throughput.median,
        "time_ratio": grid_s / tune_s,
        "grid": [
            r.model_dump(mode="json", include={"config", "outcome", "measurement"}) for r in records
        ],
    }
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    print(f"\n{target.spec} on {hardware.summary()}")
    print(
        f"  oracle: {oracle.throughput.median:,.0f}/s after {len(grid)} trials in "
        f"{grid_s:.0f} s: {summary['oracle_config']}"
    )
    print(
        f"  tuner:  {choice.throughput.median:,.0f}/s after {args.trials} trials in "
        f"{tune_s:.0f} s: {summary['tuner_config']}"
    )
    print(
        f"  tuner / oracle throughput: {summary['ratio']:.3f} "
        f"(the tuner's choice as the grid measured it: {summary['ratio_same_measurement']:.3f})"
    )
    print(f"  grid time / tuner time: {summary['time_ratio']:.2f}")


if __name__ == "__main__":
    main()
