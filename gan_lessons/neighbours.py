"""Nearest neighbours of generated images in the training set: is the generator memorising?

A generator that copies its training images would score well on any sample-quality metric. The
simplest check is to look up, for every generated image, the closest training images and put
them side by side::

    >>> distances, indices = nearest_neighbours(x_fake, x_train, k=3)   # (Q, 3) each
    >>> neighbour_figure(x_fake, x_train, indices, distances)         # doctest: +SKIP

Closeness is the Euclidean (L2) distance between the flattened images, or between features of
them when ``features`` is given (any ``(B, ...) -> (B, F)`` function, e.g. a small classifier's
penultimate layer). A copy has a neighbour at distance about 0; a generalising model's samples
sit about as far from the training set as held-out real images do, which is why
:func:`nearest_neighbours` is best read next to the same numbers for test images.

Everything runs in chunks of ``batch_size`` reference images on ``device`` (default: the
queries' device), so the full MNIST or CIFAR-10 training set fits on a small GPU or a laptop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from gan_lessons._validate import check_int

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["nearest_neighbours", "neighbour_figure"]

Features = Callable[[torch.Tensor], torch.Tensor]


def _as_images(value, name: str) -> torch.Tensor:
    """A floating tensor ``(N, ...)`` from a tensor or a dataset holding one (``.images``)."""
    images = getattr(value, "images", value)  # gan_lessons.data.TensorImageDataset
    if isinstance(value, torch.utils.data.TensorDataset):
        images = value.tensors[0]
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a tensor (N, ...) or a TensorImageDataset, "
                        f"got {type(value).__name__}")
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"{name} must have shape (N, ...) with N >= 1, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must hold floating-point images (e.g. in [-1, 1]), "
                        f"got dtype {images.dtype}")
    return images


def _embed(x: torch.Tensor, features: Features | None, device: torch.device) -> torch.Tensor:
    """``(B, ...) -> (B, F)`` float32 on ``device``: flattened pixels or ``features(x)``."""
    x = x.to(device, torch.float32)
    if features is not None:
        with torch.no_grad():
            x = features(x)
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or len(x) == 0:
            raise ValueError("features must map a batch (B, ...) to a tensor (B, F)")
        x = x.float()
    return x.reshape(len(x), -1)


def nearest_neighbours(queries: torch.Tensor, reference, k: int = 1, *,
                       features: Features | None = None, batch_size: int = 4096,
                       device: str | torch.device | None = None,
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` reference items closest to each query, by L2 distance.

    Args:
        queries: ``(Q, C, H, W)`` images (or any ``(Q, ...)``), e.g. generated samples.
        reference: ``(N, C, H, W)`` images of the same shape, or a ``TensorImageDataset``;
            e.g. the training set. Only ``batch_size`` of them are on ``device`` at a time.
        k: neighbours per query, ``1 <= k <= N``.
        features: compare ``features(x)`` ``(B, F)`` instead of raw pixels (run without
            gradients on ``device``, one chunk at a time).
        batch_size: reference items per chunk.
        device: where to compute (default: the device of ``queries``).

    Returns:
        ``(distances, indices)``, both ``(Q, k)``, nearest first. ``indices`` index
        ``reference``; ``distances`` are exact Euclidean distances (float32, on the CPU).
        A query that is a copy of a reference item has distance 0.
    """
    queries = _as_images(queries, "queries")
    reference = _as_images(reference, "reference")
    if features is None and queries.shape[1:] != reference.shape[1:]:
        raise ValueError(f"queries and reference must have the same sample shape, got "
                         f"{tuple(queries.shape[1:])} and {tuple(reference.shape[1:])}")
    if features is not None and not callable(features):
        raise TypeError(f"features must be callable or None, got {type(features).__name__}")
    n = len(reference)
    k = check_int(k, "k", minimum=1, maximum=n)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device must be None, a torch.device or a name such as 'cpu' or "
                             f"'cuda', got {device!r}") from None
    device = queries.device if device is None else device

    q = _embed(queries, features, device)  # (Q, F)
    q_sq = (q * q).sum(1, keepdim=True)  # (Q, 1)
    best_d = torch.full((len(q), k), math.inf, device=device)  # squared distances, (Q, k)
    best_i = torch.zeros((len(q), k), dtype=torch.long, device=device)
    for start in range(0, n, batch_size):
        r = _embed(reference[start:start + batch_size], features, device)  # (R, F)
        # ||q - r||^2 = ||q||^2 - 2 q.r + ||r||^2,
        # one matrix product per chunk: (Q, R)
        d = (q_sq - 2.0 * q @ r.T + (r * r).sum(1)[None, :]).clamp_min_(0.0)
        idx = torch.arange(start, start + len(r), device=device).expand(len(q), -1)
        both_d, order = torch.cat([best_d, d], 1).topk(k, dim=1, largest=False)  # (Q, k)
        best_d, best_i = both_d, torch.cat([best_i, idx], 1).gather(1, order)
    # the expansion above loses precision for near-duplicates: recompute the k winners exactly
    picked = torch.cat([_embed(reference[i.cpu()], features, device)[None]
                        for i in best_i.T], 0).transpose(0, 1)  # (Q, k, F)
    exact = (picked - q[:, None, :]).norm(dim=2)  # (Q, k)
    exact, order = exact.sort(dim=1)
    return exact.cpu(), best_i.gather(1, order).cpu()


def neighbour_figure(queries: torch.Tensor, reference, indices: torch.Tensor,
                     distances: torch.Tensor | None = None, *, max_rows: int = 8,
                     query_label: str = "sample", title: str | None = None) -> Figure:
    """Each query beside its nearest reference images: one row per query.

    Args:
        queries: ``(Q, C, H, W)`` images in [-1, 1].
        reference: ``(N, C, H, W)`` images (or a ``TensorImageDataset``) that ``indices`` index.
        indices: ``(Q, k)`` from :func:`nearest_neighbours`.
        distances: ``(Q, k)``; written under each neighbour when given.
        max_rows: show at most this many queries.

    Returns:
        A new Figure (closed in pyplot, see :mod:`gan_lessons.plotting`) with ``rows x (1 + k)``
        panels: the query in the first column, its neighbours nearest first.
    """
    import matplotlib.pyplot as plt

    from gan_lessons.data import to_numpy_image

    queries = _as_images(queries, "queries")
    reference = _as_images(reference, "reference")
    if not isinstance(indices, torch.Tensor) or indices.ndim != 2 or len(indices) != len(queries):
        raise ValueError(f"indices must have shape (Q, k) with Q = {len(queries)}, got "
                         f"{getattr(indices, 'shape', type(indices).__name__)}")
    if distances is not None and not isinstance(distances, torch.Tensor):
        raise TypeError(f"distances must be a tensor (Q, k) or None, got "
                        f"{type(distances).__name__}")
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError(f"indices must hold integers, got dtype {indices.dtype}")
    if not isinstance(query_label, str):
        raise TypeError(f"query_label must be a str, got {type(query_label).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if distances is not None and tuple(distances.shape) != tuple(indices.shape):
        raise ValueError(f"distances must have the shape of indices {tuple(indices.shape)}, "
                         f"got {tuple(distances.shape)}")
    max_rows = check_int(max_rows, "max_rows", minimum=1)
    rows, k = min(len(queries), max_rows), indices.shape[1]
    fig, axes = plt.subplots(rows, 1 + k, figsize=(1.3 * (1 + k), 1.45 * rows + 0.3),
                             layout="constrained", squeeze=False)
    cmap = "gray" if queries.shape[1] == 1 else None
    for row in range(rows):
        panels = [(queries[row], "")]  # the column title and the frame mark the query
        for j in range(k):
            label = f"#{int(indices[row, j])}"
            if distances is not None:
                label += f"\nL2 {float(distances[row, j]):.2f}"
            panels.append((reference[int(indices[row, j])], label))
        for col, (image, label) in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(to_numpy_image(image.detach().float().cpu()), cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(label, fontsize=9)  # >= 9 pt: readable in the book
            if col == 0:
                for spine in ax.spines.values():
                    spine.set_color("tab:orange")
                    spine.set_linewidth(2)
    axes[0, 0].set_title(query_label, fontsize="small")
    for j in range(k):
        axes[0, 1 + j].set_title(f"neighbour {j + 1}", fontsize="small")
    if title is not None:
        fig.suptitle(title)
    plt.close(fig)
    return fig
