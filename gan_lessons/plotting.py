"""Figures for the book: image grids, loss curves, 2-D scatter plots, decision surfaces and
snapshot strips.

Every function returns a matplotlib ``Figure``. Pass ``ax=`` to draw into your own axes (the
function then returns ``ax.figure`` and leaves it open). Without ``ax`` it makes a new figure
and *closes it in pyplot* before returning it, so a figure shows exactly once in Jupyter when it
is a cell's value (``image_grid(x)``), none pile up when you make many in a loop, and
``display(fig)`` or ``fig.savefig(path)`` work at any time. Nothing here calls ``plt.show`` or
changes ``rcParams``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gan_lessons._validate import check_float, check_int
from gan_lessons.data import to_image

__all__ = ["comparison_rows", "decision_surface", "image_grid", "loss_curves", "save_figure",
           "scatter_2d", "snapshot_grid"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """The figure and axes to draw into, and whether they are new (to be closed in pyplot)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax, True
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax, False


def _done(fig: Figure, created: bool) -> Figure:
    if created:
        plt.close(fig)  # the caller holds the Figure; pyplot forgets it (no double display)
    return fig


def _images(images, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (B, C, H, W) with C = 1 or 3, "
                         f"got {tuple(images.shape)}")
    if images.shape[0] == 0 or min(images.shape[2:]) == 0:
        raise ValueError(f"{name} must hold at least one image of at least 1 x 1 pixels, "
                         f"got shape {tuple(images.shape)}")
    if images.dtype == torch.bool or images.is_complex():
        raise TypeError(f"{name} must hold real numbers in [-1, 1], got dtype {images.dtype}")
    return images


def _title(title) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def _grid(images: torch.Tensor, nrow: int, padding: int) -> np.ndarray:
    """``(B, C, H, W)`` in [-1, 1] -> ``(H', W', 3)`` numpy grid in [0, 1], white padding."""
    from torchvision.utils import make_grid

    grid = make_grid(to_image(images).float().cpu(), nrow=nrow, padding=padding, pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()  # (3, H', W') -> (H', W', 3)


def image_grid(images: torch.Tensor, nrow: int = 8, title: str | None = None,
               ax: Axes | None = None, *, padding: int = 2) -> Figure:
    """Show a batch ``(B, C, H, W)`` (or one ``(C, H, W)``) of images in ``[-1, 1]``
    (``C`` = 1 or 3) as one grid.

    ``nrow`` images per row, ``padding`` white pixels between them. The axes show the grid at
    its pixel size: ``(rows·(H+p)+p, cols·(W+p)+p)`` with ``rows = ceil(B / nrow)``.
    """
    images = _images(images)
    nrow = check_int(nrow, "nrow", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    _title(title)
    grid = _grid(images, nrow, padding)
    height, width = grid.shape[:2]
    scale = min(6.0 / width, 6.0 / height, 0.05)  # inches per pixel: 20 px/inch, at most 6 in
    figsize = (max(width * scale, 1.5), max(height * scale, 1.5) + (0.3 if title else 0.0))
    fig, ax, created = _axes(ax, figsize)
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return _done(fig, created)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def loss_curves(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None,
                smooth: int = 1, ax: Axes | None = None, *, x: str = "step",
                title: str | None = None) -> Figure:
    """Plot a training history (a dict of equal-length lists) against ``history[x]``.

    ``keys`` picks the curves (default: every key except ``x`` whose values are numbers, e.g.
    ``"loss_d"``, ``"loss_g"``, ``"d_real"``, ``"d_fake"``). ``smooth > 1`` draws a moving
    average over that many points over the faint raw curve. Without ``history[x]`` the x axis
    is the index. Values may be floats or 0-d tensors.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    smooth = check_int(smooth, "smooth", minimum=1)
    if not isinstance(x, str):
        raise TypeError(f"x must be a str (a key of history), got {type(x).__name__}")
    _title(title)
    for key, values in history.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
            raise TypeError(f"history[{key!r}] must be a list of numbers, "
                            f"got {type(values).__name__}")
    if keys is None:
        keys = [k for k, v in history.items() if k != x and len(v) and _is_number(v[0])]
    elif isinstance(keys, str):
        keys = [keys]
    elif not isinstance(keys, Sequence):
        raise TypeError(f"keys must be a str, a list of str or None, got {type(keys).__name__}")
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"keys {missing} are not in history (it has {list(history)})")
    fig, ax, created = _axes(ax, (6.0, 3.5))
    for key in keys:
        values = np.array([float(v) for v in history[key]], dtype=float)
        steps = np.arange(len(values), dtype=float)
        if len(history.get(x, ())) == len(values):
            steps = np.array([float(s) for s in history[x]], dtype=float)
        if smooth > 1 and len(values) >= smooth:
            (line,) = ax.plot(steps, values, alpha=0.25, linewidth=1)
            ax.plot(steps[smooth - 1:], _smooth(values, smooth), color=line.get_color(), label=key)
        else:
            ax.plot(steps, values, label=key)
    ax.set_xlabel(x if x in history else "index")
    if keys:
        ax.legend(loc="best")
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return _done(fig, created)


def _is_number(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _points(points, name: str) -> np.ndarray:
    if isinstance(points, torch.Tensor):
        arr = points.detach().float().cpu().numpy()
    else:
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers (N, 2), got "
                            f"{type(points).__name__}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {tuple(arr.shape)}")
    return arr


def scatter_2d(real, fake=None, ax: Axes | None = None, *, title: str | None = None,
               modes=None, size: float = 4.0, alpha: float = 0.5,
               xlim: tuple[float, float] | None = None,
               ylim: tuple[float, float] | None = None) -> Figure:
    """Scatter real points ``(N, 2)`` and, if given, generated points ``(M, 2)`` (tensors or
    arrays). ``modes`` ``(K, 2)`` marks the true mode centres with crosses."""
    real = _points(real, "real")
    size = check_float(size, "size", 0.0, exclusive_minimum=True)
    alpha = check_float(alpha, "alpha", 0.0, 1.0)
    xlim = None if xlim is None else _limits(xlim, "xlim")
    ylim = None if ylim is None else _limits(ylim, "ylim")
    _title(title)
    fig, ax, created = _axes(ax, (4.0, 4.0))
    ax.scatter(real[:, 0], real[:, 1], s=size, alpha=alpha, color="tab:blue", label="real")
    if fake is not None:
        fake = _points(fake, "fake")
        ax.scatter(fake[:, 0], fake[:, 1], s=size, alpha=alpha, color="tab:orange",
                   label="generated")
    if modes is not None:
        modes = _points(modes, "modes")
        ax.scatter(modes[:, 0], modes[:, 1], marker="x", s=40, color="black", label="modes")
    ax.set_aspect("equal", adjustable="datalim")
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="upper right", markerscale=2, fontsize="small")
    if title is not None:
        ax.set_title(title)
    return _done(fig, created)


def decision_surface(discriminator_fn: Callable[[torch.Tensor], torch.Tensor],
                     xlim: tuple[float, float] = (-5.0, 5.0), ylim: tuple[float, float] = (-5.0, 5.0),
                     resolution: int = 150, ax: Axes | None = None, real=None, fake=None, *,
                     title: str | None = None, colorbar: bool = True) -> Figure:
    """Heat map of ``sigmoid(D(x))``, the discriminator's probability that ``x`` is real, on a
    ``resolution × resolution`` grid over ``xlim × ylim``, with optional ``real``/``fake``
    points ``(N, 2)`` on top.

    ``discriminator_fn`` maps ``(M, 2)`` points to logits ``(M, 1)`` or ``(M,)``. It runs
    without gradients; an ``nn.Module`` is evaluated on its own device in ``eval()`` mode and
    then put back in the mode it was in.
    """
    if not callable(discriminator_fn):
        raise TypeError(f"discriminator_fn must be callable, got {type(discriminator_fn).__name__}")
    resolution = check_int(resolution, "resolution", minimum=2)
    (x0, x1), (y0, y1) = _limits(xlim, "xlim"), _limits(ylim, "ylim")
    if not isinstance(colorbar, bool):
        raise TypeError(f"colorbar must be a bool, got {type(colorbar).__name__}")
    _title(title)
    device = torch.device("cpu")
    training = None
    if isinstance(discriminator_fn, torch.nn.Module):
        param = next(discriminator_fn.parameters(), None)
        device = param.device if param is not None else device
        training = discriminator_fn.training
        discriminator_fn.eval()
    xs = torch.linspace(x0, x1, resolution, device=device)
    ys = torch.linspace(y0, y1, resolution, device=device)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")  # (R, R) each, rows follow y
    points = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (R·R, 2)
    try:
        with torch.no_grad():
            logits = discriminator_fn(points)
    finally:
        if training is not None:
            discriminator_fn.train(training)
    if not isinstance(logits, torch.Tensor) or logits.numel() != len(points):
        raise ValueError(f"discriminator_fn must return logits of shape (M, 1) for M = "
                         f"{len(points)} points, got {getattr(logits, 'shape', type(logits))}")
    prob = torch.sigmoid(logits.float()).reshape(resolution, resolution).cpu().numpy()
    fig, ax, created = _axes(ax, (4.8, 4.0))
    mesh = ax.imshow(prob, origin="lower", extent=(x0, x1, y0, y1), vmin=0.0, vmax=1.0,
                     cmap="RdBu_r", aspect="auto", interpolation="bilinear")
    if colorbar:
        fig.colorbar(mesh, ax=ax, label="D(x) = P(real)")
    if real is not None:
        real = _points(real, "real")
        ax.scatter(real[:, 0], real[:, 1], s=4, color="black", alpha=0.6, label="real")
    if fake is not None:
        fake = _points(fake, "fake")
        ax.scatter(fake[:, 0], fake[:, 1], s=4, color="gold", alpha=0.8, label="generated")
    if real is not None or fake is not None:
        ax.legend(loc="upper right", markerscale=2, fontsize="small")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if title is not None:
        ax.set_title(title)
    return _done(fig, created)


def _limits(value, name: str) -> tuple[float, float]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}")
    try:
        low, high = float(value[0]), float(value[1])  # numbers, numpy or 0-d tensors
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {value!r}") from None
    if not low < high or not np.isfinite([low, high]).all():
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return low, high


def snapshot_grid(batches: Sequence[torch.Tensor], steps: Sequence[int] | None = None,
                  nrow: int = 4, *, ncols: int = 4, num_images: int = 16, label: str = "step",
                  title: str | None = None) -> Figure:
    """Samples over training: one image grid per batch ``(B, C, H, W)`` in ``[-1, 1]`` (its
    first ``num_images``, ``nrow`` per row), titled ``f"{label} {steps[i]}"``, laid out
    ``ncols`` panels per row so that the figure stays at most ``2 * ncols`` inches wide.

    ``batches`` may also be a training history's ``snapshots``, ``[(step, images), ...]``, whose
    steps then title the panels: ``snapshot_grid(history.snapshots[::2])``."""
    if isinstance(batches, torch.Tensor) or not isinstance(batches, Sequence) or not batches:
        raise TypeError("batches must be a non-empty list of image tensors (B, C, H, W) or of "
                        "(step, images) pairs")
    if steps is None and all(isinstance(b, tuple | list) and len(b) == 2 for b in batches):
        steps, batches = [step for step, _ in batches], [images for _, images in batches]
    steps = list(range(len(batches))) if steps is None else list(steps)
    if len(steps) != len(batches):
        raise ValueError(f"steps must have one entry per batch ({len(batches)}), got {len(steps)}")
    nrow = check_int(nrow, "nrow", minimum=1)
    ncols = min(check_int(ncols, "ncols", minimum=1), len(batches))
    num_images = check_int(num_images, "num_images", minimum=1)
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    _title(title)
    rows = math.ceil(len(batches) / ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.0 * ncols, 2.3 * rows),
                             layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (ax, batch, step) in enumerate(zip(axes.flat, batches, steps, strict=False)):
        batch = _images(batch, f"batches[{i}]")
        ax.imshow(_grid(batch[:num_images], nrow, 2), interpolation="nearest")
        ax.set_title(f"{label} {step}", fontsize=10)
    if title is not None:
        fig.suptitle(title, fontsize=11)
    return _done(fig, True)


def comparison_rows(rows: Sequence[torch.Tensor], labels: Sequence[str], *,
                    num_images: int = 8, title: str | None = None) -> Figure:
    """Methods side by side: one row per batch ``(B, C, H, W)`` in ``[-1, 1]`` (its first
    ``num_images`` in a line), labelled on the left, e.g. the damaged input, each repair and
    the truth. Every row must hold images of one size (grey and colour rows may mix). At most
    8 inches wide."""
    if isinstance(rows, torch.Tensor) or not isinstance(rows, Sequence) or not rows:
        raise TypeError("rows must be a non-empty list of image tensors (B, C, H, W)")
    labels = list(labels) if isinstance(labels, Sequence) and not isinstance(labels, str) \
        else None
    if labels is None or len(labels) != len(rows) or not all(isinstance(x, str) for x in labels):
        raise ValueError(f"labels must be a list of {len(rows)} str, one per row")
    num_images = check_int(num_images, "num_images", minimum=1)
    batches = [_images(row, f"rows[{i}]")[:num_images] for i, row in enumerate(rows)]
    if len({tuple(b.shape[2:]) for b in batches}) != 1:
        raise ValueError(f"rows must hold images of one size (H, W), got "
                         f"{sorted({tuple(b.shape[2:]) for b in batches})}")
    _title(title)
    n = max(len(b) for b in batches)
    width = min(8.0, 1.6 + 0.8 * n)
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 0.9 * len(rows) + 0.3),
                             layout="constrained", squeeze=False)
    for ax, batch, label in zip(axes[:, 0], batches, labels, strict=True):
        ax.imshow(_grid(batch, n, 2), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title is not None:
        fig.suptitle(title, fontsize=11)
    return _done(fig, True)


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: float | None = None) -> Path:
    """Save ``fig`` at ``path`` in the format its suffix names (``.png``, ``.jpg``, ``.pdf``,
    ``.svg`` ...), cropped to its content, and return the path.

    A missing or unknown suffix raises ``ValueError`` (a ``.jpg`` file holding PNG bytes is
    what a forced ``format="png"`` writes).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    if dpi is not None:
        dpi = check_float(dpi, "dpi", 0.0, exclusive_minimum=True)
    path = Path(path)
    fig.savefig(path, format=figure_format(path), dpi=dpi, bbox_inches="tight")
    return path


def figure_format(path: str | os.PathLike, name: str = "path") -> str:
    """The matplotlib format that ``path``'s suffix names (``"png"`` for ``x.PNG``); a missing
    or unknown suffix raises ``ValueError`` naming ``name``."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()  # {"png": "Portable Network ...", ...}
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in formats:
        raise ValueError(f"{name} must end in an image suffix, one of "
                         f"{', '.join('.' + f for f in sorted(formats))}; got {str(path)!r}")
    return fmt
