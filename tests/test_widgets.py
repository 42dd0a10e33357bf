"""Tests of gan_lessons.widgets: the frame scrubbers' structure and their client-side links."""

from __future__ import annotations

import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

widgets = pytest.importorskip("ipywidgets")

from ipywidgets.widgets.widget_link import Link  # noqa: E402

from gan_lessons.widgets import figure_to_png, frame_grid_scrubber, frame_scrubber  # noqa: E402


def _figure(i: int):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, i])
    return fig


def test_import_does_not_import_ipywidgets():
    code = "import sys, gan_lessons.widgets; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_frame_scrubber_structure():
    figures = [_figure(i) for i in range(3)]
    box = frame_scrubber(figures, labels=[0, 500, 1000], description="step")
    assert isinstance(box, widgets.VBox)
    assert all(not plt.fignum_exists(f.number) for f in figures)  # rendered, then closed
    assert isinstance(box.stack, widgets.Stack)
    assert len(box.stack.children) == 3
    assert all(isinstance(c, widgets.Image) and c.value[:4] == b"\x89PNG" for c in box.stack.children)
    assert (box.slider.min, box.slider.max, box.slider.value) == (0, 2, 0)
    assert box.slider.description == "step"
    assert box.stack.selected_index == 0
    assert [c.value for c in box.label_stack.children] == ["<b>0</b>", "<b>500</b>", "<b>1000</b>"]
    assert box.stack in box.children
    assert box.slider in box.children[0].children
    assert "gan-lessons-scrubber" in box._dom_classes  # what the browser tests look for


def test_frame_scrubber_links_slider_to_stacks():
    box = frame_scrubber([b"\x89PNG-a", b"\x89PNG-b"], value=1)
    assert box.stack.selected_index == 1
    assert box.slider.value == 1
    targets = []
    for link in box.links:
        assert isinstance(link, Link)  # a jslink: runs in the browser, no kernel
        assert link.source == (box.slider, "value")
        targets.append(link.target)
    assert targets == [(box.stack, "selected_index"), (box.label_stack, "selected_index")]


def test_frame_scrubber_accepts_widgets():
    html = widgets.HTML("frame")
    box = frame_scrubber([html, _figure(1)])
    assert box.stack.children[0] is html


def test_frame_scrubber_bad_input():
    with pytest.raises(ValueError, match="frames"):
        frame_scrubber([])
    with pytest.raises(TypeError, match=r"frames\[0\]"):
        frame_scrubber(["not a frame"])
    with pytest.raises(ValueError, match="labels"):
        frame_scrubber([b"a", b"b"], labels=[1])
    with pytest.raises(ValueError, match="value"):
        frame_scrubber([b"a"], value=1)


def test_figure_to_png():
    fig = _figure(2)
    png = figure_to_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")
    assert not plt.fignum_exists(fig.number)


# --------------------------------------------------------------------------- frame grid scrubber


def _grid(rows: int, cols: int) -> list[list[bytes]]:
    return [[b"\x89PNG-" + f"{i}-{j}".encode() for j in range(cols)] for i in range(rows)]


def test_frame_grid_scrubber_structure():
    figures = [[_figure(3 * i + j) for j in range(3)] for i in range(2)]
    box = frame_grid_scrubber(figures, ["layer 2", "layer 4"], [0, 1, 2], ("crossover", "z"))
    assert isinstance(box, widgets.VBox)
    assert all(not plt.fignum_exists(f.number) for row in figures for f in row)  # rendered, closed
    assert box.children == (*box.sliders, box.stack)
    assert isinstance(box.stack, widgets.Stack)
    assert len(box.stack.children) == 2  # one inner stack per row
    for inner in box.stack.children:
        assert isinstance(inner, widgets.Stack)
        assert len(inner.children) == 3  # one frame per column
        assert all(isinstance(c, widgets.Image) and c.value[:4] == b"\x89PNG"
                   for c in inner.children)
    rows, cols = box.sliders
    assert all(isinstance(s, widgets.SelectionSlider) for s in box.sliders)
    assert rows.options == (("layer 2", 0), ("layer 4", 1))
    assert cols.options == (("0", 0), ("1", 1), ("2", 2))  # labels as strings, values indices
    assert (rows.description, cols.description) == ("crossover", "z")
    for slider in box.sliders:
        assert slider.continuous_update
        assert slider.layout.width == "min(100%, 560px)"  # SLIDER_LAYOUT
        assert slider.style.description_width == "6em"  # SLIDER_STYLE
    assert len(box.links) == 2 + 1  # one per inner stack, and the outer stack
    assert "gan-lessons-scrubber" in box._dom_classes  # what the browser tests look for


def test_frame_grid_scrubber_defaults():
    box = frame_grid_scrubber(_grid(2, 2), ["a", "b"], ["c", "d"])
    assert [s.description for s in box.sliders] == ["row", "column"]
    assert [s.index for s in box.sliders] == [0, 0]
    assert box.stack.selected_index == 0
    assert all(inner.selected_index == 0 for inner in box.stack.children)


def test_frame_grid_scrubber_links_sliders_to_stacks():
    box = frame_grid_scrubber(_grid(3, 4), ["a", "b", "c"], range(4), value=(2, 1))
    rows, cols = box.sliders
    assert (rows.index, rows.value, rows.label) == (2, 2, "c")
    assert (cols.index, cols.value, cols.label) == (1, 1, "1")
    assert box.stack.selected_index == 2
    assert all(inner.selected_index == 1 for inner in box.stack.children)
    assert box.stack.children[2].children[1].value == b"\x89PNG-2-1"  # the frame shown first
    assert len(box.links) == 3 + 1
    for link in box.links:
        assert type(link) is Link  # a two-way jslink, runs in the browser: no kernel needed
    *inner_links, outer_link = box.links
    assert [link.source for link in inner_links] == [(cols, "index")] * 3
    assert [link.target for link in inner_links] == [(inner, "selected_index")
                                                     for inner in box.stack.children]
    assert outer_link.source == (rows, "index")
    assert outer_link.target == (box.stack, "selected_index")


def test_frame_grid_scrubber_has_no_python_callback():
    box = frame_grid_scrubber(_grid(2, 2), ["a", "b"], ["c", "d"])
    fresh = widgets.SelectionSlider(options=[("a", 0)])

    def observers(widget):
        return {name: {kind: len(handlers) for kind, handlers in by_kind.items()}
                for name, by_kind in widget._trait_notifiers.items()}

    assert all(observers(slider) == observers(fresh) for slider in box.sliders)


def test_frame_grid_scrubber_links_are_in_the_saved_widget_state():
    from ipywidgets.embed import embed_data

    box = frame_grid_scrubber(_grid(2, 3), ["a", "b"], ["c", "d", "e"])
    state = embed_data(views=[box])["manager_state"]["state"]  # what the static book carries
    for link in box.links:
        saved = state[link.model_id]
        assert saved["model_name"] == "LinkModel"
        assert saved["state"]["source"] == [f"IPY_MODEL_{link.source[0].model_id}", "index"]
        assert saved["state"]["target"] == [f"IPY_MODEL_{link.target[0].model_id}",
                                            "selected_index"]


def test_frame_grid_scrubber_accepts_widgets_bytes_and_figures():
    html = widgets.HTML("frame")
    box = frame_grid_scrubber([[html, b"\x89PNG-x"], [_figure(1), bytearray(b"\x89PNG-y")]],
                              ["r0", "r1"], ["c0", "c1"])
    first, second = box.stack.children
    assert first.children[0] is html
    assert first.children[1].value == b"\x89PNG-x"
    assert second.children[0].value[:4] == b"\x89PNG"
    assert second.children[1].value == b"\x89PNG-y"


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"frames": "abc"}, TypeError, "frames must be a list of rows"),
    ({"frames": b"abc"}, TypeError, "frames must be a list of rows"),
    ({"frames": []}, ValueError, "frames must not be empty"),
    ({"frames": [b"a", b"b"]}, TypeError, "frames[0] must be a list of frames"),
    ({"frames": [[b"a"], None]}, TypeError, "frames[1] must be a list of frames"),
    ({"frames": [[b"a"], []]}, ValueError, "frames[1] must not be empty"),
    ({"frames": [[b"a"] * 4, [b"a"] * 3]}, ValueError, "frames[1] has 3 frames, frames[0] has 4"),
    ({"frames": [[b"a", "not a frame"]]}, TypeError, "frames[0][1] must be a matplotlib Figure"),
    ({"row_labels": ["a"]}, ValueError,
     "row_labels must have one entry per row of frames (2), got 1"),
    ({"row_labels": "ab"}, TypeError, "row_labels must be a list of labels"),
    ({"row_labels": 2}, TypeError, "row_labels must be a list of labels"),
    ({"col_labels": ["a", "b", "c", "d"]}, ValueError,
     "col_labels must have one entry per column of frames (3), got 4"),
    ({"col_labels": None}, TypeError, "col_labels must be a list of labels"),
    ({"descriptions": "ab"}, TypeError, "descriptions must be a pair of str"),
    ({"descriptions": ("a",)}, ValueError, "descriptions must be a pair of str, got 1 values"),
    ({"descriptions": ("a", 2)}, TypeError, "descriptions must be a pair of str"),
    ({"value": 0}, TypeError, "value must be a pair of ints"),
    ({"value": (0, 0, 0)}, ValueError, "value must be a pair of ints"),
    ({"value": (0, 1.0)}, TypeError, "value must be a pair of ints"),
    ({"value": (True, 0)}, TypeError, "value must be a pair of ints"),
    ({"value": (2, 0)}, ValueError,
     "value must be (row, column) with row in 0..1 and column in 0..2"),
    ({"value": (0, 3)}, ValueError, "value must be (row, column)"),
    ({"value": (-1, 0)}, ValueError, "value must be (row, column)"),
])
def test_frame_grid_scrubber_bad_input(kwargs, error, fragment):
    args = {"frames": _grid(2, 3), "row_labels": ["a", "b"], "col_labels": ["c", "d", "e"],
            **kwargs}
    with pytest.raises(error, match=re.escape(fragment)):
        frame_grid_scrubber(**args)


def test_frame_grid_scrubber_bad_frame_closes_no_figure():
    figures = [_figure(0), _figure(1)]
    with pytest.raises(TypeError, match=re.escape("frames[1][0]")):
        frame_grid_scrubber([figures, ["not a frame", b"\x89PNG"]], ["a", "b"], ["c", "d"])
    assert all(plt.fignum_exists(f.number) for f in figures)  # checked before any was rendered
    plt.close("all")


# --------------------------------------------------------------------------- latent explorers


def _decoder():
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 8, 8)))
    return net.eval()


def test_live_explorer_redraws_when_a_slider_moves():
    import torch

    from gan_lessons.widgets import latent_explorer

    box = latent_explorer(_decoder(), torch.zeros(3), names=["a", "b", "c"])
    assert [s.description for s in box.sliders] == ["a", "b", "c"]
    before = box.image.value
    assert before[:4] == b"\x89PNG"
    box.sliders[1].value = 2.0
    assert box.image.value != before
    assert torch.allclose(box.latent(), torch.tensor([0.0, 2.0, 0.0]))
    box.sliders[1].value = 0.0
    assert box.image.value == before  # same latent, same picture


def test_static_explorer_has_one_frame_per_position_and_links():
    import torch

    from gan_lessons.widgets import static_latent_explorer

    box = static_latent_explorer(_decoder(), torch.zeros(3), torch.eye(3)[:1], positions=5)
    assert len(box.stack.children) == 5
    assert all(isinstance(f, widgets.Image) for f in box.stack.children)
    assert len({f.value for f in box.stack.children}) == 5  # every position decodes differently
    (link,) = box.links
    assert (link.source[0], link.source[1]) == (box.sliders[0], "index")
    assert (link.target[0], link.target[1]) == (box.stack, "selected_index")
    assert box.stack.selected_index == box.sliders[0].index == 2
    assert "gan-lessons-scrubber" in box._dom_classes


def test_live_explorer_says_it_needs_a_kernel():
    import torch

    from gan_lessons.widgets import LIVE_CLASS, latent_explorer

    box = latent_explorer(_decoder(), torch.zeros(3))
    assert LIVE_CLASS in box._dom_classes  # the book's stylesheet disables it by this class
    notice = box.children[0]
    assert isinstance(notice, widgets.HTML)
    assert "needs a running Jupyter kernel" in notice.value
    controls = box.children[1]
    assert "gan-lessons-live-controls" in controls._dom_classes
    assert controls.children == (*box.sliders, box.image)


@pytest.mark.parametrize("positions", [2, 3, 7, 9, 10])
def test_static_explorer_offsets_are_symmetric_with_an_exact_zero(positions):
    import torch

    from gan_lessons.widgets import static_latent_explorer

    box = static_latent_explorer(_decoder(), torch.zeros(3), torch.eye(3)[:1], span=4.0,
                                 positions=positions)
    offsets = box.offsets
    assert offsets[0] == -4.0
    assert offsets[-1] == 4.0
    assert offsets == [-t for t in reversed(offsets)]
    labels = [label for label, _ in box.sliders[0].options]
    assert not any(label.startswith("-0.00") for label in labels)  # linspace gave -1.2e-07
    if positions % 2:
        assert offsets[positions // 2] == 0.0
        assert labels[positions // 2] == "0"


def test_static_explorer_two_directions_nests_stacks():
    import torch

    from gan_lessons.widgets import static_latent_explorer

    box = static_latent_explorer(_decoder(), torch.zeros(3), torch.eye(3)[:2], positions=3)
    assert len(box.stack.children) == 3
    assert all(len(inner.children) == 3 for inner in box.stack.children)
    assert len(box.links) == 4  # outer stack + one inner stack per first-slider position


def test_explorers_refuse_bad_input():
    import torch

    from gan_lessons.widgets import latent_explorer, static_latent_explorer

    with pytest.raises(TypeError, match="decoder"):
        latent_explorer("nope", torch.zeros(3))
    with pytest.raises(ValueError, match="z0"):
        latent_explorer(_decoder(), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="directions"):
        latent_explorer(_decoder(), torch.zeros(3), torch.eye(2))
    with pytest.raises(ValueError, match="directions"):
        static_latent_explorer(_decoder(), torch.zeros(3), torch.eye(3))
    with pytest.raises(ValueError, match="names"):
        latent_explorer(_decoder(), torch.zeros(3), torch.eye(3), names=["x"])


def test_images_to_png_refuses_two_channel_images():
    # issue 10, item 12: a 2-channel batch was written as a PNG
    import torch

    from gan_lessons.widgets import images_to_png

    with pytest.raises(ValueError, match=r"images must have shape .*C = 1 or 3.*\(4, 2, 8, 8\)"):
        images_to_png(torch.zeros(4, 2, 8, 8))
    with pytest.raises(ValueError, match="B >= 1"):
        images_to_png(torch.zeros(0, 1, 8, 8))
    assert images_to_png(torch.zeros(4, 1, 8, 8), scale=1).startswith(b"\x89PNG")


@pytest.mark.parametrize("span", [float("nan"), float("inf"), 0.0, -2.0])
def test_static_explorer_refuses_a_span_that_is_not_positive_and_finite(span):
    # issue 10, item 12: static_latent_explorer(span=nan) built NaN frames
    import torch

    from gan_lessons.widgets import latent_explorer, static_latent_explorer

    with pytest.raises(ValueError, match="span must be"):
        static_latent_explorer(_decoder(), torch.zeros(3), torch.eye(3)[:1], span=span)
    with pytest.raises(ValueError, match="span must be"):
        latent_explorer(_decoder(), torch.zeros(3), span=span)


def test_explorers_take_a_float64_z0_for_a_float32_model():
    # issue 10, item 21: torch's dtype-mismatch error from deep inside the model
    import torch

    from gan_lessons.widgets import latent_explorer, static_latent_explorer

    z0 = torch.zeros(3, dtype=torch.float64)
    box = static_latent_explorer(_decoder(), z0, torch.eye(3, dtype=torch.float64)[:1],
                                 positions=3)
    assert len(box.stack.children) == 3
    assert latent_explorer(_decoder(), z0).latent().dtype == torch.float32


def test_static_conditional_explorer_has_a_frame_per_class_and_offset_all_linked():
    import torch

    from gan_lessons.models import ConditionalGANConfig, build_gan
    from gan_lessons.widgets import images_to_png, static_conditional_explorer

    torch.manual_seed(0)
    g, _ = build_gan("conditional", ConditionalGANConfig(
        num_classes=3, image_size=16, channels=1, latent_dim=4, width=4, max_width=8))
    g.eval()
    z0, direction = torch.zeros(4), torch.eye(4)[0]
    box = static_conditional_explorer(g, z0, direction, classes=["a", "b", "c"], positions=3)
    class_slider, z_slider = box.sliders
    assert [label for label, _ in class_slider.options] == ["a", "b", "c"]
    assert len(box.stack.children) == 3
    assert all(len(inner.children) == 3 for inner in box.stack.children)
    with torch.no_grad():  # class 2 at offset 0 is G(z0, 2)
        expected = images_to_png(g(z0[None], torch.tensor([2])), scale=4)
    assert box.stack.children[2].children[1].value == expected
    assert len({inner.children[1].value for inner in box.stack.children}) == 3
    linked = {(link.source[0], link.target[0]) for link in box.links}
    assert (class_slider, box.stack) in linked
    assert all((z_slider, inner) in linked for inner in box.stack.children)
    assert "gan-lessons-scrubber" in box._dom_classes


def test_static_conditional_explorer_refuses_an_unconditional_generator():
    import torch

    from gan_lessons.widgets import static_conditional_explorer

    with pytest.raises(TypeError, match="generator must be a conditional generator"):
        static_conditional_explorer(_decoder(), torch.zeros(3), torch.eye(3)[0])


def test_static_conditional_explorer_refuses_a_name_that_is_not_a_str():
    import torch

    from gan_lessons.models import ConditionalGANConfig, build_gan
    from gan_lessons.widgets import static_conditional_explorer

    g, _ = build_gan("conditional", ConditionalGANConfig(
        num_classes=2, image_size=16, channels=1, latent_dim=4, width=4, max_width=8))
    with pytest.raises(TypeError, match="name must be a str"):
        static_conditional_explorer(g.eval(), torch.zeros(4), torch.eye(4)[0], name=3)
