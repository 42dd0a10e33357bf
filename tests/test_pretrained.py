"""gan_lessons.pretrained: the bundled checkpoints are verified before they load, and they work."""

from __future__ import annotations

import shutil

import pytest
import torch

from gan_lessons.checkpoints import load_checkpoint
from gan_lessons.pretrained import (
    PRETRAINED_DIR,
    compact_checkpoint,
    load_pretrained,
    pretrained_checkpoint,
    pretrained_info,
    pretrained_names,
    pretrained_path,
    sha256_file,
)


def test_registry_lists_mlp_mnist_with_its_command():
    assert "mlp_mnist" in pretrained_names()
    info = pretrained_info("mlp_mnist")
    assert info["command"].startswith("python -m gan_lessons train")
    assert "--data mnist" in info["command"]
    assert info["steps"] > 0
    assert len(info["sha256"]) == 64


@pytest.mark.parametrize("name", pretrained_names())
def test_every_bundled_file_matches_its_checksum_and_is_small(name):
    info = pretrained_info(name)
    path = pretrained_path(name)
    assert path.parent == PRETRAINED_DIR
    assert sha256_file(path) == info["sha256"]
    assert path.stat().st_size == info["bytes"] <= 10_000_000
    payload = load_checkpoint(path)
    if payload["meta"]["command"] != info["command"]:  # the registry spells out every option
        assert "gan_lessons train" in info["command"]  # (issue 17; tests/test_recorded_commands)
        assert payload["meta"]["command"].split()[:4] == info["command"].split()[:4]


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"name must be one of .*'mlp_mnist'.*got 'mlp_cifar'"):
        pretrained_path("mlp_cifar")
    with pytest.raises(TypeError, match="name must be a str"):
        pretrained_info(3)


def test_tampered_copy_is_refused(tmp_path):
    info = pretrained_info("mlp_mnist")
    copy = tmp_path / info["file"]
    shutil.copyfile(PRETRAINED_DIR / info["file"], copy)
    assert pretrained_path("mlp_mnist", directory=tmp_path) == copy  # an exact copy is fine
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # flip one bit in the middle of the weights
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch") as excinfo:
        load_pretrained("mlp_mnist", directory=tmp_path)
    message = str(excinfo.value)
    assert str(copy) in message
    assert info["sha256"] in message
    assert sha256_file(copy) in message


def test_missing_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"make_pretrained\.sh"):
        pretrained_path("mlp_mnist", directory=tmp_path)


def test_installed_package_says_to_reinstall(tmp_path, monkeypatch):
    """An installed wheel has no scripts/ folder: the advice is to reinstall."""
    from gan_lessons import pretrained

    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path / "site" / "gan_lessons" / "x")
    with pytest.raises(FileNotFoundError, match="reinstall") as excinfo:
        pretrained_path("mlp_mnist", directory=tmp_path)
    assert "make_pretrained" not in str(excinfo.value)


GANS = {"mlp_mnist": (1, 28, 28), "dcgan_mnist": (1, 28, 28), "dcgan_cifar10": (3, 32, 32)}
"""Every bundled GAN checkpoint and the shape of its images."""


@pytest.mark.parametrize("name", sorted(GANS))
def test_gan_checkpoints_load_and_generate_images_in_range(name):
    models = load_pretrained(name)
    generator, discriminator = models["generator"], models["discriminator"]
    assert not generator.training
    assert all(p.dtype == torch.float32 for p in generator.parameters())
    z = torch.randn(8, generator.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = generator(z)
        logits = discriminator(x)
    assert x.shape == (8, *GANS[name])
    assert x.min() >= -1.0
    assert x.max() <= 1.0
    assert x.std() > 0.1  # images, not a constant
    assert (x[0] - x[1]).abs().mean() > 0.01  # different z, different images
    assert logits.shape == (8, 1)
    assert torch.isfinite(logits).all()


def test_checkpoint_carries_history_and_float32_snapshots():
    payload = pretrained_checkpoint("mlp_mnist")
    history = payload["history"]
    assert set(history) >= {"step", "loss_d", "loss_g", "d_real", "d_fake"}
    assert history["step"][-1] == payload["step"] == pretrained_info("mlp_mnist")["steps"]
    steps = [s for s, _ in payload["snapshots"]]
    assert steps[0] == 0
    assert steps[-1] == payload["step"]
    assert all(x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28)
               for _, x in payload["snapshots"])
    assert payload["optimizers"] == {}


def test_compact_checkpoint_halves_weights_and_keeps_outputs(tmp_path):
    from gan_lessons.checkpoints import load_models, save_checkpoint
    from gan_lessons.models import MLPGANConfig, build_gan

    generator, discriminator = build_gan("mlp", MLPGANConfig.toy())
    opt = torch.optim.Adam(generator.parameters())
    full = save_checkpoint(tmp_path / "full.pt", {"generator": generator,
                                                  "discriminator": discriminator},
                           optimizers={"generator": opt}, step=3, command="train it",
                           snapshots=[(0, torch.randn(4, 2))])
    small = compact_checkpoint(full, tmp_path / "small.pt")
    payload = load_checkpoint(small)
    assert payload["optimizers"] == {}
    assert payload["meta"]["command"] == "train it"
    assert payload["models"]["generator"]["state_dict"]["net.0.weight"].dtype == torch.float16
    assert payload["snapshots"][0][1].dtype == torch.float16
    g = load_models(small)["generator"].eval()
    z = torch.randn(16, generator.latent_dim)
    with torch.no_grad():
        torch.testing.assert_close(g(z), generator.eval()(z), atol=1e-2, rtol=1e-2)
