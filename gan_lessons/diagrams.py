"""Teaching figures for the convolution chapter: annotated matrices, sliding windows, kernel
stamps and overlap counts.

Every function returns a matplotlib ``Figure``. ``show_matrix`` takes ``ax=`` to draw into your
own axes (it then returns ``ax.figure`` and leaves it open). Otherwise a new figure is made and
*closed in pyplot* before it is returned, so it shows exactly once in Jupyter when it is a
cell's value, and ``fig.savefig(path)`` works at any time. Nothing here calls ``plt.show`` or
changes ``rcParams``. The numbers come from :mod:`gan_lessons.conv` (numpy only).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gan_lessons import conv
from gan_lessons._validate import check_int, check_pair

__all__ = ["overlap_figure", "show_matrix", "sliding_window_figure", "transposed_stamp_figure"]

HIGHLIGHT = "#e6550d"  # orange outline of the cells in play
CELL = 0.5  # inches per matrix cell


# --------------------------------------------------------------------------- helpers


def _matrix(value, name: str) -> np.ndarray:
    """A 2-D real numeric array."""
    try:
        a = np.asarray(value)
    except ValueError as err:
        raise ValueError(f"{name} must be a rectangular 2-D array: {err}") from None
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (H, W), got shape {a.shape}")
    return a


def _fmt(v: float) -> str:
    """Short cell label: whole numbers (to rounding error) as integers, others with 2 decimals."""
    if not np.isfinite(v):
        return ""
    if abs(v - round(v)) <= 1e-9 * max(1.0, abs(v)) and abs(v) < 1e6:
        return str(round(float(v)))
    return f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.0e}"


def _term(v: float) -> str:
    """A factor in a written-out product: negative values in parentheses."""
    return f"({_fmt(v)})" if v < 0 else _fmt(v)


def _clean(a: np.ndarray) -> np.ndarray:
    """Float copy for display, with rounding noise (|v| <= 1e-12 * max|a|) set to exactly 0."""
    a = np.array(a, dtype=float)
    finite = np.isfinite(a)
    if finite.any():
        scale = np.abs(a[finite]).max()
        a[finite & (np.abs(a) <= 1e-12 * scale)] = 0.0
    return a


def _norm_and_cmap(a: np.ndarray, vmin=None, vmax=None, cmap=None):
    """Diverging colours centred on 0 when the values have both signs, else sequential."""
    finite = a[np.isfinite(a)] if a.size else a
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    if cmap is None:
        cmap = "RdBu_r" if lo < 0 < hi else "Blues"
    if cmap == "RdBu_r" and vmin is None and vmax is None:
        m = max(abs(lo), abs(hi)) or 1.0
        vmin, vmax = -m, m
    vmin = min(lo, 0.0) if vmin is None else vmin
    vmax = (hi if hi > vmin else vmin + 1.0) if vmax is None else vmax
    if vmax <= vmin:  # a constant image: show it mid-scale
        vmin, vmax = vmin - 1.0, vmin + 1.0
    cmap = plt.get_cmap(cmap).with_extremes(bad="#f2f2f2")  # empty cells: light grey
    return Normalize(vmin, vmax), cmap


def _draw_matrix(ax: Axes, a: np.ndarray, *, title=None, annotate=True, norm=None, cmap=None,
                 highlight=None, dashed_box=None, outline=None, fontsize=None,
                 ticks=True, grid=True) -> None:
    """Heat map of ``a`` with optional value labels, outlined cells (``highlight`` mask), a
    dashed rectangle and a solid one (``dashed_box``/``outline``: inclusive corner cells)."""
    a = _clean(a)
    if norm is None:
        norm, cmap = _norm_and_cmap(a, cmap=cmap)
    ax.imshow(a, cmap=cmap, norm=norm, interpolation="nearest")
    rows, cols = a.shape
    # thin white lines between cells
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    if grid:
        ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    if ticks and max(rows, cols) <= 20:
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
        ax.tick_params(labelsize=9, length=0, pad=2)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if annotate:
        size = fontsize or (10 if max(rows, cols) <= 8 else 9)
        for (i, j), v in np.ndenumerate(a):
            if not np.isfinite(v):
                continue
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")
    if highlight is not None:
        for i, j in zip(*np.nonzero(highlight), strict=True):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT,
                                   linewidth=2.5, zorder=3))
    for box, style in ((dashed_box, {"edgecolor": "0.3", "linestyle": "--", "linewidth": 1.2}),
                       (outline, {"edgecolor": HIGHLIGHT, "linewidth": 2.5})):
        if box is not None:
            (r0, c0), (r1, c1) = box
            ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, fill=False,
                                   zorder=3, **style))
    if title:
        ax.set_title(title, fontsize=10)


def _new(figsize) -> Figure:
    return plt.figure(figsize=figsize, layout="constrained")


def _done(fig: Figure) -> Figure:
    plt.close(fig)  # the caller holds the Figure; pyplot forgets it (no double display)
    return fig


# --------------------------------------------------------------------------- public figures


def show_matrix(a, ax: Axes | None = None, title: str | None = None, *, annotate: bool | None = None,
                cmap: str | None = None, vmin: float | None = None, vmax: float | None = None,
                highlight=None, grid: bool | None = None) -> Figure:
    """Heat map of a 2-D array with every value written in its cell.

    a ``(H, W)``; ``annotate`` defaults to True up to 400 cells; ``highlight`` is an optional
    boolean mask ``(H, W)`` of cells to outline; ``grid`` (white lines between the cells)
    defaults to ``annotate``. Colours are diverging (red/blue, centred on 0) when ``a`` has both
    signs, else sequential blues, unless ``cmap``/``vmin``/``vmax`` say otherwise; a constant
    array is shown mid-scale. Values within 1e-12 of 0 (relative to the largest) show as 0.
    """
    a = _matrix(a, "a")
    if highlight is not None:
        highlight = np.asarray(highlight, dtype=bool)
        if highlight.shape != a.shape:
            raise ValueError(f"highlight must have the shape of a {a.shape}, got {highlight.shape}")
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if annotate is None:
        annotate = a.size <= 400
    if grid is None:
        grid = annotate
    norm, cmap = _norm_and_cmap(_clean(a), vmin, vmax, cmap)
    created = ax is None
    if created:
        rows, cols = a.shape
        scale = min(1.0, 8.4 / (CELL * cols), 8 / (CELL * rows))
        fig = _new((max(2.0, CELL * cols * scale + 0.6), max(1.2, CELL * rows * scale + 0.6)))
        ax = fig.add_subplot()
    _draw_matrix(ax, a, title=title, annotate=annotate, norm=norm, cmap=cmap, highlight=highlight,
                 grid=grid, ticks=annotate)
    return _done(ax.figure) if created else ax.figure


def _names(names) -> tuple[str, str]:
    if (not isinstance(names, tuple | list) or len(names) != 2
            or not all(isinstance(n, str) for n in names)):
        raise TypeError(f"names must be a pair of str (input, output), got {names!r}")
    return names[0], names[1]


def sliding_window_figure(x, w, stride=1, padding=0, dilation=1, *, max_panels: int = 16,
                          names=("x", "y")) -> Figure:
    """The kernel sliding over the input, one panel per output pixel.

    Top row: the (zero-padded) input, the kernel and the output of
    :func:`~gan_lessons.conv.conv2d`. Below, for each output pixel ``y[i, j]`` (row by row, at
    most ``max_panels``), the input with the cells under the kernel outlined and the sum of
    products in the title.

    x ``(H, W)``, w ``(kH, kW)``; stride, padding and dilation as in
    :func:`~gan_lessons.conv.conv2d`; ``names`` are what the input and output are called in the
    labels. Pixels are labelled the numpy way, from 0.
    """
    x, w = _matrix(x, "x"), _matrix(w, "w")
    max_panels = check_int(max_panels, "max_panels", 1)
    x_name, y_name = _names(names)
    y = conv.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)  # validates
    (sh, sw), (ph, pw), (dh, dw) = (check_pair(v, n, 0) for v, n in
                                    ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    x_pad = np.pad(x, ((ph, ph), (pw, pw)))
    box = ((ph, pw), (ph + x.shape[0] - 1, pw + x.shape[1] - 1)) if ph or pw else None
    kh, kw = w.shape
    h_out, w_out = y.shape
    n_panels = min(h_out * w_out, max_panels)
    ncols = w_out if w_out <= 4 else 4
    nrows = -(-n_panels // ncols)

    cell = 0.42
    panel_w = max(1.9, cell * x_pad.shape[1] + 0.5)
    panel_h = cell * x_pad.shape[0] + 0.7
    fig = _new((max(ncols * panel_w, 3 * panel_w), panel_h * (nrows + 1) + 0.3))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, nrows])
    ax_x, ax_w, ax_y = top.subplots(1, 3, width_ratios=[x_pad.shape[1], max(kw, 2), max(w_out, 2)])
    norm_x, cmap_x = _norm_and_cmap(x_pad.astype(float))
    _draw_matrix(ax_x, x_pad, title=f"input {x_name}" + (" (zero-padded)" if box else ""),
                 norm=norm_x, cmap=cmap_x, dashed_box=box)
    _draw_matrix(ax_w, w, title="kernel w")
    _draw_matrix(ax_y, y, title=f"output {y_name}")
    top.suptitle(f"stride {stride}, padding {padding}, dilation {dilation}", fontsize=9)

    axes = np.atleast_1d(bottom.subplots(nrows, ncols, squeeze=False)).ravel()
    for k, ax in enumerate(axes):
        if k >= n_panels:
            ax.set_axis_off()
            continue
        i, j = divmod(k, w_out)
        rows = i * sh + dh * np.arange(kh)
        cols = j * sw + dw * np.arange(kw)
        mask = np.zeros(x_pad.shape, dtype=bool)
        mask[np.ix_(rows, cols)] = True
        window = x_pad[np.ix_(rows, cols)]
        if kh * kw <= 4:
            terms = " + ".join(f"{_term(a)}·{_term(b)}" for a, b in zip(w.ravel(), window.ravel(),
                                                                        strict=True))
            title = f"{y_name}[{i},{j}] = {terms}\n= {_fmt(y[i, j])}"
        else:
            title = f"{y_name}[{i},{j}] = sum(w ⊙ window)\n= {_fmt(y[i, j])}"
        _draw_matrix(ax, x_pad, title=None, norm=norm_x, cmap=cmap_x, highlight=mask,
                     dashed_box=box, ticks=False, fontsize=9)
        ax.set_title(title, fontsize=9)
    if h_out * w_out > n_panels:
        bottom.suptitle(f"first {n_panels} of {h_out * w_out} output pixels", fontsize=9)
    return _done(fig)


def transposed_stamp_figure(x, w, stride=1, padding=0, *, names=("x", "y")) -> Figure:
    """A transposed convolution as a sum of stamps: every input pixel adds its value times the
    kernel onto the output, at ``stride`` times its own position.

    Left: the input and the kernel. Middle: one panel per input pixel (laid out like the input),
    showing its scaled stamp on the uncropped output canvas. Right: the sum of the stamps, and,
    when ``padding`` > 0, the output of :func:`~gan_lessons.conv.conv_transpose2d` (the sum with
    the ``padding`` border cut off).

    x ``(H, W)``, w ``(kH, kW)``; ``names`` are what the input and output are called in the
    labels. Pixels are labelled the numpy way, from 0.
    """
    x, w = _matrix(x, "x"), _matrix(w, "w")
    x_name, y_name = _names(names)
    y = conv.conv_transpose2d(x, w, stride=stride, padding=padding)  # validates
    (sh, sw), (ph, pw) = check_pair(stride, "stride", 1), check_pair(padding, "padding", 0)
    h, wd = x.shape
    kh, kw = w.shape
    canvas = ((h - 1) * sh + kh, (wd - 1) * sw + kw)
    stamps = np.full((h, wd, *canvas), np.nan)
    for i, j in np.ndindex(h, wd):
        stamps[i, j, i * sh : i * sh + kh, j * sw : j * sw + kw] = x[i, j] * w
    total = np.nansum(stamps, axis=(0, 1))
    norm_s, cmap_s = _norm_and_cmap(stamps[np.isfinite(stamps)])
    cell = 0.4 if max(canvas) <= 6 else 0.3
    pw_in = cell * canvas[1] + 0.3
    ph_in = cell * canvas[0] + 0.6
    right_rows = 2 if (ph or pw) else 1
    right_w = max(pw_in, 1.8)
    fig = _new((1.6 + wd * pw_in + right_w, max(h * ph_in, right_rows * ph_in, 3.2)))
    left, middle, right = fig.subfigures(1, 3, width_ratios=[1.6, wd * pw_in, right_w])
    ax_x, ax_w = left.subplots(2, 1)
    _draw_matrix(ax_x, x, title=f"input {x_name}")
    _draw_matrix(ax_w, w, title="kernel w")
    axes = middle.subplots(h, wd, squeeze=False)
    for i, j in np.ndindex(h, wd):
        ax = axes[i, j]
        _draw_matrix(ax, stamps[i, j], norm=norm_s, cmap=cmap_s, ticks=False, fontsize=9,
                     outline=((i * sh, j * sw), (i * sh + kh - 1, j * sw + kw - 1)))
        ax.set_title(f"{x_name}[{i},{j}] = {_fmt(x[i, j])}: {_term(x[i, j])}·w", fontsize=9)
    middle.suptitle(f"one stamp per input pixel (stride {stride})", fontsize=9)
    r_axes = right.subplots(right_rows, 1, squeeze=False)[:, 0]
    box = ((ph, pw), (ph + y.shape[0] - 1, pw + y.shape[1] - 1)) if (ph or pw) else None
    _draw_matrix(r_axes[0], total, title="sum of the stamps" + ("" if box else f" = {y_name}"),
                 dashed_box=box)
    if box:
        _draw_matrix(r_axes[1], y, title=f"output {y_name}: crop padding {padding}")
    return _done(fig)


def overlap_figure(n: int = 5, kernel_sizes=(3, 4), stride: int = 2, padding: int = 0,
                   *, annotate: bool = True) -> Figure:
    """Heat maps of :func:`~gan_lessons.conv.overlap_counts`: how many kernel taps land on each
    output pixel of a transposed convolution of an ``n x n`` input, one panel per kernel size.

    With the default kernel 3 vs kernel 4 at stride 2, the first alternates 1, 2, 4 taps (a
    checkerboard) while the second covers its interior evenly (Odena et al., 2016).
    """
    n = check_int(n, "n", 1)
    if isinstance(kernel_sizes, int | np.integer):
        kernel_sizes = (kernel_sizes,)
    kernel_sizes = [check_int(k, "kernel_sizes", 1) for k in kernel_sizes]
    if not kernel_sizes:
        raise ValueError("kernel_sizes must name at least one kernel size")
    counts = [conv.overlap_counts(n, k, stride, padding) for k in kernel_sizes]
    vmax = max(int(c.max()) for c in counts)
    norm, cmap = _norm_and_cmap(np.array([[0.0, vmax]]), 0, vmax, "viridis")
    size = max(c.shape[0] for c in counts)
    side = min(0.29 * size, 5.0)
    fig = _new((len(counts) * (side + 0.4) + 1.0, side + 0.9))
    axes = fig.subplots(1, len(counts), squeeze=False)[0]
    for ax, k, c in zip(axes, kernel_sizes, counts, strict=True):
        inner = c[k:-k, k:-k] if min(c.shape) > 2 * k else c
        levels = ", ".join(str(v) for v in np.unique(inner))
        verdict = "even" if len(np.unique(inner)) == 1 else "uneven"
        _draw_matrix(ax, c, norm=norm, cmap=cmap, annotate=annotate, ticks=False,
                     fontsize=9 if c.shape[0] <= 14 else 7)
        ax.set_title(f"kernel {k}, stride {stride}: {verdict}\n(inside: {levels} taps)",
                     fontsize=10)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), shrink=0.8,
                 ticks=range(vmax + 1), label="kernel taps per output pixel")
    return _done(fig)
