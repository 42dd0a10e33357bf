"""The bundled autoencoder checkpoints of the autoencoder chapter: registered with the command
that made them, small, loadable, and good at what the chapter uses them for."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import torch

from gan_lessons.__main__ import build_parser
from gan_lessons.losses import bce_reconstruction, kl_standard_normal
from gan_lessons.models import ConvAutoencoder, ConvVAE
from gan_lessons.pretrained import (
    load_pretrained,
    pretrained_checkpoint,
    pretrained_info,
    pretrained_names,
    pretrained_path,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AUTOENCODERS = {  # name: (class, latent_dim)
    "conv_ae_mnist": (ConvAutoencoder, 2),
    "conv_vae_mnist": (ConvVAE, 2),
    "conv_ae16_mnist": (ConvAutoencoder, 16),
    "conv_vae16_mnist": (ConvVAE, 16),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_registered_with_a_train_ae_command_that_parses(name):
    assert name in pretrained_names()
    info = pretrained_info(name)
    command = info["command"]
    assert command.startswith("python -m gan_lessons train-ae ")
    args = build_parser().parse_args(shlex.split(command)[3:])
    cls, latent_dim = AUTOENCODERS[name]
    assert args.model == {ConvAutoencoder: "conv_ae", ConvVAE: "conv_vae"}[cls]
    assert args.data == "mnist"
    assert args.latent_dim == latent_dim
    assert args.device == "cpu"
    assert args.steps == info["steps"]
    assert info["bytes"] < 2_000_000  # float16 weights and snapshots of a small model
    assert pretrained_path(name).stat().st_size == info["bytes"]


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_loads_as_the_registered_family_in_eval_mode(name):
    cls, latent_dim = AUTOENCODERS[name]
    model = load_pretrained(name)["autoencoder"]
    assert type(model) is cls
    assert model.latent_dim == latent_dim
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(torch.isfinite(p).all() for p in model.parameters())
    with torch.no_grad():
        images = model.decode(torch.randn(4, latent_dim))
    assert images.shape == (4, 1, 28, 28)
    assert images.abs().max() <= 1


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_history_shows_training_converged(name):
    ckpt = pretrained_checkpoint(name)
    history = ckpt["history"]
    assert history["step"][-1] == ckpt["step"] == pretrained_info(name)["steps"]
    first, last = history["loss"][:50], history["loss"][-200:]
    assert sum(last) / len(last) < 0.5 * sum(first) / len(first)
    if AUTOENCODERS[name][0] is ConvVAE:
        assert {"recon", "kl"} <= set(history)
        assert 1 < history["kl"][-1] < 60  # the codes carry information, but not without bound


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="no offline MNIST")
def test_reconstructions_and_posteriors_on_test_digits(monkeypatch):
    from gan_lessons.data import load_dataset

    monkeypatch.setenv("GAN_LESSONS_DATA", str(SHARED_DATA))
    test = load_dataset("mnist", train=False)
    x = test.images[:500]
    with torch.no_grad():
        bce = {name: bce_reconstruction(load_pretrained(name)["autoencoder"](x).logits, x).item()
               for name in AUTOENCODERS}
        mu, logvar = load_pretrained("conv_vae_mnist")["autoencoder"].posterior(x)
    # 16 latent dimensions reconstruct much better than 2; all are far below an untrained model
    assert bce["conv_ae16_mnist"] < bce["conv_ae_mnist"] - 30
    assert bce["conv_vae16_mnist"] < bce["conv_vae_mnist"] - 30
    assert max(bce.values()) < 180
    # the 2-D VAE's codes roughly follow its prior N(0, I)
    assert mu.mean(0).abs().max() < 1.0
    assert mu.std(0).min() > 0.3
    assert mu.std(0).max() < 1.5
    assert kl_standard_normal(mu, logvar).item() < 10
