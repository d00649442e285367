"""A small classifier whose settings come from its command line, parsed as the module loads.

The metric's name says what the script parsed, so a test can read it back from a study.
"""

import argparse
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

import autoaccel

parser = argparse.ArgumentParser(description="A small classifier")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--samples", type=int, default=1024)
args = parser.parse_args()


def make_data(samples, seed):
    rng = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 8, generator=rng)
    return TensorDataset(x, (x[:, 0] + x[:, 1] > 0).long())


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=lambda: nn.Sequential(nn.Linear(8, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 2)),
    train_data=make_data(args.samples, 0),
    eval_data=make_data(256, 1),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.SGD(params, lr=args.lr),
    metric=accuracy,
    metric_name=f"accuracy ({Path(sys.argv[0]).name} --lr {args.lr} --hidden {args.hidden})",
    baseline={"batch_size": 16},
    lr_scaling="linear",
)

if __name__ == "__main__":
    autoaccel.train(task)
