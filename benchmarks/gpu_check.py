"""GPU readiness in one command (issue 16): the GPU-only tests, every model family trained in
four variants, the DCGAN step benchmark and the metrics timing, summed up in one table.

Run it through ``bash scripts/gpu_check.sh [--dry-run] [--out DIR]``, which sets up first:

1. the tests that skip without CUDA (``skipif(not torch.cuda.is_available())`` in ``tests/``)
   run with ``pytest -rs``; none may be skipped. A dry run only collects them.
2. Each family trains through the package's entry points (``train_gan``, ``train_stylegan``,
   ``train_autoencoder``, models from ``gan_lessons.__main__.MODELS`` / ``AE_MODELS``) in
   the variants ``float32``, ``amp``, ``channels_last`` and ``compile`` (each changes one
   thing from float32). The package has no compile option, so the models are compiled here
   in place (``module.compile()``); a discriminator whose penalty back-propagates through
   input gradients (WGAN-GP, StyleGAN's R1) stays eager, because torch.compile's autograd does
   not support double backward. images/s is steady state: measured from the end of the
   warm-up steps to the last step (real images drawn: ``batch_size * d_steps`` per step).
   Then the DCGAN and StyleGAN train data-parallel under ``torchrun``: one process per GPU
   (NCCL) when there are two or more GPUs (not run on one), 2 CPU processes (gloo) in a dry
   run; images/s of the global batch, against the one-process float32 row.
3. ``benchmarks/dcgan_step.py``: the package's DCGAN step against the pytorch/examples loop.
4. ``gan_lessons.metrics.evaluate`` (FID, KID, IS, PRDC, CIFAR-10 classifier features) of a
   DCGAN generator on 50,000 samples (a random real pool: CIFAR-10 has no two disjoint sets of
   50,000).

It prints one Markdown table (model, variant, images/s, peak memory, ratio to the family's
baseline, timed seconds, notes) and the issue's targets with PASS/FAIL, and writes both to
``--out`` as ``gpu_check.json`` and ``gpu_check.md``. ``--dry-run`` runs the same steps tiny on
the CPU (``torch.compile`` with ``backend="eager"``, no C++ compiler) in under a minute.

Exit status: 0 all ran and every target passed; 1 a test, run or step failed (it is in the
table); 2 no CUDA device without ``--dry-run``; 3 all ran but a target was missed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FAMILIES = ("MLP GAN (ring)", "DCGAN 32x32", "WGAN-GP", "conditional DCGAN", "StyleGAN small",
            "conv VAE")
VARIANTS = ("float32", "amp", "channels_last", "compile")

#: run sizes: ``steps`` per run, the first ``warmup`` untimed; the step benchmark's sizes
SIZES = {
    "gpu": {"steps": 300, "warmup": 60, "batch": 256, "small_batch": 64, "width": 64,
            "sg_size": 32, "sg_width": 32, "z": 100, "images": 10_000, "r1_interval": 16,
            "metrics_n": 50_000, "bench": {"batch_size": 128, "width": 64, "steps": 10,
                                           "rounds": 3}},
    "dry": {"steps": 6, "warmup": 2, "batch": 8, "small_batch": 4, "width": 8, "sg_size": 16,
            "sg_width": 8, "z": 16, "images": 64, "r1_interval": 2, "metrics_n": 200,
            "bench": {"batch_size": 4, "width": 8, "steps": 2, "rounds": 1}},
}
DCGAN_TARGET = 20_000  # images/s, DCGAN 32x32 width 64 batch 256 (one H100-class GPU)
METRICS_TARGET = 60.0  # seconds for the metrics on 50,000 samples

#: a test skipped when CUDA is missing (not one skipped when it is there)
_CUDA_SKIP = re.compile(r"@pytest\.mark\.skipif\(\s*not\s+torch\.cuda\.is_available\(\)"
                        r"[^\n]*\n(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async )?def (test_\w+)")


class Timer:
    """A training callback noting ``(step, seconds)`` at each call, after a device sync."""

    def __init__(self, device):
        self.device, self.marks = device, []

    def __call__(self, state) -> None:
        _sync(self.device)
        self.marks.append((state.step, time.perf_counter()))

    def rate(self, images_per_step: int) -> tuple[float, float]:
        """``(images/s, seconds)`` from the first mark (the end of the warm-up) to the last."""
        (s0, t0), (s1, t1) = self.marks[0], self.marks[-1]
        if s1 <= s0:
            raise RuntimeError(f"no timed steps after the warm-up (marks {self.marks})")
        return (s1 - s0) * images_per_step / (t1 - t0), t1 - t0


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def _reset_memory(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_mib(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None


# --------------------------------------------------------------------------- 1. the tests


def cuda_only_tests(folder: Path = ROOT / "tests") -> list[str]:
    """pytest node ids of the tests in ``folder`` marked
    ``@pytest.mark.skipif(not torch.cuda.is_available(), ...)``."""
    ids = []
    for path in sorted(folder.glob("test_*.py")):
        ids += [f"{path.relative_to(ROOT)}::{name}"
                for name in _CUDA_SKIP.findall(path.read_text(encoding="utf-8"))]
    return ids


def run_gpu_tests(dry_run: bool) -> dict:
    """Run (dry run: collect) the CUDA-only tests; ``{"ids", "status", "ok"}``."""
    ids = cuda_only_tests()
    if not ids:
        return {"ids": [], "ok": False,
                "status": "no test marked skipif(not torch.cuda.is_available()) found"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
               *(["--collect-only"] if dry_run else []), *ids]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = proc.stdout.splitlines()
    skipped = [line for line in lines if line.startswith("SKIPPED")]
    if proc.returncode != 0 or skipped:
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
        why = f"{len(skipped)} skipped" if skipped else f"pytest exit {proc.returncode}"
        return {"ids": ids, "status": f"FAIL ({why})", "ok": False}
    if dry_run:
        collected = sum("::" in line for line in lines)
        return {"ids": ids, "status": f"collected {collected} (not run: dry run)", "ok": True}
    summary = (lines or [""])[-1].strip("= ")
    return {"ids": ids, "status": f"passed, none skipped ({summary})", "ok": True}


# --------------------------------------------------------------------------- 2. training


def image_data(n: int):
    """``(TensorImageDataset of n CIFAR-10 images with labels, description)``; random images
    in [-1, 1] with random labels when the data set is not there."""
    import torch

    from gan_lessons.data import (
        DatasetNotFoundError,
        TensorImageDataset,
        as_tensor_dataset,
        load_dataset,
    )

    try:
        data = as_tensor_dataset(load_dataset("cifar10", download=False), limit=n,
                                 progress=False)
        return data, f"CIFAR-10 ({n:,} images)"
    except DatasetNotFoundError:
        gen = torch.Generator().manual_seed(0)
        images = torch.rand(n, 3, 32, 32, generator=gen) * 2 - 1
        labels = torch.randint(0, 10, (n,), generator=gen)
        return TensorImageDataset(images, labels), f"random images ({n:,}; no CIFAR-10)"


def _family_run(family: str, sizes: dict, data, common: dict):
    """``(models to compile, train() -> TrainResult, images per step, note)`` of a family."""
    from gan_lessons.__main__ import AE_MODELS, GAMES, MODELS
    from gan_lessons.data import toy_dataset
    from gan_lessons.gan_training import GANTrainConfig, train_gan
    from gan_lessons.stylegan_training import StyleGANTrainConfig, train_stylegan
    from gan_lessons.train_autoencoder import AETrainConfig, train_autoencoder

    shape, z, width, batch = (3, 32, 32), sizes["z"], sizes["width"], sizes["batch"]
    config, run = common["config"], common["run"]
    if family == "MLP GAN (ring)":
        g, d = MODELS["mlp"]((2,), None)
        points = toy_dataset("ring", max(4 * batch, 512), seed=0)
        cfg = GANTrainConfig(batch_size=batch, **config)
        return [g, d], lambda: train_gan(g, d, points, cfg, **run), batch, "toy MLP, 2-D points"
    if family in ("DCGAN 32x32", "conditional DCGAN"):
        conditional = family == "conditional DCGAN"
        g, d = MODELS["dcgan"](shape, z, width, num_classes=10 if conditional else None)
        cfg = GANTrainConfig(batch_size=batch, conditional=conditional, **config)
        return ([g, d], lambda: train_gan(g, d, data, cfg, **run), batch,
                f"width {width}, batch {batch}" + (", projection D" if conditional else ""))
    if family == "WGAN-GP":
        g, d = MODELS["dcgan"](shape, z, width, d_norm="layer")
        game = dict(GAMES["wgan-gp"])
        lr = game.pop("lr")
        cfg = GANTrainConfig(batch_size=sizes["small_batch"], lr_g=lr, lr_d=lr, **game, **config)
        return ([g], lambda: train_gan(g, d, data, cfg, **run), cfg.batch_size * cfg.d_steps,
                f"DCGAN width {width}, layer-norm critic, batch {cfg.batch_size}, 5 critic steps")
    if family == "StyleGAN small":
        images = data.images[:, :, ::32 // sizes["sg_size"], ::32 // sizes["sg_size"]]
        g, d = MODELS["stylegan"](tuple(images.shape[1:]), z, sizes["sg_width"])
        cfg = StyleGANTrainConfig(batch_size=sizes["small_batch"],
                                  r1_interval=sizes["r1_interval"], **config)
        return ([g], lambda: train_stylegan(g, d, images.contiguous(), cfg, **run),
                cfg.batch_size, f"{sizes['sg_size']}x{sizes['sg_size']}, width "
                f"{sizes['sg_width']}, batch {cfg.batch_size}, R1 every {cfg.r1_interval}")
    if family == "conv VAE":
        vae = AE_MODELS["conv_vae"](shape, 16, sizes["width"] // 2)
        cfg = AETrainConfig(batch_size=batch, **config)
        return ([vae], lambda: train_autoencoder(vae, data, cfg, **run), batch,
                f"width {sizes['width'] // 2}, latent 16, batch {batch}")
    raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")


def train_row(family: str, variant: str, sizes: dict, data, device, folder: Path,
              dry_run: bool) -> dict:
    """Train ``family`` in ``variant`` for ``sizes["steps"]`` steps; one row of the table."""
    import torch

    from gan_lessons.precision import MixedPrecision

    timer = Timer(device)
    common = _run_config(family, variant, sizes, device, folder, timer)
    torch.manual_seed(0)
    _reset_memory(device)
    compiled, train, per_step, note = _family_run(family, sizes, data, common)
    if variant == "compile":
        backend = "eager" if dry_run else "inductor"
        for model in compiled:
            model.compile(backend=backend)
        which = "all models" if len(compiled) > 1 or family == "conv VAE" else (
            "G only (D: double backward)")
        note += f"; torch.compile({backend}) here, {which}"
    elif variant == "amp":
        precision = MixedPrecision(device, True)  # what train_* will use (warns if off)
        note += (f"; autocast {str(precision.dtype).removeprefix('torch.')}" if precision.enabled
                 else "; AMP is off here (no CUDA, no CPU bfloat16): as float32")
    result = train()
    losses = [v[-1] for k, v in result.history.items() if k.startswith("loss")]
    if not all(math.isfinite(v) for v in losses):
        raise RuntimeError(f"non-finite final losses {losses}")
    rate, seconds = timer.rate(per_step)
    return {"model": family, "variant": variant, "images_per_s": rate,
            "peak_mib": _peak_mib(device), "seconds": seconds, "baseline": "float32",
            "note": note}


DATA_PARALLEL_FAMILIES = ("DCGAN 32x32", "StyleGAN small")


def _run_config(family: str, variant: str, sizes: dict, device, folder: Path,
                timer: Timer) -> dict:
    """The ``common`` options of :func:`_family_run` for one timed run."""
    slug = re.sub(r"\W+", "_", f"{family}_{variant}").strip("_").lower()
    return {"config": {"num_steps": sizes["steps"], "amp": variant == "amp",
                       "channels_last": variant == "channels_last", "snapshot_every": 0},
            "run": {"device": device, "checkpoint_path": folder / f"{slug}.pt",
                    "callback": timer, "callback_every": sizes["warmup"], "progress": False,
                    "command": f"gpu_check {family} / {variant}"}}


def data_parallel_child(family: str, out: Path, dry_run: bool) -> None:
    """One process of a data-parallel run (started by torchrun): train ``family`` in float32;
    rank 0 writes ``{"images_per_s", "seconds", "world_size"}`` (global batch) to ``out``."""
    import torch

    from gan_lessons import distributed

    sizes = SIZES["dry" if dry_run else "gpu"]
    device = torch.device("cpu" if dry_run else "cuda")
    data, _ = image_data(sizes["images"])
    timer = Timer(device)
    torch.manual_seed(0)
    _, train, per_step, _ = _family_run(
        family, sizes, data, _run_config(family, "data-parallel", sizes, device, out.parent,
                                         timer))
    train()
    if distributed.is_main():  # the callback (the timer) runs on rank 0 only
        world = distributed.world_size()
        rate, seconds = timer.rate(per_step * world)
        out.write_text(json.dumps({"images_per_s": rate, "seconds": seconds,
                                   "world_size": world}), encoding="utf-8")


def data_parallel_rows(sizes: dict, device, folder: Path, dry_run: bool) -> list[dict]:
    """:data:`DATA_PARALLEL_FAMILIES` trained by ``torchrun``, one process per GPU (NCCL), or
    2 CPU processes (gloo) in a dry run; images/s of the global batch. One GPU: not run."""
    import torch

    processes = 2 if dry_run else torch.cuda.device_count()
    rows = []
    for family in DATA_PARALLEL_FAMILIES:
        row = {"model": family, "variant": f"data-parallel x{processes}", "images_per_s": None,
               "peak_mib": None, "seconds": None, "baseline": "float32"}
        if processes < 2:
            rows.append({**row, "note": "not run: data-parallel needs 2 GPUs, this machine "
                                        "has 1 (NCCL allows one process per GPU)"})
            continue
        out = folder / f"ddp_{len(rows)}.json"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={processes}", str(Path(__file__).resolve()),
                   "--data-parallel-child", family, str(out)] + (["--dry-run"] if dry_run
                                                                  else [])
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"torchrun {family} failed ({done.returncode}): "
                               f"{done.stderr[-1500:]}")
        measured = json.loads(out.read_text(encoding="utf-8"))
        backend = "gloo, CPU" if dry_run else "NCCL"
        rows.append({**row, "images_per_s": measured["images_per_s"],
                     "seconds": measured["seconds"],
                     "note": f"{processes} processes ({backend}), float32, images/s of the "
                             f"global batch; x baseline / {processes} = scaling efficiency"})
    return rows


# --------------------------------------------------------------------------- 3. step benchmark


def step_benchmark_rows(sizes: dict, device) -> list[dict]:
    """``benchmarks/dcgan_step.py``'s loops (64 x 64 DCGAN): the pytorch/examples reference,
    ``train_gan``'s default step, and that with AMP; median of ``rounds``."""
    import argparse as _argparse

    import dcgan_step as bench  # beside this file
    import torch

    b = sizes["bench"]
    args = _argparse.Namespace(latent_dim=100, lr=2e-4, **{k: b[k] for k in ("batch_size",
                                                                            "width")})
    torch.manual_seed(0)
    images = torch.rand(max(4 * args.batch_size, 64), 3, 64, 64) * 2 - 1
    batches = [(images[i * args.batch_size:(i + 1) * args.batch_size], None)
               for i in range(b["steps"])]
    defaults = {"channels_last": True, "fused": True, "compile_": False, "reuse_fakes": True}
    variants = {
        "pytorch/examples loop": lambda: bench.ExampleLoop(args, device),
        "GANStep, train_gan defaults": lambda: bench.PackageLoop(args, device, images,
                                                                 **defaults),
        "GANStep, defaults + amp": lambda: bench.PackageLoop(args, device, images, **defaults,
                                                             amp=True),
    }
    rows = []
    for name, make in variants.items():
        _reset_memory(device)
        loop = make()
        bench.time_steps(loop, batches[:2], device)  # warm-up
        seconds = statistics.median(bench.time_steps(loop, batches, device)
                                    for _ in range(b["rounds"]))
        rows.append({"model": "DCGAN 64x64 step (dcgan_step.py)", "variant": name,
                     "images_per_s": len(batches) * args.batch_size / seconds,
                     "peak_mib": _peak_mib(device), "seconds": seconds,
                     "baseline": "pytorch/examples loop",
                     "note": f"width {args.width}, batch {args.batch_size}, median of "
                             f"{b['rounds']} x {b['steps']} steps"})
        del loop
    return rows


# --------------------------------------------------------------------------- 4. metrics


def metrics_row(n: int, width: int, device) -> dict:
    """Seconds of ``evaluate`` (every metric, CIFAR-10 classifier features, caches off) of a
    32 x 32 DCGAN generator on ``n`` samples against a random real pool of ``2 n``."""
    import torch

    from gan_lessons.metrics import evaluate
    from gan_lessons.models import DCGANConfig, DCGANGenerator

    torch.manual_seed(0)
    generator = DCGANGenerator(DCGANConfig(image_size=32, channels=3, width=width)).to(device)
    real = torch.rand(2 * n, 3, 32, 32) * 2 - 1
    _reset_memory(device)
    _sync(device)
    start = time.perf_counter()
    result = evaluate(generator, real, num_samples=n, feature_net="cifar10", device=device,
                      progress=False, cache=False)
    _sync(device)
    seconds = time.perf_counter() - start
    values = [v for s in result.as_dict().values() for v in s.values() if v is not None]
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"non-finite metrics {result.as_dict()}")
    return {"model": "metrics FID/KID/IS/PRDC", "variant": f"N = {n:,}",
            "images_per_s": 3 * n / seconds, "peak_mib": _peak_mib(device), "seconds": seconds,
            "baseline": None, "note": "3 N images through the CIFAR-10 classifier; s = whole "
                                      "evaluate() call"}


# --------------------------------------------------------------------------- the table


def _ratios(rows: list[dict]) -> None:
    """Each row's ``ratio``: its images/s over its group's baseline row's."""
    base = {(r["model"], r["variant"]): r["images_per_s"] for r in rows}
    for r in rows:
        ref = base.get((r["model"], r["baseline"]))
        r["ratio"] = r["images_per_s"] / ref if ref and r["images_per_s"] else None


def _cell(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def markdown(report: dict) -> str:
    """The report as Markdown: a header line, the table, the targets."""
    lines = [f"GPU check on {report['device']} (torch {report['torch']}"
             f"{', DRY RUN: tiny sizes on the CPU' if report['dry_run'] else ''}); data: "
             f"{report['data']}; CUDA-only tests: {report['gpu_tests']['status']}. images/s: "
             "steady state after warm-up; peak MiB: torch.cuda.max_memory_allocated per run "
             "(data set on the GPU included)", "",
             "| model | variant | images/s | peak MiB | x baseline | s | notes |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in report["rows"]:
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f} ({r['baseline']})"
        lines.append(f"| {r['model']} | {r['variant']} | {_cell(r['images_per_s'], ',.0f')} | "
                     f"{_cell(r['peak_mib'], ',.0f')} | {ratio} | {_cell(r['seconds'], '.2f')}"
                     f" | {r.get('error') or r['note']} |")
    lines.append("")
    for t in report["targets"]:
        lines.append(f"- {t['name']}: {t['status']} ({t['detail']})")
    return "\n".join(lines)


def targets(rows: list[dict], dry_run: bool) -> list[dict]:
    """The issue's goals, PASS/FAIL (``n/a`` in a dry run: the sizes are tiny)."""
    dcgan = [r for r in rows if r["model"] == "DCGAN 32x32" and r["images_per_s"]]
    best = max(dcgan, key=lambda r: r["images_per_s"], default=None)
    metric = next((r for r in rows if r["model"].startswith("metrics") and r["seconds"]), None)
    found = [
        ("DCGAN 32x32 width 64 batch 256 >= 20,000 images/s",
         None if best is None else best["images_per_s"] >= DCGAN_TARGET,
         "no run" if best is None else f"best {best['images_per_s']:,.0f} ({best['variant']})"),
        ("metrics on 50,000 samples < 60 s", None if metric is None
         else metric["seconds"] < METRICS_TARGET,
         "no run" if metric is None else f"{metric['seconds']:.1f} s"),
    ]
    return [{"name": name, "pass": None if dry_run else ok,
             "status": "n/a (dry run)" if dry_run else {True: "PASS", False: "FAIL",
                                                         None: "FAIL"}[ok], "detail": detail}
            for name, ok, detail in found]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="the same steps, tiny, on the CPU (under a minute)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for gpu_check.json and gpu_check.md (default: a new "
                             "temporary folder)")
    parser.add_argument("--data-parallel-child", nargs=2, metavar=("FAMILY", "OUT"),
                        help=argparse.SUPPRESS)  # one torchrun process of data_parallel_rows
    args = parser.parse_args(argv)
    if args.data_parallel_child:
        family, out = args.data_parallel_child
        data_parallel_child(family, Path(out), args.dry_run)
        return 0
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print("gpu_check: no CUDA device (torch.cuda.is_available() is False); run it on a "
              "CUDA machine, or with --dry-run for the CPU check", file=sys.stderr)
        return 2
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out must be a folder, got the file {args.out}")
    out = args.out or Path(tempfile.mkdtemp(prefix="gpu_check-"))
    out.mkdir(parents=True, exist_ok=True)
    sizes = SIZES["dry" if args.dry_run else "gpu"]
    device = torch.device("cpu" if args.dry_run else "cuda")
    start = time.perf_counter()
    report = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "dry_run": args.dry_run, "rows": [], "failures": []}

    def attempt(what: str, fn, *fn_args):
        try:
            return fn(*fn_args)
        except Exception as exc:  # the table shows it; the exit status fails the check
            traceback.print_exc()
            report["failures"].append(f"{what}: {type(exc).__name__}: {exc}")
            return None

    phases = report["phase_seconds"] = {}

    def phase(name: str) -> None:
        """Start timing phase ``name`` (the previous one ends)."""
        phases[name] = time.perf_counter()
        if len(phases) > 1:
            last = list(phases)[-2]
            phases[last] = phases[name] - phases[last]
        print(f"[gpu_check] {name}", flush=True)

    phase("CUDA-only tests")
    report["gpu_tests"] = run_gpu_tests(args.dry_run)
    if not report["gpu_tests"]["ok"]:
        report["failures"].append(f"CUDA-only tests: {report['gpu_tests']['status']}")
    phase("training every family x variant")
    data, report["data"] = image_data(sizes["images"])
    with tempfile.TemporaryDirectory(prefix="gpu_check-runs-") as folder:
        for family in FAMILIES:
            for variant in VARIANTS:
                row = attempt(f"{family} / {variant}", train_row, family, variant, sizes, data,
                              device, Path(folder), args.dry_run)
                if variant == "compile":
                    torch._dynamo.reset()  # each run compiles new modules of the same classes
                report["rows"].append(row or {
                    "model": family, "variant": variant, "images_per_s": None,
                    "peak_mib": None, "seconds": None, "baseline": "float32", "note": "",
                    "error": "FAILED: " + report["failures"][-1].split(": ", 1)[1][:120]})
                print(f"  {family} / {variant}: "
                      f"{_cell(report['rows'][-1]['images_per_s'], ',.0f')} images/s", flush=True)
        phase("data-parallel (torchrun)")
        report["rows"] += attempt("data-parallel", data_parallel_rows, sizes, device,
                                  Path(folder), args.dry_run) or []
    phase("step benchmark")
    report["rows"] += attempt("step benchmark", step_benchmark_rows, sizes, device) or []
    phase("metrics")
    row = attempt("metrics", metrics_row, sizes["metrics_n"], sizes["width"], device)
    report["rows"] += [row] if row else []
    phase("done")
    del phases["done"]
    _ratios(report["rows"])
    report["targets"] = targets(report["rows"], args.dry_run)
    report["seconds"] = time.perf_counter() - start
    text = markdown(report) + f"\n\nTotal {report['seconds']:.0f} s (" + ", ".join(
        f"{name} {seconds:.0f} s" for name, seconds in phases.items()) + f"); written to {out}"
    (out / "gpu_check.md").write_text(text + "\n", encoding="utf-8")
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(text)
    if report["failures"]:
        print("gpu_check: FAILED: " + "; ".join(report["failures"]), file=sys.stderr)
        return 1
    return 3 if any(t["pass"] is False for t in report["targets"]) else 0


if __name__ == "__main__":
    sys.exit(main())
