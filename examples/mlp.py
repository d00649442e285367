"""A tabular classifier: an MLP on synthetic data that a teacher network labels.

autoaccel tune examples/mlp.py      # find the fastest setup whose accuracy holds
python examples/mlp.py              # train with the recommended setup (or the baseline)
"""

import torch
from torch import nn
from torch.utils.data import TensorDataset

import autoaccel

FEATURES, CLASSES = 64, 10


def make_data(samples: int, seed: int) -> TensorDataset:
    """Features drawn at random; labels from a fixed random teacher, with 5% label noise."""
    teacher = torch.Generator().manual_seed(1234)
    w1 = torch.randn(FEATURES, 128, generator=teacher)
    w2 = torch.randn(128, CLASSES, generator=teacher)
    rng = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, FEATURES, generator=rng)
    y = (torch.tanh(x @ w1 / FEATURES**0.5) @ w2).argmax(dim=1)
    noisy = torch.rand(samples, generator=rng) < 0.05
    y[noisy] = torch.randint(0, CLASSES, (int(noisy.sum()),), generator=rng)
    return TensorDataset(x, y)


def model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(FEATURES, 512),
        nn.ReLU(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, CLASSES),
    )


def decay_to_zero(optimizer: torch.optim.Optimizer, steps: int):
    """Linear decay of the learning rate to zero at the end of the run."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=model,
    train_data=make_data(32768, seed=0),
    eval_data=make_data(4096, seed=1),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.AdamW(params, lr=1e-3),
    metric=accuracy,
    scheduler=decay_to_zero,
    baseline={"batch_size": 64},
    epochs=2,
)

if __name__ == "__main__":
    autoaccel.train(task)
