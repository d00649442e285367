"""The training loader's passes with the decoded-sample cache off and on.

    python benchmarks/sample_cache.py examples/compressed_images.py --workers 0 1 --rounds 3

Builds the training batches autoaccel builds for each configuration (the task's baseline
with ``cache`` none or memory, for each worker count) and times three whole passes over
them, nothing trained: the first pass fills the cache, the later ones read it. The
configurations are interleaved round by round in this process. Prints the median time of
each pass and, for later passes, the ratio of the uncached time to the cached one.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from autoaccel.engine import TrainingRun, use_cores
from autoaccel.probe import probe
from autoaccel.task import load_task

PASSES = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--workers", type=int, nargs="+", default=[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    use_cores(probe().usable_cores)
    task = load_task(args.script)
    keys = [(w, cache) for w in args.workers for cache in ("none", "memory")]
    times: dict[tuple[int, str], list[list[float]]] = {key: [] for key in keys}
    for _ in range(args.rounds):
        for workers, cache in keys:
            config = task.baseline.replace(num_workers=workers, cache=cache)
            run = TrainingRun(task, config, torch.device("cpu"), seed=0, epochs=PASSES)
            passes = []
            for _ in range(PASSES):
                start = time.perf_counter()
                for _ in run.loader:
                    pass
                passes.append(time.perf_counter() - start)
            times[workers, cache].append(passes)
    print(f"{'workers':>7} {'cache':6} " + " ".join(f"{f'pass {i + 1}':>8}" for i in range(PASSES)))
    for key in keys:
        medians = [statistics.median(r[i] for r in times[key]) for i in range(PASSES)]
        print(f"{key[0]:>7} {key[1]:6} " + " ".join(f"{m:7.2f}s" for m in medians))
    for workers in args.workers:
        ratios = [
            plain[i] / cached[i]
            for plain, cached in zip(times[workers, "none"], times[workers, "memory"], strict=True)
            for i in range(1, PASSES)
        ]
        print(
            f"{workers} workers, passes 2-{PASSES}: cache {statistics.median(ratios):.2f}x "
            f"faster (range {min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
