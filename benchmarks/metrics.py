"""Seconds for FID + KID on 10,000 samples: gan_lessons.metrics vs torchmetrics, same features.

Both sides get the same random features ``(N, D)`` (a real set and a shifted, rescaled fake set,
so that both distances are well above rounding). torchmetrics' ``FrechetInceptionDistance`` and
``KernelInceptionDistance`` receive them through an identity feature module, as a user with
precomputed features would pass them, in batches of 1,000 (update) followed by ``compute``;
the package side is ``frechet_distance`` + ``kernel_distance`` on the whole arrays. KID uses
100 subsets of 1,000 on both sides, and the very same subsets (``torch.manual_seed(seed)``
before torchmetrics' compute, ``seed=seed`` here), so the values can be compared exactly.

The two sides alternate within one process (the first side swaps every repeat); the script
prints the median seconds of each (FID + KID, and each alone), the ratio torchmetrics /
package (target >= 1: no slower) and the relative difference of FID, KID mean and KID std
(target <= 1e-4). Run:

    .venv/bin/python benchmarks/metrics.py                       # D = 256 and 2048, float32
    .venv/bin/python benchmarks/metrics.py --dims 2048 --dtype float64 --repeats 3

Features arrive as float32 by default (what a network produces): the package still computes in
float64; torchmetrics computes FID in float64 and KID in the features' dtype.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from torch import nn

from gan_lessons.metrics import frechet_distance, kernel_distance


class Identity(nn.Module):
    """torchmetrics' custom feature extractor: the input is the features."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x):
        return x


def make_features(n: int, d: int, dtype: torch.dtype, seed: int):
    """A real and a fake set ``(n, d)``: correlated Gaussians, the fake one shifted and scaled."""
    gen = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=gen, dtype=torch.float64) / d**0.5
    real = torch.randn(n, d, generator=gen, dtype=torch.float64) @ mixing
    fake = 1.1 * (torch.randn(n, d, generator=gen, dtype=torch.float64) @ mixing) + 0.05
    return real.to(dtype), fake.to(dtype)


def run_package(real, fake, seed: int):
    """``(values, seconds)``: (FID, KID mean, KID std) and (FID time, KID time)."""
    start = time.perf_counter()
    fid = frechet_distance(real, fake)
    middle = time.perf_counter()
    kid_mean, kid_std = kernel_distance(real, fake, num_subsets=100, subset_size=1000, seed=seed)
    return (fid, kid_mean, kid_std), (middle - start, time.perf_counter() - middle)


def run_torchmetrics(real, fake, seed: int):
    """The same with torchmetrics: update in batches of 1000, then compute."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    d = real.shape[1]
    start = time.perf_counter()
    fid_metric = FrechetInceptionDistance(feature=Identity(d))
    for chunk in real.split(1000):
        fid_metric.update(chunk, real=True)
    for chunk in fake.split(1000):
        fid_metric.update(chunk, real=False)
    fid = float(fid_metric.compute())
    middle = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "will save all extracted features in buffer"
        kid_metric = KernelInceptionDistance(feature=Identity(d), subsets=100, subset_size=1000)
    for chunk in real.split(1000):
        kid_metric.update(chunk, real=True)
    for chunk in fake.split(1000):
        kid_metric.update(chunk, real=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        kid_mean, kid_std = (float(v) for v in kid_metric.compute())
    return (fid, kid_mean, kid_std), (middle - start, time.perf_counter() - middle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=10_000, help="samples per set (default 10000)")
    parser.add_argument("--dims", type=int, nargs="+", default=[256, 2048],
                        help="feature dimensions (default 256 2048)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="dtype of the features both sides receive (default float32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per side (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    print(f"N = {args.num}, {args.dtype} features, torch threads {torch.get_num_threads()}, "
          f"KID 100 subsets of 1000, {args.repeats} interleaved repeats")
    sides = {"package": run_package, "torchmetrics": run_torchmetrics}
    for d in args.dims:
        real, fake = make_features(args.num, d, dtype, args.seed)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        values = {}
        for r in range(args.repeats):
            order = list(sides) if r % 2 == 0 else list(sides)[::-1]
            for name in order:
                values[name], seconds = sides[name](real, fake, args.seed)
                times[name].append(seconds)
        medians = {name: [statistics.median(t[i] for t in times[name]) for i in range(2)]
                   + [statistics.median(sum(t) for t in times[name])] for name in sides}
        ours, theirs = medians["package"], medians["torchmetrics"]
        rel = [abs(a - b) / abs(b) for a, b in zip(values["package"], values["torchmetrics"],
                                                     strict=True)]
        print(f"D = {d}: FID + KID package {ours[2]:.2f} s, torchmetrics {theirs[2]:.2f} s "
              f"(medians of {args.repeats}), speed-up x{theirs[2] / ours[2]:.2f}; FID "
              f"{ours[0]:.2f} s vs {theirs[0]:.2f} s, KID {ours[1]:.2f} s vs {theirs[1]:.2f} s")
        print(f"  FID {values['package'][0]:.6g} vs {values['torchmetrics'][0]:.6g} "
              f"(rel. diff {rel[0]:.1e}); KID {values['package'][1]:.6g} ± "
              f"{values['package'][2]:.3g} vs {values['torchmetrics'][1]:.6g} ± "
              f"{values['torchmetrics'][2]:.3g} (rel. diff {rel[1]:.1e}, std {rel[2]:.1e})")
        print("  FID + KID times (s): " + "; ".join(
            f"{name} " + ", ".join(f"{sum(t):.2f}" for t in times[name]) for name in sides))
        np.testing.assert_array_less(rel, 1e-4)  # equal to 1e-4 relative, or the run fails


if __name__ == "__main__":
    main()
