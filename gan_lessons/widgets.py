"""Interactive widgets for the book (ipywidgets, imported only when a function is called).

The widgets here need no running kernel: every frame is computed up front and the slider is
tied to the shown frame by a client-side ``jslink``, so dragging works in Jupyter *and* in the
static HTML book, whose saved widget state carries the frames.

>>> from gan_lessons.widgets import frame_scrubber
>>> frames = [image_grid(samples, title=f"step {s}") for s, samples in snapshots]
>>> frame_scrubber(frames, labels=[s for s, _ in snapshots])   # a VBox: slider over frames
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

__all__ = ["figure_to_png", "frame_scrubber"]


SCRUBBER_CLASS = "gan-lessons-scrubber"


def figure_to_png(fig, dpi: float | None = None, close: bool = True) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (cropped to its content); closes it in pyplot
    afterwards if ``close`` (the Figure object itself stays usable)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buffer.getvalue()


def _frame_widget(frame, index: int):
    import ipywidgets as widgets

    if isinstance(frame, widgets.Widget):
        return frame
    if isinstance(frame, bytes | bytearray):
        return widgets.Image(value=bytes(frame), format="png")
    if hasattr(frame, "savefig"):  # a matplotlib Figure
        return widgets.Image(value=figure_to_png(frame), format="png")
    raise TypeError(f"frames[{index}] must be a matplotlib Figure, PNG bytes or an ipywidget, "
                    f"got {type(frame).__name__}")


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
        An ``ipywidgets.VBox``: a row with the slider and its label, above a ``Stack`` of the
        frames. For inspection it also carries ``.slider`` (an ``IntSlider`` over
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

    children = [_frame_widget(frame, i) for i, frame in enumerate(frames)]
    stack = widgets.Stack(children=children, selected_index=value)
    label_stack = widgets.Stack(
        children=[widgets.HTML(f"<b>{html.escape(str(label))}</b>") for label in labels],
        selected_index=value,
    )
    slider = widgets.IntSlider(
        value=value, min=0, max=n - 1, step=1, description=description, readout=False,
        continuous_update=True, layout=widgets.Layout(width="60%"),
    )
    links = (
        widgets.jslink((slider, "value"), (stack, "selected_index")),
        widgets.jslink((slider, "value"), (label_stack, "selected_index")),
    )
    box = widgets.VBox([widgets.HBox([slider, label_stack]), stack])
    box.add_class(SCRUBBER_CLASS)  # the book's browser tests find scrubbers by this class
    box.slider, box.stack, box.label_stack, box.links = slider, stack, label_stack, links
    return box
