"""DCGAN generator and discriminator: sizes, logits, initialisation, a training step."""

import pytest
import torch

from gan_lessons.models.dcgan import (
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    dcgan_start_size,
)

SIZES = [16, 28, 32, 56, 64, 128]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_supported_size(size, channels):
    config = DCGANConfig(image_size=size, channels=channels, latent_dim=16, width=8)
    generator, discriminator = DCGANGenerator(config), DCGANDiscriminator(config)
    x_fake = generator(torch.randn(3, 16))
    assert x_fake.shape == (3, channels, size, size)
    assert x_fake.abs().max() <= 1.0  # tanh
    assert discriminator(x_fake).shape == (3, 1)


def test_start_sizes():
    assert [dcgan_start_size(s) for s in SIZES] == [4, 7, 4, 7, 4, 4]
    assert DCGANConfig(image_size=28).num_doublings == 2  # 7 -> 14 -> 28
    assert DCGANConfig(image_size=64).num_doublings == 4  # 4 -> 8 -> 16 -> 32 -> 64


@pytest.mark.parametrize("size", [0, 8, 12, 24, 48, 100])
def test_unsupported_sizes_are_refused(size):
    with pytest.raises(ValueError, match="image_size"):
        DCGANConfig(image_size=size)


@pytest.mark.parametrize(("field", "value", "error"), [
    ("image_size", 32.0, TypeError), ("channels", 0, ValueError), ("latent_dim", True, TypeError),
    ("width", -1, ValueError), ("max_width", 4, ValueError), ("leaky_slope", 2.0, ValueError),
])
def test_bad_config(field, value, error):
    with pytest.raises(error, match=field):
        DCGANConfig(**{"width": 8, field: value})


def test_pytorch_example_architecture_at_64():
    """At 64 x 64 with width 64 the layers are those of the pytorch/examples DCGAN."""
    generator = DCGANGenerator(DCGANConfig())
    convs = [m for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [
        (100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    assert sum(p.numel() for p in generator.parameters()) == 3_576_704
    discriminator = DCGANDiscriminator(DCGANConfig())
    assert sum(p.numel() for p in discriminator.parameters()) == 2_765_568


def test_no_pooling_no_linear_no_sigmoid():
    for model in (DCGANGenerator(DCGANConfig(width=8)), DCGANDiscriminator(DCGANConfig(width=8))):
        kinds = {type(m) for m in model.modules()}
        assert not kinds & {torch.nn.Linear, torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.Sigmoid}


def test_discriminator_returns_unbounded_logits():
    discriminator = DCGANDiscriminator(DCGANConfig(image_size=16, width=8))
    with torch.no_grad():
        for m in discriminator.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(50)
    logits = discriminator(torch.rand(8, 3, 16, 16) * 2 - 1)
    assert logits.abs().max() > 1.0


def test_init_statistics():
    torch.manual_seed(0)
    generator = DCGANGenerator(DCGANConfig(width=64))
    weights = torch.cat([m.weight.flatten() for m in generator.modules()
                         if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
    scales = torch.cat([m.weight for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01)
    assert scales.std().item() == pytest.approx(0.02, rel=0.2)


def test_bad_input_shapes():
    config = DCGANConfig(image_size=16, latent_dim=8, width=8)
    with pytest.raises(ValueError, match="z must have shape"):
        DCGANGenerator(config)(torch.randn(2, 9))
    with pytest.raises(ValueError, match="x must have shape"):
        DCGANDiscriminator(config)(torch.randn(2, 3, 32, 32))


def test_one_training_step_moves_both_nets():
    torch.manual_seed(0)
    config = DCGANConfig(image_size=16, channels=1, latent_dim=8, width=8)
    generator, discriminator = DCGANGenerator(config), DCGANDiscriminator(config)
    before = [p.detach().clone() for p in (*generator.parameters(), *discriminator.parameters())]
    opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    x_real = torch.rand(4, 1, 16, 16) * 2 - 1
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    d_real, d_fake = discriminator(x_real), discriminator(generator(torch.randn(4, 8)).detach())
    loss_d = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    d_fake = discriminator(generator(torch.randn(4, 8)))
    loss_g = bce(d_fake, torch.ones_like(d_fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    assert torch.isfinite(loss_d)
    assert torch.isfinite(loss_g)
    after = [*generator.parameters(), *discriminator.parameters()]
    moved = [not torch.equal(a, b) for a, b in zip(before, after, strict=True)]
    assert all(moved)


def test_layer_table_walks_the_generator():
    from gan_lessons.models.summary import layer_shapes, layer_table

    generator = DCGANGenerator(DCGANConfig(image_size=32, channels=3, latent_dim=16, width=8))
    generator.train()
    rows = layer_shapes(generator, torch.randn(2, 16))
    conv_shapes = [shape for _, kind, shape, _ in rows if kind == "ConvTranspose2d"]
    assert conv_shapes == [(2, 32, 4, 4), (2, 16, 8, 8), (2, 8, 16, 16), (2, 3, 32, 32)]
    assert sum(params for *_, params in rows) == sum(p.numel() for p in generator.parameters())
    assert generator.training  # mode restored
    table = layer_table(generator, torch.randn(1, 16))
    assert "(1, 3, 32, 32)" in table.splitlines()[-2]
    assert table.splitlines()[-1].startswith("total parameters:")
    with pytest.raises(TypeError, match="model"):
        layer_table("not a model", torch.randn(1, 16))


def test_registered_families_round_trip_through_describe_model():
    from dataclasses import asdict

    from gan_lessons.models import build_gan, build_model, describe_model
    from gan_lessons.models.autoencoder import ConvAutoencoderConfig, ConvVAE

    config = DCGANConfig(image_size=16, channels=1, latent_dim=8, width=8)
    generator, discriminator = build_gan("dcgan", config)
    assert isinstance(generator, DCGANGenerator)
    assert isinstance(discriminator, DCGANDiscriminator)
    description = describe_model(generator)
    assert description == {"family": "dcgan", "role": "generator", "config": asdict(config)}
    rebuilt = build_model(description["family"], description["role"], description["config"])
    assert rebuilt.config == config
    vae = ConvVAE(ConvAutoencoderConfig(width=8))
    assert describe_model(vae)["family"] == "conv_vae"
    assert isinstance(build_model("conv_vae", "autoencoder", asdict(vae.config)), ConvVAE)
