"""A small CNN on 64x64 colour images stored compressed, as image files are: every read
decodes one (zlib, with PNG's "up" filter undone), then a random flip and shift augment
each batch.

The sample pipeline is declared in two parts, so the ``cache`` and ``augment_on`` knobs
apply: ``train_data`` decodes (deterministic: the same image for the same index), and
``batch_augment`` is the random part, written with torch operations so it runs in the
loader or on the accelerator.

    autoaccel tune examples/compressed_images.py
    python examples/compressed_images.py
"""

import zlib

import torch
from torch import nn
from torch.utils.data import Dataset

import autoaccel

CLASSES, SIZE, SHIFT = 10, 64, 4


def make_images(samples: int, seed: int) -> tuple[list[bytes], torch.Tensor]:
    """Each class is a colour blob at a class-specific place on textured noise; each image
    is stored as zlib bytes of its row differences, as PNG stores them."""
    rng = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (samples,), generator=rng)
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    centres = torch.tensor([[16 + 32 * (c % 2), 12 + 10 * (c // 2)] for c in range(CLASSES)])
    colours = torch.rand(CLASSES, 3, generator=torch.Generator().manual_seed(99))
    stored = []
    for label in labels.tolist():
        cx, cy = (centres[label] + torch.randint(-5, 6, (2,), generator=rng)).tolist()
        blob = ((xx - cx) ** 2 + (yy - cy) ** 2) < (8 + label % 3) ** 2
        noise = torch.rand(3, SIZE, SIZE, generator=rng) * 0.6
        image = ((noise + blob * colours[label].view(3, 1, 1)).clamp(0, 1) * 255).to(torch.uint8)
        rows = torch.diff(image, dim=1, prepend=torch.zeros(3, 1, SIZE, dtype=torch.uint8))
        stored.append(zlib.compress(rows.numpy().tobytes(), level=6))
    return stored, labels


class CompressedImages(Dataset):
    """Decodes an image on every read: the deterministic part of the sample pipeline."""

    def __init__(self, samples: int, seed: int) -> None:
        self.images, self.labels = make_images(samples, seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        raw = bytearray(zlib.decompress(self.images[index]))
        rows = torch.frombuffer(raw, dtype=torch.uint8).view(3, SIZE, SIZE)
        image = rows.cumsum(dim=1, dtype=torch.uint8)  # undo the "up" filter, mod 256
        return (image.float() / 255 - 0.5) / 0.25, self.labels[index]


def flip_and_shift(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Random horizontal flips and shifts of a whole batch, wherever the batch is."""
    images, labels = batch
    flip = torch.rand(images.shape[0], 1, 1, 1, device=images.device) < 0.5
    images = torch.where(flip, images.flip(3), images)
    shift = torch.randint(-SHIFT, SHIFT + 1, (2,)).tolist()
    return torch.roll(images, shifts=shift, dims=(2, 3)), labels


def model() -> nn.Module:
    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        )

    return nn.Sequential(
        nn.Conv2d(3, 32, 8, stride=8),  # a patchify stem: the model is cheap next to decoding
        block(32, 64),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, CLASSES),
    )


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=model,
    train_data=CompressedImages(4096, seed=0),
    eval_data=CompressedImages(1024, seed=1),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.AdamW(params, lr=2e-3),
    metric=accuracy,
    batch_augment=flip_and_shift,
    baseline={"batch_size": 64},
    epochs=3,
)

if __name__ == "__main__":
    autoaccel.train(task)
