"""Whole-process speed of ``python -m gan_lessons train`` against pytorch/examples' DCGAN.

Each run is a separate process, timed from start to exit (imports, data loading, training,
saving), as a user would experience it:

* reference: ``benchmarks/pytorch_examples_dcgan.py`` (pytorch/examples ``dcgan/main.py``
  verbatim) with ``--dataset fake --niter 1``: one epoch over torchvision's ``FakeData`` (1,000
  random 64 x 64 images, 2 loader workers), i.e. 16 batches of 64, then its checkpoints.
* gan_lessons: ``python -m gan_lessons train --model dcgan --data cifar10 --limit 1024
  --image-size 64 --width 64 --batch-size 64 --steps 16`` (the same architecture, 1,024 real
  CIFAR-10 images decoded and resized to 64 x 64), with today's defaults, and with the
  options that were the defaults before issue 17 (``--no-reuse-fakes --no-fused-adam``).

The variants run interleaved (``--pairs`` rounds of each), so that drifts in machine load hit
all of them; the script prints each one's median wall time and its speed relative to the
reference (reference time / its time; > 1 is faster). Target on a 2-core CPU: >= 1.25x. Run:

    GAN_LESSONS_DATA=../shared/data .venv/bin/python benchmarks/train_cli.py --pairs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(work: Path, steps: int, limit: int, python: str) -> dict[str, list[str]]:
    """Every variant's command line (``{out}`` is replaced per run)."""
    ours = [python, "-m", "gan_lessons", "train", "--model", "dcgan", "--data", "cifar10",
            "--limit", str(limit), "--image-size", "64", "--width", "64", "--batch-size", "64",
            "--steps", str(steps), "--quiet", "--out", "{out}.pt"]
    return {
        "pytorch/examples dcgan/main.py (reference)": [
            python, str(ROOT / "benchmarks" / "pytorch_examples_dcgan.py"), "--dataset", "fake",
            "--niter", "1", "--manualSeed", "0", "--outf", "{out}"],
        "gan_lessons train (defaults)": ours,
        "gan_lessons train --no-reuse-fakes --no-fused-adam (old defaults)": [
            *ours, "--no-reuse-fakes", "--no-fused-adam"],
    }


def run_once(command: list[str], out: Path) -> float:
    """Wall seconds of one whole process; raises if it fails."""
    argv = [word.replace("{out}", str(out)) for word in command]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--steps", type=int, default=16, help="our steps (the reference: 16)")
    parser.add_argument("--limit", type=int, default=1024, help="our CIFAR-10 images")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    if "GAN_LESSONS_DATA" not in os.environ and (ROOT.parent / "shared" / "data").is_dir():
        os.environ["GAN_LESSONS_DATA"] = str(ROOT.parent / "shared" / "data")
    seconds: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        variants = commands(Path(tmp), args.steps, args.limit, args.python)
        for round_ in range(args.pairs):
            for i, (name, command) in enumerate(variants.items()):
                wall = run_once(command, Path(tmp) / f"run{round_}_{i}")
                seconds.setdefault(name, []).append(wall)
                print(f"round {round_ + 1}: {name}: {wall:.1f} s", flush=True)
    reference = statistics.median(next(iter(seconds.values())))
    print(f"\n{os.cpu_count()} CPUs, {args.pairs} interleaved rounds, median wall time")
    print(f"{'variant':<66} {'seconds':>8} {'speed vs reference':>19}")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<66} {median:8.1f} {reference / median:18.2f}x")


if __name__ == "__main__":
    main()
