"""A claim against its delivery: tune an example as a user would, then train it for real.

    python benchmarks/claims.py examples/mlp.py --trials 6 --hog 30
    python benchmarks/claims.py examples/mlp.py --tunes 3      # three tunes from scratch

Each tune runs `autoaccel tune SCRIPT --stage train` in a fresh study (optionally with a
process spinning on one core for its first --hog seconds, as a busy shared machine would
have). Then, on a quiet machine, `autoaccel.train` runs the baseline and each tune's
recommendation for --epochs epochs in fresh processes, interleaved --rounds times, and the
steady rate of epochs 2 onwards is compared. Prints the claimed speedup with its interval
beside the delivered one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run in a fresh process per training, as `python train.py` would be.
TRAIN = """
import json, sys
import autoaccel
from autoaccel.task import load_task
task = load_task(sys.argv[1])
config = json.loads(sys.argv[2])
result = autoaccel.train(task, config, epochs=int(sys.argv[3]), log=lambda _: None)
print(json.dumps({"rates": result.epoch_rates, "metric": result.metric}))
"""

SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def tune(script: str, trials: int, hog_s: float, folder: Path) -> dict:
    hog = None
    if hog_s > 0:
        hog = subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=hog_s)])
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(hog.pid, {min(os.sched_getaffinity(0))})
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "autoaccel",
            "tune",
            script,
            "--stage",
            "train",
            "--trials",
            str(trials),
            "--study",
            "claim",
            "--storage",
            f"sqlite:///{folder}/autoaccel.db",
        ],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    if hog is not None:
        hog.kill()
        hog.wait()
    rec = json.loads((folder / "studies" / "claim" / "recommendation.json").read_text())
    stage = rec["stages"]["train"]
    return {
        "config": {k: stage["config"][k] for k in stage["config"]},
        "speedup": stage["speedup"],
        "ci": stage.get("speedup_ci"),
        "seconds": seconds,
    }


def delivered_rate(script: str, config: dict, epochs: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TRAIN, script, json.dumps(config), str(epochs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rates = json.loads(out.splitlines()[-1])["rates"]
    steady = rates[1:] or rates
    # The steady rate over epochs 2 onwards: samples over their time.
    return len(steady) / sum(1 / r for r in steady)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--tunes", type=int, default=1)
    parser.add_argument("--hog", type=float, default=0.0, help="seconds of one busy core")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    script = str(Path(args.script).resolve())

    claims = []
    for index in range(args.tunes):
        with tempfile.TemporaryDirectory(prefix="autoaccel-claim-") as folder:
            claims.append(tune(script, args.trials, args.hog, Path(folder)))
        c = claims[-1]
        ci = f" [{c['ci'][0]:.2f}, {c['ci'][1]:.2f}]" if c["ci"] else ""
        print(
            f"tune {index + 1}: {c['seconds']:.0f} s, claims {c['speedup']:.2f}x{ci}: "
            f"{json.dumps(c['config'])}",
            flush=True,
        )

    # The baseline is the task's own: an empty configuration keeps it.
    setups = [{}] + [c["config"] for c in claims]
    rates: list[list[float]] = [[] for _ in setups]
    for _ in range(args.rounds):
        for i, config in enumerate(setups):
            rates[i].append(delivered_rate(script, config, args.epochs))
    print(f"\n{args.script}: {args.rounds} interleaved rounds of {args.epochs} epochs")
    print(f"baseline delivered {statistics.median(rates[0]):,.0f} samples/s (epochs 2+)")
    for i, claim in enumerate(claims, start=1):
        ratios = [r / b for r, b in zip(rates[i], rates[0], strict=True)]
        delivered = math.exp(statistics.mean(math.log(x) for x in ratios))
        error = claim["speedup"] / delivered - 1
        print(
            f"tune {i}: claimed {claim['speedup']:.2f}x, delivered {delivered:.2f}x "
            f"({statistics.median(rates[i]):,.0f} samples/s), claim off by {error:+.0%}"
        )
    if len(claims) > 1:
        medians = [statistics.median(r) for r in rates[1:]]
        print(
            f"spread of the recommendations' delivered rates: "
            f"{(max(medians) - min(medians)) / statistics.median(medians):.1%}"
        )


if __name__ == "__main__":
    main()
