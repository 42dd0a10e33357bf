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

On images, sample-based metrics compare features of a fixed network (see
:mod:`gan_lessons.feature_nets`): :func:`frechet_distance` (FID), :func:`kernel_distance` (KID),
:func:`inception_score` (IS) and :func:`prdc` (precision, recall, density, coverage), all on
``(N, D)`` arrays or tensors in float64. :func:`evaluate` samples a generator, extracts the
features and reports every metric beside its real-vs-real reference at the same N.
"""

from __future__ import annotations

import itertools
import math
import os
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import check_bool, check_choice, check_float, check_int

__all__ = ["METRICS", "PRDC", "Evaluation", "ModeCoverage", "Score", "clear_cache", "evaluate",
           "evaluate_checkpoint", "frechet_distance", "inception_score", "kernel_distance",
           "load_feature_net", "mode_coverage", "prdc"]



def load_feature_net(name: str, **kwargs):
    """The feature network the metrics compare images with: ``"mnist"``, ``"cifar10"`` (bundled
    classifiers) or ``"inception"`` (pytorch-fid's FID network, given its weights). The same as
    :func:`gan_lessons.feature_nets.load_feature_net`, which documents the keyword arguments;
    here so that the metrics' API is in one place."""
    from .feature_nets import load_feature_net as load

    return load(name, **kwargs)

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


# =========================================================================== sample-based metrics
# FID, KID, IS and precision/recall/density/coverage on features (N, D) of a fixed network, and
# evaluate(), which samples a generator, extracts the features and scores them against real data
# with the real-vs-real floor beside every number. numpy in float64; torch (eigenvalues, subsets,
# evaluate) is imported when a function runs, so importing this module imports no torch.

_CHUNK_ELEMENTS = 1 << 22  # float64 elements per block of a distance matrix (32 MB)


def _feature_matrix(value, name: str) -> np.ndarray:
    """``value`` (numpy array, torch tensor or nested list ``(N, D)``) as a float64 array, checked:
    2-D, at least 2 rows and 1 column, finite numbers."""
    if value is None or isinstance(value, str | bytes | dict | set):
        raise TypeError(f"{name} must be a numpy array or torch tensor of shape (N, D), got "
                        f"{type(value).__name__}")
    if hasattr(value, "detach") and hasattr(value, "dtype"):  # a torch.Tensor (torch not imported)
        if value.dtype.is_complex or str(value.dtype) == "torch.bool":
            raise TypeError(f"{name} must hold real numbers, got a tensor of {value.dtype}")
        value = value.detach().cpu().double().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numpy array or torch tensor of shape (N, D), got "
                        f"{type(value).__name__}") from exc
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers (float or int), got dtype {arr.dtype} "
                        f"from a {type(value).__name__}")
    if arr.ndim != 2:
        hint = "; one feature per sample is x.reshape(-1, 1)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (N, D): N samples of D features, got shape "
                         f"{arr.shape}{hint}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 samples (rows), got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least 1 feature (column), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(f"{name} must be finite: row {row} holds NaN or Inf "
                         f"({int((~finite).sum())} of {len(arr)} rows do)")
    return arr


def _feature_pair(real_features, fake_features) -> tuple[np.ndarray, np.ndarray]:
    x = _feature_matrix(real_features, "real_features")
    y = _feature_matrix(fake_features, "fake_features")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"real_features and fake_features must have the same feature dimension "
                         f"D, got real_features {x.shape} and fake_features {y.shape}")
    return x, y


def _mean_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``x`` ``(N, D)``, float64."""
    mu = x.mean(axis=0)
    xc = x - mu  # (N, D)
    cov = xc.T @ xc  # (D, D); numpy uses BLAS syrk for a product with its own transpose
    cov /= len(x) - 1
    return mu, cov


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr sqrt(sigma1 @ sigma2)`` for symmetric positive semi-definite ``(D, D)`` matrices.

    With ``sigma1 = F F^T`` the product ``sigma1 sigma2`` has the eigenvalues of the symmetric
    ``F^T sigma2 F``, which a symmetric eigensolver finds accurately in float64; tiny negative
    eigenvalues (rounding) are clipped to 0 before the square root. ``F`` is the Cholesky factor
    or, for a singular ``sigma1`` (N <= D, constant features), ``V sqrt(Lambda)`` from its
    eigendecomposition.
    """
    import torch

    a = torch.from_numpy(sigma1)
    factor, info = torch.linalg.cholesky_ex(a)  # a = L L^T, info > 0 when a is not definite
    if int(info) == 0:
        f = factor.numpy()
    else:
        lam, v = torch.linalg.eigh(a)
        f = (v * lam.clamp(min=0).sqrt()).numpy()  # (D, D), f f^T = a
    m = f.T @ sigma2 @ f  # (D, D), symmetric PSD, same eigenvalues as sigma1 @ sigma2
    m = (m + m.T) / 2
    eigenvalues = torch.linalg.eigvalsh(torch.from_numpy(m)).clamp(min=0)
    return float(eigenvalues.sqrt().sum())


def _frechet_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2 * _trace_sqrt_product(sigma1, sigma2))
    return max(float(value), 0.0)  # a distance; a tiny negative value is rounding


def frechet_distance(real_features, fake_features) -> float:
    r"""The Fréchet distance between Gaussians fitted to two sets of features (FID when the
    features are InceptionV3's; Heusel et al. 2017):

    .. math:: \|\mu_r - \mu_f\|^2 + \operatorname{tr}\big(\Sigma_r + \Sigma_f
              - 2 (\Sigma_r \Sigma_f)^{1/2}\big)

    Args:
        real_features: ``(N_r, D)`` numpy array or torch tensor.
        fake_features: ``(N_f, D)``, the same ``D``.

    Returns:
        The distance, a float ``>= 0``. Means and unbiased covariances (``N - 1``) are computed in
        float64, and the trace of the matrix square root from the eigenvalues of a symmetric
        matrix similar to ``Sigma_r Sigma_f`` (as torchmetrics and torch-fidelity take it from
        eigenvalues; no ``scipy.linalg.sqrtm``). FID is biased upwards at small N: compare
        values at the same N only.

    >>> x = np.random.default_rng(0).normal(size=(500, 4))
    >>> frechet_distance(x, x) < 1e-9, round(frechet_distance(x, x + 1), 3)
    (True, 4.0)
    """
    x, y = _feature_pair(real_features, fake_features)
    return _frechet_from_stats(*_mean_cov(x), *_mean_cov(y))


def _mmd2_unbiased(x_sub: np.ndarray, y_sub: np.ndarray) -> float:
    """Unbiased MMD^2 of two equal-size subsets ``(m, D)`` with k(a, b) = (a.b / D + 1)^3."""
    m, d = x_sub.shape
    z = np.empty((2 * m, d + 1))  # rows [a / sqrt(D), 1]: z z^T holds a.b / D + 1
    z[:m, :d] = x_sub
    z[m:, :d] = y_sub
    z[:, :d] *= 1.0 / math.sqrt(d)
    z[:, d] = 1.0
    step = max(1, _CHUNK_ELEMENTS // (2 * m))  # rows of the kernel matrix per block
    sums = np.zeros((2, 2))  # [[xx, xy], [-, yy]] sums of k over pairs of distinct samples
    for start in range(0, 2 * m, step):
        stop = min(start + step, 2 * m)
        # (rows, 2m) a.b / D + 1; the whole matrix in one symmetric (BLAS syrk) product
        base = z @ z.T if stop - start == 2 * m else z[start:stop] @ z.T
        split = min(max(m - start, 0), stop - start)  # rows [0, split) are real samples
        for i, j, rows, cols in ((0, 0, slice(0, split), slice(0, m)),
                                 (0, 1, slice(0, split), slice(m, None)),
                                 (1, 1, slice(split, None), slice(m, None))):
            block = base[rows, cols]
            sums[i, j] += np.einsum("ij,ij,ij->", block, block, block)  # sum of cubes, 1 pass
        rows = np.arange(stop - start)
        self_kernel = base[rows, start + rows] ** 3  # k(a, a), left out of the within sums
        sums[0, 0] -= self_kernel[:split].sum()
        sums[1, 1] -= self_kernel[split:].sum()
    return float((sums[0, 0] + sums[1, 1]) / (m * (m - 1)) - 2 * sums[0, 1] / (m * m))


def kernel_distance(real_features, fake_features, *, num_subsets: int = 100,
                    subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    r"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of the squared
    maximum mean discrepancy with the cubic polynomial kernel
    :math:`k(x, y) = (x^\top y / D + 1)^3`, averaged over random subsets.

    Args:
        real_features: ``(N_r, D)`` numpy array or torch tensor.
        fake_features: ``(N_f, D)``, the same ``D``.
        num_subsets: how many pairs of subsets to average over.
        subset_size: samples per subset, at least 2 and at most ``min(N_r, N_f)``.
        seed: seeds the subsets. They are drawn with ``torch.randperm`` (real, then fake, for
            each subset) from a generator seeded with ``seed``, the very subsets torchmetrics'
            ``KernelInceptionDistance`` uses after ``torch.manual_seed(seed)``.

    Returns:
        ``(mean, std)`` over the subsets (population std, as torchmetrics). Unlike FID the
        estimate is unbiased: its expectation does not depend on the sample size, and it can be
        slightly negative when the two sets come from the same distribution.
    """
    x, y = _feature_pair(real_features, fake_features)
    num_subsets = check_int(num_subsets, "num_subsets", minimum=1)
    subset_size = check_int(subset_size, "subset_size", minimum=2)
    if subset_size > min(len(x), len(y)):
        raise ValueError(f"subset_size must be at most the size of each set, got {subset_size} "
                         f"with {len(x)} real and {len(y)} fake samples")
    seed = check_int(seed, "seed", minimum=0)
    import torch

    gen = torch.Generator().manual_seed(seed)
    scores = np.empty(num_subsets)
    for i in range(num_subsets):
        real_idx = torch.randperm(len(x), generator=gen)[:subset_size].numpy()
        fake_idx = torch.randperm(len(y), generator=gen)[:subset_size].numpy()
        scores[i] = _mmd2_unbiased(x[real_idx], y[fake_idx])
    return float(scores.mean()), float(scores.std())


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def inception_score(logits, *, splits: int = 10) -> tuple[float, float]:
    r"""Inception Score (Salimans et al. 2016) from a classifier's logits:
    :math:`\exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\|\, p(y))\big)`, where
    :math:`p(y)` is the mean prediction over the split.

    Args:
        logits: ``(N, K)`` class logits (not probabilities), numpy array or torch tensor.
        splits: the samples are cut into this many contiguous parts of (almost) equal size,
            ``[i N / splits, (i + 1) N / splits)``, as in the original code; ``1 <= splits <= N``.

    Returns:
        ``(mean, std)`` of the per-split scores (population std, as the original code). The
        score lies in ``[1, K]``: 1 when every prediction is the same distribution (e.g.
        uniform), K when predictions are confident and the classes balanced. It never looks at
        real data.
    """
    z = _feature_matrix(logits, "logits")
    n = len(z)
    splits = check_int(splits, "splits", minimum=1, maximum=n)
    log_p = _log_softmax(z, axis=1)  # (N, K)
    p = np.exp(log_p)
    scores = np.empty(splits)
    for i in range(splits):
        part = slice(i * n // splits, (i + 1) * n // splits)
        lp = log_p[part]  # (n_i, K)
        top = lp.max(axis=0)
        log_marginal = top + np.log(np.exp(lp - top).mean(axis=0))  # log p(y) over the split (K,)
        kl = (p[part] * (lp - log_marginal)).sum(axis=1)  # (n_i,)
        scores[i] = np.exp(kl.mean())
    return float(scores.mean()), float(scores.std())


@dataclass(frozen=True)
class PRDC:
    """The result of :func:`prdc`.

    Attributes:
        precision: share of fake samples inside the k-NN ball of some real sample (fidelity).
        recall: share of real samples inside the k-NN ball of some fake sample (diversity).
        density: fake samples' mean count of real k-NN balls containing them, divided by k
            (about 1 when fake and real match; above 1 when fakes crowd dense real regions).
        coverage: share of real samples whose k-NN ball contains some fake sample.
        k: the neighbourhood size.
    """

    precision: float
    recall: float
    density: float
    coverage: float
    k: int

    def __str__(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f}, density "
                f"{self.density:.3f}, coverage {self.coverage:.3f} (k={self.k})")


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _squared_distances(a, b, a_sq, b_sq) -> np.ndarray:
    """``(len(a), len(b))`` squared Euclidean distances, clipped at 0."""
    d = a @ b.T
    d *= -2.0
    d += a_sq[:, None]
    d += b_sq[None, :]
    return np.maximum(d, 0.0, out=d)


def _kth_neighbour_sq(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest other row ``(N,)``."""
    n = len(x)
    sq = _squared_norms(x)
    out = np.empty(n)
    step = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n, step):
        stop = min(start + step, n)
        d = _squared_distances(x[start:stop], x, sq[start:stop], sq)  # (c, N)
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0  # itself, at rank 0
        out[start:stop] = np.partition(d, k, axis=1)[:, k]
    return out


def _prdc_arrays(x: np.ndarray, y: np.ndarray, k: int,
                 real_radii: np.ndarray | None = None) -> PRDC:
    real_r = _kth_neighbour_sq(x, k) if real_radii is None else real_radii  # (N_r,)
    fake_r = _kth_neighbour_sq(y, k)  # (N_f,)
    x_sq, y_sq = _squared_norms(x), _squared_norms(y)
    precise = np.empty(len(y), dtype=bool)
    density_counts = np.empty(len(y))
    recalled = np.zeros(len(x), dtype=bool)
    nearest_fake = np.full(len(x), np.inf)
    step = max(1, _CHUNK_ELEMENTS // len(x))
    for start in range(0, len(y), step):  # blocks of fake samples, all real ones
        stop = min(start + step, len(y))
        d = _squared_distances(x, y[start:stop], x_sq, y_sq[start:stop])  # (N_r, c)
        inside_real = d < real_r[:, None]  # fake j within real i's k-NN radius
        precise[start:stop] = inside_real.any(axis=0)
        density_counts[start:stop] = inside_real.sum(axis=0)
        recalled |= (d < fake_r[None, start:stop]).any(axis=1)
        np.minimum(nearest_fake, d.min(axis=1), out=nearest_fake)
    return PRDC(precision=float(precise.mean()), recall=float(recalled.mean()),
                density=float(density_counts.sum() / (k * len(y))),
                coverage=float((nearest_fake < real_r).mean()), k=k)


def prdc(real_features, fake_features, *, k: int = 5) -> PRDC:
    """Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al.
    2020) of fake features against real ones, with k-nearest-neighbour balls.

    Each sample's ball has the radius of its k-th nearest neighbour in its own set (itself
    excluded). Precision: share of fakes inside some real ball; recall: share of reals inside
    some fake ball; density: how many real balls hold a fake, on average over the fakes,
    divided by k; coverage: share of real balls that hold at least one fake. Distances are
    Euclidean in float64, computed in blocks of at most 32 MB, so 10,000 x 10,000 fits in
    memory. The definitions, including strict ``<``, follow Naeem et al.'s ``prdc`` package.

    Args:
        real_features: ``(N_r, D)`` numpy array or torch tensor.
        fake_features: ``(N_f, D)``, the same ``D``.
        k: neighbourhood size, ``1 <= k < min(N_r, N_f)`` (5 in both papers).

    Returns:
        A :class:`PRDC` with ``precision``, ``recall``, ``density`` and ``coverage``.
    """
    x, y = _feature_pair(real_features, fake_features)
    k = check_int(k, "k", minimum=1)
    if k >= min(len(x), len(y)):
        raise ValueError(f"k must be below the number of samples in each set, got k={k} with "
                         f"{len(x)} real and {len(y)} fake samples")
    return _prdc_arrays(x, y, k)


# --------------------------------------------------------------------------- evaluate

METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage")
"""The metric names :func:`evaluate` knows; ``"prdc"`` stands for the last four."""

_LABELS = {"fid": "FID", "kid": "KID", "is": "IS", "precision": "precision", "recall": "recall",
           "density": "density", "coverage": "coverage"}
_PRDC_NAMES = ("precision", "recall", "density", "coverage")


@dataclass(frozen=True)
class Score:
    """One metric of an :class:`Evaluation`: the model's value and its real-vs-real floor.

    Attributes:
        name: ``"fid"``, ``"kid"``, ``"is"``, ``"precision"``, ``"recall"``, ``"density"`` or
            ``"coverage"``.
        value: the generator's score.
        reference: the same metric between two disjoint real sets of the same size: what a
            perfect generator would get at this sample size (a floor for FID and KID).
        std: the spread over KID subsets or IS splits, else None.
        reference_std: the same for ``reference``.
    """

    name: str
    value: float
    reference: float
    std: float | None = None
    reference_std: float | None = None


def _format_value(value: float, std: float | None) -> str:
    text = f"{value:.4g}"
    return text if std is None else f"{text} ± {std:.2g}"


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`: every metric with its real-vs-real reference.

    ``evaluation["fid"].value``, ``evaluation["fid"].reference``; ``print(evaluation)`` shows a
    table at most 79 characters wide; :meth:`as_dict` gives plain numbers.

    Attributes:
        scores: one :class:`Score` per metric, in the order asked for.
        num_samples: samples per set (generated, real, and the real reference set).
        dataset: what the real data was, e.g. ``"mnist"``.
        feature_net: which network made the features (scores made with different networks are
            not comparable).
        reference: how the real-vs-real reference was made, e.g. ``"mnist train vs test"``.
    """

    scores: tuple[Score, ...]
    num_samples: int
    dataset: str
    feature_net: str
    reference: str

    @property
    def names(self) -> tuple[str, ...]:
        """The metric names, in table order."""
        return tuple(s.name for s in self.scores)

    def __getitem__(self, name: str) -> Score:
        for score in self.scores:
            if score.name == name:
                return score
        raise KeyError(f"no metric {name!r} in this evaluation (it has {self.names})")

    def as_dict(self) -> dict[str, dict[str, float | None]]:
        """``{name: {"value", "std", "reference", "reference_std"}}``."""
        return {s.name: {"value": s.value, "std": s.std, "reference": s.reference,
                         "reference_std": s.reference_std} for s in self.scores}

    def __str__(self) -> str:
        import textwrap

        rows = [f"{'':<11}{'model':<24}real vs real"]
        rows += [f"{_LABELS[s.name]:<11}{_format_value(s.value, s.std):<24}"
                 f"{_format_value(s.reference, s.reference_std)}" for s in self.scores]
        note = (f"N = {self.num_samples} per set, {self.feature_net} features; real vs real: "
                f"{self.reference}. Scores from different feature networks are not comparable.")
        return "\n".join([*rows, *textwrap.wrap(note, 79)])


class _IdentityFeatures:
    """The feature network of 2-D toy sets: the samples themselves, flattened."""

    def features(self, x):
        return x.flatten(1)


_REAL_CACHE: OrderedDict = OrderedDict()  # key -> features of the real sets, newest last
_REAL_CACHE_SIZE = 4
_NET_CACHE: dict[tuple[str, str], Any] = {}  # (name, device) -> loaded feature network


def clear_cache() -> None:
    """Forget the real-data features and the feature networks that :func:`evaluate` keeps in
    memory (it keeps nothing on disk)."""
    _REAL_CACHE.clear()
    _NET_CACHE.clear()


_WATCHED: set[int] = set()  # ids of the data set objects whose death clears their entries


def _forget_object(object_id: int) -> None:
    _WATCHED.discard(object_id)
    for key in [key for key in _REAL_CACHE if key[0] == ("object", object_id)]:
        del _REAL_CACHE[key]


def _set_name(dataset) -> str | None:
    """The named data set (``"mnist"``, ``"ring"``, ...) that ``dataset`` means, or None (a
    folder, a Dataset, a tensor): see :func:`gan_lessons.data.named_set`."""
    from .data import named_set

    return named_set(dataset) if isinstance(dataset, str | os.PathLike) else None


def _source_key(dataset, root) -> tuple | None:
    """What identifies the real data in the cache, or None when it cannot be cached."""
    from .data import DATASETS, TOY_DATASETS, data_root

    if _set_name(dataset) in DATASETS:
        return ("named", _set_name(dataset), str(data_root(root)))
    if _set_name(dataset) in TOY_DATASETS:
        return ("toy", _set_name(dataset))
    if isinstance(dataset, str | os.PathLike):
        folder = Path(dataset).expanduser().resolve()
        return ("folder", str(folder), folder.stat().st_mtime_ns) if folder.is_dir() else None
    if id(dataset) not in _WATCHED:  # a tensor or Dataset object: by identity, until it dies
        try:
            weakref.finalize(dataset, _forget_object, id(dataset))
        except TypeError:  # no weak references: not cached
            return None
        _WATCHED.add(id(dataset))
    return ("object", id(dataset))


def _net_key(net, name: str | None) -> tuple:
    if name is not None:
        return ("named", name)
    state = net.state_dict() if hasattr(net, "state_dict") else {}
    fingerprint = tuple(float(t.detach().double().sum()) for t in state.values()
                        if hasattr(t, "is_floating_point") and t.is_floating_point())
    return ("object", id(net), fingerprint)  # retrained weights give a new key


def _module_device(module, default):
    """The device of ``module``'s first parameter or buffer, else ``default`` (else the CPU)."""
    import torch

    if hasattr(module, "parameters") and hasattr(module, "buffers"):
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            return tensor.device
    return torch.device("cpu") if default is None else default


def _resolve_feature_net(feature_net, dataset, device):
    """``(net, name or None, label)`` for ``evaluate``'s ``feature_net`` argument."""
    from .data import DATASETS, TOY_DATASETS

    if feature_net is None:
        if _set_name(dataset) in DATASETS:
            feature_net = _set_name(dataset)
        elif _set_name(dataset) in TOY_DATASETS:
            feature_net = "identity"
        else:
            raise ValueError("feature_net is required unless dataset is 'mnist', 'cifar10' or a "
                             "2-D toy set: pass a network with .features(x) -> (N, D) (and "
                             ".logits(x) for IS), or 'mnist', 'cifar10', 'inception'")
    if isinstance(feature_net, str):
        check_choice(feature_net, "feature_net", ("mnist", "cifar10", "inception", "identity"))
        if feature_net == "identity":
            return _IdentityFeatures(), "identity", "identity (the samples themselves)"
        from .device import get_device
        from .feature_nets import load_feature_net

        target = get_device(device)
        key = (feature_net, str(target))
        if key not in _NET_CACHE:
            _NET_CACHE[key] = load_feature_net(feature_net, device=target)
        label = "InceptionV3 pool3" if feature_net == "inception" else \
            f"{feature_net} classifier"
        return _NET_CACHE[key], feature_net, label
    if not callable(getattr(feature_net, "features", None)):
        raise TypeError(f"feature_net must be a name or a network with a .features(x) method, "
                        f"got {type(feature_net).__name__}")
    if device is not None and hasattr(feature_net, "to"):
        feature_net.to(device)
    return feature_net, None, type(feature_net).__name__


@contextmanager
def _eval_mode(*modules):
    """Put the ``nn.Module`` arguments in eval mode for the block, then restore their modes."""
    modes = [(m, m.training) for m in modules if hasattr(m, "training") and hasattr(m, "eval")]
    for m, _ in modes:
        m.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.train(training)


def _sampler(generator, n: int, latent_dim: int | None, device):
    """``(shape, batches)``: the shape of one sample, read from the tensor or from a probe call
    on ``z = 0``, and ``batches(batch_size, seed)``, which yields the ``n`` samples in batches
    (``z ~ N(0, I)`` drawn only then, so that a too large ``n`` is refused before)."""
    import torch

    if isinstance(generator, torch.Tensor):
        if generator.ndim < 2 or len(generator) < n:
            raise ValueError(f"generator, given as a tensor of samples, must hold at least "
                             f"num_samples={n} samples (N, ...), got shape "
                             f"{tuple(generator.shape)}")

        def sliced(batch_size: int, seed: int):
            for start in range(0, n, batch_size):
                yield generator[start:start + batch_size]

        return tuple(generator.shape[1:]), sliced
    size = latent_dim if latent_dim is not None else getattr(
        generator, "latent_dim", getattr(generator, "z_dim", None))
    is_autoencoder = callable(getattr(generator, "decode", None)) and hasattr(generator, "encode")
    draw = generator.decode if is_autoencoder else generator
    classes = getattr(generator, "num_classes", None)  # a conditional generator
    conditional = isinstance(classes, int) and callable(draw)
    if not callable(draw):
        raise TypeError(f"generator must be a callable z -> samples (e.g. a generator model), "
                        f"an autoencoder with .decode, or a tensor of samples, got "
                        f"{type(generator).__name__}")
    if size is None:
        raise ValueError("latent_dim is required: generator has no latent_dim (or z_dim) "
                         "attribute to tell the length of z")
    size = check_int(size, "latent_dim", minimum=1)
    z_device = _module_device(generator, device)

    def call(z, draw=draw):
        x = draw(z.to(z_device))
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"generator must return a tensor of samples, got "
                            f"{type(x).__name__}")
        return x

    def fresh():  # a conditional generator's classes start again at 0 in every pass
        from .models.conditional import each_class_in_turn

        return each_class_in_turn(draw, classes) if conditional else draw

    with torch.no_grad(), _eval_mode(generator):
        shape = tuple(call(torch.zeros(2, size), fresh()).shape[1:])

    def sampled(batch_size: int, seed: int):
        z = torch.randn(n, size, generator=torch.Generator().manual_seed(seed))  # (n, latent)
        draw_all = fresh()
        with torch.no_grad(), _eval_mode(generator):
            for chunk in z.split(batch_size):
                yield call(chunk, draw_all)

    return shape, sampled


def _check_fake(x, shape: tuple[int, ...] | None) -> None:
    import torch

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"generator must produce float tensors, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if shape is not None and tuple(x.shape[1:]) != shape:
        raise ValueError(f"generator made samples of shape {tuple(x.shape[1:])}, but the real "
                         f"data's samples have shape {shape}")
    if not torch.isfinite(x).all():
        raise ValueError("generator produced NaN or Inf samples")
    if x.ndim == 4 and (x.min() < -1.001 or x.max() > 1.001):
        raise ValueError(f"generator must produce images in [-1, 1], got values in "
                         f"[{float(x.min()):.3g}, {float(x.max()):.3g}]")


def _take(dataset, indices, batch_size: int, grey: bool = False):
    """Yield ``dataset[indices]`` in batches (the images of a Dataset's ``(image, label)``
    items), read one batch at a time; ``grey``: RGB images become the mean of their channels."""
    import torch

    from .data import TensorImageDataset

    for chunk in indices.sort().values.split(batch_size):
        if isinstance(dataset, torch.Tensor):
            x = dataset[chunk.to(dataset.device)]
        elif isinstance(dataset, TensorImageDataset):
            x = dataset.images[chunk.to(dataset.images.device)]
        else:
            items = [dataset[i] for i in chunk.tolist()]
            x = torch.stack([item[0] if isinstance(item, tuple | list) else item
                             for item in items])
        yield x.mean(1, keepdim=True) if grey and x.ndim == 4 and x.shape[1] == 3 else x


def _check_dataset_name(dataset) -> None:
    """A name or path must be a named data set or an existing folder."""
    from .data import DATASETS, TOY_DATASETS

    if _set_name(dataset) in DATASETS + TOY_DATASETS:
        return
    if isinstance(dataset, str | os.PathLike) and not Path(dataset).expanduser().is_dir():
        raise ValueError(f"dataset must be one of {DATASETS + TOY_DATASETS} or an existing "
                         f"folder of images, got {os.fspath(dataset)!r}")


def _real_sets(dataset, n: int, seed: int, shape: tuple[int, ...], root):
    """``(real, reference, description)``: two disjoint real sets of ``n`` samples, each a
    function ``batch_size -> batches`` (images are read batch by batch). A folder is read at
    the size of ``shape`` ``(C, S, S)``, and in grey (the mean of its RGB channels) when ``C``
    is 1."""
    import torch

    from .data import DATASETS, TOY_DATASETS, load_dataset, toy_dataset

    def batches(pool, indices, grey=False):
        return lambda batch_size: _take(pool, indices, batch_size, grey)

    gen = torch.Generator().manual_seed(seed)
    everything = torch.arange(n)
    if _set_name(dataset) in TOY_DATASETS:
        name = _set_name(dataset)
        return (batches(toy_dataset(name, n, seed=seed), everything),
                batches(toy_dataset(name, n, seed=seed + 1), everything),
                f"two independent draws of {name}")
    grey = False
    if _set_name(dataset) in DATASETS:
        name = _set_name(dataset)
        train = load_dataset(name, root=root, train=True)
        test = load_dataset(name, root=root, train=False)
        if n <= len(test):
            return (batches(train, torch.randperm(len(train), generator=gen)[:n]),
                    batches(test, torch.randperm(len(test), generator=gen)[:n]),
                    f"{name} train vs test")
        pool, description = train, f"two disjoint subsets of {name} train"
    elif isinstance(dataset, str | os.PathLike):
        _check_dataset_name(dataset)
        square = len(shape) == 3 and shape[1] == shape[2]
        pool = load_dataset(dataset, image_size=shape[-1] if square else None)
        description = f"two disjoint subsets of {os.fspath(dataset)}"
        grey = len(shape) == 3 and shape[0] == 1  # a grey generator: grey real images
    elif isinstance(dataset, torch.Tensor) or (hasattr(dataset, "__len__")
                                               and hasattr(dataset, "__getitem__")):
        pool = dataset
        description = f"two disjoint subsets of the {type(dataset).__name__} of {len(dataset)}"
    else:
        raise TypeError(f"dataset must be 'mnist', 'cifar10', a toy set name, a folder of "
                        f"images, a Dataset or a tensor of samples, got "
                        f"{type(dataset).__name__}")
    if 2 * n > len(pool):
        raise ValueError(f"num_samples must be at most half of the real set's {len(pool)} "
                         f"samples (the real-vs-real reference needs two disjoint sets of "
                         f"num_samples), got {n}")
    order = torch.randperm(len(pool), generator=gen)
    return (batches(pool, order[:n], grey), batches(pool, order[n:2 * n], grey), description)


def _extract(net, batches, need_logits: bool, device, total: int, progress: bool, desc: str):
    """Features ``(N, D)`` and logits ``(N, K)`` (or None) of the batches, as float64 arrays."""
    import torch
    from tqdm.auto import tqdm

    net_device = _module_device(net, device)
    features, logits = [], []
    with torch.no_grad(), _eval_mode(net), tqdm(total=total, desc=desc, unit="sample",
                                                 disable=not progress) as bar:
        for x in batches:
            x = x.to(net_device, torch.float32)
            if need_logits and callable(getattr(net, "features_and_logits", None)):
                f, logit = net.features_and_logits(x)
            else:
                f = net.features(x)
                logit = net.logits(x) if need_logits else None
            features.append(f.detach().float().cpu())
            if need_logits:
                logits.append(logit.detach().float().cpu())
            bar.update(len(x))
    features = _feature_matrix(torch.cat(features), "feature_net.features(x)")
    logits = _feature_matrix(torch.cat(logits), "feature_net.logits(x)") if need_logits else None
    return features, logits


def _metric_names(metrics, has_logits: bool) -> tuple[str, ...]:
    if metrics is None:
        return ("fid", "kid", *(("is",) if has_logits else ()), *_PRDC_NAMES)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if not isinstance(metrics, Sequence) or not metrics:
        raise TypeError(f"metrics must be a non-empty sequence of names from {METRICS} or "
                        f"'prdc', got {metrics!r}")
    names: list[str] = []
    for name in metrics:
        check_choice(name, "metrics", (*METRICS, "prdc"))
        for n in (_PRDC_NAMES if name == "prdc" else (name,)):
            if n not in names:
                names.append(n)
    if "is" in names and not has_logits:
        raise ValueError("metrics asks for 'is', but feature_net has no .logits(x) method")
    return tuple(names)


def _checked_options(num_samples, batch_size, seed, k, kid_subsets, kid_subset_size, is_splits,
                     progress, cache, latent_dim) -> tuple:
    """:func:`evaluate`'s scalar options, checked, with the defaults that depend on N."""
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    k = check_int(k, "k", minimum=1)
    if k >= num_samples:
        raise ValueError(f"k must be below num_samples, got k={k} and num_samples={num_samples}")
    kid_subsets = check_int(kid_subsets, "kid_subsets", minimum=1)
    if kid_subset_size is None:
        kid_subset_size = min(1000, max(2, num_samples // 2))
    kid_subset_size = check_int(kid_subset_size, "kid_subset_size", minimum=2,
                                maximum=num_samples)
    is_splits = min(check_int(is_splits, "is_splits", minimum=1), num_samples)
    progress = check_bool(progress, "progress")
    cache = check_bool(cache, "cache")
    if latent_dim is not None:
        latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
    return (num_samples, batch_size, seed, k, kid_subsets, kid_subset_size, is_splits, progress,
            cache, latent_dim)


def evaluate(generator, dataset, num_samples: int = 10_000, metrics: Sequence[str] | None = None,
             feature_net=None, batch_size: int = 250, device=None, *,
             latent_dim: int | None = None, seed: int = 0, k: int = 5, kid_subsets: int = 100,
             kid_subset_size: int | None = None, is_splits: int = 10, data_root=None,
             progress: bool = True, cache: bool = True) -> Evaluation:
    """Score a generator against real data, each metric beside its real-vs-real reference.

    Draws ``num_samples`` samples, turns them and ``num_samples`` real samples into features
    with ``feature_net`` (tqdm progress bars), and computes FID, KID, IS and precision /
    recall / density / coverage. The **reference** is each metric between two disjoint real
    sets of the same size (``mnist`` / ``cifar10``: a train subset vs a test subset; otherwise two
    disjoint random subsets): FID depends on N, so a number means something only beside its
    floor. The generated samples are compared with the first real set.

    Args:
        generator: a model with ``latent_dim`` (or ``z_dim``) called on ``z ~ N(0, I)``
            ``(B, latent_dim)``, such as the bundled generators; an autoencoder or VAE (its
            ``decode(z)`` is used); any callable ``z -> samples`` with ``latent_dim`` given; or a
            tensor of ``>= num_samples`` samples (e.g. damaged real images). Images must be in
            ``[-1, 1]``. Modules run in eval mode (their mode is restored afterwards).
        dataset: ``"mnist"``, ``"cifar10"``, a 2-D toy set (``"ring"`` ...), a folder of images
            (read at the generator's image size, in grey for a one-channel generator), a
            ``Dataset`` of ``(image, label)`` or a tensor of real samples.
        num_samples: samples per set, N.
        metrics: names from :data:`METRICS` and ``"prdc"`` (all four); default all that
            ``feature_net`` supports (``"is"`` needs ``.logits``).
        feature_net: a network with ``.features(x) -> (N, D)`` and, for IS,
            ``.logits(x) -> (N, K)`` (an optional ``.features_and_logits(x)`` saves a pass),
            or a name for :func:`gan_lessons.feature_nets.load_feature_net` (``"mnist"``,
            ``"cifar10"``, ``"inception"``) or ``"identity"``. Default: the data set's
            own classifier (``"identity"`` for toy sets).
        batch_size: samples per forward pass.
        device: where the feature network runs (a given network is moved there); default its
            own device, or :func:`gan_lessons.device.get_device` for a named network. The
            generator runs where its parameters are.
        latent_dim: the length of ``z`` for a generator without a ``latent_dim`` attribute.
        seed: seeds ``z``, the choice of real samples and the KID subsets.
        k: neighbourhood size of precision/recall/density/coverage.
        kid_subsets, kid_subset_size: KID's subsets; the size must be at most ``num_samples``
            and defaults to ``min(1000, num_samples // 2)`` (so that the subsets differ and the
            std means something).
        is_splits: IS splits (capped at ``num_samples``).
        data_root: the data root for ``mnist`` / ``cifar10`` (see :func:`gan_lessons.data.data_root`).
        progress: show progress bars.
        cache: keep the real sets' features in memory (the last 4 combinations of dataset,
            feature network, N, seed and sample shape; a data set object or a network is
            recognised by identity, a network's weights by a checksum, a folder by path and
            modification time; nothing is written to disk). :func:`clear_cache` forgets them.

    Returns:
        An :class:`Evaluation`; ``print`` it for a table.
    """
    import torch

    (num_samples, batch_size, seed, k, kid_subsets, kid_subset_size, is_splits, progress, cache,
     latent_dim) = _checked_options(num_samples, batch_size, seed, k, kid_subsets,
                                    kid_subset_size, is_splits, progress, cache, latent_dim)
    if device is not None:
        device = torch.device(device)
    _check_dataset_name(dataset)

    net, net_name, net_label = _resolve_feature_net(feature_net, dataset, device)
    names = _metric_names(metrics, callable(getattr(net, "logits", None)))
    need_logits = "is" in names

    shape, batches = _sampler(generator, num_samples, latent_dim, device)

    def checked():
        for x in batches(batch_size, seed):
            _check_fake(x, shape)
            yield x

    source = _source_key(dataset, data_root) if cache else None
    key = None if source is None else (source, _net_key(net, net_name), num_samples, seed, shape)
    entry = _REAL_CACHE.get(key) if key is not None else None
    if entry is None or (need_logits and entry["reference_logits"] is None):
        real_x, ref_x, description = _real_sets(dataset, num_samples, seed, shape, data_root)

        def same_shape(batches):
            for x in batches:
                if tuple(x.shape[1:]) != shape:
                    raise ValueError(f"generator made samples of shape {shape}, but the real "
                                     f"data's samples have shape {tuple(x.shape[1:])}")
                yield x

        real, _ = _extract(net, same_shape(real_x(batch_size)), False, device, num_samples,
                           progress, "real samples")
        reference, reference_logits = _extract(net, same_shape(ref_x(batch_size)), need_logits,
                                               device, num_samples, progress,
                                               "reference samples")
        entry = {"real": real, "reference": reference, "reference_logits": reference_logits,
                 "description": description, "scores": {}}
        if key is not None:
            _REAL_CACHE[key] = entry
            while len(_REAL_CACHE) > _REAL_CACHE_SIZE:
                _REAL_CACHE.popitem(last=False)
    if key is not None:
        _REAL_CACHE.move_to_end(key)
    real, reference = entry["real"], entry["reference"]
    fake, fake_logits = _extract(net, checked(), need_logits, device, num_samples, progress,
                                 "generated samples")
    if fake.shape[1] != real.shape[1]:
        raise ValueError(f"feature_net gave {fake.shape[1]} features for the generated samples "
                         f"but {real.shape[1]} for the real ones")

    derived = entry["scores"]  # cached per real set: statistics, radii, reference scores

    def cached(name, compute):
        if name not in derived:
            derived[name] = compute()
        return derived[name]

    results = {}
    if "fid" in names:
        stats = cached("stats", lambda: _mean_cov(real))
        ref = cached("fid", lambda: _frechet_from_stats(*stats, *_mean_cov(reference)))
        results["fid"] = Score("fid", _frechet_from_stats(*stats, *_mean_cov(fake)), ref)
    if "kid" in names:
        options = {"num_subsets": kid_subsets, "subset_size": kid_subset_size, "seed": seed}
        ref = cached(("kid", kid_subsets, kid_subset_size),
                     lambda: kernel_distance(real, reference, **options))
        value = kernel_distance(real, fake, **options)
        results["kid"] = Score("kid", value[0], ref[0], value[1], ref[1])
    if "is" in names:
        ref = cached(("is", is_splits),
                     lambda: inception_score(entry["reference_logits"], splits=is_splits))
        value = inception_score(fake_logits, splits=is_splits)
        results["is"] = Score("is", value[0], ref[0], value[1], ref[1])
    if any(n in names for n in _PRDC_NAMES):
        radii = cached(("radii", k), lambda: _kth_neighbour_sq(real, k))
        ref = cached(("prdc", k), lambda: _prdc_arrays(real, reference, k, radii))
        value = _prdc_arrays(real, fake, k, radii)
        for n in _PRDC_NAMES:
            results[n] = Score(n, getattr(value, n), getattr(ref, n))
    dataset_label = dataset if isinstance(dataset, str) else (
        os.fspath(dataset) if isinstance(dataset, os.PathLike) else type(dataset).__name__)
    return Evaluation(scores=tuple(results[n] for n in names), num_samples=num_samples,
                      dataset=dataset_label, feature_net=net_label,
                      reference=entry["description"])


def evaluate_checkpoint(checkpoint: str | os.PathLike, data, *, device=None,
                        model: str | None = None, **options) -> Evaluation:
    """:func:`evaluate` the generator stored in a checkpoint written by ``python -m gan_lessons
    train`` (its ``"generator"``) or ``train-ae`` (its ``"autoencoder"``, sampled through
    ``decode(z)``, ``z ~ N(0, I)``), against ``data`` (see ``evaluate``'s ``dataset``).
    ``options`` go to :func:`evaluate`. This is ``python -m gan_lessons evaluate``. ``model``
    picks another model of the checkpoint, e.g. ``"generator_ema"`` (the moving average of the
    generator's weights). A conditional generator draws every class equally often.

    Without ``feature_net``, a folder of images is scored with the classifier of the data set
    whose shape the generator makes: ``"mnist"`` for ``(1, 28, 28)``, ``"cifar10"`` for
    ``(3, 32, 32)``; other shapes need ``feature_net``."""
    import inspect

    from .checkpoints import load_models
    from .device import get_device

    bound = inspect.signature(evaluate).bind(None, data, device=device, **options)
    bound.apply_defaults()  # unknown or bad options are refused before the checkpoint is read
    _checked_options(*(bound.arguments[name] for name in inspect.signature(
        _checked_options).parameters))
    _check_dataset_name(data)
    if model is not None and not isinstance(model, str):
        raise TypeError(f"model must be a str such as 'generator_ema', got "
                        f"{type(model).__name__}")
    models = load_models(checkpoint, device=get_device(device))
    if model is not None and model not in models:
        raise ValueError(f"model must be one of the checkpoint's models {sorted(models)}, "
                         f"got {model!r}")
    generator = models.get(model or "generator", models.get("autoencoder"))
    if generator is None:
        raise ValueError(f"{os.fspath(checkpoint)} holds no 'generator' or 'autoencoder' model "
                         f"(it has {sorted(models)})")
    from .data import DATASETS, TOY_DATASETS

    named = _set_name(data) in DATASETS + TOY_DATASETS
    if options.get("feature_net") is None and not named and isinstance(data, str | os.PathLike):
        shape, _ = _sampler(generator, 2, None, None)
        options["feature_net"] = {(1, 28, 28): "mnist", (3, 32, 32): "cifar10"}.get(shape)
        if options["feature_net"] is None:
            raise ValueError(f"feature_net is required for images of shape {shape} (the "
                             f"bundled classifiers take (1, 28, 28) and (3, 32, 32)): pass "
                             f"'inception' with its weights, or a network")
    return evaluate(generator, data, device=device, **options)
