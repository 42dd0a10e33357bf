"""A small training run that tests/test_faults.py kills, and the settings both share.

The tests fork a child that calls :func:`main` (no new interpreter to start); by hand:

    python tests/fault_child.py PATH run              print "step N" after every step
    python tests/fault_child.py PATH die-in-write K   SIGKILL itself halfway through writing
                                                      the K-th checkpoint
    python tests/fault_child.py PATH die-at-replace K SIGKILL itself after writing the K-th
                                                      checkpoint, before renaming it into place
    python tests/fault_child.py PATH hold-lock        hold the checkpoint lock of PATH, print
                                                      "locked" and wait for stdin to close

A tiny MLP GAN with dropout (so the random generators' states matter) on 2-D points, 100 of them
in batches of 32 (resuming crosses epochs), with a checkpoint after every step.
"""

import os
import signal
import sys

import torch

from gan_lessons import checkpoints
from gan_lessons.models import MLPGANConfig, build_gan
from gan_lessons.train import GANTrainConfig, train_gan

NUM_STEPS = 16
CONFIG = MLPGANConfig.toy(latent_dim=4, hidden=(16, 16), dropout=0.3)


def train_config(num_steps=NUM_STEPS):
    return GANTrainConfig(num_steps=num_steps, batch_size=32, snapshot_every=3,
                          checkpoint_every=1)


def points():
    return torch.randn(100, 2, generator=torch.Generator().manual_seed(0)) * 2


def run(path, *, resume=False, model_seed=0, callback=None, num_steps=NUM_STEPS):
    """Train (or resume) the shared run, writing a checkpoint to ``path`` after every step."""
    torch.manual_seed(model_seed)
    g, d = build_gan("mlp", CONFIG)
    return train_gan(g, d, points(), train_config(num_steps), device="cpu", progress=False,
                     checkpoint_path=path, resume=resume, callback=callback, callback_every=1,
                     command="fault test")


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(path, mode, arg=None, out=sys.stdout, wait=sys.stdin):
    """Run ``mode`` (see the module docstring), reporting lines to ``out``."""
    torch.set_num_threads(1)
    if mode == "hold-lock":
        with checkpoints.checkpoint_lock(path):
            print("locked", file=out, flush=True)
            wait.read()
        return
    saves = 0
    if mode == "die-in-write":
        real_save = torch.save

        def save(obj, f, *args, **kwargs):
            nonlocal saves
            saves += 1
            if saves == int(arg):
                f.write(b"half a checkpoint")
                f.flush()
                _die()
            real_save(obj, f, *args, **kwargs)

        checkpoints.torch.save = save
    elif mode == "die-at-replace":
        real_replace = os.replace

        def replace(src, dst):
            nonlocal saves
            saves += 1
            if saves == int(arg):
                _die()
            real_replace(src, dst)

        checkpoints.os.replace = replace

    def report(state):
        print(f"step {state.step}", file=out, flush=True)

    run(path, callback=report)


if __name__ == "__main__":
    main(*sys.argv[1:])
