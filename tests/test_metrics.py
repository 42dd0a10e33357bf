"""gan_lessons.metrics.mode_coverage on synthetic samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_lessons.data import TOY_STD, toy_dataset, toy_modes
from gan_lessons.metrics import ModeCoverage, mode_coverage

RING = toy_modes("ring")
STD = TOY_STD["ring"]


def test_real_data_covers_every_mode():
    cov = mode_coverage(toy_dataset("ring", 4000, seed=3), RING, STD)
    assert isinstance(cov, ModeCoverage)
    assert (cov.modes_captured, cov.num_modes, cov.num_samples) == (8, 8, 4000)
    assert cov.high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.01)  # 2-D Gaussian, 3 std
    assert sum(cov.counts) == round(cov.high_quality * 4000)
    assert all(cov.captured)
    assert cov.min_count == 100  # ceil(0.2 * 4000 / 8)
    assert "8/8 modes captured" in str(cov)


def test_one_mode_only():
    gen = torch.Generator().manual_seed(0)
    samples = RING[2] + STD * torch.randn(1000, 2, generator=gen)
    cov = mode_coverage(samples, RING, STD)
    assert cov.modes_captured == 1
    assert cov.captured == tuple(i == 2 for i in range(8))
    assert cov.counts[2] == sum(cov.counts) > 950
    assert cov.high_quality > 0.95


def test_far_away_samples_are_not_high_quality():
    samples = torch.full((500, 2), 10.0)
    cov = mode_coverage(samples, RING, STD)
    assert (cov.modes_captured, cov.high_quality, sum(cov.counts)) == (0, 0.0, 0)
    # between two modes: near neither (the ring's neighbours are 1.53 apart)
    midpoint = (RING[0] + RING[1]) / 2
    assert mode_coverage(midpoint.repeat(100, 1), RING, STD).high_quality == 0.0


def test_min_count_decides_captured():
    rng = np.random.default_rng(0)
    main = RING[0].numpy() + STD * rng.standard_normal((990, 2))
    stray = RING[5].numpy() + STD * rng.standard_normal((10, 2)) * 0.1
    samples = np.concatenate([main, stray])
    assert mode_coverage(samples, RING, STD).modes_captured == 1  # 10 < ceil(0.2 * 1000 / 8)
    assert mode_coverage(samples, RING, STD, min_count=10).modes_captured == 2


def test_threshold_scales_the_radius():
    samples = RING[0] + torch.tensor([[4 * STD, 0.0]]).repeat(50, 1)  # 4 std from mode 0
    assert mode_coverage(samples, RING, STD).high_quality == 0.0
    assert mode_coverage(samples, RING, STD, threshold=5.0).high_quality == 1.0


def test_nearest_mode_only_counts_once():
    modes = np.array([[0.0, 0.0], [1.0, 0.0]])
    samples = np.array([[0.4, 0.0], [0.6, 0.0]] * 10)
    cov = mode_coverage(samples, modes, std=1.0, min_count=1)
    assert cov.counts == (10, 10)
    assert cov.high_quality == 1.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"samples": np.zeros((5, 3))}, ValueError, "same dimension D"),
        ({"samples": np.zeros(5)}, ValueError, r"samples must have shape \(N, D\)"),
        ({"samples": np.zeros((0, 2))}, ValueError, "samples must have shape"),
        ({"samples": [[np.nan, 0.0]]}, ValueError, "samples must hold finite"),
        ({"samples": "points"}, TypeError, "samples must be an array"),
        ({"modes": np.zeros(2)}, ValueError, "modes must have shape"),
        ({"std": 0.0}, ValueError, "std must be > 0"),
        ({"std": "0.1"}, TypeError, "std must be a number"),
        ({"threshold": -1.0}, ValueError, "threshold must be > 0"),
        ({"min_count": 0}, ValueError, "min_count must be >= 1"),
        ({"min_count": 2.5}, TypeError, "min_count must be an int"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    args = {"samples": np.zeros((5, 2)), "modes": RING, "std": STD} | kwargs
    with pytest.raises(exc, match=match):
        mode_coverage(**args)
