"""A figure of two ways to make a generator work coarse to fine: ProGAN's progressive growing
(Karras et al., 2018) and StyleGAN2's skip generator (Karras et al., 2020).

ProGAN trains a 4 x 4 generator and discriminator first, then *grows* both: a block for the
next resolution is added and faded in, the image being ``(1 - alpha) * up(rgb_old) + alpha *
rgb_new`` while ``alpha`` rises from 0 to 1, and so on up to the full size. StyleGAN2 dropped
the schedule: its skip generator has every resolution from the start, and the image is the sum
of each resolution's RGB output, upsampled to the full size (``return_rgbs=True`` of
:meth:`gan_lessons.models.stylegan.StyleGANGenerator.synthesis` returns those outputs).

The figure is closed in pyplot before it is returned (as in :mod:`gan_lessons.diagrams`), so it
shows once when it is a cell's value.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from ._validate import check_float

__all__ = ["progressive_growing_figure"]

NEW = "#fdae6b"  # the block being faded in
OLD = "#c6dbef"  # blocks already trained
RGB = "#d9d9d9"  # toRGB layers and sums


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str,
         hatch: str | None = None) -> None:
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor="black", lw=0.8,
                           hatch=hatch))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, lw=0.8,
                                 color="black", shrinkA=0, shrinkB=0))


def _progan_stage(ax: Axes, x0: float, sizes: list[int], fading: bool, alpha: float,
                  caption: str) -> float:
    """One stage of ProGAN's generator from ``x0``: a block per size, the last one new (hatched)
    when ``fading``, ``caption`` above. Returns the x where the next stage may start."""
    ax.text(x0 + (1.15 * len(sizes) - 0.25) / 2, 2.6, caption, ha="center", fontsize=8,
            style="italic")
    x = x0
    for i, size in enumerate(sizes):
        new = fading and i == len(sizes) - 1
        _box(ax, x, 1.6, 0.9, 0.7, f"{size}×{size}", NEW if new else OLD, "//" if new else None)
        if i:
            _arrow(ax, (x - 0.25, 1.95), (x, 1.95))
        x += 1.15
    last = x - 1.15
    if fading:
        old = last - 1.15
        _box(ax, old, 0.55, 0.9, 0.5, "up(rgb)", RGB)
        _box(ax, last, 0.55, 0.9, 0.5, "rgb", RGB)
        _arrow(ax, (old + 0.45, 1.6), (old + 0.45, 1.05))
        _arrow(ax, (last + 0.45, 1.6), (last + 0.45, 1.05))
        ax.text((old + last + 0.9) / 2, 0.25,
                f"image = {1 - alpha:g} · up(rgb$_{{{sizes[-2]}}}$) + {alpha:g} · "
                f"rgb$_{{{sizes[-1]}}}$", ha="center", va="center", fontsize=8)
    else:
        _box(ax, last, 0.55, 0.9, 0.5, "rgb", RGB)
        _arrow(ax, (last + 0.45, 1.6), (last + 0.45, 1.05))
    return x + 0.3


def progressive_growing_figure(resolutions=(4, 8, 16, 32), *, alpha: float = 0.5) -> Figure:
    """Top: ProGAN's generator in three stages (the first resolution alone, the second being
    faded in with weight ``alpha``, the last stage complete). Bottom: StyleGAN2's skip
    generator, every resolution present from the start and the image the sum of their
    upsampled RGB outputs.

    Args:
        resolutions: the generator's resolutions, coarse to fine (at least two; at most six fit
            the width), e.g. ``StyleGANConfig().resolutions``.
        alpha: the fade-in weight shown, in [0, 1].
    """
    sizes = [int(r) for r in resolutions]
    if not 2 <= len(sizes) <= 6 or any(s < 1 for s in sizes):
        raise ValueError(f"resolutions must be 2 to 6 positive sizes, got {tuple(resolutions)}")
    alpha = check_float(alpha, "alpha", 0.0, 1.0)
    fig = plt.figure(figsize=(9, 4.6), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=(1.0, 1.15))
    x = _progan_stage(top, 0.0, sizes[:1], False, alpha, "stage 1")
    x = _progan_stage(top, x + 0.4, sizes[:2], True, alpha, f"stage 2, fading in (α = {alpha:g})")
    _progan_stage(top, x + 0.4, sizes, False, alpha, "last stage")
    top.set_title("ProGAN: train at 4×4, then grow; each new block (hatched) fades in as α "
                  "rises 0 → 1", fontsize=10)
    # bottom: the skip generator
    x = 0.0
    for i, size in enumerate(sizes):
        _box(bottom, x, 2.0, 1.1, 0.7, f"{size}×{size}", OLD)
        _box(bottom, x + 0.1, 1.0, 0.9, 0.5, f"rgb$_{{{size}}}$", RGB)
        _arrow(bottom, (x + 0.55, 2.0), (x + 0.55, 1.5))
        if i:
            _arrow(bottom, (x - 0.4, 2.35), (x, 2.35))
            bottom.text(x + 0.55, 0.45, "+", ha="center", va="center", fontsize=12)
            _arrow(bottom, (x + 0.55, 1.0), (x + 0.55, 0.62))
            _arrow(bottom, (x - 0.95, 0.45), (x + 0.42, 0.45))
            bottom.text(x - 0.25, 0.6, "up", ha="center", fontsize=7)
        else:
            _arrow(bottom, (x + 0.55, 1.0), (x + 0.55, 0.45))
        x += 1.5
    bottom.text(x - 0.3, 0.45, "→ tanh → image", va="center", fontsize=8)
    bottom.set_title("StyleGAN2 skip generator: all resolutions from the start; the image is "
                     "the sum of their upsampled RGB outputs", fontsize=10)
    for ax, ylim in ((top, (0.05, 2.85)), (bottom, (0.25, 2.8))):
        ax.set_xlim(-0.2, max(ax.dataLim.x1, x + 1.4) + 0.2)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal")
        ax.axis("off")
    plt.close(fig)
    return fig
