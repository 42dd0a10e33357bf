"""The package installs like any other: its wheel, built from the repository and installed into
a fresh virtual environment, works from a folder outside the repository.

The fresh environment first has nothing but the wheel (no torch): ``gan-lessons --help`` must
work and a command must say in one line what to install. Then it is given the pinned packages
of this environment (a ``.pth`` file pointing at its site-packages: nothing is downloaded) and
runs the README's "own work" example, in Python and from the command line, on a folder of
generated images. The wheel's own ``gan_lessons`` (with the bundled pretrained files) must be
the one imported, not the repository's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from datasets_for_tests import shapes_folder

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "gan_lessons")


def _run(args, cwd, env=None, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the files a source distribution holds (so that a file
    missing from that list fails here, not on a user's machine)."""
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
          "--no-build-isolation", "--wheel-dir", dist, src], cwd=src)
    wheels = list(dist.glob("gan_lessons-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_the_pretrained_files_type_hints_and_license(wheel):
    import json
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    registry = json.loads((ROOT / "gan_lessons" / "pretrained" / "registry.json").read_text())
    for info in registry.values():
        assert f"gan_lessons/pretrained/{info['file']}" in names
    assert "gan_lessons/py.typed" in names
    assert "gan_lessons/check/__init__.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[-8:]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    import gan_lessons

    assert f"Version: {gan_lessons.__version__}" in text
    assert "License-Expression: MIT" in text
    assert "Classifier: Typing :: Typed" in text


def test_installed_wheel_runs_the_own_work_example_outside_the_repository(wheel, tmp_path):
    env_dir = tmp_path / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", env_dir], cwd=tmp_path)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
          "--no-index", wheel], cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "work"  # outside the repository
    work.mkdir()

    # 1. the wheel alone (no torch): --help works, a command says what to install
    assert "train" in _run(["gan-lessons", "--help"], cwd=work, env=env).stdout
    bare = subprocess.run(["gan-lessons", "train", "--data", "ring", "--out", "x.pt"], cwd=work,
                          env=env, capture_output=True, text=True, timeout=120)
    assert bare.returncode == 2
    assert "pip install torch" in bare.stderr
    assert len(bare.stderr.strip().splitlines()) == 1

    # 2. with this environment's pinned packages visible (nothing downloaded)
    env_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=work, env=env).stdout.strip())
    (env_site / "pinned_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run([python, "-c", "import gan_lessons.pretrained as p; print(p.PRETRAINED_DIR)"],
                 cwd=work, env=env).stdout.strip()
    assert Path(where).is_relative_to(env_dir), f"imported {where}, not the wheel's copy"
    _run([python, "-c", "from gan_lessons.pretrained import load_pretrained; "
          "load_pretrained('dcgan_mnist')"], cwd=work, env=env)

    shapes_folder(work / "my_images")
    shutil.copy2(ROOT / "examples" / "own_images.py", work)
    shutil.copy2(ROOT / "examples" / "own_images.sh", work)
    env["OMP_NUM_THREADS"] = env.get("OMP_NUM_THREADS", "2")
    python_run = _run([python, "own_images.py"], cwd=work, env=env)
    shell_run = _run(["bash", "-e", "own_images.sh"], cwd=work, env=env)

    from gan_lessons.checkpoints import load_checkpoint

    for out, printed in (("mine", python_run.stdout), ("mine_cli", shell_run.stdout)):
        assert load_checkpoint(work / "runs" / f"{out}.pt")["step"] == 60  # resumed to 60
        assert "FID" in printed
        assert "real vs real" in printed
    assert (work / "samples.png").stat().st_size > 1000
    assert (work / "samples_cli.png").stat().st_size > 1000


def test_readme_and_book_show_the_examples_that_the_test_runs():
    readme = (ROOT / "README.md").read_text()
    page = (ROOT / "book" / "own_work.md").read_text()
    for name, language in (("own_images.py", "python"), ("own_images.sh", "bash")):
        text = (ROOT / "examples" / name).read_text().strip()
        assert f"```{language}\n{text}\n```" in readme, f"README's copy of {name} is stale"
        assert f"```{{literalinclude}} ../examples/{name}" in page
        assert all(len(line) <= 79 for line in text.splitlines()), f"{name}: > 79 columns"
