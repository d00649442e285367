"""A small CNN on 32x32 colour images stored as uint8, augmented per sample on the CPU.

The augmentation (random crop, flip, normalise) runs in ``__getitem__``, as with a real
image dataset, so DataLoader workers matter here.

    autoaccel tune examples/cnn.py
    python examples/cnn.py
"""

import torch
from torch import nn
from torch.utils.data import Dataset

import autoaccel

CLASSES, SIZE = 10, 32
MEAN = torch.tensor([0.5, 0.5, 0.5]).view(3, 1, 1)
STD = torch.tensor([0.25, 0.25, 0.25]).view(3, 1, 1)


def make_images(samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each class is a colour blob at a class-specific place and size, on textured noise."""
    rng = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (samples,), generator=rng)
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    centres = torch.tensor([[8 + 16 * (c % 2), 6 + 5 * (c // 2)] for c in range(CLASSES)])
    colours = torch.rand(CLASSES, 3, generator=torch.Generator().manual_seed(99))
    radius = 4.0 + (torch.arange(CLASSES) % 3).float()
    jitter = torch.randint(-3, 4, (samples, 2), generator=rng)
    cx = (centres[labels, 0] + jitter[:, 0]).view(-1, 1, 1)
    cy = (centres[labels, 1] + jitter[:, 1]).view(-1, 1, 1)
    blob = ((xx - cx) ** 2 + (yy - cy) ** 2).float() < radius[labels].view(-1, 1, 1) ** 2
    noise = torch.rand(samples, 3, SIZE, SIZE, generator=rng) * 0.6
    images = noise + blob.unsqueeze(1) * colours[labels].view(-1, 3, 1, 1)
    return (images.clamp(0, 1) * 255).to(torch.uint8), labels


class Images(Dataset):
    def __init__(self, samples: int, seed: int, augment: bool) -> None:
        self.images, self.labels = make_images(samples, seed)
        self.augment = augment

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].float() / 255
        if self.augment:
            padded = nn.functional.pad(image, (2, 2, 2, 2), mode="reflect")
            top, left = torch.randint(0, 5, (2,)).tolist()
            image = padded[:, top : top + SIZE, left : left + SIZE]
            if torch.rand(()) < 0.5:
                image = image.flip(2)
        return (image - MEAN) / STD, self.labels[index]


def model() -> nn.Module:
    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        )

    return nn.Sequential(
        block(3, 32),
        nn.MaxPool2d(2),
        block(32, 64),
        nn.MaxPool2d(2),
        block(64, 128),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, CLASSES),
    )


def decay_to_zero(optimizer: torch.optim.Optimizer, steps: int):
    """Linear decay of the learning rate to zero at the end of the run."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=model,
    train_data=Images(8192, seed=0, augment=True),
    eval_data=Images(2048, seed=1, augment=False),
    loss=nn.functional.cross_entropy,
    optimizer=lambda params: torch.optim.AdamW(params, lr=2e-3),
    metric=accuracy,
    scheduler=decay_to_zero,
    baseline={"batch_size": 64},
    epochs=1,
)

if __name__ == "__main__":
    autoaccel.train(task)
