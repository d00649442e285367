"""A small LSTM language model on a synthetic token stream, trained in its own loop.

The hidden state is carried from batch to batch (detached), gradients are clipped, and the
learning rate is divided by 4 whenever the validation perplexity stops improving.
"""

import argparse
import math

import torch
from torch import nn

parser = argparse.ArgumentParser(description="A small LSTM language model")
parser.add_argument("--lr", type=float, default=2.0, help="initial learning rate")
parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
parser.add_argument("--epochs", type=int, default=3, help="upper epoch limit")
parser.add_argument("--batch-size", type=int, default=16)
parser.add_argument("--bptt", type=int, default=20, help="sequence length")
parser.add_argument("--tokens", type=int, default=40_000, help="training tokens")
parser.add_argument("--seed", type=int, default=1111)
args = parser.parse_args()

VOCAB = 24


def token_stream(length, seed):
    """Counts up by one, now and then jumping to a random token."""
    rng = torch.Generator().manual_seed(seed)
    jumps = torch.randint(0, VOCAB, (length,), generator=rng)
    steps = torch.where(torch.rand(length, generator=rng) < 0.9, 1, jumps)
    return steps.cumsum(0) % VOCAB


train_tokens = token_stream(args.tokens, seed=0)
valid_tokens = token_stream(args.tokens // 8, seed=1)


class LSTMModel(nn.Module):
    def __init__(self, size=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, size)
        self.lstm = nn.LSTM(size, size)
        self.head = nn.Linear(size, VOCAB)

    def forward(self, tokens, hidden=None):
        output, hidden = self.lstm(self.embed(tokens), hidden)
        return self.head(output), hidden


def batchify(tokens, batch_size):
    """One column per stream; each batch continues the streams of the one before."""
    columns = tokens.size(0) // batch_size
    return tokens[: columns * batch_size].view(batch_size, -1).t().contiguous()


def batches(tokens, batch_size):
    data = batchify(tokens, batch_size)
    for i in range(0, data.size(0) - 1, args.bptt):
        length = min(args.bptt, data.size(0) - 1 - i)
        yield data[i : i + length], data[i + 1 : i + 1 + length]


def repackage_hidden(hidden):
    """Detach the hidden state from the batches that made it."""
    return None if hidden is None else tuple(h.detach() for h in hidden)


def criterion(output, targets):
    return nn.functional.cross_entropy(output.reshape(-1, VOCAB), targets.reshape(-1))


def evaluate(model):
    """Perplexity over the whole validation stream."""
    model.eval()
    device = next(model.parameters()).device
    total, count, hidden = 0.0, 0, None
    with torch.no_grad():
        for x, y in batches(valid_tokens, 10):
            output, hidden = model(x.to(device), hidden)
            total += criterion(output, y.to(device)).item() * y.numel()
            count += y.numel()
    return math.exp(total / count)


def train(model, optimizer):
    model.train()
    hidden = None
    for x, y in batches(train_tokens, args.batch_size):
        hidden = repackage_hidden(hidden)
        optimizer.zero_grad()
        output, hidden = model(x, hidden)
        loss = criterion(output, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(args.seed)
    model = LSTMModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    best = None
    for epoch in range(1, args.epochs + 1):
        train(model, optimizer)
        perplexity = evaluate(model)
        print(f"epoch {epoch}: validation perplexity {perplexity:.2f}")
        if best is None or perplexity < best:
            best = perplexity
        else:
            for group in optimizer.param_groups:
                group["lr"] /= 4
