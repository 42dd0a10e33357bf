"""Data-parallel runs that tests/test_distributed.py starts with ``torch.distributed.run``.

    python -m torch.distributed.run --nproc_per_node=2 tests/distributed_child.py DIR MODE [K]

MODE ``equiv``: train the shared MLP GAN (checkpoint ``DIR/ckpt/run.pt``), then a WGAN-GP
(gradient penalty, two critic updates per step), a DCGAN (BatchNorm in both networks), a
StyleGAN (style mixing, lazy R1 and path-length updates, moving average), a VAE and a pix2pix
pair without checkpoints; each rank prints ``rank R <run> <checksum of its weights>``, and
``rank R stream <draws>`` / ``rank R syncbn <error>`` (its own random stream; SyncBatchNorm
on the CPU).
MODE ``nan K``: rank 1's discriminator outputs NaN from step K on; each rank prints
``rank R diverged: <message>``. MODE ``exit K``: rank 1 exits at step K.
Without torchrun :func:`run` trains the same GAN in one process (the tests import it).
"""

import os
import sys
from pathlib import Path

import torch

from gan_lessons import distributed
from gan_lessons.data import toy_dataset
from gan_lessons.models import (
    ConvAutoencoderConfig,
    ConvVAE,
    DCGANConfig,
    MLPGANConfig,
    StyleGANConfig,
    build_gan,
)
from gan_lessons.models.pix2pix import PatchDiscriminator, Pix2PixConfig, UNetGenerator
from gan_lessons.pix2pix_training import Pix2PixTrainConfig, train_pix2pix
from gan_lessons.stylegan_training import StyleGANTrainConfig, train_stylegan
from gan_lessons.train import GANTrainConfig, TrainingDivergedError, train_gan
from gan_lessons.train_autoencoder import AETrainConfig, train_autoencoder

STEPS = 12
BATCH = 16  # per rank
CONFIG = MLPGANConfig.toy(latent_dim=4, hidden=(32, 32))  # no BatchNorm, no dropout


def points() -> torch.Tensor:
    return toy_dataset("ring", 256, seed=0)


def run(path, batch_size, *, num_steps=STEPS, resume=False, hook=None, **config):
    """Train the shared MLP GAN (checkpoint and snapshot every 4 steps)."""
    torch.manual_seed(0)
    g, d = build_gan("mlp", CONFIG)
    if hook is not None:
        d.register_forward_hook(hook)
    train = GANTrainConfig(num_steps=num_steps, batch_size=batch_size, checkpoint_every=4,
                           snapshot_every=4, **config)
    return train_gan(g, d, points(), train, device="cpu", progress=False, checkpoint_path=path,
                     resume=resume, command="distributed test")


def wgan_gp(batch_size):
    """Three WGAN-GP steps of the shared MLP (two critic updates each), without files."""
    gp = GANTrainConfig(num_steps=3, batch_size=batch_size, generator_loss="wgan",
                        gp_weight=10.0, d_steps=2, betas=(0.0, 0.9))
    torch.manual_seed(0)
    return train_gan(*build_gan("mlp", CONFIG), points(), gp, device="cpu", progress=False)


def stylegan():
    """Four steps of a tiny StyleGAN with every regulariser on (R1 and path length at steps 1
    and 3), batch 4 per process."""
    torch.manual_seed(0)
    g, d = build_gan("stylegan", StyleGANConfig(image_size=16, channels=1, z_dim=4, w_dim=4,
                                                width=4, max_width=4))
    config = StyleGANTrainConfig(num_steps=4, batch_size=4, r1_gamma=1.0, r1_interval=2,
                                 pl_weight=1.0, pl_interval=2, snapshot_every=0)
    return train_stylegan(g, d, torch.rand(32, 1, 16, 16) * 2 - 1, config, device="cpu",
                          progress=False)


def vae():
    torch.manual_seed(0)
    model = ConvVAE(ConvAutoencoderConfig(image_size=8, width=2, latent_dim=3))
    return train_autoencoder(model, torch.rand(32, 1, 8, 8) * 2 - 1,
                             AETrainConfig(num_steps=3, batch_size=4, snapshot_every=0),
                             device="cpu", progress=False)


def pix2pix():
    torch.manual_seed(0)
    config = Pix2PixConfig(image_size=16, width=2, max_width=4)
    x = torch.rand(16, 1, 16, 16) * 2 - 1
    return train_pix2pix(UNetGenerator(config), PatchDiscriminator(config), x,
                         torch.cat([x, -x, x], dim=1),
                         Pix2PixTrainConfig(num_steps=2, batch_size=4, snapshot_every=0),
                         device="cpu", progress=False)


class Draws(torch.nn.Module):
    """Returns ``torch.rand(3)``: what a wrapped model's own random stream gives."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))

    def forward(self):
        return torch.rand(3) + self.weight


def streams() -> str:
    """Two calls of a wrapped module at step 5, the same two again, and the global stream's
    next draw: ``a b | a b | g``."""
    wrapped = distributed.wrap(Draws(), name="draws", seed=7)
    draws = []
    for _ in range(2):
        distributed._begin_step(5)
        draws += [wrapped().detach(), wrapped().detach()]
        distributed._begin_step(6)
    assert torch.equal(torch.stack(draws[:2]), torch.stack(draws[2:])), draws
    return " ".join(f"{v:.6f}" for v in torch.cat([*draws[:2], torch.rand(1)]).tolist())


def sync_batchnorm() -> str:
    try:
        torch.nn.SyncBatchNorm(2).train()(torch.zeros(4, 2))
    except ValueError as exc:
        return str(exc)
    return "none"


def checksum(result) -> str:
    return repr(float(sum(p.detach().double().abs().sum() for m in result.models.values()
                          for p in m.parameters())))


def _at_step(k: int, action):
    """A forward hook on the discriminator that calls ``action(output)`` from step ``k`` on
    (three discriminator calls per step: real, fake, the generator's update)."""
    calls = [0]

    def hook(module, inputs, output):
        calls[0] += 1
        if calls[0] > 3 * (k - 1):
            return action(output)
        return None
    return hook


def say(line: str) -> None:
    """Print ``line`` in one write, so that the ranks' lines do not interleave."""
    os.write(1, (line + "\n").encode())


def _exit(output):
    os._exit(1)


def main(out: Path, mode: str, k: int = 0) -> None:
    rank = int(os.environ["RANK"])
    ckpt = out / "ckpt" / "run.pt"
    if mode == "equiv":
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        say(f"rank {rank} mlp {checksum(run(ckpt, BATCH))}")
        result = wgan_gp(BATCH)
        assert all(torch.isfinite(torch.tensor(result.history["loss_gp"])))
        say(f"rank {rank} wgan_gp {checksum(result)}")
        torch.manual_seed(0)
        images = torch.rand(64, 1, 16, 16) * 2 - 1
        dcgan = DCGANConfig(image_size=16, channels=1, width=4, latent_dim=4)
        result = train_gan(*build_gan("dcgan", dcgan), images,
                           GANTrainConfig(num_steps=2, batch_size=4), device="cpu",
                           progress=False)
        say(f"rank {rank} dcgan {checksum(result)}")
        for name, fn in (("stylegan", stylegan), ("vae", vae), ("pix2pix", pix2pix)):
            say(f"rank {rank} {name} {checksum(fn())}")
        say(f"rank {rank} stream {streams()}")
        say(f"rank {rank} syncbn {sync_batchnorm()}")
        return
    action = _exit if mode == "exit" else (lambda output: output * float("nan"))
    hook = _at_step(k, action) if rank == 1 else None
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    try:
        run(ckpt, BATCH, hook=hook)
    except TrainingDivergedError as exc:
        say(f"rank {rank} diverged: {exc}")
        sys.exit(3)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], *(int(a) for a in sys.argv[3:]))
