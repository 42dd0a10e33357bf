"""Measuring a generator: mode coverage on mixtures of Gaussians.

On a toy set whose modes are known (the ring of 8 Gaussians, the 5x5 grid) mode collapse can be
*counted* instead of eyeballed. The recipe is the one of the VEEGAN and PacGAN papers: a
generated sample is **high quality** when it lies within ``threshold`` standard
deviations of the nearest mode centre, and it is then assigned to that mode; a mode is
**captured** when it received at least ``min_count`` samples. A good generator captures every
mode *and* puts almost all samples near one.

>>> import torch
>>> from gan_lessons.data import TOY_STD, toy_dataset, toy_modes
>>> real = toy_dataset("ring", 2000, seed=1)
>>> cov = mode_coverage(real, toy_modes("ring"), TOY_STD["ring"])
>>> cov.modes_captured, cov.num_modes, round(cov.high_quality, 2)  # 98.9 % expected
(8, 8, 0.99)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import check_float, check_int

__all__ = ["ModeCoverage", "mode_coverage"]


@dataclass(frozen=True)
class ModeCoverage:
    """The result of :func:`mode_coverage`.

    Attributes:
        modes_captured: how many modes received at least ``min_count`` samples.
        num_modes: the number of modes ``K``.
        counts: high-quality samples assigned to each mode, a tuple of ``K`` ints.
        high_quality: share of all samples that lie within ``threshold * std`` of a mode, in
            ``[0, 1]``.
        num_samples: the number of samples ``N``.
        min_count: the count a mode needed to be captured.
        threshold: the radius in standard deviations.
    """

    modes_captured: int
    num_modes: int
    counts: tuple[int, ...]
    high_quality: float
    num_samples: int
    min_count: int
    threshold: float

    @property
    def captured(self) -> tuple[bool, ...]:
        """For each mode, whether it was captured."""
        return tuple(c >= self.min_count for c in self.counts)

    def __str__(self) -> str:
        return (f"{self.modes_captured}/{self.num_modes} modes captured, "
                f"{100 * self.high_quality:.1f}% high-quality samples (N={self.num_samples}, "
                f"within {self.threshold:g} std, a mode needs >= {self.min_count})")


def _as_matrix(value, name: str) -> np.ndarray:
    """``value`` (numpy array, nested list or tensor on any device) as a finite ``(N, D)`` array."""
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be an array of shape (N, D), got {type(value).__name__}")
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch
        value = value.detach().float().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers of shape (N, D), got "
                        f"{type(value).__name__}") from exc
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, D) with N, D >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers (NaN or inf found)")
    return arr


def mode_coverage(samples, modes, std: float, threshold: float = 3.0,
                  min_count: int | None = None) -> ModeCoverage:
    """Count the modes of a Gaussian mixture that ``samples`` cover, and how many samples are good.

    Args:
        samples: generated points, shape ``(N, D)`` (a tensor or an array).
        modes: the mixture's mode centres, shape ``(K, D)``, e.g.
            :func:`gan_lessons.data.toy_modes` ``("ring")``.
        std: the standard deviation of every mode (e.g. ``gan_lessons.data.TOY_STD["ring"]``).
        threshold: a sample is high quality when its distance to the nearest centre is at most
            ``threshold * std`` (3 by default: 98.9 % of a 2-D Gaussian's mass lies within
            3 std of its centre).
        min_count: samples a mode needs to count as captured. Default: a fifth of what a
            perfect generator would put there, ``ceil(0.2 * N / K)``, at least 1 (PacGAN's
            rule: 20 of the expected 100 when ``N = 2500`` samples fall on ``K = 25`` modes).

    Returns:
        A :class:`ModeCoverage` (``modes_captured``, ``counts``, ``high_quality`` ...).

    Each sample is assigned to its nearest centre only, so overlapping balls never count a
    sample twice.
    """
    x = _as_matrix(samples, "samples")
    centres = _as_matrix(modes, "modes")
    if x.shape[1] != centres.shape[1]:
        raise ValueError(f"samples and modes must have the same dimension D, got samples "
                         f"{x.shape} and modes {centres.shape}")
    std = check_float(std, "std", 0.0, exclusive_minimum=True)
    threshold = check_float(threshold, "threshold", 0.0, exclusive_minimum=True)
    n, k = x.shape[0], centres.shape[0]
    if min_count is None:
        min_count = max(1, math.ceil(0.2 * n / k))
    min_count = check_int(min_count, "min_count", minimum=1)

    # squared distances (N, K), one row per sample, computed in chunks to bound memory
    nearest = np.empty(n, dtype=np.int64)
    nearest_d2 = np.empty(n)
    for start in range(0, n, 8192):
        chunk = x[start:start + 8192]  # (n_c, D)
        d2 = ((chunk[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # (n_c, K)
        idx = d2.argmin(axis=1)
        nearest[start:start + len(chunk)] = idx
        nearest_d2[start:start + len(chunk)] = d2[np.arange(len(chunk)), idx]
    good = nearest_d2 <= (threshold * std) ** 2  # (N,)
    counts = np.bincount(nearest[good], minlength=k)  # (K,)
    return ModeCoverage(
        modes_captured=int((counts >= min_count).sum()),
        num_modes=k,
        counts=tuple(int(c) for c in counts),
        high_quality=float(good.mean()),
        num_samples=n,
        min_count=min_count,
        threshold=threshold,
    )
