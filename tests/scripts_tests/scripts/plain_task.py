"""A classifier described the simple way: a dataset, a loss and a metric."""

import torch
from torch import nn
from torch.utils.data import TensorDataset

import autoaccel


def make_data(samples, seed):
    rng = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 8, generator=rng)
    return TensorDataset(x, (x[:, 0] + x[:, 1] > 0).long())


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=lambda: nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2)),
    train_data=make_data(1024, 0),
    eval_data=make_data(256, 1),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
    metric=accuracy,
    baseline={"batch_size": 16},
    lr_scaling="linear",
    epochs=1,
    run_epochs=3,
)

if __name__ == "__main__":
    autoaccel.train(task)
