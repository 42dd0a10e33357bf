"""scripts/gpu_check.sh: the CPU dry run is complete, and a machine without CUDA is refused."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def _load_module():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" /
                                                  "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


gpu_check = _load_module()


def _repo_files() -> set[Path]:
    """Files where the script could leave something: the repo's top level, benchmarks/,
    scripts/ (``__pycache__`` aside)."""
    found = set(ROOT.iterdir())
    for folder in ("benchmarks", "scripts"):
        found |= {p for p in (ROOT / folder).rglob("*") if "__pycache__" not in p.parts}
    return found


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_dry_run_trains_every_family_and_variant(tmp_path):
    before = _repo_files()
    proc = _run("--dry-run", "--out", str(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    table = (tmp_path / "gpu_check.md").read_text()
    assert table.strip() in proc.stdout  # the table printed is the one written
    trained = {(r["model"], r["variant"]) for r in report["rows"]
               if r["model"] in gpu_check.FAMILIES}
    parallel = {(f, "data-parallel x2") for f in gpu_check.DATA_PARALLEL_FAMILIES}
    assert trained == {(f, v) for f in gpu_check.FAMILIES for v in gpu_check.VARIANTS} | parallel
    for row in report["rows"]:
        if row["variant"].startswith("data-parallel"):  # torchrun with 2 gloo processes
            assert "2 processes (gloo, CPU)" in row["note"]
    for family in gpu_check.FAMILIES:
        for variant in gpu_check.VARIANTS:
            assert f"| {family} | {variant} |" in proc.stdout
    assert any(r["model"].startswith("DCGAN 64x64 step") for r in report["rows"])
    assert any(r["model"].startswith("metrics") for r in report["rows"])
    for row in report["rows"]:
        for key in ("images_per_s", "seconds", "ratio"):
            value = row[key]
            if key == "ratio" and row["baseline"] is None:
                continue
            assert isinstance(value, float), (key, row)
            assert math.isfinite(value), (key, row)
            assert value > 0, (key, row)
        assert row["peak_mib"] is None  # n/a on the CPU
        if row["variant"] == "compile":
            assert "torch.compile(eager)" in row["note"]
    assert report["failures"] == []
    assert report["dry_run"] is True
    assert report["gpu_tests"]["ok"]
    assert "collected" in report["gpu_tests"]["status"]
    assert [t["status"] for t in report["targets"]] == ["n/a (dry run)"] * 2
    assert _repo_files() == before  # nothing left in the repository


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a CPU-only machine")
def test_refuses_without_cuda(tmp_path):
    proc = _run("--out", str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    message = [line for line in proc.stderr.splitlines() if line.startswith("gpu_check:")]
    assert len(message) == 1, proc.stderr
    assert "torch.cuda.is_available() is False" in message[0]
    assert not (tmp_path / "out").exists()  # refused before doing anything


def test_finds_the_cuda_only_tests(tmp_path):
    ids = gpu_check.cuda_only_tests()
    assert "tests/test_gpu_check.py::test_refuses_without_cuda" not in ids  # skips *with* CUDA
    assert "tests/test_train.py::test_amp_on_cuda" in ids
    assert "tests/test_stylegan_training.py::test_training_runs_on_cuda_with_every_regulariser" \
        in ids  # below a second decorator
    (tmp_path / "test_x.py").write_text(
        "@pytest.mark.skipif(not torch.cuda.is_available(), reason='gpu')\n"
        "@pytest.mark.parametrize('a', [1])\ndef test_gpu(a):\n    pass\n\n"
        "@pytest.mark.skipif(sys.platform == 'win32', reason='posix')\ndef test_cpu():\n"
        "    pass\n\n"
        "@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU only')\ndef test_no_gpu():\n"
        "    pass\n")
    module_root, gpu_check.ROOT = gpu_check.ROOT, tmp_path
    try:
        assert gpu_check.cuda_only_tests(tmp_path) == ["test_x.py::test_gpu"]
    finally:
        gpu_check.ROOT = module_root


def test_targets_pass_and_fail():
    def rows(dcgan, seconds):
        return [{"model": "DCGAN 32x32", "variant": "amp", "images_per_s": dcgan,
                 "seconds": 1.0},
                {"model": "metrics FID/KID/IS/PRDC", "variant": "N = 50,000",
                 "images_per_s": 1.0, "seconds": seconds}]

    assert [t["status"] for t in gpu_check.targets(rows(25_000.0, 40.0), False)] == [
        "PASS", "PASS"]
    assert [t["status"] for t in gpu_check.targets(rows(19_000.0, 61.0), False)] == [
        "FAIL", "FAIL"]
    assert [t["pass"] for t in gpu_check.targets(rows(None, None), False)] == [None, None]
    assert [t["status"] for t in gpu_check.targets(rows(None, None), False)] == [
        "FAIL", "FAIL"]  # a run that failed is no pass
