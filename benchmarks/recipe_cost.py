"""What one training step of each bundled GAN recipe costs, to compare recipes at equal cost.

A WGAN-GP generator step runs five critic updates, each with a double-backward gradient
penalty; a DCGAN step runs one. To compare the two "at comparable training cost" (the
Wasserstein chapter) we need the ratio of their step times on one machine. This script takes
each bundled checkpoint's recorded command (``pretrained_info(name)["command"]``), runs it as a
separate process for ``--short`` and for ``--long`` steps (into a temporary folder, with at
most ``--limit`` training images so that loading is quick), and takes the difference:
``(t_long - t_short) / (long - short)`` is the time of one step without start-up, data
loading and saving. ``--long`` counts critic updates: a recipe with ``--d-steps 1`` runs
``5 * long`` generator steps and one with ``--d-steps 5`` runs ``long``, so that every long run
takes about as long and start-up noise weighs the same in each. Recipes run interleaved, ``--rounds`` times, single-threaded
(``OMP_NUM_THREADS=1``, as ``scripts/make_pretrained.sh`` trains), and the script prints each
one's median seconds per step, its recorded number of steps, their product (the cost of the
whole recipe on this machine) and that cost relative to the first recipe.

    GAN_LESSONS_DATA=../shared/data .venv/bin/python benchmarks/recipe_cost.py \\
        dcgan_cifar10 wgan_gp_cifar10 cgan_cifar10 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recipe_argv(name: str, steps: int, out: Path, limit: int, python: str) -> list[str]:
    """The recorded command of ``name`` for ``steps`` steps into ``out`` (a fresh run)."""
    from gan_lessons.pretrained import pretrained_info

    words = shlex.split(pretrained_info(name)["command"])
    if words[:2] != ["python", "-m"]:
        raise ValueError(f"{name}'s command does not start with 'python -m': {words[:3]}")
    kept, skip = [], False
    for word in words[2:]:
        if skip:
            skip = False
            continue
        if word in ("--out", "--steps", "--limit", "--checkpoint-every"):
            skip = True
            continue
        if word != "--resume":
            kept.append(word)
    return [python, "-m", *kept, "--out", str(out), "--steps", str(steps), "--limit",
            str(limit), "--checkpoint-every", str(steps), "--quiet"]


def critic_updates_per_step(name: str) -> int:
    """The recipe's ``--d-steps`` (1 when its command does not say)."""
    from gan_lessons.pretrained import pretrained_info

    words = shlex.split(pretrained_info(name)["command"])
    return int(words[words.index("--d-steps") + 1]) if "--d-steps" in words else 1


def timed(argv: list[str]) -> float:
    """Wall seconds of one process; raises if it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed:\n{result.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", help="bundled checkpoints (see pretrained list)")
    parser.add_argument("--short", type=int, default=10, help="steps of the short run")
    parser.add_argument("--long", type=int, default=60,
                        help="steps of the long run of a recipe with --d-steps 5 (with "
                             "--d-steps 1: five times as many)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--limit", type=int, default=2048, help="training images loaded")
    args = parser.parse_args(argv)
    if not 1 <= args.short < args.long:
        parser.error("need 1 <= --short < --long")
    per_step = {name: [] for name in args.names}
    with tempfile.TemporaryDirectory() as work:
        for r in range(args.rounds):
            for name in args.names:
                long = max(args.long * 5 // critic_updates_per_step(name), args.short + 1)
                runs = []
                for steps in (args.short, long):
                    out = Path(work) / f"{name}_{r}_{steps}.pt"
                    runs.append(timed(recipe_argv(name, steps, out, args.limit,
                                                  sys.executable)))
                per_step[name].append((runs[1] - runs[0]) / (long - args.short))
                print(f"round {r + 1}: {name}: {per_step[name][-1]:.3f} s/step", flush=True)
    from gan_lessons.pretrained import pretrained_info

    first = None
    print(f"\n{'recipe':18} {'s/step':>8} {'steps':>7} {'cost (s)':>9} {'vs first':>9}")
    for name, times in per_step.items():
        seconds = statistics.median(times)
        steps = pretrained_info(name)["steps"]
        cost = seconds * steps
        first = first or cost
        print(f"{name:18} {seconds:8.3f} {steps:7d} {cost:9.0f} {cost / first:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
