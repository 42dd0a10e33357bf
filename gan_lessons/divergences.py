r"""The theory of the GAN game on *discrete* distributions, where every expectation is a sum.

Goodfellow et al. (2014) show two facts about the value function

.. math::
    V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{x \sim p_g}[\log(1 - D(x))]

1. For a fixed generator the best discriminator is ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``
   (Proposition 1): maximise ``a log y + b log(1 - y)`` pointwise, the maximum is at
   ``y = a / (a + b)``.
2. Plugging it in gives the generator's criterion
   ``C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g)`` (Theorem 1), minimal (``-log 4``)
   exactly when ``p_g = p_data``.

With distributions given as probability vectors over ``K`` outcomes, this module computes each
side so that the book (and its tests) can check both facts numerically. Natural logarithms
throughout; the convention ``0 log 0 = 0`` is applied wherever a probability is zero.

>>> import numpy as np
>>> p, q = np.array([0.5, 0.5, 0.0]), np.array([0.1, 0.3, 0.6])
>>> d_star = optimal_discriminator(p, q)
>>> bool(np.isclose(value_function(d_star, p, q), -np.log(4) + 2 * jensen_shannon(p, q)))
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "generator_criterion",
    "jensen_shannon",
    "kl_divergence",
    "optimal_discriminator",
    "value_function",
]

_ATOL = 1e-6


def _as_vector(value, name: str) -> np.ndarray:
    """``value`` as a 1-D float64 array of finite numbers (numpy, lists, CPU tensors)."""
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(value).__name__}")
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(value).__name__}") \
            from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers, got {arr}")
    return arr


def _as_distribution(value, name: str) -> np.ndarray:
    """A probability vector: non-negative entries summing to 1 (within ``1e-6``)."""
    p = _as_vector(value, name)
    if np.any(p < 0):
        raise ValueError(f"{name} must be non-negative (a probability vector), got {p}")
    total = float(p.sum())
    if not math.isclose(total, 1.0, abs_tol=_ATOL):
        raise ValueError(f"{name} must sum to 1 (a probability vector), it sums to {total:.8g}")
    return p


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {a.shape[0]} "
                         f"and {b.shape[0]}")


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)`` with ``0 * log(anything) = 0`` (so ``0 log 0 = 0``); ``-inf`` where
    ``x > 0`` and ``y = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def optimal_discriminator(p_data, p_g, *, undefined: float = 0.5) -> np.ndarray:
    """The best discriminator for a fixed generator: ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``.

    Args:
        p_data: probabilities of the data distribution, shape ``(K,)``.
        p_g: probabilities of the generator's distribution, shape ``(K,)``.
        undefined: the value returned where ``p_data(x) = p_g(x) = 0``. There ``D*`` is 0/0: the
            outcome has no weight in ``V``, so *every* value of ``D(x)`` is optimal. ``0.5``
            (the default) is the natural "cannot tell"; pass ``float("nan")`` to mark such
            outcomes instead.

    Returns:
        ``D*`` of shape ``(K,)``, in ``[0, 1]``; 1 where only the data puts mass, 0 where only
        the generator does.
    """
    p_data = _as_distribution(p_data, "p_data")
    p_g = _as_distribution(p_g, "p_g")
    _same_shape(p_data, p_g, "p_data", "p_g")
    if isinstance(undefined, bool) or not isinstance(undefined, int | float):
        raise TypeError(f"undefined must be a float, got {type(undefined).__name__}")
    total = p_data + p_g
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), float(undefined))


def value_function(d, p_data, p_g) -> float:
    """``V(D, G) = sum_x p_data(x) log D(x) + sum_x p_g(x) log(1 - D(x))`` (natural log).

    Eq. (1) of Goodfellow et al. (2014) with the expectations written as sums over ``K``
    outcomes, and ``p_g`` standing for the distribution of ``G(z)``.

    Args:
        d: the discriminator's probabilities ``D(x)`` in ``[0, 1]``, shape ``(K,)``.
        p_data, p_g: probability vectors of shape ``(K,)``.

    Returns:
        A float ``<= 0``; ``-inf`` when ``D(x) = 0`` on an outcome the data uses (or ``D(x) = 1``
        on one the generator uses). Terms with zero probability count as 0.
    """
    d = _as_vector(d, "d")
    if np.any((d < 0) | (d > 1)):
        raise ValueError(f"d must hold probabilities in [0, 1], got {d}")
    p_data = _as_distribution(p_data, "p_data")
    p_g = _as_distribution(p_g, "p_g")
    _same_shape(d, p_data, "d", "p_data")
    _same_shape(p_data, p_g, "p_data", "p_g")
    return float(np.sum(_xlogy(p_data, d)) + np.sum(_xlogy(p_g, 1.0 - d)))


def kl_divergence(p, q) -> float:
    """``KL(p || q) = sum_x p(x) log(p(x) / q(x))`` in nats; ``inf`` if ``q(x) = 0 < p(x)``."""
    p = _as_distribution(p, "p")
    q = _as_distribution(q, "q")
    _same_shape(p, q, "p", "q")
    with np.errstate(divide="ignore"):
        return float(np.sum(_xlogy(p, p) - _xlogy(p, q)))


def jensen_shannon(p, q) -> float:
    """The Jensen-Shannon divergence ``JSD(p || q) = KL(p || m)/2 + KL(q || m)/2``, ``m = (p+q)/2``.

    In nats (natural log): symmetric, ``0`` exactly when ``p = q``, at most ``log 2`` (reached
    when ``p`` and ``q`` have disjoint supports). Unlike KL it is always finite.

    Args:
        p, q: probability vectors of shape ``(K,)``.
    """
    p = _as_distribution(p, "p")
    q = _as_distribution(q, "q")
    _same_shape(p, q, "p", "q")
    # KL(p || m) = sum p log(2p / s) with s = p + q, and p log s + q log s = s log s, so
    # JSD = log 2 + (sum p log p + sum q log q - sum s log s) / 2. Written with s instead of
    # m = s / 2, which underflows to 0 for subnormal p and q (5e-324 / 2 == 0) and made the
    # result log 2 for overlapping distributions with tiny tails.
    s = p + q  # s >= p > 0 wherever p > 0: every log below is finite
    js = math.log(2) + 0.5 * float(np.sum(_xlogy(p, p)) + np.sum(_xlogy(q, q))
                                   - np.sum(_xlogy(s, s)))
    return float(min(max(js, 0.0), math.log(2)))  # clip float rounding


def generator_criterion(p_data, p_g) -> float:
    """``C(G) = max_D V(D, G) = V(D*, G)``: the value the generator minimises.

    Computed from :func:`optimal_discriminator` and :func:`value_function` (not from the JSD),
    so that comparing it with ``-log 4 + 2 * jensen_shannon(p_data, p_g)`` checks Theorem 1.
    """
    return value_function(optimal_discriminator(p_data, p_g), p_data, p_g)
