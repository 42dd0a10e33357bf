"""Super-resolution: the SRNet (shapes, config checks, input checks, the bicubic start), the
pixelated pairs, and training with pixel and pixel + adversarial loss through pix2pix's trainer."""

from __future__ import annotations

import pytest
import torch

from gan_lessons.degradations import downsample, upsample_bicubic
from gan_lessons.models.pix2pix import PatchDiscriminator
from gan_lessons.models.srnet import SRNet, SRNetConfig
from gan_lessons.pix2pix_training import Pix2PixTrainConfig
from gan_lessons.super_resolution import (
    PixelatedSR,
    pixelate,
    sr_discriminator,
    sr_pairs,
    train_sr,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"factor": 2, "image_size": 16, "width": 8, "blocks": 1}


def squares(n=16, size=16, seed=0):
    """Black images with one white axis-aligned rectangle each: sharp edges bicubic blurs."""
    gen = torch.Generator().manual_seed(seed)
    images = -torch.ones(n, 1, size, size)
    for image in images:
        top, left = torch.randint(0, size // 2, (2,), generator=gen).tolist()
        h, w = torch.randint(3, size // 2, (2,), generator=gen).tolist()
        image[:, top:top + h, left:left + w] = 1.0
    return images


def randomised(net):
    """``net`` with a random (non-zero) residual tail, so its output is not bicubic's."""
    torch.manual_seed(1)
    torch.nn.init.normal_(net.tail.weight, std=0.1)
    return net


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize(("factor", "size", "channels"), [(2, 16, 1), (4, 28, 1), (4, 32, 3)])
def test_shapes_and_range(factor, size, channels):
    config = SRNetConfig(factor=factor, image_size=size, channels=channels, width=4, blocks=1)
    net = randomised(SRNet(config))
    low = torch.rand(3, channels, size // factor, size // factor) * 2 - 1
    out = net(low)
    assert out.shape == (3, channels, size, size)
    assert out.dtype == torch.float32
    assert out.min() >= -1
    assert out.max() <= 1
    assert config.input_shape == (channels, size // factor, size // factor)
    assert config.data_shape == (channels, size, size)


def test_untrained_net_is_bicubic_and_zero_residual_is_bicubic():
    low = torch.rand(4, 1, 7, 7) * 2 - 1
    net = SRNet(SRNetConfig())
    assert torch.equal(net(low), upsample_bicubic(low, 4))  # the tail starts at zero
    randomised(net)
    assert not torch.allclose(net(low), upsample_bicubic(low, 4))
    torch.nn.init.zeros_(net.tail.weight)
    torch.nn.init.zeros_(net.tail.bias)
    assert torch.equal(net(low), upsample_bicubic(low, 4))


def test_float64_input_is_cast_to_the_model_dtype():
    net = randomised(SRNet(SRNetConfig(**TINY))).eval()
    low = torch.rand(2, 1, 8, 8, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        out = net(low)
        assert out.dtype == torch.float32
        assert torch.equal(out, net(low.float()))


@pytest.mark.parametrize(("fields", "error", "fragment"), [
    ({"factor": 3, "image_size": 27}, ValueError, "factor must be one of (2, 4)"),
    ({"factor": 8, "image_size": 32}, ValueError, "factor must be one of (2, 4)"),
    ({"factor": 4.0}, TypeError, "factor must be an int"),
    ({"factor": 4, "image_size": 30}, ValueError, "image_size must be divisible by factor=4"),
    ({"factor": 2, "image_size": 1}, ValueError, "image_size must be >= 2"),
    ({"channels": 0}, ValueError, "channels must be >= 1"),
    ({"width": 0}, ValueError, "width must be >= 1"),
    ({"blocks": -1}, ValueError, "blocks must be >= 0"),
    ({"blocks": True}, TypeError, "blocks must be an int"),
])
def test_config_validation(fields, error, fragment):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        SRNetConfig(**fields)


@pytest.mark.parametrize(("low", "error"), [
    (torch.zeros(2, 1, 14, 14), ValueError),  # a high-res image instead of the low-res one
    (torch.zeros(2, 3, 7, 7), ValueError),  # wrong channels
    (torch.zeros(1, 7, 7), ValueError),  # no batch dimension
    (torch.zeros(2, 1, 7, 7, dtype=torch.long), TypeError),
    ([[0.0]], TypeError),
])
def test_bad_low_res_names_the_argument(low, error):
    with pytest.raises(error, match="low_res"):
        SRNet(SRNetConfig())(low)


def test_config_must_be_an_srnet_config():
    with pytest.raises(TypeError, match="config must be a SRNetConfig"):
        SRNet({"factor": 2})


# --------------------------------------------------------------------------- pairs


def test_sr_pairs_pixelate_the_block_means():
    images = squares(4, 16)
    inputs, targets = sr_pairs(images, 4)
    assert inputs.shape == targets.shape == images.shape
    assert targets is images
    low = downsample(images, 4)
    assert torch.equal(inputs[:, :, ::4, ::4], low)
    assert torch.equal(inputs[:, :, 3::4, 2::4], low)  # every pixel of a block is its mean
    assert torch.allclose(downsample(inputs, 4), low, atol=1e-6)
    with pytest.raises(ValueError, match="factor must divide"):
        sr_pairs(images, 3)


def test_pixelated_wrapper_equals_the_net_on_the_low_res_image():
    net = randomised(SRNet(SRNetConfig(**TINY)))
    wrapper = PixelatedSR(net)
    assert [p for p in wrapper.parameters()] == [p for p in net.parameters()]
    low = torch.rand(3, 1, 8, 8) * 2 - 1
    assert torch.allclose(wrapper(pixelate(low, 2)), net(low), atol=1e-6)
    with pytest.raises(ValueError, match="pixelated must have shape"):
        wrapper(low)
    with pytest.raises(TypeError, match="net must be an SRNet"):
        PixelatedSR(torch.nn.Conv2d(1, 1, 1))


def test_sr_discriminator_judges_pairs_of_the_net_size():
    config = SRNetConfig(factor=4, image_size=32, channels=3)
    disc = sr_discriminator(config, width=4, d_layers=2)
    assert isinstance(disc, PatchDiscriminator)
    x = torch.zeros(2, 3, 32, 32)
    assert disc(x, x).shape == (2, 1, disc.config.patch_grid, disc.config.patch_grid)
    with pytest.raises(TypeError, match="config must be an SRNetConfig"):
        sr_discriminator({"factor": 4})


# --------------------------------------------------------------------------- training


def l1_error(net, images):
    with torch.no_grad():
        return (net(downsample(images, net.config.factor)) - images).abs().mean().item()


@pytest.mark.parametrize("adversarial", [False, True])
def test_training_lowers_the_pixel_error_below_bicubic(adversarial):
    images = squares(16, 16)
    torch.manual_seed(0)
    net = SRNet(SRNetConfig(**TINY))
    disc = sr_discriminator(net.config, width=4, d_layers=2) if adversarial else None
    bicubic = l1_error(net, images)
    config = Pix2PixTrainConfig(num_steps=60, batch_size=16, lr_g=2e-3, lr_d=2e-4,
                                adversarial=adversarial, snapshot_every=0)
    result = train_sr(net, disc, images, config, device="cpu", progress=False)
    assert len(result.history["loss_l1"]) == 60
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert ("loss_d" in result.history) == adversarial
    assert l1_error(net, images) < 0.5 * bicubic


def test_train_sr_checks_its_arguments():
    net = SRNet(SRNetConfig(**TINY))
    config = Pix2PixTrainConfig(num_steps=1, adversarial=False)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 16, 16\)"):
        train_sr(net, None, torch.zeros(4, 1, 28, 28), config, device="cpu", progress=False)
    with pytest.raises(TypeError, match="net must be an SRNet"):
        train_sr(torch.nn.Conv2d(1, 1, 1), None, squares(4), config, device="cpu")
    with pytest.raises(ValueError, match="discriminator must be given"):
        train_sr(net, None, squares(4), Pix2PixTrainConfig(num_steps=1), device="cpu")


def test_resume_continues_the_run_exactly(tmp_path):
    images = squares(16, 16)

    def run(num_steps, **kwargs):
        torch.manual_seed(0)
        net = SRNet(SRNetConfig(**TINY))
        config = Pix2PixTrainConfig(num_steps=num_steps, batch_size=8, adversarial=False,
                                    snapshot_every=0)
        train_sr(net, None, images, config, device="cpu", progress=False, **kwargs)
        return net

    whole = run(6)
    run(3, checkpoint_path=tmp_path / "sr.pt")
    resumed = run(6, checkpoint_path=tmp_path / "sr.pt", resume=True)
    for a, b in zip(whole.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_runs_on_the_gpu():
    net = SRNet(SRNetConfig(**TINY)).cuda()
    low = torch.rand(2, 1, 8, 8, device="cuda")
    assert net(low).device.type == "cuda"
    assert torch.allclose(net(low).cpu(), upsample_bicubic(low.cpu(), 2), atol=1e-5)


def test_the_pixelated_wrapper_is_rebuilt_from_a_checkpoint_description():
    from dataclasses import asdict

    from gan_lessons.models import build_model, describe_model

    config = SRNetConfig(factor=2, image_size=8, channels=1, width=4, blocks=1)
    wrapper = PixelatedSR(SRNet(config))
    assert describe_model(wrapper) == {"family": "srnet", "role": "pixelated",
                                       "config": asdict(config)}
    rebuilt = build_model("srnet", "pixelated", asdict(config))
    assert isinstance(rebuilt, PixelatedSR)
    assert rebuilt.config == config
    rebuilt.load_state_dict(wrapper.state_dict())
    x = torch.rand(2, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), wrapper(x))
