"""A small convolutional network that classifies images and reconstructs them: two losses,
summed in its own training step, on batches autoaccel makes from a dataset."""

import torch
from torch import nn
from torch.utils.data import TensorDataset

import autoaccel


def make_images(samples, seed):
    rng = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 3, 8, 8, generator=rng)
    return TensorDataset(x, (x[:, 0].mean(dim=(1, 2)) > 0).long())


class ClassifyAndRebuild(nn.Module):
    def __init__(self):
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.classify = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
        self.rebuild = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, images):
        features = self.encode(images)
        return self.classify(features), self.rebuild(features)


def training_step(model, batch):
    images, labels = batch
    logits, rebuilt = model(images)
    classification = nn.functional.cross_entropy(logits, labels)
    reconstruction = nn.functional.mse_loss(rebuilt.float(), images)
    return classification + 0.5 * reconstruction


def accuracy(outputs, labels):
    logits, _ = outputs
    return (logits.argmax(dim=1) == labels).float().mean().item()


task = autoaccel.Task(
    model=ClassifyAndRebuild,
    train_data=make_images(512, 0),
    eval_data=make_images(128, 1),
    training_step=training_step,
    optimizer=lambda params: torch.optim.Adam(params, lr=3e-3),
    metric=accuracy,
    baseline={"batch_size": 16},
    epochs=1,
    run_epochs=2,
)

if __name__ == "__main__":
    autoaccel.train(task)
