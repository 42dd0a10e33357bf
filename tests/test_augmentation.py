"""Tests of gan_lessons.augmentation: balanced subsets, generated labelled examples and the small
classifier of the data-augmentation experiment."""

from __future__ import annotations

import pytest
import torch

from gan_lessons.augmentation import (
    balanced_subset,
    generated_examples,
    small_classifier_config,
    train_small_classifier,
)
from gan_lessons.feature_nets import FeatureClassifier, classifier_accuracy
from gan_lessons.models import ConditionalGANConfig, ConditionalGenerator

LABELS = torch.tensor([0, 1, 2] * 20)  # 20 of each class


def _generator() -> ConditionalGenerator:
    torch.manual_seed(0)
    return ConditionalGenerator(ConditionalGANConfig(num_classes=3, image_size=16, channels=1,
                                                     latent_dim=4, width=4, max_width=8))


def test_balanced_subset_takes_per_class_of_every_class():
    index = balanced_subset(LABELS, 5, seed=1)
    assert index.shape == (15,)
    assert len(set(index.tolist())) == 15  # no repeats
    assert torch.equal(LABELS[index], torch.tensor([0] * 5 + [1] * 5 + [2] * 5))
    assert torch.equal(index, balanced_subset(LABELS, 5, seed=1))
    assert not torch.equal(index, balanced_subset(LABELS, 5, seed=2))


def test_generated_examples_are_uint8_images_of_every_class():
    g = _generator().train()
    images, labels = generated_examples(g, 4, seed=3)
    assert images.dtype == torch.uint8
    assert images.shape == (12, 1, 16, 16)
    assert torch.equal(labels, torch.tensor([0] * 4 + [1] * 4 + [2] * 4))
    assert g.training  # the caller's mode is restored
    with torch.no_grad():
        z = torch.randn(12, 4, generator=torch.Generator().manual_seed(3))
        expected = g.eval()(z, labels)
    assert torch.allclose(images.float() / 127.5 - 1, expected, atol=1 / 127.5)
    assert torch.equal(images, generated_examples(g, 4, seed=3)[0])


def test_the_small_classifier_learns_a_separable_task_and_is_deterministic():
    """Class 0: a bright left half; class 1: a bright right half."""
    images = torch.zeros(40, 1, 28, 28, dtype=torch.uint8)
    images[:20, :, :, :12] = 255
    images[20:, :, :, 16:] = 255
    labels = torch.tensor([0] * 20 + [1] * 20)
    net = train_small_classifier(images, labels, steps=60, batch_size=16, seed=0)
    assert isinstance(net, FeatureClassifier)
    assert not net.training
    assert classifier_accuracy(net, images, labels) == 1.0
    again = train_small_classifier(images, labels, steps=60, batch_size=16, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                 again.state_dict().values(), strict=True))


def test_small_classifier_config_is_small():
    net = FeatureClassifier(small_classifier_config())
    assert sum(p.numel() for p in net.parameters()) < 25_000


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: balanced_subset(LABELS, 21), ValueError, "per_class must be at most"),
    (lambda: balanced_subset(LABELS, 0), ValueError, "per_class"),
    (lambda: balanced_subset(LABELS.float(), 2), TypeError, "labels must be an integer tensor"),
    (lambda: balanced_subset([0, 1], 1), TypeError, "labels must be an integer tensor"),
    (lambda: generated_examples(torch.nn.Linear(2, 2), 1), TypeError,
     "generator must be a conditional generator"),
    (lambda: generated_examples(_generator(), 0), ValueError, "per_class"),
    (lambda: train_small_classifier(torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long)),
     TypeError, "images must be a uint8 tensor"),
    (lambda: train_small_classifier(torch.zeros(2, 1, 28, 28, dtype=torch.uint8),
                                    torch.zeros(3, dtype=torch.long)),
     ValueError, r"labels must have shape \(2,\)"),
    (lambda: train_small_classifier(torch.zeros(2, 1, 28, 28, dtype=torch.uint8),
                                    torch.zeros(2, dtype=torch.long), lr=0.0),
     ValueError, "lr"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
