"""MNIST x4 super-resolution (7 x 7 -> 28 x 28): bicubic vs an SRNet trained with pixel (L1) loss
vs the same net trained with pixel + adversarial loss (SRGAN's idea), on MNIST test digits.

Both nets start from the same seed and train for the same steps on the same batches of MNIST
training images (:func:`gan_lessons.super_resolution.train_sr`, i.e. pix2pix's trainer with
``adversarial=False`` / ``True``). Each method is scored against the true test digits by PSNR
and SSIM (per image, then averaged), by the squared distance between the bundled MNIST
classifier's features (``load_feature_net("mnist")``: a perceptual score, lower is better),
by that classifier's accuracy on the upscaled digits, and by their sharpness (mean absolute
difference of neighbouring pixels over the true digits'; bicubic's blur gives less than 1).
Also printed: the net's parameter count and the size of its saved state dict. Run (about 4
minutes on 2 CPU cores):

    OMP_NUM_THREADS=2 GAN_LESSONS_DATA=/work/shared/data .venv/bin/python benchmarks/sr_table.py
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import torch

from gan_lessons.data import load_dataset
from gan_lessons.degradations import downsample, upsample_bicubic
from gan_lessons.image_metrics import feature_distance, psnr, ssim
from gan_lessons.metrics import load_feature_net
from gan_lessons.models.srnet import SRNet, SRNetConfig
from gan_lessons.pix2pix_training import Pix2PixTrainConfig
from gan_lessons.super_resolution import sr_discriminator, train_sr


def state_dict_bytes(net: torch.nn.Module) -> int:
    """Size in bytes of ``torch.save(net.state_dict())``."""
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def edge_strength(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (both directions): ``(B,)``."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().flatten(1).mean(1)
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().flatten(1).mean(1)
    return (dx + dy) / 2


def scores(upscaled: torch.Tensor, truth: torch.Tensor, labels: torch.Tensor, feature_net):
    """Mean PSNR, SSIM, feature distance, the classifier's accuracy on ``upscaled``, and its
    sharpness: edge strength relative to the true digits' (1: as sharp as the truth)."""
    with torch.no_grad():
        accuracy = (feature_net.logits(upscaled).argmax(1) == labels).float().mean()
    sharpness = edge_strength(upscaled).mean() / edge_strength(truth).mean()
    return (psnr(upscaled, truth).mean().item(), ssim(upscaled, truth).mean().item(),
            feature_distance(upscaled, truth, feature_net).mean().item(), accuracy.item(),
            sharpness.item())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--l1-weight", type=float, default=100.0)
    parser.add_argument("--d-width", type=int, default=32)
    parser.add_argument("--d-layers", type=int, default=2)
    parser.add_argument("--num-test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adversarial-only", action="store_true",
                        help="train only the pixel + adversarial net (e.g. for another --l1-weight)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to save the two generators' state dicts in")
    args = parser.parse_args()

    factor = 4
    train_images = load_dataset("mnist", train=True).images  # (60000, 1, 28, 28)
    test = load_dataset("mnist", train=False)
    truth, labels = test.images[:args.num_test], test.labels[:args.num_test]
    low_res = downsample(truth, factor)  # (N, 1, 7, 7)
    feature_net = load_feature_net("mnist", device="cpu")
    config = SRNetConfig(factor=factor, image_size=28, channels=1, width=args.width,
                         blocks=args.blocks)

    rows = {"bicubic": scores(upsample_bicubic(low_res, factor), truth, labels, feature_net)}
    variants = (("SRNet pixel (L1)", False), ("SRNet pixel+adv", True))
    for name, adversarial in variants[1:] if args.adversarial_only else variants:
        torch.manual_seed(args.seed)
        net = SRNet(config)
        disc = sr_discriminator(config, width=args.d_width, d_layers=args.d_layers)
        train_config = Pix2PixTrainConfig(num_steps=args.steps, batch_size=args.batch_size,
                                          seed=args.seed, adversarial=adversarial,
                                          l1_weight=args.l1_weight, snapshot_every=0)
        start = time.perf_counter()
        train_sr(net, disc if adversarial else None, train_images, train_config, device="cpu",
                 progress=False)
        seconds = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            upscaled = net(low_res)
        rows[name] = scores(upscaled, truth, labels, feature_net)
        print(f"{name}: trained {args.steps} steps in {seconds:.0f} s")
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), args.out / f"srnet_{'adv' if adversarial else 'l1'}.pt")

    params = sum(p.numel() for p in net.parameters())
    print(f"SRNet {config}: {params} parameters, state dict {state_dict_bytes(net) / 1e6:.2f} MB")
    print(f"x{factor} on {args.num_test} MNIST test digits, {args.steps} steps of batch "
          f"{args.batch_size}, l1_weight {args.l1_weight:g}, seed {args.seed}")
    print(f"{'method':<18} {'PSNR dB':>8} {'SSIM':>7} {'feat dist':>10} {'cls acc':>8} "
          f"{'sharpness':>9}")
    for name, (p, s, f, a, e) in rows.items():
        print(f"{name:<18} {p:>8.2f} {s:>7.4f} {f:>10.2f} {a:>8.3f} {e:>9.3f}")


if __name__ == "__main__":
    main()
