"""StyleGAN2 generator and discriminator: shapes, styles, noise, truncation, equalized learning
rate, demodulation, style mixing, the discriminator's minibatch deviation, argument checks."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest
import torch
from torch.nn import functional as F

from gan_lessons.checkpoints import load_gan, save_checkpoint
from gan_lessons.models import (
    StyleGANConfig,
    StyleGANDiscriminator,
    StyleGANGenerator,
    build_gan,
    build_model,
    describe_model,
)
from gan_lessons.models.stylegan import (
    EqualizedConv2d,
    EqualizedLinear,
    ModulatedConv2d,
    edit_styles,
    minibatch_std,
    modulated_conv2d,
    style_mix,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(**changes) -> StyleGANConfig:
    fields = {"image_size": 16, "channels": 3, "z_dim": 8, "w_dim": 8, "width": 4,
              "max_width": 8, **changes}
    return StyleGANConfig(**fields)


def _models(seed: int = 0, **changes):
    torch.manual_seed(seed)
    return build_gan("stylegan", _config(**changes))


def _set_noise_strength(generator: StyleGANGenerator, value: float) -> None:
    with torch.no_grad():
        for layer in generator.layers:
            layer.noise_strength.fill_(value)


# --------------------------------------------------------------------------- shapes, config


@pytest.mark.parametrize("size", [16, 28, 32, 64])
@pytest.mark.parametrize("num_classes", [0, 5])
@pytest.mark.parametrize("style_block", ["modulated", "adain"])
@pytest.mark.parametrize("architecture", ["resnet", "skip"])
def test_shapes_for_every_supported_size(size, num_classes, style_block, architecture):
    channels = 1 if size == 28 else 3
    generator, discriminator = _models(image_size=size, channels=channels,
                                       num_classes=num_classes, style_block=style_block,
                                       architecture=architecture)
    labels = torch.tensor([0, 4, 2]) if num_classes else None
    x_fake = generator(torch.randn(3, 8), labels)
    assert x_fake.shape == (3, channels, size, size)
    assert x_fake.abs().max() <= 1.0
    assert discriminator(x_fake, labels).shape == (3, 1)
    assert generator.latent_dim == 8
    resolutions = generator.config.resolutions
    assert resolutions[0] == (7 if size == 28 else 4)
    assert resolutions[-1] == size
    assert generator.num_ws == 2 * len(resolutions) == len(generator.layers) + 1
    assert len(generator.to_rgbs) == len(resolutions)
    assert generator.mapping(torch.randn(3, 8), labels).shape == (3, 8)
    _, rgbs = generator.synthesis(generator.w_plus(torch.randn(3, 8), labels),
                                  return_rgbs=True)
    assert [r.shape for r in rgbs] == [(3, channels, r, r) for r in resolutions]
    # the metrics read an int num_classes as "conditional"
    assert hasattr(generator, "num_classes") == bool(num_classes)
    assert hasattr(discriminator, "num_classes") == bool(num_classes)


def test_config_defaults_and_derived_sizes():
    config = StyleGANConfig()
    assert config.data_shape == (3, 32, 32)
    assert (config.z_dim, config.w_dim, config.mapping_layers) == (128, 128, 2)
    assert (config.style_block, config.architecture, config.num_classes) == (
        "modulated", "resnet", 0)
    assert (config.mapping_lr_mul, config.w_avg_beta, config.mbstd_group) == (0.01, 0.995, 4)
    assert config.resolutions == (4, 8, 16, 32)
    assert [config.channels_at(r) for r in config.resolutions] == [128, 128, 64, 32]
    assert config.num_ws == 8
    mnist = StyleGANConfig(image_size=28, channels=1)
    assert mnist.resolutions == (7, 14, 28)
    assert [mnist.channels_at(r) for r in mnist.resolutions] == [128, 64, 32]
    assert mnist.num_ws == 6
    assert [StyleGANConfig(image_size=s).num_ws for s in (16, 64)] == [6, 10]
    assert StyleGANConfig(**asdict(config)) == config
    with pytest.raises(TypeError):
        StyleGANConfig(32)  # keyword-only
    with pytest.raises(ValueError, match="resolution must be one of"):
        config.channels_at(12)


@pytest.mark.parametrize(("field", "value", "error"), [
    ("image_size", 24, ValueError), ("image_size", 8, ValueError),
    ("image_size", 32.0, TypeError), ("channels", 2, ValueError), ("channels", "3", TypeError),
    ("z_dim", 0, ValueError), ("z_dim", -3, ValueError), ("w_dim", -1, ValueError),
    ("mapping_layers", 0, ValueError), ("width", 0, ValueError), ("max_width", 2, ValueError),
    ("style_block", "demod", ValueError), ("style_block", 1, TypeError),
    ("num_classes", -1, ValueError), ("num_classes", True, TypeError),
    ("mapping_lr_mul", 0.0, ValueError), ("mapping_lr_mul", float("nan"), ValueError),
    ("w_avg_beta", 1.5, ValueError), ("architecture", "orig", ValueError),
    ("mbstd_group", 0, ValueError),
])
def test_bad_config_fields_are_named(field, value, error):
    with pytest.raises(error, match=field):
        _config(**{field: value})


def test_default_cifar10_model_is_small():
    generator, discriminator = build_gan("stylegan")
    assert sum(p.numel() for p in generator.parameters()) <= 2_000_000
    assert sum(p.numel() for p in discriminator.parameters()) <= 2_000_000


# --------------------------------------------------------------------------- equalized lr


def test_equalized_linear_scales_weight_bias_and_gradient():
    torch.manual_seed(0)
    layer = EqualizedLinear(400, 30, bias_init=0.5, lr_mul=0.01)
    gain = 0.01 / math.sqrt(400)
    assert layer.weight_gain == pytest.approx(gain)
    assert layer.weight.std().item() == pytest.approx(100.0, rel=0.05)  # N(0, 1) / lr_mul
    assert layer.effective_weight().std().item() == pytest.approx(1 / 20, rel=0.05)
    torch.testing.assert_close(layer.effective_weight(), layer.weight * gain)
    torch.testing.assert_close(layer.effective_bias(), torch.full((30,), 0.5))
    x = torch.randn(5, 400)
    effective = layer.effective_weight().detach().requires_grad_()
    expected = F.linear(x, effective, layer.effective_bias().detach())
    torch.testing.assert_close(layer(x), expected)
    layer(x).square().sum().backward()
    expected.square().sum().backward()
    # d loss / d weight = gain * d loss / d effective weight
    torch.testing.assert_close(layer.weight.grad, effective.grad * gain)
    torch.testing.assert_close(layer.bias.grad, (2 * expected).sum(0) * 0.01)


def test_equalized_conv_scales_weight_and_gradient():
    torch.manual_seed(0)
    conv = EqualizedConv2d(16, 8, 3)
    gain = 1 / math.sqrt(16 * 9)
    torch.testing.assert_close(conv.effective_weight(), conv.weight * gain)
    assert conv.weight.std().item() == pytest.approx(1.0, rel=0.1)
    x = torch.randn(2, 16, 6, 6)
    effective = conv.effective_weight().detach().requires_grad_()
    expected = F.conv2d(x, effective, conv.bias.detach(), padding=1)
    out = conv(x)
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    torch.testing.assert_close(conv.weight.grad, effective.grad * gain)
    # He-like scale: unit-variance input gives roughly unit-variance output
    assert conv(torch.randn(8, 16, 12, 12))[:, :, 1:-1, 1:-1].std().item() == pytest.approx(
        1.0, rel=0.15)


# --------------------------------------------------------------------------- modulation


def test_demodulation_keeps_unit_variance():
    torch.manual_seed(0)
    x = torch.randn(6, 64, 16, 16)
    weight = torch.randn(32, 64, 3, 3) / math.sqrt(64 * 9)
    styles = torch.randn(6, 64) * 3 + 1  # random styles, many far from 1
    out = modulated_conv2d(x, weight, styles)
    inside = out[:, :, 1:-1, 1:-1]  # away from the zero padding
    for std in inside.std(dim=(1, 2, 3)).tolist():  # one per sample
        assert 0.7 < std < 1.3
    loose = modulated_conv2d(x, weight, styles, demodulate=False)[:, :, 1:-1, 1:-1]
    assert loose.std().item() > 2.0  # the style's scale goes through without demodulation


def test_modulated_conv_equals_a_per_sample_weight():
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 5, 7, 7), torch.randn(4, 5, 3, 3), torch.randn(3, 5)
    out = modulated_conv2d(x, weight, styles)
    for b in range(3):
        w = weight * styles[b][None, :, None, None]
        w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
        torch.testing.assert_close(out[b:b + 1], F.conv2d(x[b:b + 1], w, padding=1))
    layer = ModulatedConv2d(5, 4, 3, w_dim=6)
    w_in = torch.randn(3, 6)
    torch.testing.assert_close(layer(x, w_in), modulated_conv2d(
        x, layer.weight / math.sqrt(5 * 9), layer.affine(w_in)))
    assert layer.affine.effective_bias().tolist() == [1.0] * 5  # styles start near 1


# --------------------------------------------------------------------------- truncation, noise


def test_truncation_psi_zero_gives_one_image():
    generator, _ = _models()
    generator.eval()
    _set_noise_strength(generator, 0.1)
    z = torch.randn(4, 8)
    with torch.no_grad():
        images = generator(z, truncation_psi=0.0, noise_mode="const")
        assert torch.allclose(images, images[:1].expand_as(images), atol=1e-6)
        free = generator(z, truncation_psi=1.0, noise_mode="const")
        assert (free[0] - free[1]).abs().max() > 1e-3
        w = generator.mapping(z)
        torch.testing.assert_close(generator.truncate(w, 0.7),
                                   generator.w_avg + 0.7 * (w - generator.w_avg))


def test_noise_modes():
    generator, _ = _models(image_size=32)
    generator.eval()
    z = torch.randn(4, 8)
    _set_noise_strength(generator, 0.05)
    with torch.no_grad():
        const = generator(z, noise_mode="const")
        assert torch.equal(const, generator(z, noise_mode="const"))  # deterministic
        first, second = generator(z, noise_mode="random"), generator(z, noise_mode="random")
        assert (first - second).abs().max() > 1e-4  # fresh noise every call
        for a, b in zip(first, second, strict=True):  # ... that keeps the layout
            assert torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1] > 0.9
        none = generator(z, noise_mode="none")
        assert (none - const).abs().max() > 1e-4
        _set_noise_strength(generator, 3.0)  # the strength does nothing without noise
        assert torch.equal(generator(z, noise_mode="none"), none)
        _set_noise_strength(generator, 0.0)  # ... and zero strength means no noise
        torch.testing.assert_close(generator(z, noise_mode="random"), none)


def test_noise_strength_and_constant_noise_are_parameters_and_buffers():
    generator, _ = _models()
    names = dict(generator.named_parameters())
    buffers = dict(generator.named_buffers())
    for i, layer in enumerate(generator.layers):
        assert f"layers.{i}.noise_strength" in names
        assert layer.noise_strength.item() == 0.0
        assert buffers[f"layers.{i}.noise_const"].shape == (layer.resolution,) * 2
    assert buffers["w_avg"].shape == (8,)


# --------------------------------------------------------------------------- w_avg, ws


def test_w_avg_moves_in_training_mode_only():
    generator, _ = _models(w_avg_beta=0.9)
    z = torch.randn(6, 8)
    generator.train()
    before = generator.w_avg.clone()
    w = generator.mapping(z, update_w_avg=False)
    assert torch.equal(generator.w_avg, before)
    generator(z)  # a training-mode forward moves it once
    after_forward = generator.w_avg.clone()
    torch.testing.assert_close(after_forward, before.lerp(w.mean(0), 0.1))
    generator.mapping(z)
    torch.testing.assert_close(generator.w_avg, after_forward.lerp(w.mean(0), 0.1))
    assert not generator.w_avg.requires_grad
    generator.eval()
    frozen = generator.w_avg.clone()
    generator(z)
    generator.mapping(z)
    assert torch.equal(generator.w_avg, frozen)


def test_ws_shape_is_checked_by_synthesis():
    generator, _ = _models()
    ws = generator.w_plus(torch.randn(2, 8))
    assert ws.shape == (2, generator.num_ws, 8)
    assert generator.synthesis(ws).shape == (2, 3, 16, 16)
    for bad in (ws[:, :-1], torch.randn(2, generator.num_ws + 1, 8), ws[:, :, :4], ws[0]):
        with pytest.raises(ValueError, match="ws must have shape"):
            generator.synthesis(bad)


def test_rgb_contributions_sum_to_the_image():
    generator, _ = _models(image_size=32)
    generator.eval()
    with torch.no_grad():
        images, rgbs = generator.synthesis(generator.w_plus(torch.randn(3, 8)),
                                           noise_mode="none", return_rgbs=True)
        total = torch.zeros_like(rgbs[-1])
        for rgb in rgbs:
            while rgb.shape[-1] < 32:
                rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            total = total + rgb
        torch.testing.assert_close(torch.tanh(total), images)


# --------------------------------------------------------------------------- mixing, editing


def test_style_mixing():
    generator, _ = _models(image_size=32)
    generator.train()  # style_mix never moves w_avg (a training-mode forward does)
    z_a, z_b = torch.randn(3, 8), torch.randn(3, 8)
    with torch.no_grad():
        image_a = generator(z_a, noise_mode="const")
        image_b = generator(z_b, noise_mode="const")
        before = generator.w_avg.clone()
        torch.testing.assert_close(style_mix(generator, z_a, z_b, 0), image_b)
        torch.testing.assert_close(style_mix(generator, z_a, z_b, generator.num_ws), image_a)
        mixed = style_mix(generator, z_a, z_b, 4)  # coarse from A, fine from B
    assert (mixed - image_a).abs().amax(dim=(1, 2, 3)).min() > 1e-3
    assert (mixed - image_b).abs().amax(dim=(1, 2, 3)).min() > 1e-3
    assert torch.equal(generator.w_avg, before)


def test_style_mixing_of_a_conditional_generator_with_truncation():
    generator, _ = _models(num_classes=3)
    generator.eval()
    z_a, z_b, labels = torch.randn(2, 8), torch.randn(2, 8), torch.tensor([2, 0])
    with torch.no_grad():
        expected = generator(z_a, labels, truncation_psi=0.5, noise_mode="none")
        mixed = style_mix(generator, z_a, z_b, generator.num_ws, truncation_psi=0.5,
                          noise_mode="none", labels=labels)
    torch.testing.assert_close(mixed, expected)


def test_edit_styles_moves_the_chosen_layers():
    generator, _ = _models(image_size=32)
    generator.eval()
    ws = generator.w_plus(torch.randn(2, 8))
    original = ws.clone()
    direction = torch.randn(8)
    with torch.no_grad():
        base = generator.synthesis(ws, "const")
        torch.testing.assert_close(edit_styles(generator, ws, 0, direction, 0.0), base)
        everywhere = edit_styles(generator, ws, range(generator.num_ws), direction, 2.0)
        torch.testing.assert_close(everywhere, generator.synthesis(ws + 2.0 * direction, "const"))
        coarse = edit_styles(generator, ws, [0, 1], direction, 2.0)
        expected = ws.clone()
        expected[:, :2] += 2.0 * direction
        torch.testing.assert_close(coarse, generator.synthesis(expected, "const"))
        per_sample = edit_styles(generator, ws, 3, torch.stack([direction, -direction]), 1.0)
    assert (coarse - base).abs().max() > 1e-3
    assert per_sample.shape == base.shape
    assert torch.equal(ws, original)  # not modified


# --------------------------------------------------------------------------- discriminator


def test_minibatch_std_groups():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 2, 2)
    out = minibatch_std(x, group_size=4)  # 4 does not divide 6: groups of 3
    assert out.shape == (6, 4, 2, 2)
    torch.testing.assert_close(out[:, :3], x)
    for b in range(6):  # NVlabs' grouping: sample b is in group b mod (B / G)
        group = x[b % 2::2]
        expected = ((group - group.mean(0)).square().mean(0) + 1e-8).sqrt().mean()
        torch.testing.assert_close(out[b, 3], expected.expand(2, 2))
    assert minibatch_std(torch.randn(7, 2, 1, 1))[:, 2].max() < 1e-3  # prime: groups of 1
    assert minibatch_std(torch.randn(1, 2, 3, 3)).shape == (1, 3, 3, 3)
    same = torch.randn(1, 3, 2, 2).expand(4, -1, -1, -1)  # no variety: deviation ~ 0
    assert minibatch_std(same)[:, 3].max() < 1e-3


@pytest.mark.parametrize("batch", [1, 3, 5, 8])
def test_discriminator_takes_any_batch_size(batch):
    _, discriminator = _models()
    assert discriminator(torch.rand(batch, 3, 16, 16) * 2 - 1).shape == (batch, 1)


def test_discriminator_layers():
    _, resnet = _models(image_size=32)
    assert len(resnet.blocks) == 3  # 32 -> 16 -> 8 -> 4
    assert all(block.skip is not None for block in resnet.blocks)
    assert not hasattr(resnet, "from_rgbs")
    _, skip = _models(image_size=32, architecture="skip")
    assert all(block.skip is None for block in skip.blocks)
    assert len(skip.from_rgbs) == 3
    assert resnet.fc.in_features == 8 * 4 * 4


def test_conditional_discriminator_projects_the_label():
    _, discriminator = _models(num_classes=4)
    discriminator.eval()
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        logits = [discriminator(x, torch.full((3,), k)) for k in range(4)]
    assert all((logits[0] - other).abs().max() > 1e-4 for other in logits[1:])
    assert discriminator.out.out_features == discriminator.embed.out_features == 8


# --------------------------------------------------------------------------- training, dtypes


@pytest.mark.parametrize("style_block", ["modulated", "adain"])
@pytest.mark.parametrize("num_classes", [0, 3])
def test_every_parameter_gets_a_gradient(style_block, num_classes):
    generator, discriminator = _models(style_block=style_block, num_classes=num_classes)
    labels = torch.tensor([0, 1, 2, 0]) if num_classes else None
    loss = F.softplus(-discriminator(generator(torch.randn(4, 8), labels), labels)).mean()
    loss.backward()
    for name, p in (*generator.named_parameters(), *discriminator.named_parameters()):
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().max() > 0, name


def test_float64_inputs_are_cast():
    generator, discriminator = _models()
    generator.eval()
    z = torch.randn(2, 8, dtype=torch.float64)
    with torch.no_grad():
        out = generator(z, noise_mode="const")
        assert out.dtype == torch.float32
        assert torch.equal(out, generator(z.float(), noise_mode="const"))
        ws = generator.w_plus(z)
        assert ws.dtype == torch.float32
        assert generator.synthesis(ws.double(), "const").dtype == torch.float32
        assert discriminator(out.double()).dtype == torch.float32


def test_runs_under_cpu_autocast():
    generator, discriminator = _models()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = discriminator(generator(torch.randn(2, 8)))
    assert torch.isfinite(logits.float()).all()
    assert generator.w_avg.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda():
    generator, discriminator = _models(num_classes=3)
    generator, discriminator = generator.cuda(), discriminator.cuda()
    labels = torch.tensor([0, 2], device="cuda")
    for mode in ("random", "const", "none"):
        x = generator(torch.randn(2, 8, device="cuda"), labels, noise_mode=mode)
        assert discriminator(x, labels).device.type == "cuda"


def test_registered_family_and_checkpoint_round_trip(tmp_path):
    config = _config(num_classes=3)
    generator, discriminator = build_gan("stylegan", config)
    assert isinstance(generator, StyleGANGenerator)
    assert isinstance(discriminator, StyleGANDiscriminator)
    assert describe_model(generator) == {"family": "stylegan", "role": "generator",
                                         "config": asdict(config)}
    assert build_model("stylegan", "discriminator", asdict(config)).config == config
    z, labels = torch.randn(2, 8), torch.tensor([1, 2])
    generator(z, labels)  # training mode: moves w_avg
    _set_noise_strength(generator, 0.2)
    path = save_checkpoint(tmp_path / "stylegan.pt", {"generator": generator,
                                                      "discriminator": discriminator})
    loaded_g, loaded_d = load_gan(path)
    assert torch.equal(loaded_g.w_avg, generator.w_avg)
    generator.eval()
    with torch.no_grad():
        x = generator(z, labels, truncation_psi=0.5, noise_mode="const")
        assert torch.equal(loaded_g(z, labels, truncation_psi=0.5, noise_mode="const"), x)
        assert torch.equal(loaded_d(x, labels), discriminator.eval()(x, labels))


# --------------------------------------------------------------------------- bad arguments


def test_bad_arguments_name_the_argument():
    generator, discriminator = _models()
    conditional, conditional_d = _models(num_classes=3)
    z, x = torch.randn(2, 8), torch.zeros(2, 3, 16, 16)
    ws = generator.w_plus(z)
    cases = [
        (lambda: generator(torch.randn(2, 9)), ValueError, r"z must have shape \(B, 8\)"),
        (lambda: generator(torch.randn(8)), ValueError, "z must have shape"),
        (lambda: generator(z.long()), TypeError, "z must be a floating-point tensor"),
        (lambda: generator([[0.0] * 8]), TypeError, "z must be a torch.Tensor"),
        (lambda: generator(z, noise_mode="fixed"), ValueError, "noise_mode must be one of"),
        (lambda: generator(z, truncation_psi=float("nan")), ValueError,
         "truncation_psi must be finite"),
        (lambda: generator(z, truncation_psi="0.7"), TypeError, "truncation_psi must be"),
        (lambda: generator(z, truncation_psi=None), TypeError, "truncation_psi must be"),
        (lambda: generator(z, torch.tensor([0, 1])), ValueError, "labels must be None"),
        (lambda: conditional(z), ValueError, "labels are required"),
        (lambda: conditional(z, torch.tensor([0, 3])), ValueError,
         r"labels must be class indices in \[0, 3\)"),
        (lambda: conditional(z, torch.tensor([0.0, 1.0])), TypeError,
         "labels must be an integer tensor"),
        (lambda: generator.mapping(z, update_w_avg=1), TypeError, "update_w_avg must be"),
        (lambda: generator.synthesis(ws, noise_mode=None), TypeError, "noise_mode must be"),
        (lambda: generator.synthesis(ws, return_rgbs="yes"), TypeError, "return_rgbs must"),
        (lambda: generator.truncate(torch.randn(2, 5)), ValueError, "w must have shape"),
        (lambda: discriminator(torch.zeros(2, 1, 16, 16)), ValueError,
         r"x must have shape \(B, 3, 16, 16\)"),
        (lambda: discriminator(x, torch.tensor([0, 1])), ValueError, "labels must be None"),
        (lambda: conditional_d(x), ValueError, "labels are required"),
        (lambda: conditional_d(x, torch.tensor([-1, 0])), ValueError,
         "labels must be class indices"),
        (lambda: style_mix(generator, z, z, generator.num_ws + 1), ValueError,
         "crossover must be <="),
        (lambda: style_mix(generator, z, z, -1), ValueError, "crossover must be >= 0"),
        (lambda: style_mix(generator, z, z[:1], 2), ValueError,
         "z_a and z_b must have the same shape"),
        (lambda: style_mix(discriminator, z, z, 2), TypeError,
         "generator must be a StyleGANGenerator"),
        (lambda: style_mix(generator, z, z, 2, noise_mode="off"), ValueError, "noise_mode"),
        (lambda: edit_styles(generator, ws, generator.num_ws, torch.zeros(8), 1.0),
         ValueError, "layers must be <="),
        (lambda: edit_styles(generator, ws, "0", torch.zeros(8), 1.0), TypeError,
         "layers must be an int"),
        (lambda: edit_styles(generator, ws, [], torch.zeros(8), 1.0), TypeError,
         "layers must be an int or a non-empty sequence"),
        (lambda: edit_styles(generator, ws, 0, torch.zeros(9), 1.0), ValueError,
         "direction must have shape"),
        (lambda: edit_styles(generator, ws, 0, torch.zeros(8), float("inf")), ValueError,
         "amount must be finite"),
        (lambda: edit_styles(generator, ws[:, :2], 0, torch.zeros(8), 1.0), ValueError,
         "ws must have shape"),
        (lambda: minibatch_std(torch.zeros(2, 3), 4), ValueError, "x must have shape"),
        (lambda: minibatch_std(torch.zeros(2, 3, 2, 2), 0), ValueError, "group_size must be"),
        (lambda: modulated_conv2d(x, torch.zeros(2, 3, 2, 2), torch.ones(2, 3)), ValueError,
         "weight must have shape"),
        (lambda: modulated_conv2d(x, torch.zeros(2, 3, 3, 3), torch.ones(2, 4)), ValueError,
         "styles must have shape"),
        (lambda: modulated_conv2d(x, torch.zeros(2, 4, 3, 3), torch.ones(2, 4)), ValueError,
         r"x must have shape \(B, 4, H, W\)"),
        (lambda: EqualizedLinear(0, 3), ValueError, "in_features must be >= 1"),
        (lambda: EqualizedLinear(3, 3, lr_mul=0.0), ValueError, "lr_mul must be > 0"),
        (lambda: EqualizedLinear(3, 3)(torch.zeros(2, 4)), ValueError, "x must have shape"),
        (lambda: EqualizedConv2d(3, 3, 0), ValueError, "kernel_size must be >= 1"),
        (lambda: EqualizedConv2d(3, 3, 3, bias=1), TypeError, "bias must be a bool"),
        (lambda: ModulatedConv2d(3, 3, 2, 8), ValueError, "kernel_size must be odd"),
        (lambda: ModulatedConv2d(3, 3, 3, 8)(torch.zeros(1, 3, 4, 4), torch.zeros(1, 7)),
         ValueError, r"w must have shape \(B, 8\)"),
        (lambda: StyleGANGenerator({"image_size": 16}), TypeError,
         "config must be a StyleGANConfig"),
        (lambda: StyleGANDiscriminator(3), TypeError, "config must be a StyleGANConfig"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_layer_table_counts_every_parameter():
    from gan_lessons.models.summary import layer_shapes

    config = StyleGANConfig(image_size=16, channels=1, z_dim=8, w_dim=8, width=8, max_width=16)
    for model, example in ((StyleGANGenerator(config), torch.randn(2, 8)),
                           (StyleGANDiscriminator(config), torch.randn(2, 1, 16, 16))):
        rows = layer_shapes(model, example)
        assert sum(params for *_, params in rows) == sum(p.numel() for p in model.parameters())


def test_adain_against_instance_norm_and_by_hand():
    from gan_lessons.models.stylegan import adain

    # one channel [1, 2, 3, 4]: mean 2.5, population std sqrt(1.25); style: std 2, mean 10
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    out = adain(x, torch.tensor([[2.0]]), torch.tensor([[10.0]]), eps=0.0)
    expected = 10 + 2 * (torch.tensor([1.0, 2.0, 3.0, 4.0]) - 2.5) / math.sqrt(1.25)
    torch.testing.assert_close(out.flatten(), expected)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, 5, generator=gen)
    scale, shift = torch.randn(3, 4, generator=gen), torch.randn(3, 4, generator=gen)
    oracle = F.instance_norm(x, eps=1e-5) * scale[:, :, None, None] + shift[:, :, None, None]
    torch.testing.assert_close(adain(x, scale, shift, eps=1e-5), oracle)
    with pytest.raises(ValueError, match="scale must have shape"):
        adain(x, scale[:, :2], shift)
    with pytest.raises(ValueError, match="x must have shape"):
        adain(x[0], scale, shift)
