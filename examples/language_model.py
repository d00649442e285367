"""A word-level LSTM language model with its own training loop, in the style of PyTorch's
word_language_model example: the hidden state is carried from batch to batch over
sequential text, gradients are clipped, the learning rate is divided by 4 when the
validation perplexity stops improving, and the settings come from the command line.

The text is made up: words follow a fixed random Markov chain, so there is something to
learn and nothing to download.

    autoaccel tune examples/language_model.py --stage train -- --nhid 256
    python examples/language_model.py --nhid 256 --epochs 6
"""

import argparse
import math

import torch
from torch import nn

import autoaccel

parser = argparse.ArgumentParser(description="LSTM language model on a made-up corpus")
parser.add_argument("--emsize", type=int, default=128, help="size of word embeddings")
parser.add_argument("--nhid", type=int, default=128, help="hidden units per layer")
parser.add_argument("--nlayers", type=int, default=2, help="number of layers")
parser.add_argument("--lr", type=float, default=20.0, help="initial learning rate")
parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
parser.add_argument("--epochs", type=int, default=6, help="epochs of the real run")
parser.add_argument("--batch-size", type=int, default=20)
parser.add_argument("--bptt", type=int, default=35, help="sequence length")
parser.add_argument("--dropout", type=float, default=0.2)
args = parser.parse_args()

VOCAB = 1000


def corpus(words: int, seed: int) -> torch.Tensor:
    """Word ids from a Markov chain in which each word has 8 likely successors."""
    chain = torch.Generator().manual_seed(1234)
    successors = torch.randint(0, VOCAB, (VOCAB, 8), generator=chain)
    weights = torch.rand(VOCAB, 8, generator=chain) ** 3
    rng = torch.Generator().manual_seed(seed)
    text = torch.empty(words, dtype=torch.long)
    word = 0
    for i in range(words):
        text[i] = word
        word = successors[word, torch.multinomial(weights[word], 1, generator=rng)].item()
    return text


train_words = corpus(50_000, seed=0)
valid_words = corpus(5_000, seed=1)


class RNNModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(args.dropout)
        self.encoder = nn.Embedding(VOCAB, args.emsize)
        self.rnn = nn.LSTM(args.emsize, args.nhid, args.nlayers, dropout=args.dropout)
        self.decoder = nn.Linear(args.nhid, VOCAB)

    def forward(self, words, hidden=None):
        output, hidden = self.rnn(self.drop(self.encoder(words)), hidden)
        return self.decoder(self.drop(output)), hidden


def batchify(words: torch.Tensor, batch_size: int) -> torch.Tensor:
    """One column per stream of text; each batch continues the streams of the one before."""
    columns = words.size(0) // batch_size
    return words[: columns * batch_size].view(batch_size, -1).t().contiguous()


def batches(words: torch.Tensor, batch_size: int):
    data = batchify(words, batch_size)
    for i in range(0, data.size(0) - 1, args.bptt):
        length = min(args.bptt, data.size(0) - 1 - i)
        yield data[i : i + length], data[i + 1 : i + 1 + length]


def repackage_hidden(hidden):
    """Detach the hidden state from the batches that made it: backpropagate one batch."""
    return None if hidden is None else tuple(h.detach() for h in hidden)


def criterion(output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output.reshape(-1, VOCAB).float(), targets.reshape(-1))


hidden = None  # the LSTM state, carried from batch to batch


def training_step(model: nn.Module, batch) -> torch.Tensor:
    """One batch: autoaccel has moved it to the device, runs this under autocast, then does
    the backward pass, clipping and optimizer step."""
    global hidden
    x, y = batch
    hidden = repackage_hidden(hidden)
    output, hidden = model(x, hidden)
    return criterion(output, y)


def perplexity(model: nn.Module) -> float:
    """Over the whole validation text: exp of the mean loss per word."""
    device = next(model.parameters()).device
    total, count, state = 0.0, 0, None
    for x, y in batches(valid_words, 10):
        output, state = model(x.to(device), state)
        total += criterion(output, y.to(device)).item() * y.numel()
        count += y.numel()
    return math.exp(total / count)


best = None


def on_epoch_end(epoch: int, metric: float, optimizer: torch.optim.Optimizer) -> None:
    """Anneal the learning rate when the validation perplexity stops improving."""
    global best, hidden
    hidden = None  # the next epoch reads the text from its start
    print(f"| end of epoch {epoch:3d} | valid ppl {-metric:8.2f}")
    if best is None or metric > best:
        best = metric
    else:
        for group in optimizer.param_groups:
            group["lr"] /= 4.0


task = autoaccel.Task(
    model=RNNModel,
    optimizer=lambda params: torch.optim.SGD(params, lr=args.lr),
    train_batches=lambda batch_size: batches(train_words, batch_size),
    training_step=training_step,
    clip_grad_norm=args.clip,
    # The study maximises its metric: perplexity, lower is better, is reported negated.
    evaluate=lambda model: -perplexity(model),
    metric_name="negative perplexity",
    on_epoch_end=on_epoch_end,
    baseline={"batch_size": args.batch_size},
    lr_scaling="none",  # plain SGD with clipping: the same rate at any batch size
    epochs=2,  # the trial budget
    run_epochs=args.epochs,  # the real run
)

if __name__ == "__main__":
    autoaccel.train(task)
