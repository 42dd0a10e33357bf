"""GAN-prior restoration against the simple baselines on MNIST test digits (CPU, a few minutes).

For the bundled DCGAN and StyleGAN (EMA generator; each with its bundled discriminator) on the
first ``--num`` MNIST test digits:

(a) inpainting a centred 12 x 12 hole: mean fill and nearest-neighbour fill (a 10k subset of
    the training set) against :func:`gan_lessons.restoration.inpaint` with paste and Poisson
    blending (one search, two blends): Yeh's setting (context-weight floor 0, adversarial
    prior 0.003), floors 0.05 and 0.2 (DCGAN; 0.2 for StyleGAN), and floor 0.2 without the
    adversarial prior (DCGAN);
(b) denoising, noise std 0.3 and 0.6: the noisy input against the projection ``G(z*)``;
(c) super-resolution x4 (28 -> 7): bicubic against PULSE (with and without the consistency
    projection).

The DCGAN gets 300 steps and 4 starts, the StyleGAN (about 2.5 times slower a step) 100 steps
and 1 start. PSNR (dB) and SSIM on the full 28 x 28 images, mean over the digits. Run from the
repo root (about 3.7 CPU minutes; on a busy 2-core machine one thread was about 3 times faster
than two):

    OMP_NUM_THREADS=1 GAN_LESSONS_DATA=/work/shared/data .venv/bin/python benchmarks/restoration_table.py
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_lessons.data import as_tensor_dataset, load_dataset
from gan_lessons.degradations import (
    add_noise,
    box_mask,
    downsample,
    mean_fill,
    nearest_neighbour_fill,
    upsample_bicubic,
)
from gan_lessons.image_metrics import psnr, ssim
from gan_lessons.pretrained import load_pretrained
from gan_lessons.restoration import denoise, inpaint, poisson_blend, super_resolve

MODELS = {"DCGAN": ("dcgan_mnist", "generator"), "StyleGAN": ("stylegan_mnist", "generator_ema")}


def scores(images: torch.Tensor, truth: torch.Tensor) -> str:
    p = psnr(images.clamp(-1, 1), truth).mean().item()
    s = ssim(images.clamp(-1, 1), truth).mean().item()
    return f"{p:6.2f} | {s:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=64, help="test digits")
    parser.add_argument("--steps", type=int, default=300, help="DCGAN: Adam steps")
    parser.add_argument("--restarts", type=int, default=4, help="DCGAN: starts per digit")
    parser.add_argument("--stylegan-steps", type=int, default=100)
    parser.add_argument("--stylegan-restarts", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--adversarial-weight", type=float, default=0.003)
    args = parser.parse_args()
    start = time.time()
    truth = load_dataset("mnist", train=False).images[:args.num]
    train = as_tensor_dataset(load_dataset("mnist", train=True), limit=10_000,
                              progress=False).images
    mask = box_mask(args.num, 28, 12)
    damaged = truth * mask
    rows = {"a": [("mean fill", scores(mean_fill(damaged, mask, train), truth)),
                  ("nearest-neighbour fill (10k train)",
                   scores(nearest_neighbour_fill(damaged, mask, train), truth))],
            "b": [], "c": []}
    low = downsample(truth, 4)
    rows["c"].append(("bicubic", scores(upsample_bicubic(low, 4), truth)))
    noisy = torch.cat([add_noise(truth, std, seed=1) for std in (0.3, 0.6)])
    for i, std in enumerate((0.3, 0.6)):
        rows["b"].append((f"noisy input, std {std}",
                          scores(noisy[i * args.num:(i + 1) * args.num], truth)))
    for label, (name, key) in MODELS.items():
        models = load_pretrained(name)
        g, d = models[key], models["discriminator"]
        dcgan = label == "DCGAN"
        common = {"steps": args.steps if dcgan else args.stylegan_steps, "lr": args.lr,
                  "restarts": args.restarts if dcgan else args.stylegan_restarts, "seed": 0}
        setting = f"{common['steps']} steps, {common['restarts']} start(s)"
        # Yeh's setting (floor 0, adversarial prior), floors on the context weights, and (for
        # the DCGAN) the best floor without the adversarial prior
        adv = args.adversarial_weight
        variants = [(0.0, adv), (0.05, adv), (0.2, adv), (0.2, 0.0)] if dcgan else \
            [(0.0, adv), (0.2, adv)]
        for floor, weight in variants:
            t = time.time()
            result = inpaint(g, damaged, mask, discriminator=d if weight else None,
                             adversarial_weight=weight, floor=floor, blend="paste", **common)
            # the same search, blended differently: no second inversion needed
            blended = poisson_blend(damaged, result.generated, mask)
            tag = f"{label} ({setting}), floor {floor}, adv. weight {weight}"
            rows["a"].append((f"{tag}, paste", scores(result.images, truth)))
            rows["a"].append((f"{tag}, poisson", scores(blended, truth)))
            rows["a"].append((f"{tag}, G(z*) alone", scores(result.generated, truth)))
            print(f"  inpaint {tag}: {time.time() - t:.0f} s", flush=True)
        t = time.time()
        result = denoise(g, noisy, **common)  # both noise levels in one batch
        for i, std in enumerate((0.3, 0.6)):
            part = slice(i * args.num, (i + 1) * args.num)
            rows["b"].append((f"{label} ({setting}) projection G(z*), std {std}",
                              scores(result.images[part], truth)))
        print(f"  denoise {label}: {time.time() - t:.0f} s", flush=True)
        t = time.time()
        result = super_resolve(g, low, 4, **common)
        rows["c"].append((f"{label} ({setting}) PULSE, consistent",
                          scores(result.images, truth)))
        rows["c"].append((f"{label} ({setting}) PULSE, G(z*) alone",
                          scores(result.generated, truth)))
        print(f"  super-resolve {label}: {time.time() - t:.0f} s", flush=True)
    titles = {"a": "(a) inpainting, centred 12x12 hole", "b": "(b) denoising",
              "c": "(c) super-resolution x4 (7 -> 28)"}
    print(f"\n{args.num} MNIST test digits, Adam lr {args.lr}, seed 0, restarts optimised "
          f"together; PSNR (dB) | SSIM on the full image, mean over digits")
    for part, title in titles.items():
        print(f"\n{title}\n| method | PSNR | SSIM |\n|---|---|---|")
        for method, value in rows[part]:
            print(f"| {method} | {value} |")
    print(f"\ntotal {time.time() - start:.0f} s with {torch.get_num_threads()} torch threads")


if __name__ == "__main__":
    main()
