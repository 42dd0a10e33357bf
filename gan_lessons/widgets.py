"""Interactive widgets for the book (ipywidgets, imported only when a function is called).

The widgets here need no running kernel: every frame is computed up front and the slider is
tied to the shown frame by a client-side ``jslink``, so dragging works in Jupyter *and* in the
static HTML book, whose saved widget state carries the frames.

>>> from gan_lessons.widgets import frame_scrubber
>>> frames = [image_grid(samples, title=f"step {s}") for s, samples in snapshots]
>>> frame_scrubber(frames, labels=[s for s, _ in snapshots])   # a VBox: slider over frames

Latent explorers put a decoder or generator behind sliders, one slider per latent direction:
:func:`latent_explorer` redraws live in Jupyter (a Python callback); :func:`static_latent_explorer`
precomputes one frame per slider position, so it also works in the rendered book.

"Without a kernel" means the rendered book and a notebook whose cells have run. A saved notebook
reopened in Jupyter shows "model not found" for every widget until its cells are run again: that
is how ipywidgets stores state. A live explorer carries the class ``gan-lessons-live`` and a label
saying that it needs a running kernel; the book's stylesheet shows it disabled.
"""

from __future__ import annotations

import html
import io
import numbers
from collections.abc import Iterable, Sequence

from gan_lessons._validate import check_float, check_int
from gan_lessons.browser_widget import browser_explorer  # the live explorer of the static book

__all__ = ["browser_explorer", "figure_to_png", "frame_grid_scrubber", "frame_scrubber",
           "images_to_png", "latent_explorer", "static_conditional_explorer",
           "static_latent_explorer"]


SCRUBBER_CLASS = "gan-lessons-scrubber"
LIVE_CLASS = "gan-lessons-live"
LIVE_CONTROLS_CLASS = "gan-lessons-live-controls"
LIVE_NOTICE = ("Live explorer: it redraws through Python, so it needs a running Jupyter "
               "kernel (in the rendered book it is shown disabled).")
SLIDER_LAYOUT = {"width": "min(100%, 560px)"}  # wide enough to drag one step at a time
SLIDER_STYLE = {"description_width": "6em"}


def figure_to_png(fig, dpi: float | None = None, close: bool = True) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (cropped to its content); closes it in pyplot
    afterwards if ``close`` (the Figure object itself stays usable)."""
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if dpi is not None:
        dpi = check_float(dpi, "dpi", 0.0, exclusive_minimum=True)
    if not isinstance(close, bool):
        raise TypeError(f"close must be a bool, got {type(close).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buffer.getvalue()


def _check_frame(frame, where: str) -> None:
    import ipywidgets as widgets

    if not (isinstance(frame, widgets.Widget | bytes | bytearray) or hasattr(frame, "savefig")):
        raise TypeError(f"{where} must be a matplotlib Figure, PNG bytes or an ipywidget, "
                        f"got {type(frame).__name__}")


def _frame_widget(frame, where: str):
    """``frame`` as a widget; ``where`` names it in errors (``"frames[2]"``)."""
    import ipywidgets as widgets

    _check_frame(frame, where)
    if isinstance(frame, widgets.Widget):
        return frame
    if isinstance(frame, bytes | bytearray):
        return widgets.Image(value=bytes(frame), format="png")
    return widgets.Image(value=figure_to_png(frame), format="png")  # a matplotlib Figure


def frame_scrubber(frames: Sequence, labels: Sequence | None = None,
                   description: str = "step", *, value: int = 0):
    """A slider that flips through precomputed frames, with no Python callback.

    Args:
        frames: matplotlib Figures (rendered to PNG, then closed), PNG ``bytes``, or ipywidgets.
        labels: one label per frame, shown beside the slider (default ``0 .. n-1``), e.g. the
            training step of each frame.
        description: the slider's description.
        value: the frame shown first.

    Returns:
        An ``ipywidgets.VBox`` holding a row with the slider and its label, above a ``Stack``
        of the frames. For inspection it also carries ``.slider`` (an ``IntSlider`` over
        ``0 .. n-1``), ``.stack`` (the frames), ``.label_stack`` (one ``HTML`` label per frame)
        and ``.links`` (the two ``jslink`` s from ``slider.value`` to each stack's
        ``selected_index``).
    """
    import ipywidgets as widgets

    if isinstance(frames, str | bytes) or not isinstance(frames, Sequence):
        raise TypeError(f"frames must be a list of frames, got {type(frames).__name__}")
    if len(frames) == 0:
        raise ValueError("frames must not be empty")
    if not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
    n = len(frames)
    labels = list(range(n)) if labels is None else list(labels)
    if len(labels) != n:
        raise ValueError(f"labels must have one entry per frame ({n}), got {len(labels)}")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
        raise ValueError(f"value must be an int in 0..{n - 1}, got {value!r}")

    children = [_frame_widget(frame, f"frames[{i}]") for i, frame in enumerate(frames)]
    stack = widgets.Stack(children=children, selected_index=value)
    label_stack = widgets.Stack(
        children=[widgets.HTML(f"<b>{html.escape(str(label))}</b>") for label in labels],
        selected_index=value,
    )
    slider = widgets.IntSlider(
        value=value, min=0, max=n - 1, step=1, description=description, readout=False,
        continuous_update=True, layout=widgets.Layout(**SLIDER_LAYOUT), style=SLIDER_STYLE,
    )
    links = (
        widgets.jslink((slider, "value"), (stack, "selected_index")),
        widgets.jslink((slider, "value"), (label_stack, "selected_index")),
    )
    box = widgets.VBox([widgets.HBox([slider, label_stack]), stack])
    box.add_class(SCRUBBER_CLASS)  # the book's browser tests find scrubbers by this class
    box.slider, box.stack, box.label_stack, box.links = slider, stack, label_stack, links
    return box


def _pair(value, name: str, kind: type, what: str) -> tuple:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a pair of {what}, got {type(value).__name__}")
    if len(value) != 2:
        raise ValueError(f"{name} must be a pair of {what}, got {len(value)} values")
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{name} must be a pair of {what}, got {value!r}")
    return tuple(value)


def _labels(labels, name: str, n: int, per: str) -> list[str]:
    if isinstance(labels, str | bytes) or not isinstance(labels, Iterable):
        raise TypeError(f"{name} must be a list of labels, got {type(labels).__name__}")
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(f"{name} must have one entry per {per} ({n}), got {len(labels)}")
    return labels


def frame_grid_scrubber(frames: Sequence, row_labels: Sequence, col_labels: Sequence,
                        descriptions: Sequence[str] = ("row", "column"), *,
                        value: Sequence[int] = (0, 0)):
    """Two sliders over a grid of precomputed frames (row, then column), with no Python callback.

    E.g. a style-mixing picker: rows = the crossover layer, columns = the second latent::

        with torch.no_grad():
            frames = [[images_to_png(x) for x in style_mix(g, z_a.expand(len(z_b), -1), z_b, c)]
                      for c in range(g.num_ws + 1)]
        frame_grid_scrubber(frames, range(g.num_ws + 1), [f"B{j}" for j in range(len(z_b))],
                            ("crossover", "latent B"))

    Args:
        frames: a list of rows, each a list of frames of one length; a frame is what
            :func:`frame_scrubber` takes (Figures are rendered to PNG, then closed).
        row_labels, col_labels: one label per row / column, shown by the sliders.
        descriptions: the two sliders' descriptions.
        value: ``(row, column)`` shown first.

    Returns:
        A ``VBox`` (class ``gan-lessons-scrubber``) with the two ``SelectionSlider`` s above a
        ``Stack`` of rows, each an inner ``Stack`` of frames. It carries ``sliders``, ``stack``
        (the outer Stack) and ``links`` (``jslink`` s from the second slider's ``index`` to
        every inner Stack's ``selected_index``, then from the first slider to the outer one).
    """
    import ipywidgets as widgets

    if isinstance(frames, str | bytes) or not isinstance(frames, Sequence):
        raise TypeError(f"frames must be a list of rows of frames, got {type(frames).__name__}")
    if len(frames) == 0:
        raise ValueError("frames must not be empty")
    for i, row in enumerate(frames):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise TypeError(f"frames[{i}] must be a list of frames (a row), "
                            f"got {type(row).__name__}")
        if len(row) == 0:
            raise ValueError(f"frames[{i}] must not be empty")
        if len(row) != len(frames[0]):
            raise ValueError(f"frames must be rows of one length: frames[{i}] has {len(row)} "
                             f"frames, frames[0] has {len(frames[0])}")
        for j, frame in enumerate(row):  # all checked before any Figure is rendered and closed
            _check_frame(frame, f"frames[{i}][{j}]")
    n_rows, n_cols = len(frames), len(frames[0])
    row_labels = _labels(row_labels, "row_labels", n_rows, "row of frames")
    col_labels = _labels(col_labels, "col_labels", n_cols, "column of frames")
    descriptions = _pair(descriptions, "descriptions", str, "str")
    row, col = _pair(value, "value", numbers.Integral, "ints (row, column)")
    if not (0 <= row < n_rows and 0 <= col < n_cols):
        raise ValueError(f"value must be (row, column) with row in 0..{n_rows - 1} and column "
                         f"in 0..{n_cols - 1}, got {tuple(value)!r}")

    def slider(labels, start, description):
        return widgets.SelectionSlider(
            options=[(label, k) for k, label in enumerate(labels)], value=int(start),
            description=description, continuous_update=True,
            layout=widgets.Layout(**SLIDER_LAYOUT), style=SLIDER_STYLE)

    sliders = [slider(row_labels, row, descriptions[0]), slider(col_labels, col, descriptions[1])]
    links, inner = [], []
    for i, frames_row in enumerate(frames):
        stack = widgets.Stack([_frame_widget(frame, f"frames[{i}][{j}]")
                               for j, frame in enumerate(frames_row)], selected_index=int(col))
        links.append(widgets.jslink((sliders[1], "index"), (stack, "selected_index")))
        inner.append(stack)
    outer = widgets.Stack(inner, selected_index=int(row))
    links.append(widgets.jslink((sliders[0], "index"), (outer, "selected_index")))
    box = widgets.VBox([*sliders, outer])
    box.add_class(SCRUBBER_CLASS)
    box.sliders, box.stack, box.links = sliders, outer, links
    return box


# --------------------------------------------------------------------------- latent explorers


def images_to_png(images, nrow: int | None = None, scale: int = 4) -> bytes:
    """Images ``(B, C, H, W)`` (or one ``(C, H, W)``) in [-1, 1] as one PNG grid, upscaled by
    ``scale`` with nearest-neighbour so small digits stay crisp."""
    import torch
    from PIL import Image
    from torchvision.utils import make_grid

    from gan_lessons.data import to_image

    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
    images = images.detach().cpu()
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1] not in (1, 3) or min(images.shape) == 0:
        raise ValueError(f"images must have shape (B, C, H, W) with B >= 1 and C = 1 or 3 "
                         f"(grey or RGB), got {tuple(images.shape)}")
    nrow = None if nrow is None else check_int(nrow, "nrow", minimum=1)
    scale = check_int(scale, "scale", minimum=1)
    grid = make_grid(to_image(images), nrow=nrow or images.shape[0], padding=1, pad_value=1.0)
    array = (grid * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    picture = Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


def _latent_inputs(decoder, z0, directions, names):
    import torch

    if not callable(decoder):
        raise TypeError(f"decoder must be callable (z (B, D) -> images), got {type(decoder).__name__}")
    if not isinstance(z0, torch.Tensor):
        raise TypeError(f"z0 must be a torch.Tensor (D,), got {type(z0).__name__}")
    if not z0.is_floating_point() or z0.ndim != 1 or not bool(torch.isfinite(z0).all()):
        raise ValueError(f"z0 must be a finite floating-point tensor (D,), got {z0.dtype} of "
                         f"shape {tuple(z0.shape)}")
    if directions is None:
        directions = torch.eye(z0.shape[0], device=z0.device)[: min(4, z0.shape[0])]
    if not isinstance(directions, torch.Tensor):
        raise TypeError(f"directions must be a (K, D) tensor or None, got "
                        f"{type(directions).__name__} (stack a list with torch.stack)")
    if directions.ndim != 2 or directions.shape[1] != z0.shape[0] or len(directions) == 0:
        raise ValueError(f"directions must be a (K, {z0.shape[0]}) tensor with K >= 1, got "
                         f"{tuple(directions.shape)}")
    if not directions.is_floating_point() or not bool(torch.isfinite(directions).all()):
        raise ValueError(f"directions must hold finite floats, got dtype {directions.dtype}")
    # a float64 z0 for a float32 model: compute in the model's dtype (issue 10, item 21)
    module = getattr(decoder, "__self__", decoder)  # vae.decode -> vae
    param = next(module.parameters(), None) if isinstance(module, torch.nn.Module) else None
    z0 = z0.to(param.dtype) if param is not None and param.is_floating_point() else z0
    if names is None:
        names = [f"dir {i}" for i in range(directions.shape[0])]
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a list of str or None, got {type(names).__name__}")
    if len(names) != directions.shape[0]:
        raise ValueError(f"names must have one entry per direction ({directions.shape[0]}), got {len(names)}")
    return z0, directions.to(z0), list(names)


def _decode_png(decoder, z, scale):
    import torch

    with torch.no_grad():
        return images_to_png(decoder(z[None]), scale=scale)


def latent_explorer(decoder, z0, directions=None, names=None, *, span: float = 3.0,
                    step: float = 0.1, scale: int = 4):
    """Live sliders over latent directions that redraw the decoded image (needs a kernel).

    Args:
        decoder: ``z (B, D) -> images (B, C, H, W)`` in [-1, 1], e.g. ``vae.decode`` or a generator
            (call ``.eval()`` on it first).
        z0: ``(D,)`` the point the sliders move from.
        directions: ``(K, D)`` one row per slider, e.g. from
            :func:`gan_lessons.latent.principal_directions` scaled by their stds; default: the first
            (up to 4) raw latent dimensions.
        names: slider labels.
        span, step: each slider runs from ``-span`` to ``span``.

    Returns:
        A ``VBox`` with attributes ``sliders`` (list of FloatSliders), ``image`` (the Image widget)
        and ``latent()`` (the current z).
    """
    import ipywidgets as widgets

    z0, directions, names = _latent_inputs(decoder, z0, directions, names)
    span = check_float(span, "span", 0.0, exclusive_minimum=True)
    step = check_float(step, "step", 0.0, exclusive_minimum=True)
    scale = check_int(scale, "scale", minimum=1)
    sliders = [widgets.FloatSlider(value=0.0, min=-span, max=span, step=step, description=name,
                                   continuous_update=True, layout=widgets.Layout(**SLIDER_LAYOUT),
                                   style=SLIDER_STYLE) for name in names]
    image = widgets.Image(value=_decode_png(decoder, z0, scale), format="png")

    def latent():
        offsets = z0.new_tensor([s.value for s in sliders])
        return z0 + offsets @ directions

    def redraw(change=None):
        image.value = _decode_png(decoder, latent(), scale)

    for slider in sliders:
        slider.observe(redraw, names="value")
    notice = widgets.HTML(f"<i>{html.escape(LIVE_NOTICE)}</i>")
    # stacked: the sliders, then the image at its own size (a VBox would stretch it)
    controls = widgets.VBox([*sliders, image], layout=widgets.Layout(align_items="flex-start"))
    controls.add_class(LIVE_CONTROLS_CLASS)  # what the book's stylesheet disables
    box = widgets.VBox([notice, controls])
    box.add_class(LIVE_CLASS)  # browser tests find live explorers by this
    box.sliders, box.image, box.latent = sliders, image, latent
    return box


def _symmetric_offsets(span: float, positions: int) -> list[float]:
    """``positions`` evenly spaced offsets from ``-span`` to ``span``, symmetric about an exact
    0.0 (``torch.linspace(-4, 4, 7)[3]`` is -1.2e-07, which would be labelled "-0.00")."""
    half = (positions - 1) / 2
    return [span * (i - half) / half for i in range(positions)]


def _offset_label(t: float) -> str:
    return "0" if t == 0 else f"{t:+.2f}"


def static_latent_explorer(decoder, z0, directions=None, names=None, *, span: float = 3.0,
                           positions: int = 9, scale: int = 4):
    """Sliders over one or two latent directions whose frames are all precomputed.

    Each slider position's image is decoded up front and the sliders are ``jslink``ed to nested
    ``Stack`` widgets, so dragging works without a kernel: in the rendered book too. With two
    directions there are ``positions ** 2`` frames (an outer Stack per first-slider position,
    each holding an inner Stack over the second slider).

    Returns:
        A ``VBox`` (class ``gan-lessons-scrubber``) with attributes ``sliders``, ``stack`` (the
        outer Stack), ``offsets`` (the latent offset of each position) and ``links``.
    """
    import ipywidgets as widgets

    z0, directions, names = _latent_inputs(decoder, z0, directions, names)
    positions = check_int(positions, "positions", minimum=2)
    span = check_float(span, "span", 0.0, exclusive_minimum=True)  # NaN gave NaN frames
    scale = check_int(scale, "scale", minimum=1)
    if directions.shape[0] not in (1, 2):
        raise ValueError(f"directions must have 1 or 2 rows for a static explorer, got {directions.shape[0]}")
    offsets = _symmetric_offsets(span, positions)
    sliders = [widgets.SelectionSlider(options=[(_offset_label(t), i) for i, t in enumerate(offsets)],
                                       value=positions // 2, description=name, continuous_update=True,
                                       layout=widgets.Layout(**SLIDER_LAYOUT), style=SLIDER_STYLE)
               for name in names]
    links = []

    def frames_along(z_base, direction, link_to):
        frames = [widgets.Image(value=_decode_png(decoder, z_base + t * direction, scale), format="png")
                  for t in offsets]
        stack = widgets.Stack(frames, selected_index=positions // 2)
        links.append(widgets.jslink((link_to, "index"), (stack, "selected_index")))
        return stack

    if directions.shape[0] == 1:
        stack = frames_along(z0, directions[0], sliders[0])
    else:
        inner = [frames_along(z0 + t * directions[0], directions[1], sliders[1]) for t in offsets]
        stack = widgets.Stack(inner, selected_index=positions // 2)
        links.append(widgets.jslink((sliders[0], "index"), (stack, "selected_index")))
    box = widgets.VBox([*sliders, stack])
    box.add_class(SCRUBBER_CLASS)
    box.sliders, box.stack, box.offsets, box.links = sliders, stack, offsets, links
    return box


def static_conditional_explorer(generator, z0, direction, *, classes=None, span: float = 3.0,
                                positions: int = 9, scale: int = 4, name: str = "z"):
    """Two sliders over a conditional generator, all frames precomputed (no kernel needed):
    the class, and an offset of ``z`` along ``direction``.

    Args:
        generator: ``generator(z (B, D), labels (B,)) -> images (B, C, H, W)`` in [-1, 1] with
            an int attribute ``num_classes`` (a ``ConditionalGenerator``; call ``.eval()``).
        z0: ``(D,)`` the noise the second slider moves from.
        direction: ``(D,)`` the direction it moves along.
        classes: slider labels of the classes (default ``"0"``, ``"1"``, ...).
        span, positions, scale: the second slider runs over ``positions`` offsets from
            ``-span`` to ``span``; images are shown ``scale`` times enlarged.
        name: the second slider's description.

    Returns:
        A :func:`frame_grid_scrubber` ``VBox`` (class ``gan-lessons-scrubber``) with ``sliders``
        (class, then offset), ``stack`` (one inner ``Stack`` of frames per class), ``offsets``
        and ``links``.
    """
    import torch

    num_classes = getattr(generator, "num_classes", None)
    if not isinstance(num_classes, int):
        raise TypeError("generator must be a conditional generator with an int attribute "
                        "num_classes (e.g. a ConditionalGenerator)")
    if not isinstance(direction, torch.Tensor):
        raise TypeError(f"direction must be a (D,) tensor, got {type(direction).__name__}")
    if direction.ndim != 1:
        raise ValueError(f"direction must have shape (D,), got {tuple(direction.shape)}")
    classes = [str(k) for k in range(num_classes)] if classes is None else classes
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) != num_classes:
        raise ValueError(f"classes must be a list of {num_classes} labels, got {classes!r}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    positions = check_int(positions, "positions", minimum=2)
    span = check_float(span, "span", 0.0, exclusive_minimum=True)
    scale = check_int(scale, "scale", minimum=1)
    offsets = _symmetric_offsets(span, positions)
    z0, directions, _ = _latent_inputs(generator, z0, direction[None], [name])
    device = z0.device
    if isinstance(generator, torch.nn.Module):
        device = next((p.device for p in generator.parameters()), device)
    z = torch.stack([z0 + t * directions[0] for t in offsets]).to(device)  # (positions, D)
    frames = []  # one row of PNGs per class
    for k in range(num_classes):
        with torch.no_grad():
            images = generator(z, torch.full((positions,), k, device=device))
        frames.append([images_to_png(x[None], scale=scale) for x in images])
    box = frame_grid_scrubber(frames, classes, [_offset_label(t) for t in offsets],
                              ("class", name), value=(0, positions // 2))
    box.offsets = offsets
    return box
