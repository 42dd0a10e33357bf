"""Tests of gan_lessons.widgets: the frame scrubber's structure and its client-side link."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

widgets = pytest.importorskip("ipywidgets")

from ipywidgets.widgets.widget_link import Link  # noqa: E402

from gan_lessons.widgets import figure_to_png, frame_scrubber  # noqa: E402


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
