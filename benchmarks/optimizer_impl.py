"""The optimizer step alone, per implementation: PyTorch's loop, foreach and fused.

    python benchmarks/optimizer_impl.py --optimizer AdamW --rounds 7

Builds a GPT-style stack (embeddings, then blocks of attention and MLP weights, biases and
layer norms: many tensors of mixed sizes, as the optimizer of a transformer sees them),
gives every parameter a gradient, and times ``optimizer.step()`` for each implementation,
interleaved round by round in this process. Prints the median step time of each and its
ratio to the default's within each round.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from autoaccel import knobs
from autoaccel.engine import use_cores
from autoaccel.probe import probe

IMPLS = ("default", "foreach", "fused")


def gpt_like(layers: int, width: int, vocab: int) -> nn.Module:
    block = lambda: nn.TransformerEncoderLayer(width, 4, 4 * width, batch_first=True)  # noqa: E731
    return nn.Sequential(nn.Embedding(vocab, width), *[block() for _ in range(layers)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", default="AdamW", choices=["AdamW", "Adam", "SGD"])
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    args = parser.parse_args()
    use_cores(probe().usable_cores)
    cls = getattr(torch.optim, args.optimizer)
    runs = {}
    for impl in IMPLS:
        model = gpt_like(args.layers, args.width, args.vocab)
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-3
        optimizer = knobs.optimizer_impl.rebuild(cls(model.parameters(), lr=1e-4), impl)
        optimizer.step()  # state allocated outside the timing
        runs[impl] = optimizer
    tensors = sum(1 for _ in model.parameters())
    count = sum(p.numel() for p in model.parameters())
    print(f"{args.optimizer}: {tensors} tensors, {count / 1e6:.1f}M parameters; ms per step")
    times: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    for _ in range(args.rounds):
        for impl, optimizer in runs.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                optimizer.step()
            times[impl].append((time.perf_counter() - start) / args.steps * 1e3)
    for impl in IMPLS:
        ratios = [d / t for d, t in zip(times["default"], times[impl], strict=True)]
        print(
            f"{impl:8} {statistics.median(times[impl]):7.2f} ms  "
            f"speedup {statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
