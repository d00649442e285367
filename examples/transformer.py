"""A small transformer classifying token sequences.

The label of a sequence is the "topic" whose marker tokens it holds most often, among
filler tokens: the model must attend across the whole sequence to count them.

    autoaccel tune examples/transformer.py
    python examples/transformer.py
"""

import torch
from torch import nn
from torch.utils.data import TensorDataset

import autoaccel

VOCAB, LENGTH, TOPICS, MARKERS = 512, 64, 4, 8


def make_sequences(samples: int, seed: int) -> TensorDataset:
    rng = torch.Generator().manual_seed(seed)
    tokens = torch.randint(TOPICS * MARKERS, VOCAB, (samples, LENGTH), generator=rng)
    labels = torch.randint(0, TOPICS, (samples,), generator=rng)
    for topic_count, share in (
        (6, labels),
        (3, torch.randint(0, TOPICS, (samples,), generator=rng)),
    ):
        # Each sequence gets 6 markers of its own topic and 3 of a random one.
        positions = torch.rand(samples, LENGTH, generator=rng).argsort(dim=1)[:, :topic_count]
        marker = share.view(-1, 1) * MARKERS + torch.randint(
            0, MARKERS, (samples, topic_count), generator=rng
        )
        tokens.scatter_(1, positions, marker)
    return TensorDataset(tokens, labels)


class Classifier(nn.Module):
    def __init__(self, width: int = 128, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, width)
        self.position = nn.Parameter(torch.randn(LENGTH, width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=4 * width, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, TOPICS)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(self.embed(tokens) + self.position)
        return self.head(hidden.mean(dim=1))


def decay_to_zero(optimizer: torch.optim.Optimizer, steps: int):
    """Linear decay of the learning rate to zero at the end of the run."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=Classifier,
    train_data=make_sequences(4096, seed=0),
    eval_data=make_sequences(1024, seed=1),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.AdamW(params, lr=1e-3),
    metric=accuracy,
    scheduler=decay_to_zero,
    baseline={"batch_size": 32},
    epochs=2,
)

if __name__ == "__main__":
    autoaccel.train(task)
