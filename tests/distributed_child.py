"""Data-parallel runs that tests/test_distributed.py starts with ``torch.distributed.run``.

    python -m torch.distributed.run --nproc_per_node=2 tests/distributed_child.py DIR MODE [K]

MODE ``equiv``: train the shared MLP GAN (checkpoint ``DIR/ckpt/run.pt``), then a WGAN-GP
(gradient penalty, two critic updates per step) and a DCGAN (BatchNorm in both networks)
without checkpoints; each rank prints ``rank R <run> <checksum of its weights>``.
MODE ``nan K``: rank 1's discriminator outputs NaN from step K on; each rank prints
``rank R diverged: <message>``. MODE ``exit K``: rank 1 exits at step K.
Without torchrun :func:`run` trains the same GAN in one process (the tests import it).
"""

import os
import sys
from pathlib import Path

import torch

from gan_lessons.data import toy_dataset
from gan_lessons.models import DCGANConfig, MLPGANConfig, build_gan
from gan_lessons.train import GANTrainConfig, TrainingDivergedError, train_gan

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
        gp = GANTrainConfig(num_steps=3, batch_size=BATCH, generator_loss="wgan",
                            gp_weight=10.0, d_steps=2, betas=(0.0, 0.9))
        torch.manual_seed(0)
        result = train_gan(*build_gan("mlp", CONFIG), points(), gp, device="cpu",
                           progress=False)
        assert all(torch.isfinite(torch.tensor(result.history["loss_gp"])))
        say(f"rank {rank} wgan_gp {checksum(result)}")
        torch.manual_seed(0)
        images = torch.rand(64, 1, 16, 16) * 2 - 1
        dcgan = DCGANConfig(image_size=16, channels=1, width=4, latent_dim=4)
        result = train_gan(*build_gan("dcgan", dcgan), images,
                           GANTrainConfig(num_steps=2, batch_size=4), device="cpu",
                           progress=False)
        say(f"rank {rank} dcgan {checksum(result)}")
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
