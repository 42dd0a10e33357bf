"""Tests of gan_lessons.progressive: the ProGAN / skip-generator figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from gan_lessons.progressive import progressive_growing_figure


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_figure_shows_every_resolution_and_the_fade_in():
    fig = progressive_growing_figure((4, 8, 16, 32), alpha=0.25)
    assert not plt.fignum_exists(fig.number)  # closed in pyplot: shown once
    texts = _texts(fig)
    assert len(fig.axes) == 2
    for size in (4, 8, 16, 32):
        assert f"{size}×{size}" in texts
        assert f"rgb$_{{{size}}}$" in texts  # the skip generator's toRGB of every size
    assert any("0.75 · up(rgb$_{4}$) + 0.25 · rgb$_{8}$" in t for t in texts)
    assert "stage 2, fading in (α = 0.25)" in texts


def test_mnist_resolutions():
    texts = _texts(progressive_growing_figure((7, 14, 28)))
    assert "28×28" in texts
    assert "7×7" in texts
    assert "16×16" not in texts


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"resolutions": (4,)}, ValueError, "resolutions must be 2 to 6"),
    ({"resolutions": (4, 8, 16, 32, 64, 128, 256)}, ValueError, "resolutions must be 2 to 6"),
    ({"resolutions": (4, 0)}, ValueError, "resolutions"),
    ({"alpha": 1.5}, ValueError, "alpha"),
    ({"alpha": "half"}, TypeError, "alpha"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        progressive_growing_figure(**kwargs)
