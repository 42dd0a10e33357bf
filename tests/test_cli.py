"""The command line: help, train on toy data and a tiny MNIST subset, sample, bad arguments."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_lessons.__main__ import main
from gan_lessons.checkpoints import load_checkpoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run_module(*args):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "gan_lessons", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_help():
    result = run_module("--help")
    assert result.returncode == 0
    assert "train" in result.stdout
    assert "sample" in result.stdout
    for command in ("train", "sample"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0


def test_train_toy_then_sample(tmp_path, capsys):
    out = tmp_path / "runs" / "ring.pt"
    argv = ["train", "--data", "ring", "--steps", "4", "--batch-size", "16", "--limit", "64",
            "--seed", "1", "--device", "cpu", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert f"saved {out}" in capsys.readouterr().out
    ckpt = load_checkpoint(out)
    # every option spelled out, defaults resolved (issue 17), in a fixed order
    assert ckpt["meta"]["command"] == (
        f"python -m gan_lessons train --model mlp --data ring --out {out} --steps 4 "
        "--batch-size 16 --lr 0.0002 --d-steps 1 --generator-loss non_saturating "
        "--betas 0.5 0.999 --gp-weight 0.0 --r1-gamma 0.0 --no-conditional --latent-dim 2 --limit 64 --reuse-fakes --fused-adam --seed 1 --device cpu "
        "--checkpoint-every 0 --no-amp --workers 0 --quiet")
    assert ckpt["step"] == 4
    assert ckpt["train_config"]["seed"] == 1
    assert ckpt["models"]["generator"]["config"]["data_shape"] == (2,)

    png = tmp_path / "ring.png"
    assert main(["sample", "--checkpoint", str(out), "--num", "32", "--out", str(png),
                 "--device", "cpu"]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)

    jpg = tmp_path / "ring.jpg"  # the suffix decides the format (was: PNG bytes in x.jpg)
    assert main(["sample", "--checkpoint", str(out), "--num", "8", "--out", str(jpg),
                 "--device", "cpu"]) == 0
    assert jpg.read_bytes().startswith(b"\xff\xd8\xff")
    txt = tmp_path / "ring.txt"
    assert main(["sample", "--checkpoint", str(out), "--out", str(txt), "--device", "cpu"]) == 2
    assert "out must end in an image suffix" in capsys.readouterr().err
    assert not txt.exists()


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="no offline MNIST")
def test_train_tiny_mnist_then_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(SHARED_DATA))
    out = tmp_path / "mnist.pt"
    assert main(["train", "--model", "mlp", "--data", "mnist", "--steps", "2", "--batch-size",
                 "16", "--limit", "48", "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    ckpt = load_checkpoint(out)
    assert ckpt["models"]["generator"]["config"]["data_shape"] == (1, 28, 28)
    assert "--data mnist" in ckpt["meta"]["command"]
    png = tmp_path / "digits.png"
    assert main(["sample", "--checkpoint", str(out), "--num", "16", "--nrow", "4",
                 "--out", str(png), "--device", "cpu"]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(("argv", "words"), [
    (["train", "--data", "ring", "--steps", "0"], "--steps"),
    (["train", "--data", "ring", "--model", "transformer"], "--model"),
    (["train", "--steps", "10"], "--data"),
    (["train", "--data", "ring", "--lr", "abc"], "--lr"),
    (["sample"], "--checkpoint"),
    ([], "required"),
    (["train-ae", "--data", "mnist", "--model", "conv_gan"], "--model"),
    (["train-ae", "--data", "mnist", "--beta", "-1"], "--beta"),
    (["train-ae", "--data", "mnist", "--reconstruction", "l1"], "--reconstruction"),
    (["train-ae", "--steps", "3"], "--data"),
])
def test_bad_arguments_exit_2_with_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert words in err


@pytest.mark.parametrize(("argv", "words"), [
    (["train", "--data", "/no/such/folder", "--quiet"], "/no/such/folder"),
    (["train", "--data", "ring", "--batch-size", "64", "--limit", "10", "--quiet"],
     "batch_size"),
    (["sample", "--checkpoint", "/no/such/file.pt"], "/no/such/file.pt"),
    (["train", "--data", "ring", "--device", "tpu"], "--device"),
])
def test_runtime_errors_exit_2_with_one_line(argv, words, capsys, tmp_path):
    # an out path each command accepts, so that the error is the one under test
    out = tmp_path / ("x.png" if argv[0] == "sample" else "x.pt")
    argv = [*argv, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert words in err
    assert "Traceback" not in err


def test_errors_from_the_real_command_line_have_no_traceback(tmp_path):
    result = run_module("sample", "--checkpoint", str(tmp_path / "missing.pt"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "missing.pt" in result.stderr


def test_train_dcgan_on_a_small_image_folder(tmp_path):
    """--model dcgan trains on 16 x 16 images and the checkpoint rebuilds a DCGAN generator."""
    from PIL import Image

    from gan_lessons.checkpoints import load_gan
    from gan_lessons.models import DCGANGenerator

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(8):
        Image.new("RGB", (20, 20), (30 * i, 255 - 30 * i, 100)).save(folder / f"{i}.png")
    out = tmp_path / "dcgan.pt"
    code = main(["train", "--model", "dcgan", "--data", str(folder), "--image-size", "16",
                 "--width", "8", "--latent-dim", "8", "--steps", "2", "--batch-size", "4",
                 "--channels-last", "--device", "cpu", "--quiet", "--out", str(out)])
    assert code == 0
    generator, _ = load_gan(out)
    assert isinstance(generator, DCGANGenerator)
    assert generator(torch.randn(2, 8)).shape == (2, 3, 16, 16)


def test_width_is_refused_for_the_mlp(tmp_path, capsys):
    code = main(["train", "--model", "mlp", "--data", "ring", "--width", "8", "--steps", "1",
                 "--out", str(tmp_path / "x.pt"), "--quiet"])
    assert code == 2
    assert "--width" in capsys.readouterr().err
