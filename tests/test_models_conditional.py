"""Class-conditional DCGANs: shapes, label checks, the projection formula, checkpoints."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from gan_lessons.checkpoints import load_gan, save_checkpoint
from gan_lessons.models import (
    ConcatDiscriminator,
    ConditionalDiscriminator,
    ConditionalGANConfig,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    ProjectionDiscriminator,
    build_gan,
    describe_model,
)
from gan_lessons.models.conditional import check_labels

KINDS = ["concat", "projection"]


def _config(**changes) -> ConditionalGANConfig:
    fields = {"num_classes": 5, "image_size": 16, "channels": 1, "latent_dim": 6, "width": 8,
              "max_width": 16, **changes}
    return ConditionalGANConfig(**fields)


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_shapes(size, channels, kind):
    config = _config(image_size=size, channels=channels, discriminator=kind)
    generator, discriminator = build_gan("conditional", config)
    assert isinstance(generator, ConditionalGenerator)
    assert type(discriminator) is {"concat": ConcatDiscriminator,
                                   "projection": ProjectionDiscriminator}[kind]
    labels = torch.tensor([0, 4, 2])
    x_fake = generator(torch.randn(3, 6), labels)
    assert x_fake.shape == (3, channels, size, size)
    assert x_fake.abs().max() <= 1.0  # tanh
    assert discriminator(x_fake, labels).shape == (3, 1)
    assert (generator.latent_dim, generator.num_classes) == (6, 5)


def test_config_defaults_and_checks():
    config = ConditionalGANConfig(num_classes=7)
    assert config.embed_dim == 7  # None means num_classes, stored resolved
    assert asdict(config)["embed_dim"] == 7
    assert ConditionalGANConfig(num_classes=7, embed_dim=3).embed_dim == 3
    assert (config.discriminator, config.d_norm) == ("projection", "batch")
    assert config.dcgan_config().data_shape == config.data_shape == (3, 64, 64)
    with pytest.raises(TypeError):
        ConditionalGANConfig(10)  # keyword-only
    for field, value, error in [("num_classes", 0, ValueError), ("embed_dim", 0, ValueError),
                                ("embed_dim", 2.0, TypeError), ("discriminator", "ac", ValueError),
                                ("d_norm", "group", ValueError), ("image_size", 48, ValueError),
                                ("latent_dim", 0, ValueError)]:
        with pytest.raises(error, match=field):
            _config(**{field: value})


def test_the_discriminator_kind_comes_from_the_config_or_the_class():
    assert type(ConditionalDiscriminator(_config(discriminator="concat"))) is ConcatDiscriminator
    projection = ConditionalDiscriminator(_config(discriminator="projection"))
    assert type(projection) is ProjectionDiscriminator
    # a class built with the other kind's config records its own kind
    concat = ConcatDiscriminator(_config(discriminator="projection"))
    assert concat.config.discriminator == "concat"
    assert describe_model(concat)["config"]["discriminator"] == "concat"
    assert describe_model(projection) == {"family": "conditional", "role": "discriminator",
                                          "config": asdict(_config())}
    with pytest.raises(TypeError, match="config must be a ConditionalGANConfig"):
        ConditionalDiscriminator({"num_classes": 3})


def _models(kind: str = "projection", **changes):
    torch.manual_seed(0)
    return build_gan("conditional", _config(discriminator=kind, **changes))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_labels_are_refused_naming_labels(kind):
    generator, discriminator = _models(kind)
    z, x = torch.randn(2, 6), torch.zeros(2, 1, 16, 16)
    for call in (lambda y: generator(z, y), lambda y: discriminator(x, y)):
        for labels, error, message in [
            (torch.tensor([0, 5]), ValueError, r"labels must be class indices in \[0, 5\), got "
                                               r"values from 0 to 5"),
            (torch.tensor([-1, 2]), ValueError, "labels must be class indices"),
            (torch.tensor([0.0, 1.0]), TypeError, "labels must be an integer tensor"),
            (torch.tensor([True, False]), TypeError, "labels must be an integer tensor"),
            ([0, 1], TypeError, "labels must be a torch.Tensor"),
            (torch.tensor([[0], [1]]), ValueError, r"labels must have shape \(B,\) = \(2,\)"),
            (torch.tensor([0, 1, 2]), ValueError, r"labels must have shape \(B,\) = \(2,\)"),
        ]:
            with pytest.raises(error, match=message):
                call(labels)


def test_check_labels_accepts_any_integer_dtype():
    for dtype in (torch.uint8, torch.int16, torch.int32, torch.int64):
        labels = check_labels(torch.tensor([3, 0, 1], dtype=dtype), 3, 4)
        assert labels.dtype == torch.int64
        assert labels.tolist() == [3, 0, 1]
    assert check_labels(torch.zeros(0, dtype=torch.long), 0, 4).shape == (0,)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        check_labels(torch.tensor([0]), 1, 0)


def test_generator_is_its_dcgan_body_fed_z_and_the_label_embedding():
    generator, _ = _models()
    generator.eval()
    z = torch.randn(4, 6)
    labels = torch.tensor([1, 0, 1, 4])
    assert isinstance(generator.body, DCGANGenerator)
    assert generator.embed.weight.shape == (5, 5)  # embed_dim defaults to num_classes
    with torch.no_grad():
        expected = generator.body(torch.cat([z, generator.embed.weight[labels]], dim=1))
        assert torch.equal(generator(z, labels), expected)
        # int32 labels and a float64 z give the same images
        assert torch.equal(generator(z.double(), labels.int()), expected)


def test_generator_output_depends_on_the_label():
    generator, _ = _models()
    generator.eval()
    z = torch.randn(1, 6).expand(5, 6)  # one z for every class
    with torch.no_grad():
        images = generator(z, torch.arange(5))
    for i in range(5):
        for j in range(i):
            assert (images[i] - images[j]).abs().max() > 1e-3
    with torch.no_grad():
        assert torch.equal(generator(z[:1], torch.tensor([3])), images[3:4])


def test_concat_discriminator_adds_one_hot_label_channels():
    _, discriminator = _models("concat")
    discriminator.eval()
    assert isinstance(discriminator.body, DCGANDiscriminator)
    assert discriminator.body.config.channels == 1 + 5
    x = torch.randn(3, 1, 16, 16)
    labels = torch.tensor([4, 0, 4])
    maps = torch.zeros(3, 5, 16, 16)
    for i, y in enumerate(labels.tolist()):
        maps[i, y] = 1.0
    with torch.no_grad():
        expected = discriminator.body(torch.cat([x, maps], dim=1))
        assert torch.equal(discriminator(x, labels), expected)
        assert not torch.allclose(discriminator(x, torch.tensor([1, 2, 3])), expected)


@pytest.mark.parametrize("d_norm", ["batch", "none", "spectral"])
def test_projection_is_psi_of_phi_plus_the_label_projection(d_norm):
    _, discriminator = _models("projection", d_norm=d_norm)
    discriminator.eval()
    x = torch.randn(4, 1, 16, 16)
    labels = torch.tensor([2, 2, 0, 3])
    with torch.no_grad():
        phi = discriminator.trunk(x).sum(dim=(2, 3))  # global sum pooling: (B, F)
        assert phi.shape == (4, 16)
        w, b = discriminator.psi.weight, discriminator.psi.bias  # (1, F), (1,)
        embed = discriminator.embed.weight  # (num_classes, F)
        expected = torch.stack([w[0] @ phi[i] + b[0] + embed[labels[i]] @ phi[i]
                                for i in range(4)])[:, None]
        torch.testing.assert_close(discriminator(x, labels), expected, rtol=1e-5, atol=1e-5)
    # no leftover layer: every parameter takes part in the output
    assert sum(p.numel() for p in discriminator.parameters()) == (
        sum(p.numel() for p in discriminator.trunk.parameters()) + 16 + 1 + 5 * 16)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d_norm", ["batch", "spectral"])
def test_checkpoint_round_trip_reproduces_outputs(tmp_path, kind, d_norm):
    generator, discriminator = _models(kind, d_norm=d_norm)
    z, labels = torch.randn(4, 6), torch.tensor([0, 1, 2, 3])
    with torch.no_grad():  # a train-mode pass changes running statistics / power iterations
        discriminator(generator(z, labels), labels)
    path = save_checkpoint(tmp_path / "cgan.pt", {"generator": generator,
                                                  "discriminator": discriminator})
    loaded_g, loaded_d = load_gan(path)
    assert type(loaded_g) is ConditionalGenerator
    assert type(loaded_d) is type(discriminator)
    assert loaded_g.config == generator.config
    assert loaded_d.config == discriminator.config
    generator.eval()
    discriminator.eval()
    with torch.no_grad():
        x_fake = generator(z, labels)
        assert torch.equal(loaded_g(z, labels), x_fake)
        assert torch.equal(loaded_d(x_fake, labels), discriminator(x_fake, labels))


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_the_label_embeddings(kind):
    generator, discriminator = _models(kind)
    labels = torch.tensor([0, 3, 3, 1])
    loss = F.softplus(-discriminator(generator(torch.randn(4, 6), labels), labels)).mean()
    loss.backward()
    grad = generator.embed.weight.grad
    used = torch.zeros(5, dtype=torch.bool)
    used[labels] = True
    assert (grad[used].abs().sum(dim=1) > 0).all()
    assert (grad[~used] == 0).all()  # classes not in the batch get no gradient
    if kind == "projection":
        d_grad = discriminator.embed.weight.grad
        assert (d_grad[used].abs().sum(dim=1) > 0).all()
        assert (d_grad[~used] == 0).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in (*generator.parameters(), *discriminator.parameters()))


def test_x_and_z_shapes_are_checked():
    generator, discriminator = _models()
    with pytest.raises(ValueError, match=r"z must have shape \(B, 6\)"):
        generator(torch.randn(2, 7), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 16, 16\)"):
        discriminator(torch.randn(2, 3, 16, 16), torch.tensor([0, 1]))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor"):
        discriminator([[0.0]], torch.tensor([0]))
    assert isinstance(generator.embed, nn.Embedding)
