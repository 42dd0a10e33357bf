"""The pix2pix tasks' command line: paired data from the shipped sets, a recorded command that
spells out every option, and the scores of ``evaluate``."""

from __future__ import annotations

import shlex

import pytest
import torch

from gan_lessons.checkpoints import load_checkpoint, load_models
from gan_lessons.degradations import downsample, upsample_bicubic
from gan_lessons.image_metrics import psnr
from gan_lessons.pix2pix_tasks import TASKS, _parser, evaluate_translation, main, task_pairs
from gan_lessons.pretrained import (
    load_pretrained,
    pretrained_info,
    pretrained_names,
    pretrained_path,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_records_a_command_that_parses_to_the_same_options(tmp_path, capsys):
    out = tmp_path / "edges.pt"
    argv = ["train", "edges_mnist", "--out", str(out), "--steps", "2", "--limit", "64",
            "--width", "4", "--batch-size", "8", "--quiet", "--no-adversarial"]
    assert main(argv) == 0
    assert "edges_mnist: 2 steps" in capsys.readouterr().out
    command = load_checkpoint(out)["meta"]["command"]
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "gan_lessons.pix2pix_tasks"]
    recorded = vars(_parser().parse_args(words[3:]))
    given = vars(_parser().parse_args(argv))
    del recorded["quiet"], given["quiet"]  # how it was shown, not what was trained
    assert recorded == given
    g = load_models(out)["generator"]
    assert g.config.image_size == 28
    assert g.config.width == 4
    assert "discriminator" not in load_models(out)  # the L1 baseline trains no discriminator
    with pytest.raises(SystemExit):  # argparse refuses an unknown task
        main(["train", "edges_cifar10", "--out", str(tmp_path / "x.pt")])


def test_the_sr_task_trains_an_srnet_against_bicubic(tmp_path, capsys):
    out = tmp_path / "sr.pt"
    assert main(["train", "sr4_mnist", "--out", str(out), "--steps", "2", "--limit", "64",
                 "--width", "4", "--batch-size", "8", "--quiet"]) == 0
    models = load_models(out)
    wrapper = models["generator"]
    assert wrapper.config.factor == 4
    assert models["discriminator"].config.d_layers == 2
    pixelated, digits = task_pairs("sr4_mnist", train=False, limit=4)
    torch.testing.assert_close(downsample(pixelated, 4), downsample(digits, 4))
    baseline = evaluate_translation(TASKS["sr4_mnist"].baseline, pixelated, digits)
    bicubic = psnr(upsample_bicubic(downsample(digits, 4), 4), digits).mean()
    assert baseline["psnr"] == pytest.approx(float(bicubic), rel=1e-5)
    capsys.readouterr()
    assert main(["evaluate", "sr4_mnist", "--weights", str(out), "--limit", "8"]) == 0
    printed = capsys.readouterr().out
    assert "baseline: l1" in printed
    assert f"{out}: l1" in printed
    with pytest.raises(ValueError, match="--keep-luma is for colourisation"):
        main(["train", "sr4_mnist", "--out", str(tmp_path / "x.pt"), "--keep-luma"])


def test_pairs_come_from_the_test_split_in_range():
    grey, colour = task_pairs("colour_cifar10", train=False, limit=8)
    assert grey.shape == (8, 1, 32, 32)
    assert colour.shape == (8, 3, 32, 32)
    assert grey.min() >= -1
    assert colour.max() <= 1
    edges, digits = task_pairs("edges_mnist", train=False, limit=4)
    assert set(edges.unique().tolist()) <= {-1.0, 1.0}
    assert digits.shape == (4, 1, 28, 28)


def test_evaluate_scores_the_baseline_and_a_model():
    grey, colour = task_pairs("colour_cifar10", train=False, limit=16)
    baseline = evaluate_translation(None, grey, colour, batch_size=5)
    expected = psnr(grey.expand(-1, 3, -1, -1), colour).mean()
    assert baseline["psnr"] == pytest.approx(float(expected), rel=1e-5)
    assert set(baseline) == {"l1", "psnr", "ssim"}
    l1 = (grey.expand(-1, 3, -1, -1) - colour).abs().mean()
    assert baseline["l1"] == pytest.approx(float(l1), rel=1e-5)

    class Perfect(torch.nn.Module):  # returns the targets: infinite PSNR capped, SSIM 1
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return colour[:len(x)] if len(x) == len(colour) else colour[-len(x):]

    scores = evaluate_translation(Perfect(), grey, colour, batch_size=16)
    assert scores["ssim"] == pytest.approx(1.0, abs=1e-4)
    assert scores["psnr"] > baseline["psnr"] + 20
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_translation(None, grey, colour, batch_size=0)


BUNDLED = [n for n in pretrained_names()
           if shlex.split(pretrained_info(n)["command"])[2:3] == ["gan_lessons.pix2pix_tasks"]]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_matches_its_recorded_command(name):
    args = _parser().parse_args(shlex.split(pretrained_info(name)["command"])[3:])
    payload = load_checkpoint(pretrained_path(name))
    models = load_pretrained(name)
    config = models["generator"].config
    assert config.width == args.width
    assert getattr(config, "keep_luma", False) == args.keep_luma
    assert config.image_size == TASKS[args.task].image_size
    assert ("discriminator" in models) == args.adversarial
    train = payload["train_config"]
    assert (train["num_steps"], train["batch_size"], train["seed"]) == (
        args.steps, args.batch_size, args.seed)
    assert (train["l1_weight"], train["adversarial"]) == (args.l1_weight, args.adversarial)
    assert payload["step"] == args.steps  # trained to the end
