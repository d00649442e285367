"""How far the CPU peak the probe estimates lies from what a matmul reaches here.

The probe estimates a CPU's peak from its clock and vector units and measures a 1024^2
matmul once per machine; reports divide MFU by the larger. This prints both, per
precision, over several interleaved rounds (fp32, bf16, fp32, ...), and the ratio of the
best measurement to the estimate: the factor docs/benchmarks.md states.

    python benchmarks/cpu_peak.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics

from autoaccel.probe import ProbeSources, probe

CPU_DTYPES = ("fp32", "bf16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    sources = ProbeSources(cache_dir=None)
    profile = probe(sources)
    cores = profile.usable_cores
    cpu = profile.cpu
    print(f"{cpu.model} ({cores} usable cores, clock {cpu.clock_mhz} MHz)")
    print(f"instruction sets: {' '.join(k for k, v in cpu.isa.items() if v)}")
    rates: dict[str, list[float]] = {dtype: [] for dtype in CPU_DTYPES}
    for _ in range(args.rounds):
        for dtype in CPU_DTYPES:
            rates[dtype].append(sources.cpu_matmul(dtype, cores))
    for dtype in CPU_DTYPES:
        estimate = cpu.core_peak_flops_estimate.get(dtype, 0.0) * cores
        best, median = max(rates[dtype]), statistics.median(rates[dtype])
        ratio = f"{best / estimate:.2f}" if estimate else "-"
        print(
            f"{dtype}: estimate {estimate / 1e9:7.1f} GFLOP/s, matmul best {best / 1e9:7.1f} "
            f"median {median / 1e9:7.1f} (min {min(rates[dtype]) / 1e9:.1f}) over "
            f"{args.rounds} rounds; best / estimate {ratio}"
        )


if __name__ == "__main__":
    main()
