"""Tests of gan_lessons.plotting: each function returns a Figure with the expected content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gan_lessons.plotting import (
    comparison_rows,
    decision_surface,
    image_grid,
    loss_curves,
    scatter_2d,
    snapshot_grid,
)


@pytest.mark.parametrize("channels", [1, 3])
def test_image_grid_pixel_size(channels):
    images = torch.rand(10, channels, 28, 28) * 2 - 1
    fig = image_grid(images, nrow=4, title="samples")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2, 3)  # 3 rows of 4, 2-pixel padding
    assert grid.min() >= 0.0
    assert grid.max() <= 1.0
    assert fig.axes[0].get_title() == "samples"
    assert not plt.fignum_exists(fig.number)  # closed in pyplot: shown once in Jupyter


def test_image_grid_into_given_axes():
    fig, ax = plt.subplots()
    out = image_grid(torch.zeros(4, 3, 8, 8), ax=ax, padding=0)
    assert out is fig
    assert plt.fignum_exists(fig.number)
    assert ax.images[0].get_array().shape == (8, 32, 3)
    plt.close(fig)


def test_image_grid_bad_input():
    with pytest.raises(ValueError, match="images"):
        image_grid(torch.zeros(2, 2, 8, 8))
    with pytest.raises(TypeError, match="images"):
        image_grid(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="nrow"):
        image_grid(torch.zeros(2, 3, 8, 8), nrow=0)


def test_image_grid_of_an_empty_batch_is_a_clear_error():
    # issue 10, item 16: ZeroDivisionError inside torchvision
    with pytest.raises(ValueError, match=r"images must hold at least one image.*\(0, 3, 8, 8\)"):
        image_grid(torch.zeros(0, 3, 8, 8))
    with pytest.raises(ValueError, match=r"batches\[1\] must hold at least one image"):
        snapshot_grid([torch.zeros(2, 1, 8, 8), torch.zeros(0, 1, 8, 8)])


@pytest.mark.parametrize(("suffix", "magic"), [
    (".png", b"\x89PNG"), (".jpg", b"\xff\xd8"), (".JPEG", b"\xff\xd8"), (".pdf", b"%PDF"),
])
def test_save_figure_writes_the_format_its_suffix_names(tmp_path, suffix, magic):
    # issue 10, item 12: `sample --out x.jpg` wrote PNG bytes into x.jpg
    from gan_lessons.plotting import save_figure

    path = save_figure(image_grid(torch.zeros(4, 1, 8, 8)), tmp_path / f"x{suffix}")
    assert path.read_bytes().startswith(magic)


def test_save_figure_refuses_an_unknown_suffix(tmp_path):
    from gan_lessons.plotting import save_figure

    for name in ("samples", "samples.txt"):
        with pytest.raises(ValueError, match="path must end in an image suffix"):
            save_figure(image_grid(torch.zeros(1, 1, 4, 4)), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_loss_curves():
    history = {"step": [0, 10, 20, 30, 40], "loss_d": [1.4, 1.2, 1.1, 1.0, 0.9],
               "loss_g": [torch.tensor(0.7), 0.8, 0.9, 1.0, 1.1], "d_real": [0.5] * 5}
    fig = loss_curves(history, keys=("loss_d", "loss_g"))
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["loss_d", "loss_g"]
    assert ax.get_lines()[0].get_xdata().tolist() == [0, 10, 20, 30, 40]
    assert len(loss_curves(history).axes[0].get_lines()) == 3  # every key but "step"
    smoothed = loss_curves(history, keys=["loss_d"], smooth=3).axes[0].get_lines()
    assert len(smoothed) == 2
    assert len(smoothed[1].get_xdata()) == 3
    with pytest.raises(ValueError, match="keys"):
        loss_curves(history, keys=["fid"])


def test_scatter_2d():
    real, fake = torch.randn(50, 2), np.random.default_rng(0).normal(size=(30, 2))
    fig = scatter_2d(real, fake, modes=torch.zeros(3, 2))
    offsets = [c.get_offsets().shape[0] for c in fig.axes[0].collections]
    assert offsets == [50, 30, 3]
    assert len(scatter_2d(real).axes[0].collections) == 1
    with pytest.raises(ValueError, match="fake"):
        scatter_2d(real, torch.zeros(5, 3))


def test_decision_surface():
    discriminator = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    discriminator.train()
    fig = decision_surface(discriminator, xlim=(-2, 2), ylim=(-1, 1), resolution=20,
                           real=torch.randn(10, 2), fake=torch.randn(12, 2))
    assert discriminator.training  # mode restored
    ax = fig.axes[0]
    prob = ax.images[0].get_array()
    assert prob.shape == (20, 20)
    assert prob.min() >= 0
    assert prob.max() <= 1
    assert len(ax.collections) == 2
    assert len(fig.axes) == 2
    # a function of x only: probability rises left to right along every row
    fig = decision_surface(lambda p: 0.5 * p[:, :1], resolution=10, colorbar=False)
    prob = fig.axes[0].images[0].get_array()
    assert len(fig.axes) == 1
    assert np.all(np.diff(prob, axis=1) > 0)
    assert np.allclose(prob[0], prob[-1])
    with pytest.raises(ValueError, match="discriminator_fn"):
        decision_surface(lambda p: p, resolution=4)
    with pytest.raises(ValueError, match="xlim"):
        decision_surface(discriminator, xlim=(1, 0))


def test_snapshot_grid():
    batches = [torch.rand(20, 1, 8, 8) * 2 - 1 for _ in range(3)]
    fig = snapshot_grid(batches, steps=[0, 100, 200], nrow=4)
    assert len(fig.axes) == 3
    pairs = snapshot_grid(list(zip([5, 10, 15], batches, strict=True)))  # history.snapshots
    assert [ax.get_title() for ax in pairs.axes] == ["step 5", "step 10", "step 15"]
    wrapped = snapshot_grid(batches * 2, ncols=4)  # 6 panels: 2 rows of 4, 8 in wide
    assert len(wrapped.axes) == 8
    assert [ax.get_title() for ax in wrapped.axes][-2:] == ["", ""]
    assert wrapped.get_size_inches()[0] == pytest.approx(8.0)
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 100", "step 200"]
    assert fig.axes[0].images[0].get_array().shape == (4 * 10 + 2, 4 * 10 + 2, 3)  # first 16
    with pytest.raises(ValueError, match="steps"):
        snapshot_grid(batches, steps=[0])


def test_comparison_rows_labels_each_row_and_mixes_grey_and_colour():
    grey, colour = torch.zeros(3, 1, 8, 8), torch.ones(3, 3, 8, 8)
    fig = comparison_rows([grey, colour], ["input", "output"], num_images=2)
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["input", "output"]
    assert axes[0].images[0].get_array().shape[1] == 2 * 8 + 3 * 2  # 2 images, padding 2
    with pytest.raises(ValueError, match="labels must be a list of 2 str"):
        comparison_rows([grey, colour], ["one"])
    with pytest.raises(ValueError, match="rows must hold images of one size"):
        comparison_rows([grey, torch.zeros(1, 1, 4, 4)], ["a", "b"])
    with pytest.raises(TypeError, match="rows must be a non-empty list"):
        comparison_rows(grey, ["a"])
