"""Exact W1 (gan_lessons.wasserstein) against SciPy's 1-D distance and a brute-force search."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from gan_lessons.wasserstein import wasserstein_1d, wasserstein_matching


def test_1d_against_scipy_on_random_distributions():
    rng = np.random.default_rng(0)
    centres = np.arange(40) * 0.25
    for _ in range(5):
        p, q = rng.random(40), rng.random(40)
        p[rng.random(40) < 0.3] = 0.0
        p, q = p / p.sum(), q / q.sum()
        expected = wasserstein_distance(centres, centres, p, q)
        assert wasserstein_1d(p, q, cell_width=0.25) == pytest.approx(expected, rel=1e-12)


def test_1d_shift_of_a_uniform_costs_the_shift():
    p = np.zeros(100)
    p[10:20] = 0.1
    q = np.roll(p, 37)
    assert wasserstein_1d(p, q, cell_width=0.01) == pytest.approx(0.37)
    assert wasserstein_1d(p, p) == 0.0


def test_matching_against_brute_force_over_every_permutation():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 3, generator=gen), torch.randn(6, 3, generator=gen)
    cost = torch.cdist(a.double(), b.double()).numpy()
    best = min(cost[range(6), perm].mean() for perm in itertools.permutations(range(6)))
    assert wasserstein_matching(a, b) == pytest.approx(best, rel=1e-12)


def test_matching_in_one_dimension_equals_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=200), rng.normal(1.0, 2.0, size=200)
    assert wasserstein_matching(a[:, None], b[:, None]) == pytest.approx(
        wasserstein_distance(a, b), rel=1e-10)


def test_matching_a_shifted_cloud_costs_the_length_of_the_shift():
    a = np.random.default_rng(2).normal(size=(50, 4))
    shift = np.array([3.0, 0.0, -4.0, 0.0])
    assert wasserstein_matching(a, a + shift) == pytest.approx(5.0)
    assert wasserstein_matching(a, a) == 0.0


@pytest.mark.parametrize(("call", "error", "fragment"), [
    (lambda: wasserstein_1d([0.5, 0.5], [1.0]), ValueError, "p and q must have the same length"),
    (lambda: wasserstein_1d([0.5, 0.4], [0.5, 0.5]), ValueError, "p must sum to 1"),
    (lambda: wasserstein_1d([1.0], [1.0], cell_width=0), ValueError, "cell_width must be > 0"),
    (lambda: wasserstein_1d([1.0], [1.0], cell_width="1"), TypeError, "cell_width must be a"),
    (lambda: wasserstein_matching(np.zeros((3, 2)), np.zeros((4, 2))), ValueError,
     "a and b must have the same shape"),
    (lambda: wasserstein_matching(np.zeros(3), np.zeros(3)), ValueError, "a must have shape"),
    (lambda: wasserstein_matching("a", np.zeros((3, 2))), TypeError, "a must be an array"),
    (lambda: wasserstein_matching(np.zeros((2, 2)), [[0, np.nan], [0, 0]]), ValueError,
     "b must hold finite numbers"),
])
def test_bad_input_names_the_argument(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()
