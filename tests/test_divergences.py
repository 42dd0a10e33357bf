"""gan_lessons.divergences: D*, V(D, G), KL and JSD on discrete distributions (Goodfellow 2014)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_lessons.divergences import (
    generator_criterion,
    jensen_shannon,
    kl_divergence,
    optimal_discriminator,
    value_function,
)

LOG4 = math.log(4.0)


def _random_distribution(rng: np.random.Generator, k: int, zeros: int = 0) -> np.ndarray:
    p = rng.random(k)
    if zeros:
        p[rng.choice(k, size=zeros, replace=False)] = 0.0
    return p / p.sum()


@pytest.mark.parametrize("seed", range(20))
def test_theorem_1_for_random_distributions(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    p_data = _random_distribution(rng, k, zeros=int(rng.integers(0, k // 2 + 1)))
    p_g = _random_distribution(rng, k, zeros=int(rng.integers(0, k // 2 + 1)))
    lhs = generator_criterion(p_data, p_g)
    assert lhs == pytest.approx(-LOG4 + 2 * jensen_shannon(p_data, p_g), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_optimal_discriminator_beats_every_other(seed):
    rng = np.random.default_rng(seed)
    p_data, p_g = _random_distribution(rng, 6), _random_distribution(rng, 6)
    best = value_function(optimal_discriminator(p_data, p_g), p_data, p_g)
    for _ in range(200):
        d = rng.uniform(1e-6, 1 - 1e-6, size=6)
        assert value_function(d, p_data, p_g) <= best + 1e-12


def test_optimal_discriminator_values_and_zero_over_zero():
    p_data = np.array([0.5, 0.5, 0.0, 0.0])
    p_g = np.array([0.5, 0.0, 0.5, 0.0])
    d = optimal_discriminator(p_data, p_g)
    np.testing.assert_allclose(d, [0.5, 1.0, 0.0, 0.5])  # last: 0/0 -> the default 0.5
    marked = optimal_discriminator(p_data, p_g, undefined=float("nan"))
    assert np.isnan(marked[3])
    assert not np.isnan(marked[:3]).any()


def test_value_function_known_values():
    p = np.array([0.25, 0.75])
    assert value_function([0.5, 0.5], p, p) == pytest.approx(-LOG4)
    assert generator_criterion(p, p) == pytest.approx(-LOG4)  # the global minimum
    # 0 log 0 = 0: D = 0 where the data puts no mass costs nothing
    assert value_function([1.0, 0.0], [1.0, 0.0], [0.0, 1.0]) == 0.0
    assert value_function([0.0, 0.5], [0.5, 0.5], [0.5, 0.5]) == -math.inf


def test_value_function_matches_torch_bce():
    rng = np.random.default_rng(0)
    p_data, p_g = _random_distribution(rng, 5), _random_distribution(rng, 5)
    d = rng.uniform(0.05, 0.95, size=5)
    dt = torch.tensor(d)
    bce = (torch.nn.functional.binary_cross_entropy(dt, torch.ones(5, dtype=torch.float64), weight=torch.tensor(p_data),
                                                    reduction="sum")
           + torch.nn.functional.binary_cross_entropy(dt, torch.zeros(5, dtype=torch.float64),
                                                      weight=torch.tensor(p_g), reduction="sum"))
    assert value_function(d, p_data, p_g) == pytest.approx(-bce.item(), rel=1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_jsd_properties(seed):
    rng = np.random.default_rng(seed)
    p, q = _random_distribution(rng, 7, zeros=2), _random_distribution(rng, 7, zeros=2)
    js = jensen_shannon(p, q)
    assert js == pytest.approx(jensen_shannon(q, p), abs=1e-15)
    assert 0.0 <= js <= math.log(2)
    assert jensen_shannon(p, p) == pytest.approx(0.0, abs=1e-15)
    m = (p + q) / 2
    assert js == pytest.approx(0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m))


def test_jsd_disjoint_supports_is_log_2():
    assert jensen_shannon([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    assert generator_criterion([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.0)


def test_kl_against_torch_and_infinite_case():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    expected = torch.nn.functional.kl_div(torch.tensor(q).log(), torch.tensor(p), reduction="sum")
    assert kl_divergence(p, q) == pytest.approx(expected.item())
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_accepts_tensors_and_lists():
    assert jensen_shannon(torch.tensor([0.5, 0.5]), [0.5, 0.5]) == 0.0


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: jensen_shannon([0.5, 0.6], [0.5, 0.5]), ValueError, "p must sum to 1"),
        (lambda: jensen_shannon([0.5, 0.5], [1.5, -0.5]), ValueError, "q must be non-negative"),
        (lambda: jensen_shannon([1.0], [0.5, 0.5]), ValueError, "p and q must have the same"),
        (lambda: jensen_shannon([[0.5, 0.5]], [0.5, 0.5]), ValueError, "p must be a non-empty 1-D"),
        (lambda: jensen_shannon("ab", [0.5, 0.5]), TypeError, "p must be a 1-D array"),
        (lambda: optimal_discriminator([1.0, np.nan], [0.5, 0.5]), ValueError, "p_data must hold finite"),
        (lambda: optimal_discriminator([1.0, 0.0], [0.5, 0.5], undefined="x"), TypeError,
         "undefined"),
        (lambda: value_function([0.5, 1.5], [0.5, 0.5], [0.5, 0.5]), ValueError,
         r"d must hold probabilities in \[0, 1\]"),
        (lambda: value_function([0.5], [0.5, 0.5], [0.5, 0.5]), ValueError, "d and p_data"),
        (lambda: value_function([0.5, 0.5], [0.5, 0.5], [0.2, 0.2]), ValueError, "p_g must sum"),
        (lambda: kl_divergence([], []), ValueError, "p must be a non-empty"),
    ],
)
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_jensen_shannon_of_distributions_with_subnormal_tails_matches_scipy():
    """Discretised Gaussians whose tails underflow to subnormal numbers: (p + q) / 2 rounded
    those to 0 and the divergence came out as log 2 for two overlapping distributions."""
    from scipy.spatial.distance import jensenshannon

    x = np.linspace(-40, 40, 4001)
    p = np.exp(-0.5 * x**2)
    q = np.exp(-0.5 * (x - 0.5) ** 2)
    p, q = p / p.sum(), q / q.sum()
    assert (p[p > 0] < 1e-307).any()  # the tails really are subnormal
    # the oracle: scipy on the same distributions with the subnormal tails cut off (scipy's
    # own computation of m underflows too); the tails change the divergence by far less
    # than 1e-9. scipy returns the square root, in nats.
    cut_p, cut_q = np.where(p < 1e-300, 0, p), np.where(q < 1e-300, 0, q)
    expected = jensenshannon(cut_p / cut_p.sum(), cut_q / cut_q.sum()) ** 2
    assert jensen_shannon(p, q) == pytest.approx(expected, rel=1e-9)
    assert jensen_shannon(p, q) < 0.05
