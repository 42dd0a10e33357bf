"""The applications chapter's image-to-image tasks, trained and measured from the command line.

Each task makes its pairs from a shipped data set, so nothing is downloaded:

* ``colour_cifar10``: CIFAR-10 greyscale (BT.601 luma) -> colour, 32 x 32;
* ``edges_mnist``: MNIST Sobel edge maps -> digits, 28 x 28;
* ``sr4_mnist``: x4 super-resolution of MNIST, 7 x 7 -> 28 x 28, with an
  :class:`~gan_lessons.models.srnet.SRNet` (the low-res input travels pixelated, as a
  :class:`~gan_lessons.models.srnet.PixelatedSR` reads it) instead of the U-Net, and a patch
  discriminator with ``d_layers=2`` (16 x 16 patches): the SRGAN idea on the pix2pix machinery.

::

    python -m gan_lessons.pix2pix_tasks train colour_cifar10 --out runs/p2p.pt --steps 3000
    python -m gan_lessons.pix2pix_tasks evaluate colour_cifar10 --weights runs/p2p.pt

``train`` records its full command line in the checkpoint (every option spelled out), so a
bundled model says how it was made. ``evaluate`` prints PSNR, SSIM and the feature distance of
the data set's classifier on held-out test pairs, for the model and for the task's baseline
(the grey image itself for colourisation, bicubic upsampling for super-resolution; none for
edges).
"""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ._validate import check_choice, check_int
from .degradations import downsample, upsample_bicubic
from .models.pix2pix import PatchDiscriminator, Pix2PixConfig, UNetGenerator
from .models.srnet import PixelatedSR, SRNetConfig
from .pix2pix_training import (
    Pix2PixTrainConfig,
    edges_to_digits_pairs,
    greyscale_to_colour_pairs,
    train_pix2pix,
)
from .super_resolution import sr_discriminator, sr_pairs

SNAPSHOT_SAMPLES = 16  # inputs whose outputs are kept over training: 200 kB per snapshot of
# colour 32 x 32, so that a bundled model stays small

__all__ = ["TASKS", "Pix2PixTask", "evaluate_translation", "task_pairs"]


@dataclass(frozen=True)
class Pix2PixTask:
    """A paired task: the data set, how pairs are made, and the model's sizes."""

    data: str
    make_pairs: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    image_size: int
    in_channels: int
    out_channels: int
    baseline: Callable[[torch.Tensor], torch.Tensor] | None = None
    sr_factor: int | None = None  # an SRNet of this factor instead of the U-Net


def _grey_as_colour(grey: torch.Tensor) -> torch.Tensor:
    return grey.expand(-1, 3, -1, -1)


def _bicubic_from_pixelated(pixelated: torch.Tensor) -> torch.Tensor:
    return upsample_bicubic(downsample(pixelated, 4), 4)


TASKS = {
    "colour_cifar10": Pix2PixTask("cifar10", greyscale_to_colour_pairs, 32, 1, 3,
                                  baseline=_grey_as_colour),
    "edges_mnist": Pix2PixTask("mnist", edges_to_digits_pairs, 28, 1, 1),
    "sr4_mnist": Pix2PixTask("mnist", functools.partial(sr_pairs, factor=4), 28, 1, 1,
                             baseline=_bicubic_from_pixelated, sr_factor=4),
}
"""The tasks by name."""


def task_pairs(task: str, *, train: bool, limit: int | None = None, root=None,
               progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets)`` of ``task`` in [-1, 1]: the first ``limit`` images of the split
    (all if ``None``), decoded once (:func:`~gan_lessons.feature_nets.load_uint8_images`)."""
    from .feature_nets import load_uint8_images

    spec = TASKS[check_choice(task, "task", tuple(TASKS))]
    images, _ = load_uint8_images(spec.data, train=train, root=root, progress=progress)
    if limit is not None:
        images = images[:check_int(limit, "limit", minimum=1)]
    return spec.make_pairs(images.float() / 127.5 - 1.0)


@torch.no_grad()
def evaluate_translation(generator: Callable[[torch.Tensor], torch.Tensor] | None,
                         inputs: torch.Tensor, targets: torch.Tensor, *, feature_net=None,
                         batch_size: int = 250) -> dict[str, float]:
    """Mean L1 error, PSNR (dB), SSIM and (with ``feature_net``) feature distance of
    ``generator(inputs)`` against ``targets`` ``(N, C, S, S)``. ``generator`` is a model (run
    in eval mode on its device) or any function of a batch (e.g. a task's baseline);
    ``None`` scores the inputs themselves, repeated to the targets' channels."""
    from .image_metrics import feature_distance, psnr, ssim

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    sums = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0, "feature_distance": 0.0}
    if generator is None:
        generator = _grey_as_colour if targets.shape[1] == 3 else torch.clone
    elif not callable(generator):
        raise TypeError(f"generator must be a model, a function of a batch or None, got "
                        f"{type(generator).__name__}")
    device = "cpu"
    if isinstance(generator, torch.nn.Module):
        generator.eval()
        device = next(generator.parameters()).device
    for start in range(0, len(inputs), batch_size):
        x, y = inputs[start:start + batch_size], targets[start:start + batch_size]
        out = generator(x.to(device)).float().cpu()
        sums["l1"] += float((out - y).abs().flatten(1).mean(1).sum())
        sums["psnr"] += float(psnr(out, y).sum())
        sums["ssim"] += float(ssim(out, y).sum())
        if feature_net is not None:
            sums["feature_distance"] += float(feature_distance(out, y, feature_net).sum())
    result = {k: v / len(inputs) for k, v in sums.items()}
    if feature_net is None:
        del result["feature_distance"]
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_lessons.pix2pix_tasks",
                                     description="Train and measure the pix2pix tasks.")
    sub = parser.add_subparsers(dest="action", required=True)
    tr = sub.add_parser("train", help="train a U-Net on a task's pairs")
    tr.add_argument("task", choices=tuple(TASKS))
    tr.add_argument("--out", required=True, help="checkpoint file to write")
    tr.add_argument("--steps", type=int, default=3000)
    tr.add_argument("--batch-size", type=int, default=32)
    tr.add_argument("--width", type=int, default=32)
    tr.add_argument("--lr", type=float, default=2e-4)
    tr.add_argument("--l1-weight", type=float, default=100.0)
    tr.add_argument("--adversarial", action=argparse.BooleanOptionalAction, default=True,
                    help="GAN + L1 (pix2pix); --no-adversarial: the L1-only baseline")
    tr.add_argument("--keep-luma", action=argparse.BooleanOptionalAction, default=False,
                    help="colourisation: predict only the colour (Pix2PixConfig.keep_luma)")
    tr.add_argument("--limit", type=int, default=None, help="only the first N training images")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--checkpoint-every", type=int, default=500)
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    ev = sub.add_parser("evaluate", help="PSNR, SSIM and feature distance on test pairs")
    ev.add_argument("task", choices=tuple(TASKS))
    ev.add_argument("--weights", help="a checkpoint from train (default: only the baseline)")
    ev.add_argument("--limit", type=int, default=1000, help="the first N test images")
    return parser


def _spelled_out(args: argparse.Namespace) -> str:
    """The train command with every option written out (defaults may change later)."""
    words = ["python", "-m", "gan_lessons.pix2pix_tasks", "train", args.task,
             "--out", args.out, "--steps", str(args.steps), "--batch-size", str(args.batch_size),
             "--width", str(args.width), "--lr", repr(args.lr), "--l1-weight",
             repr(args.l1_weight), "--adversarial" if args.adversarial else "--no-adversarial",
             "--keep-luma" if args.keep_luma else "--no-keep-luma", "--seed", str(args.seed),
             "--checkpoint-every", str(args.checkpoint_every), "--device", args.device]
    if args.limit is not None:
        words += ["--limit", str(args.limit)]
    return shlex.join(words)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_lessons.pix2pix_tasks train|evaluate`` (see the module docstring)."""
    args = _parser().parse_args(argv)
    spec = TASKS[args.task]
    if args.action == "evaluate":
        from .checkpoints import load_models
        from .metrics import load_feature_net

        inputs, targets = task_pairs(args.task, train=False, limit=args.limit)
        net = load_feature_net(spec.data)
        rows = {"baseline": spec.baseline} if spec.baseline is not None else {}
        if args.weights:
            rows[args.weights] = load_models(args.weights)["generator"]
        for name, generator in rows.items():
            scores = evaluate_translation(generator, inputs, targets, feature_net=net)
            print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
        return 0
    if spec.sr_factor is not None and args.keep_luma:
        raise ValueError("--keep-luma is for colourisation; the task is super-resolution")
    torch.manual_seed(args.seed)
    if spec.sr_factor is not None:
        net_config = SRNetConfig(factor=spec.sr_factor, image_size=spec.image_size,
                                 channels=spec.out_channels, width=args.width)
        generator = PixelatedSR(net_config)
        discriminator = sr_discriminator(net_config, width=args.width, d_layers=2)
    else:
        config = Pix2PixConfig(image_size=spec.image_size, in_channels=spec.in_channels,
                               out_channels=spec.out_channels, width=args.width,
                               keep_luma=args.keep_luma)
        generator, discriminator = UNetGenerator(config), PatchDiscriminator(config)
    inputs, targets = task_pairs(args.task, train=True, limit=args.limit, progress=not args.quiet)
    train_config = Pix2PixTrainConfig(num_steps=args.steps, batch_size=args.batch_size,
                                      lr_g=args.lr, lr_d=args.lr, l1_weight=args.l1_weight,
                                      adversarial=args.adversarial, seed=args.seed,
                                      checkpoint_every=args.checkpoint_every,
                                      num_snapshot_samples=SNAPSHOT_SAMPLES)
    result = train_pix2pix(generator, discriminator if args.adversarial else None, inputs,
                           targets, train_config, device=args.device, checkpoint_path=args.out,
                           resume=args.resume, progress=not args.quiet,
                           command=_spelled_out(args))
    print(f"{args.task}: {args.steps} steps, final L1 {result.history['loss_l1'][-1]:.4f}, "
          f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
