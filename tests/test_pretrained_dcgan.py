"""The bundled DCGAN checkpoints of the DCGAN chapter: verified, small, and working."""

from __future__ import annotations

import shutil

import pytest
import torch

from gan_lessons.checkpoints import load_models, save_checkpoint
from gan_lessons.models import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gan_lessons.pretrained import (
    PRETRAINED_DIR,
    compact_checkpoint,
    load_pretrained,
    pretrained_checkpoint,
    pretrained_info,
    pretrained_path,
    sha256_file,
)

DCGANS = {  # name -> (data, image shape)
    "dcgan_mnist": ("mnist", (1, 28, 28)),
    "dcgan_cifar10": ("cifar10", (3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(DCGANS))
def test_registered_with_its_command_and_small(name):
    info = pretrained_info(name)
    data, _ = DCGANS[name]
    assert info["command"].startswith("python -m gan_lessons train --model dcgan")
    assert f"--data {data}" in info["command"]
    assert info["steps"] >= 1000
    path = pretrained_path(name)  # checks the SHA-256
    assert path.stat().st_size == info["bytes"] <= 10_000_000


@pytest.mark.parametrize("name", sorted(DCGANS))
def test_loads_as_dcgan_models_for_its_image_shape(name):
    """(Generating in range is tested for every GAN checkpoint in test_pretrained.py.)"""
    _, shape = DCGANS[name]
    models = load_pretrained(name)
    generator, discriminator = models["generator"], models["discriminator"]
    assert isinstance(generator, DCGANGenerator)
    assert isinstance(discriminator, DCGANDiscriminator)
    assert generator.config.data_shape == shape


@pytest.mark.parametrize("name", sorted(DCGANS))
def test_checkpoint_keeps_history_and_snapshots_for_the_chapter(name):
    _, shape = DCGANS[name]
    payload = pretrained_checkpoint(name)
    history = payload["history"]
    assert set(history) >= {"step", "loss_d", "loss_g", "d_real", "d_fake"}
    assert len(history["loss_d"]) == payload["step"] == pretrained_info(name)["steps"]
    steps = [step for step, _ in payload["snapshots"]]
    assert steps[0] == 0
    assert steps[-1] == payload["step"]
    assert len(steps) >= 5
    assert all(x.dtype == torch.float32 and x.shape[1:] == shape for _, x in payload["snapshots"])
    config = DCGANConfig(**payload["models"]["generator"]["config"])
    assert config.data_shape == shape


def test_tampered_copy_is_refused_with_the_file_named(tmp_path):
    info = pretrained_info("dcgan_cifar10")
    copy = tmp_path / info["file"]
    shutil.copyfile(PRETRAINED_DIR / info["file"], copy)
    assert pretrained_path("dcgan_cifar10", directory=tmp_path) == copy  # exact copy: fine
    data = bytearray(copy.read_bytes())
    data[-len(data) // 3] ^= 0x10  # one flipped bit
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch") as excinfo:
        load_pretrained("dcgan_cifar10", directory=tmp_path)
    assert str(copy) in str(excinfo.value)
    assert sha256_file(copy) in str(excinfo.value)


def test_truncated_copy_is_refused(tmp_path):
    info = pretrained_info("dcgan_mnist")
    copy = tmp_path / info["file"]
    copy.write_bytes((PRETRAINED_DIR / info["file"]).read_bytes()[:1000])
    with pytest.raises(ValueError, match=rf"checksum mismatch for .*{info['file']}"):
        pretrained_checkpoint("dcgan_mnist", directory=tmp_path)


def test_dcgan_round_trip_through_a_full_and_a_compact_checkpoint(tmp_path):
    torch.manual_seed(0)
    config = DCGANConfig(image_size=16, channels=3, latent_dim=20, width=8)
    generator, discriminator = DCGANGenerator(config), DCGANDiscriminator(config)
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        discriminator(generator(torch.randn(32, 20)))
    generator.eval()
    discriminator.eval()
    full = save_checkpoint(tmp_path / "full.pt", {"generator": generator,
                                                  "discriminator": discriminator},
                           step=7, command="python -m gan_lessons train --model dcgan ...")
    small = compact_checkpoint(full, tmp_path / "small.pt")
    z = torch.randn(4, 20)
    with torch.no_grad():
        x = generator(z)
        for path, tolerance in ((full, 0.0), (small, 2e-2)):
            models = load_models(path)
            assert models["generator"].config == config
            assert models["discriminator"].config == config
            torch.testing.assert_close(models["generator"](z), x, atol=tolerance, rtol=0)
            torch.testing.assert_close(models["discriminator"](x), discriminator(x),
                                       atol=10 * tolerance, rtol=tolerance)
