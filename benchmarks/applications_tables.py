"""The applications chapter's results tables, measured on held-out test images (CPU).

    python benchmarks/applications_tables.py augmentation   # about 10 min on one busy core
    python benchmarks/applications_tables.py inversion      # about 2 min
    python benchmarks/applications_tables.py pix2pix        # about 1 min (bundled models)

Needs MNIST and CIFAR-10 under $GAN_LESSONS_DATA (see the README). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch

from gan_lessons.augmentation import (
    balanced_subset,
    generated_examples,
    train_small_classifier,
)
from gan_lessons.feature_nets import classifier_accuracy, load_uint8_images
from gan_lessons.inversion import invert
from gan_lessons.pix2pix_tasks import TASKS, evaluate_translation, task_pairs
from gan_lessons.pretrained import load_pretrained, pretrained_names


def augmentation(seeds=(0, 1), steps: int = 400, generated_per_class: int = 500) -> None:
    """Test accuracy of a small classifier trained on 100 or 1000 real labels, with and without
    ``generated_per_class`` images per class of the bundled conditional GAN (cgan_mnist)."""
    images, labels = load_uint8_images("mnist", train=True, progress=False)
    test_images, test_labels = load_uint8_images("mnist", train=False, progress=False)
    generator = load_pretrained("cgan_mnist")["generator_ema"]
    print("| real labels | real only | real + generated | generated only |")
    print("|---|---|---|---|")
    for per_class in (10, 100):
        rows = {"real": [], "real+gen": [], "gen": []}
        for seed in seeds:
            keep = balanced_subset(labels, per_class, seed=seed)
            fake, fake_labels = generated_examples(generator, generated_per_class, seed=seed)
            sets = {"real": (images[keep], labels[keep]),
                    "real+gen": (torch.cat([images[keep], fake]),
                                 torch.cat([labels[keep], fake_labels])),
                    "gen": (fake, fake_labels)}
            for name, (x, y) in sets.items():
                net = train_small_classifier(x, y, steps=steps, seed=seed)
                rows[name].append(classifier_accuracy(net, test_images, test_labels))
        cells = [f"{statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})" for v in rows.values()]
        print(f"| {10 * per_class} | " + " | ".join(cells) + " |")


def inversion(num: int = 16, steps: int = 200) -> None:
    """Pixel MSE of inverting ``num`` MNIST test digits with each bundled MNIST generator."""
    test_images, _ = load_uint8_images("mnist", train=False, progress=False)
    target = test_images[:num].float() / 127.5 - 1.0
    dcgan = load_pretrained("dcgan_mnist")["generator"]
    style = load_pretrained("stylegan_mnist")["generator_ema"]
    print("| generator | space | pixel MSE (mean over digits) |")
    print("|---|---|---|")
    for name, generator, space in (("dcgan_mnist", dcgan, "z"), ("stylegan_mnist", style, "z"),
                                   ("stylegan_mnist", style, "w"),
                                   ("stylegan_mnist", style, "w+")):
        result = invert(generator, target, space=space, steps=steps)
        mse = (result.images - target).square().flatten(1).mean(1)
        print(f"| {name} | {space} | {mse.mean():.4f} |")


def pix2pix(limit: int = 1000) -> None:
    """PSNR, SSIM and feature distance of the bundled pix2pix and L1 models on ``limit`` test
    pairs of each task, with the do-nothing baseline for colourisation."""
    from gan_lessons.metrics import load_feature_net

    print("| task | model | PSNR (dB) | SSIM | feature distance |")
    print("|---|---|---|---|---|")
    for task, spec in TASKS.items():
        inputs, targets = task_pairs(task, train=False, limit=limit)
        net = load_feature_net(spec.data)
        suffix = task.split("_", 1)[0]
        models = {"input as output": None} if task.startswith("colour") else {}
        for name in pretrained_names():
            if name.startswith(("p2p_", "l1_")) and f"_{suffix}" in name:
                models[name] = load_pretrained(name)["generator"]
        for name, generator in models.items():
            s = evaluate_translation(generator, inputs, targets, feature_net=net)
            print(f"| {task} | {name} | {s['psnr']:.2f} | {s['ssim']:.3f} | "
                  f"{s['feature_distance']:.1f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=("augmentation", "inversion", "pix2pix"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    {"augmentation": augmentation, "inversion": inversion, "pix2pix": pix2pix}[args.table]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
