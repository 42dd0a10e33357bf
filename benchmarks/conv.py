"""Time the vectorized numpy conv2d / conv_transpose2d against torch on CPU (float32).

The shapes are the layers of a small DCGAN (kernel 4, stride 2, padding 1, batch 64):
the discriminator's strided convolutions halve the image, the generator's transposed
convolutions are their mirror images and double it.

Both libraries use every core by default (numpy through its BLAS, torch through its intra-op
thread pool). The script reads the BLAS thread count and gives torch the same number, so the
comparison is thread for thread. Runs of numpy and torch are interleaved (numpy, torch, numpy,
...) after a warm-up, so a burst of load on the machine hits both; the median is reported.

    python benchmarks/conv.py --repeats 20
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from gan_lessons.conv import conv2d, conv_transpose2d

TARGET = 2.0  # numpy may be at most this many times slower than torch

# (label, op, N, C_in, C_out, H_in) with kernel 4, stride 2, padding 1
SHAPES = [
    ("conv2d 3->64, 32x32->16x16", "conv", 64, 3, 64, 32),
    ("conv2d 64->128, 16x16->8x8", "conv", 64, 64, 128, 16),
    ("conv_transpose2d 64->3, 16x16->32x32", "convT", 64, 64, 3, 16),
    ("conv_transpose2d 128->64, 8x8->16x16", "convT", 64, 128, 64, 8),
]
KERNEL, STRIDE, PADDING = 4, 2, 1


def blas_threads() -> int | None:
    """Threads numpy's OpenBLAS uses (None where the library cannot be found)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):
            if hasattr(lib, name):
                return int(getattr(lib, name)())
    return None


def make_inputs(op: str, n: int, c_in: int, c_out: int, h: int, rng: np.random.Generator):
    x = rng.standard_normal((n, c_in, h, h), dtype=np.float32)
    shape = (c_out, c_in, KERNEL, KERNEL) if op == "conv" else (c_in, c_out, KERNEL, KERNEL)
    w = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05)
    b = rng.standard_normal(c_out, dtype=np.float32)
    return x, w, b


def time_pair(op: str, x, w, b, repeats: int, warmup: int) -> tuple[float, float, float]:
    """Median milliseconds of numpy and torch, and the largest absolute difference."""
    np_fn = conv2d if op == "conv" else conv_transpose2d
    th_fn = F.conv2d if op == "conv" else F.conv_transpose2d
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))

    def run_numpy():
        return np_fn(x, w, b, stride=STRIDE, padding=PADDING)

    def run_torch():
        with torch.no_grad():
            return th_fn(xt, wt, bt, stride=STRIDE, padding=PADDING)

    y_np, y_th = run_numpy(), run_torch()
    assert y_np.dtype == np.float32, y_np.dtype
    err = float(np.abs(y_np - y_th.numpy()).max())
    for _ in range(warmup):
        run_numpy()
        run_torch()
    t_np, t_th = [], []
    for _ in range(repeats):  # interleaved
        t0 = time.perf_counter()
        run_numpy()
        t1 = time.perf_counter()
        run_torch()
        t2 = time.perf_counter()
        t_np.append(t1 - t0)
        t_th.append(t2 - t1)
    return 1e3 * float(np.median(t_np)), 1e3 * float(np.median(t_th)), err


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per library and shape")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the number numpy's BLAS uses)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    n_blas = blas_threads()
    threads = args.threads or n_blas or torch.get_num_threads()
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__} (BLAS threads: {n_blas if n_blas is not None else 'unknown'}), "
          f"torch {torch.__version__} (threads: {torch.get_num_threads()}), "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible")
    print(f"float32, batch 64, kernel {KERNEL}, stride {STRIDE}, padding {PADDING}; "
          f"median of {args.repeats} interleaved runs after {args.warmup} warm-up runs\n")

    rng = np.random.default_rng(args.seed)
    header = f"| {'shape':<38} | {'numpy ms':>9} | {'torch ms':>9} | {'ratio':>6} | {'<= 2x':>5} | {'max abs diff':>10} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    all_ok = True
    for label, op, n, c_in, c_out, h in SHAPES:
        x, w, b = make_inputs(op, n, c_in, c_out, h, rng)
        ms_np, ms_th, err = time_pair(op, x, w, b, args.repeats, args.warmup)
        ratio = ms_np / ms_th
        ok = ratio <= TARGET
        all_ok &= ok
        print(f"| {label:<38} | {ms_np:9.2f} | {ms_th:9.2f} | {ratio:6.2f} | {'yes' if ok else 'NO':>5} "
              f"| {err:10.2e} |")
    print(f"\nall shapes within {TARGET:g}x of torch: {'yes' if all_ok else 'no'}")


if __name__ == "__main__":
    main()
