"""Autoencoder models: shapes, the logits <-> image convention, the VAE's sampling."""

import pytest
import torch

from gan_lessons.models.autoencoder import (
    ConvAutoencoder,
    ConvAutoencoderConfig,
    ConvVAE,
    MLPAutoencoder,
    MLPAutoencoderConfig,
    logits_to_image,
    reparameterize,
)

MODELS = [
    lambda: MLPAutoencoder(MLPAutoencoderConfig(hidden=(64, 32), latent_dim=3)),
    lambda: ConvAutoencoder(ConvAutoencoderConfig(width=8, latent_dim=3)),
    lambda: ConvVAE(ConvAutoencoderConfig(width=8, latent_dim=3)),
]


@pytest.mark.parametrize("make", MODELS)
def test_shapes_and_ranges(make):
    model = make()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    out = model(x)
    assert out.logits.shape == x.shape
    assert out.z.shape == (5, 3)
    assert model.encode(x).shape == (5, 3)
    image = model.decode(torch.randn(4, 3))
    assert image.shape == (4, 1, 28, 28)
    assert image.abs().max() <= 1.0


def test_logits_to_image_matches_sigmoid():
    logits = torch.linspace(-30, 30, 101)
    assert torch.allclose((logits_to_image(logits) + 1) / 2, torch.sigmoid(logits), atol=1e-6)


def test_conv_autoencoder_other_sizes_and_channels():
    model = ConvAutoencoder(ConvAutoencoderConfig(image_size=32, channels=3, width=8, latent_dim=16))
    assert model(torch.zeros(2, 3, 32, 32)).logits.shape == (2, 3, 32, 32)


def test_vae_samples_in_training_and_uses_the_mean_in_eval():
    torch.manual_seed(0)
    vae = ConvVAE(ConvAutoencoderConfig(width=8, latent_dim=3))
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    vae.train()
    a, b = vae(x), vae(x)
    assert not torch.equal(a.z, b.z)
    assert torch.equal(a.mu, b.mu)
    vae.eval()
    out = vae(x)
    assert torch.equal(out.z, out.mu)
    assert torch.equal(vae.encode(x), out.mu)


def test_reparameterize_is_differentiable_and_has_the_right_moments():
    torch.manual_seed(0)
    mu = torch.full((200_000, 1), 1.5, requires_grad=True)
    logvar = torch.full((200_000, 1), 2 * torch.log(torch.tensor(0.5)).item(), requires_grad=True)
    z = reparameterize(mu, logvar)
    assert z.mean().item() == pytest.approx(1.5, abs=0.01)
    assert z.std().item() == pytest.approx(0.5, abs=0.01)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    assert logvar.grad.abs().sum() > 0


@pytest.mark.parametrize(("make", "match"), [
    (lambda: MLPAutoencoderConfig(data_shape=(28, 28)), "data_shape"),
    (lambda: MLPAutoencoderConfig(latent_dim=0), "latent_dim"),
    (lambda: MLPAutoencoderConfig(hidden=(64, "a")), "hidden"),
    (lambda: ConvAutoencoderConfig(image_size=30), "image_size"),
    (lambda: ConvAutoencoderConfig(width=0), "width"),
])
def test_bad_configs(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_bad_inputs_name_the_argument():
    model = ConvVAE(ConvAutoencoderConfig(width=8, latent_dim=3))
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="z must have shape"):
        model.decode(torch.zeros(2, 4))
