"""pix2pix: the U-Net generator, the patch discriminator and its receptive field, the paired
data makers, and training (L1 falls, the L1-only baseline, exact resume, the NaN guard)."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from gan_lessons.models.pix2pix import (
    PatchDiscriminator,
    Pix2PixConfig,
    UNetGenerator,
    patch_receptive_field,
)
from gan_lessons.pix2pix_training import (
    Pix2PixStep,
    Pix2PixTrainConfig,
    edges_to_digits_pairs,
    greyscale_to_colour_pairs,
    train_pix2pix,
)
from gan_lessons.train import TrainingDivergedError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"image_size": 16, "width": 8, "max_width": 16, "d_layers": 2}


def pairs(n=32, size=16):
    """Smooth grey inputs in [-1, 1] and colour targets that are a per-pixel function of them."""
    gen = torch.Generator().manual_seed(1)
    x = F.avg_pool2d(torch.randn(n, 1, size + 4, size + 4, generator=gen), 5, 1)
    x = x.mul(2).clamp(-1, 1)
    return x, torch.cat([x, -x, 0.5 * x], dim=1)


def run(num_steps, *, adversarial=True, data=None, **options):
    options = {"batch_size": 8, "snapshot_every": 0, **options}
    kwargs = {k: options.pop(k) for k in ("checkpoint_path", "resume") if k in options}
    torch.manual_seed(0)
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    x, y = data if data is not None else pairs()
    train_config = Pix2PixTrainConfig(num_steps=num_steps, adversarial=adversarial, **options)
    return train_pix2pix(g, d if adversarial else None, x, y, train_config, device="cpu",
                         progress=False, **kwargs)


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize(("size", "depth", "d_layers", "grid"), [
    (16, 2, 2, 6), (28, 2, 3, 5), (32, 3, 3, 6), (56, 3, 3, 12), (64, 4, 4, 6)])
def test_shapes_at_every_supported_size(size, depth, d_layers, grid):
    config = Pix2PixConfig(image_size=size, width=4, max_width=8, d_layers=d_layers)
    assert config.depth == depth  # down to 4 x 4, or 7 x 7 for 28 and 56
    assert config.patch_grid == grid
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    x = torch.rand(3, 1, size, size) * 2 - 1
    out = g(x)
    assert out.shape == (3, 3, size, size)
    assert out.abs().max() <= 1
    assert d(x, out).shape == (3, 1, grid, grid)


def test_depth_can_go_down_to_one_pixel_and_batches_of_one_work():
    config = Pix2PixConfig(image_size=32, width=4, max_width=8, depth=5)
    g = UNetGenerator(config)
    assert len(g.encoder) == len(g.decoder) == 5
    assert g(torch.zeros(1, 1, 32, 32)).shape == (1, 3, 32, 32)  # no norm on a 1 x 1 map
    assert Pix2PixConfig(image_size=28, depth=1).depth == 1


def test_defaults_and_dropout_blocks():
    config = Pix2PixConfig()
    assert (config.image_size, config.in_channels, config.out_channels, config.width,
            config.max_width, config.depth, config.dropout, config.d_layers) == (
        32, 1, 3, 32, 256, 3, 0.5, 3)
    assert config.dropout_blocks == 1
    assert Pix2PixConfig(image_size=256, width=1, depth=8, d_layers=4).dropout_blocks == 3
    g = UNetGenerator(config)
    dropouts = [any(isinstance(m, torch.nn.Dropout) for m in block) for block in g.decoder]
    assert dropouts == [True, False, False]
    torch.manual_seed(0)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    g.train()
    assert not torch.equal(g(x), g(x))  # dropout is pix2pix's noise
    g.eval()
    assert torch.equal(g(x), g(x))


def test_skip_connections_carry_fine_detail():
    torch.manual_seed(0)
    g = UNetGenerator(Pix2PixConfig(width=8)).double().eval()
    x = torch.rand(1, 1, 32, 32, dtype=torch.float64) * 2 - 1
    x2 = x.clone()
    x2[0, 0, 10, 20] += 1.0
    with torch.no_grad():
        change = (g(x2) - g(x)).abs().amax(dim=1)[0]  # (32, 32)
    rows, cols = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    distance = torch.maximum((rows - 10).abs(), (cols - 20).abs())
    row, col = divmod(int(change.argmax()), 32)
    assert max(abs(row - 10), abs(col - 20)) <= 2
    # measured: 2.4e-3 within 2 pixels, 1.4e-5 at 8 or more (through the bottleneck)
    assert change[distance >= 8].max() < change[distance <= 2].max() / 20


def _field_of_logit(d, i, j):
    """Rows and columns of the input pixels whose change moves logit (i, j): by gradient."""
    size = d.config.image_size
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    d(x, y)[0, 0, i, j].backward()
    moved = (x.grad.abs().sum(dim=(0, 1)) + y.grad.abs().sum(dim=(0, 1))) > 0  # (S, S)
    rows = moved.any(dim=1).nonzero().flatten().tolist()
    cols = moved.any(dim=0).nonzero().flatten().tolist()
    return range(rows[0], rows[-1] + 1), range(cols[0], cols[-1] + 1), moved


@pytest.mark.parametrize(("size", "d_layers", "field"), [(32, 2, 16), (64, 3, 34), (64, 1, 7)])
def test_patch_receptive_field_is_measured(size, d_layers, field):
    assert patch_receptive_field(d_layers) == field
    config = Pix2PixConfig(image_size=size, width=4, max_width=8, d_layers=d_layers)
    assert config.receptive_field == field
    torch.manual_seed(0)
    d = PatchDiscriminator(config).double().eval()  # BatchNorm: a fixed per-pixel map
    i = j = config.patch_grid // 2  # a central patch, its field inside the image
    rows, cols, moved = _field_of_logit(d, i, j)
    assert len(rows) == len(cols) == field
    assert rows == d.field(i)
    assert cols == d.field(j)
    assert moved[rows.start:rows.stop, cols.start:cols.stop].all()


def test_a_pixel_outside_a_patch_leaves_its_logit_unchanged():
    config = Pix2PixConfig(image_size=64, width=4, max_width=8)  # field 34, 14 x 14 patches
    torch.manual_seed(0)
    d = PatchDiscriminator(config).eval()
    assert d.field(0) == range(0, 23)  # the corner patch: 34 pixels, 11 of them padding
    assert d.field(13) == range(41, 64)
    x, y = torch.rand(1, 1, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = d(x, y)[0, 0]
        outside, inside = y.clone(), y.clone()
        outside[0, 1, 23, 5] += 1.0  # one row below patch (0, *)'s field
        inside[0, 1, 22, 5] += 1.0  # its last row
        after_outside, after_inside = d(x, outside)[0, 0], d(x, inside)[0, 0]
    assert torch.equal(after_outside[0], before[0])
    assert not torch.equal(after_inside[0], before[0])
    assert not torch.equal(after_outside[13 // 2], before[13 // 2])  # a patch that sees it


def test_receptive_fields_of_the_paper():
    assert [patch_receptive_field(n) for n in (1, 2, 3, 4, 5)] == [7, 16, 34, 70, 142]


@pytest.mark.parametrize(("options", "error", "name"), [
    ({"image_size": 30}, ValueError, "image_size"),
    ({"image_size": 8}, ValueError, "image_size"),
    ({"in_channels": 0}, ValueError, "in_channels"),
    ({"out_channels": 1.5}, TypeError, "out_channels"),
    ({"width": "32"}, TypeError, "width"),
    ({"width": 64, "max_width": 32}, ValueError, "max_width"),
    ({"depth": 6}, ValueError, "depth must be <= 5"),
    ({"image_size": 28, "depth": 3}, ValueError, "depth must be <= 2"),
    ({"depth": 0}, ValueError, "depth"),
    ({"dropout": 1.0}, ValueError, "dropout"),
    ({"dropout": -0.1}, ValueError, "dropout"),
    ({"dropout_blocks": 3}, ValueError, "dropout_blocks"),
    ({"d_layers": 0}, ValueError, "d_layers"),
    ({"image_size": 28, "d_layers": 4}, ValueError, "d_layers=4 is too deep"),
    ({"d_layers": 5}, ValueError, "d_layers=5 is too deep"),
])
def test_config_names_bad_arguments(options, error, name):
    with pytest.raises(error, match=name):
        Pix2PixConfig(**options)


def test_models_check_their_inputs():
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 16, 16\)"):
        g(torch.zeros(2, 3, 16, 16))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        g(torch.zeros(2, 1, 16, 16, dtype=torch.long))
    with pytest.raises(ValueError, match=r"images must have shape \(B, 3, 16, 16\)"):
        d(torch.zeros(2, 1, 16, 16), torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="inputs and images must hold as many"):
        d(torch.zeros(2, 1, 16, 16), torch.zeros(3, 3, 16, 16))
    with pytest.raises(TypeError, match="config must be a Pix2PixConfig"):
        UNetGenerator({"image_size": 16})
    with pytest.raises(ValueError, match="index must be <= 5"):
        d.field(6)


# --------------------------------------------------------------------------- paired data


def test_greyscale_pairs_use_bt601_luma():
    images = torch.tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0],
                           [0.2, 0.4, -0.6]]).view(4, 3, 1, 1).expand(4, 3, 2, 2)
    grey, colour = greyscale_to_colour_pairs(images)
    assert colour is images
    assert grey.shape == (4, 1, 2, 2)
    by_hand = [0.299 - 0.587 - 0.114, -0.299 + 0.587 - 0.114, -0.299 - 0.587 + 0.114,
               0.299 * 0.2 + 0.587 * 0.4 - 0.114 * 0.6]
    assert grey[:, 0, 0, 0].tolist() == pytest.approx(by_hand, abs=1e-6)
    # in [0, 1] first, then mapped to [-1, 1]: the same (the weights add up to 1)
    assert grey[3, 0, 0, 0] == pytest.approx(2 * (0.299 * 0.6 + 0.587 * 0.7 + 0.114 * 0.2) - 1)
    white, _ = greyscale_to_colour_pairs(torch.ones(1, 3, 2, 2))
    assert torch.allclose(white, torch.ones(1, 1, 2, 2))


def test_the_edges_of_a_white_square_are_its_border():
    image = -torch.ones(1, 1, 16, 16)
    image[0, 0, 4:10, 5:11] = 1.0  # a 6 x 6 white square
    edges, digits = edges_to_digits_pairs(image)
    assert digits is image
    assert set(edges.unique().tolist()) == {-1.0, 1.0}
    square = image > 0
    dilated = F.max_pool2d(square.float(), 3, 1, 1) > 0
    eroded = -F.max_pool2d(-square.float(), 3, 1, 1) > 0
    assert torch.equal(edges > 0, dilated & ~eroded)  # the pixels either side of the border
    assert edges[0, 0, 6:8, 7:9].eq(-1).all()  # the inside is no edge
    flat, _ = edges_to_digits_pairs(torch.full((2, 1, 8, 8), 0.3))  # image border: no edge
    assert flat.eq(-1).all()


def test_the_edge_threshold_is_on_the_sobel_magnitude():
    image = -torch.ones(1, 1, 8, 8)
    image[..., 4:] = -0.5  # a step of a quarter of the range: magnitude 4 * 0.25 = 1
    assert edges_to_digits_pairs(image)[0].eq(-1).all()  # not above 1
    assert edges_to_digits_pairs(image, threshold=0.9)[0][0, 0, :, 3:5].eq(1).all()
    with pytest.raises(ValueError, match="threshold must be > 0"):
        edges_to_digits_pairs(image, threshold=0)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, H, W\)"):
        edges_to_digits_pairs(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 3, H, W\)"):
        greyscale_to_colour_pairs(torch.zeros(1, 1, 8, 8))
    with pytest.raises(TypeError, match="images must be a floating-point"):
        greyscale_to_colour_pairs([[0.0]])


# --------------------------------------------------------------------------- training


def test_training_config():
    config = Pix2PixTrainConfig(num_steps=10)
    assert (config.lr_g, config.lr_d, config.betas, config.l1_weight, config.adversarial,
            config.batch_size) == (2e-4, 2e-4, (0.5, 0.999), 100.0, True, 32)
    for options, error, name in [({"l1_weight": -1}, ValueError, "l1_weight"),
                                 ({"lr_g": 0}, ValueError, "lr_g"),
                                 ({"betas": (0.5, 1.0)}, ValueError, "betas"),
                                 ({"adversarial": 1}, TypeError, "adversarial"),
                                 ({"adversarial": False, "l1_weight": 0}, ValueError,
                                  "l1_weight must be > 0")]:
        with pytest.raises(error, match=name):
            Pix2PixTrainConfig(num_steps=1, **options)


@pytest.mark.parametrize("adversarial", [True, False])
def test_a_few_steps_reduce_the_l1_loss(adversarial):
    result = run(20, adversarial=adversarial, lr_g=1e-3)
    l1 = result.history["loss_l1"]
    # measured (seed 0): 0.272 over the first 4 steps, 0.185 over the last 4, either way
    assert sum(l1[-4:]) / 4 < 0.8 * sum(l1[:4]) / 4
    if adversarial:
        assert set(result.history) == {"step", "loss_d", "loss_g", "loss_l1", "d_real",
                                       "d_fake"}
        assert set(result.models) == {"generator", "discriminator"}
    else:
        assert set(result.history) == {"step", "loss_l1"}
        assert set(result.models) == {"generator"}


def test_the_l1_baseline_leaves_a_discriminator_untouched():
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    x, y = pairs()
    train_pix2pix(g, d, TensorDataset(x, y), None,
                  Pix2PixTrainConfig(num_steps=2, batch_size=8, adversarial=False,
                                     snapshot_every=0), device="cpu", progress=False)
    assert all(torch.equal(v, d.state_dict()[k]) for k, v in before.items())


def test_the_step_trains_the_discriminator_to_tell_pairs_apart():
    torch.manual_seed(0)
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    g_weights = [p.clone() for p in g.parameters()]
    step = Pix2PixStep(g, d, torch.optim.Adam(g.parameters(), 1e-3),
                       torch.optim.Adam(d.parameters(), 1e-3), in_channels=1)
    x, y = pairs(8)
    batches = iter([torch.cat([x, y], dim=1)] * 10)
    metrics = [step(batches, s) for s in range(1, 11)]
    assert set(metrics[0]) == {"loss_d", "loss_g", "loss_l1", "d_real", "d_fake"}
    assert all(v.ndim == 0 for v in metrics[0].values())
    gaps = [float(m["d_real"] - m["d_fake"]) for m in metrics]
    # measured: mean sigmoid(D) on real minus on generated pairs, -0.002 at step 1 rising
    # steadily to 0.058 at step 10
    assert all(b > a for a, b in itertools.pairwise(gaps))
    assert gaps[-1] > gaps[0] + 0.03
    assert any(not torch.equal(a, b) for a, b in zip(g_weights, g.parameters(), strict=True))


def test_resuming_is_exact(tmp_path):
    options = {"checkpoint_every": 2, "snapshot_every": 2, "num_snapshot_samples": 4}
    whole = run(4, checkpoint_path=tmp_path / "whole.pt", **options)
    run(2, checkpoint_path=tmp_path / "split.pt", **options)
    split = run(4, checkpoint_path=tmp_path / "split.pt", resume=True, **options)
    assert split.history == whole.history
    for name, model in whole.models.items():
        other = split.models[name].state_dict()
        for key, value in model.state_dict().items():  # BatchNorm statistics included
            assert torch.equal(value, other[key]), (name, key)
    assert [s for s, _ in split.snapshots] == [0, 2, 4]
    for (_, a), (_, b) in zip(split.snapshots, whole.snapshots, strict=True):
        assert torch.equal(a, b)


def test_a_nan_stops_training(tmp_path):
    torch.manual_seed(0)
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    with torch.no_grad():
        g.decoder[-1][0].bias[0] = float("nan")
    x, y = pairs()
    with pytest.raises(TrainingDivergedError, match="step 1") as info:
        train_pix2pix(g, d, x, y, Pix2PixTrainConfig(num_steps=4, batch_size=8,
                                                     snapshot_every=0),
                      device="cpu", progress=False, checkpoint_path=tmp_path / "run.pt")
    assert info.value.loss.startswith("loss")
    assert not (tmp_path / "run.pt").exists()


def test_training_names_bad_arguments():
    config = Pix2PixConfig(**TINY)
    g, d = UNetGenerator(config), PatchDiscriminator(config)
    x, y = pairs(8)
    train_config = Pix2PixTrainConfig(num_steps=1, batch_size=4)
    with pytest.raises(TypeError, match="config must be a Pix2PixTrainConfig"):
        train_pix2pix(g, d, x, y, {"num_steps": 1})
    with pytest.raises(ValueError, match="discriminator must be given"):
        train_pix2pix(g, None, x, y, train_config)
    with pytest.raises(TypeError, match=r"generator must be an nn\.Module"):
        train_pix2pix("g", d, x, y, train_config)
    with pytest.raises(ValueError, match=r"targets have samples of shape \(1, 16, 16\)"):
        train_pix2pix(g, d, x, x, train_config)
    with pytest.raises(ValueError, match="inputs and targets must be pairs"):
        train_pix2pix(g, d, x, y[:4], train_config)
    with pytest.raises(TypeError, match=r"targets must be a torch\.Tensor"):
        train_pix2pix(g, d, x, None, train_config)
    with pytest.raises(ValueError, match="targets must be None"):
        train_pix2pix(g, d, TensorDataset(x, y), y, train_config)
    with pytest.raises(ValueError, match="opt_d must be given exactly"):
        Pix2PixStep(g, d, torch.optim.Adam(g.parameters()), None, in_channels=1)
    with pytest.raises(ValueError, match="in_channels must be >= 1"):
        Pix2PixStep(g, None, torch.optim.Adam(g.parameters()), None, in_channels=0)


def test_keep_luma_predicts_only_the_colour():
    config = Pix2PixConfig(**{**TINY, "in_channels": 1, "out_channels": 3, "keep_luma": True})
    g = UNetGenerator(config).eval()
    grey = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 1.2 - 0.6
    with torch.no_grad():
        out = g(grey)
    luma = greyscale_to_colour_pairs(out)[0]
    inside = (out.abs() < 1).all(dim=1, keepdim=True)  # no channel clipped
    assert inside.float().mean() > 0.9
    torch.testing.assert_close(luma[inside], grey[inside], atol=1e-5, rtol=0)
    assert out.std(dim=1).mean() > 1e-3  # the channels differ: there is colour
    with pytest.raises(ValueError, match="keep_luma needs in_channels=1 and out_channels=3"):
        Pix2PixConfig(**{**TINY, "in_channels": 1, "out_channels": 1, "keep_luma": True})
    with pytest.raises(TypeError, match="keep_luma"):
        Pix2PixConfig(**{**TINY, "keep_luma": 1})
