"""Data augmentation with a conditional generator: does adding generated, labelled images help
a classifier that has only a few real labels?

The experiment: take a small balanced subset of labelled training images
(:func:`balanced_subset`), train a small classifier on it (:func:`train_small_classifier`),
and train it again on the same subset plus images drawn from a class-conditional generator
with their labels (:func:`generated_examples`); compare the test accuracies over several seeds
(:func:`~gan_lessons.feature_nets.classifier_accuracy`). Generated images are quantised to
uint8 like the real ones, so both go through the same random shifts.

Caveat for the reading of the numbers: a generator trained on *all* the labelled data has seen
more labels than the small subset; it then carries information the subset does not, and a gain
says that the generator passes it on, not that GANs make labels unnecessary.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_float, check_int
from .feature_nets import FeatureClassifier, FeatureClassifierConfig, _augment

__all__ = ["balanced_subset", "generated_examples", "small_classifier_config",
           "train_small_classifier"]


def _uint8_images(value, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.ndim != 4:
        raise TypeError(f"{name} must be a uint8 tensor (N, C, H, W), got "
                        f"{getattr(value, 'dtype', type(value).__name__)} of shape "
                        f"{tuple(getattr(value, 'shape', ()))}")
    return value


def _labels(value, n: int, name: str = "labels") -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{name} must be an integer tensor (N,), got "
                        f"{getattr(value, 'dtype', type(value).__name__)}")
    if value.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one per image, got "
                         f"{tuple(value.shape)}")
    return value.long()


def balanced_subset(labels: torch.Tensor, per_class: int, *, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` random examples of every class in ``labels`` ``(N,)``, class by
    class: ``(num_classes * per_class,)``. A class with fewer examples raises ``ValueError``."""
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1:
        raise TypeError(f"labels must be an integer tensor (N,), got "
                        f"{getattr(labels, 'shape', type(labels).__name__)}")
    labels = _labels(labels, len(labels))
    per_class = check_int(per_class, "per_class", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    rng = torch.Generator().manual_seed(seed)
    picks = []
    for k in torch.unique(labels).tolist():
        members = torch.nonzero(labels == k).flatten()
        if len(members) < per_class:
            raise ValueError(f"per_class must be at most the size of the smallest class; class "
                             f"{k} has {len(members)}")
        picks.append(members[torch.randperm(len(members), generator=rng)[:per_class]])
    return torch.cat(picks)


@torch.no_grad()
def generated_examples(generator: nn.Module, per_class: int, *, seed: int = 0,
                       batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` images of every class from a conditional generator, as uint8.

    Args:
        generator: ``generator(z (B, latent_dim), labels (B,)) -> images (B, C, H, W)`` in
            [-1, 1] with int attributes ``latent_dim`` and ``num_classes`` (e.g. the
            ``"generator_ema"`` of ``load_pretrained("cgan_mnist")``).
        per_class: images per class.
        seed: seeds ``z``.

    Returns:
        ``(images, labels)``, uint8 images ``(num_classes * per_class, C, H, W)`` (rounded
        from [-1, 1] to [0, 255]) and int64 labels, class by class.
    """
    num_classes = getattr(generator, "num_classes", None)
    latent_dim = getattr(generator, "latent_dim", None)
    if not isinstance(num_classes, int) or not isinstance(latent_dim, int):
        raise TypeError("generator must be a conditional generator with int attributes "
                        "num_classes and latent_dim (e.g. a ConditionalGenerator)")
    per_class = check_int(per_class, "per_class", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    z = torch.randn(len(labels), latent_dim, generator=torch.Generator().manual_seed(seed))
    device = next((p.device for p in generator.parameters()), torch.device("cpu"))
    was_training = generator.training
    generator.eval()
    try:
        images = torch.cat([generator(z[i:i + batch_size].to(device),
                                      labels[i:i + batch_size].to(device)).cpu()
                            for i in range(0, len(labels), batch_size)])
    finally:
        generator.train(was_training)
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8), labels


def small_classifier_config(channels: int = 1, image_size: int = 28) -> FeatureClassifierConfig:
    """A quarter-width :class:`~gan_lessons.feature_nets.FeatureClassifier` (about 19,000
    parameters for MNIST): enough for digits, quick to train on a CPU."""
    return FeatureClassifierConfig(channels=channels, image_size=image_size, stem_width=8,
                                   widths=(8, 16, 32), logit_scale=1.0)


def train_small_classifier(images: torch.Tensor, labels: torch.Tensor, *, steps: int = 500,
                           batch_size: int = 64, lr: float = 3e-3, pad: int = 2, seed: int = 0,
                           device: str | torch.device = "cpu") -> FeatureClassifier:
    """Train a small classifier (:func:`small_classifier_config`) from scratch on uint8
    ``images`` ``(N, C, H, W)`` with int ``labels`` ``(N,)``: Adam with ``lr`` decayed
    linearly to 0 over ``steps`` batches drawn with replacement, each image randomly shifted by
    up to ``pad`` pixels. Returns the network in eval mode. Deterministic given ``seed``."""
    images = _uint8_images(images, "images")
    labels = _labels(labels, len(images))
    if len(images) == 0:
        raise ValueError("images must hold at least one image")
    steps = check_int(steps, "steps", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    lr = check_float(lr, "lr", 0.0, exclusive_minimum=True)
    pad = check_int(pad, "pad", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    rng = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the initial weights
    num_classes = max(int(labels.max()) + 1, 2)
    config = dataclasses.replace(small_classifier_config(images.shape[1], images.shape[2]),
                                 num_classes=num_classes)
    net = FeatureClassifier(config).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / steps)
    net.train()
    for _ in range(steps):
        index = torch.randint(0, len(images), (batch_size,), generator=rng)
        x = _augment(images[index], pad, False, rng).to(device)
        loss = F.cross_entropy(net.logits(x), labels[index].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return net.eval()
