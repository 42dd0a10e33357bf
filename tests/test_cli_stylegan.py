"""``python -m gan_lessons train --model stylegan`` (issue 13): a short run on a tiny folder of
images, its recorded command, ``sample`` and ``evaluate`` on its checkpoint, the conditional
model, and the options that do not apply."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lessons.__main__ import command_config, main
from gan_lessons.checkpoints import load_checkpoint, load_models
from gan_lessons.stylegan_training import StyleGANTrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: what a stylegan run's command spells out besides the options of every GAN
STYLEGAN_FLAGS = ["--lr", "--betas", "--r1-gamma", "--ema-decay", "--style-mixing",
                  "--r1-interval", "--pl-weight", "--pl-interval", "--latent-dim", "--width"]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    """Two classes of 16 x 16 grey images, 12 each: dark and light noise (a folder's images
    are read as RGB)."""
    folder = tmp_path_factory.mktemp("data") / "shapes"
    rng = torch.Generator().manual_seed(0)
    for k, name in enumerate(["dark", "light"]):
        (folder / name).mkdir(parents=True)
        for i in range(12):
            pixels = (60 + 120 * k + 40 * torch.rand(16, 16, generator=rng)).to(torch.uint8)
            Image.fromarray(pixels.numpy()).save(folder / name / f"{i}.png")
    return folder


def train(folder: Path, out: Path, *options: str) -> dict:
    argv = ["train", "--model", "stylegan", "--data", str(folder), "--image-size", "16",
            "--steps", "3", "--batch-size", "8", "--width", "4", "--latent-dim", "8",
            "--device", "cpu", "--quiet", "--out", str(out), *options]
    assert main(argv) == 0
    return load_checkpoint(out)


def test_a_short_run_records_a_command_that_parses_back_and_reproduces_it(shapes, tmp_path):
    first = tmp_path / "sg.pt"
    payload = train(shapes, first)
    command = payload["meta"]["command"]
    words = shlex.split(command)
    for flag in STYLEGAN_FLAGS:
        assert flag in words, flag
    assert "--lr 0.002 --d-steps 1 --generator-loss non_saturating --betas 0.0 0.99" in command
    assert "--style-mixing 0.9 --r1-interval 16 --pl-weight 0.0 --pl-interval 4" in command
    assert payload["train_config_class"] == "StyleGANTrainConfig"
    config = command_config(command)
    assert config == StyleGANTrainConfig(**payload["train_config"])
    assert payload["history"]["step"] == [1, 2, 3]
    assert set(payload["history"]) == {"step", "loss_d", "loss_g", "d_real", "d_fake",
                                       "loss_r1"}
    models = load_models(first)
    assert set(models) == {"generator", "discriminator", "generator_ema"}
    generator_config = models["generator"].config
    assert (generator_config.image_size, generator_config.channels) == (16, 3)  # read as RGB
    assert (generator_config.z_dim, generator_config.width) == (8, 4)

    again = tmp_path / "again.pt"  # the recorded command trains the same weights
    words = words[3:]
    words[words.index("--out") + 1] = str(again)
    assert main(words) == 0
    for name, model in models.items():
        other = load_models(again)[name].state_dict()
        for key, value in model.state_dict().items():
            assert torch.equal(value, other[key]), (name, key)

    png = tmp_path / "samples.png"
    assert main(["sample", "--checkpoint", str(first), "--num", "6", "--out", str(png),
                 "--device", "cpu"]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    for model in ("generator", "generator_ema"):
        assert main(["evaluate", str(first), "--data", str(shapes), "--num", "10",
                     "--feature-net", "identity", "--metrics", "fid,recall", "--model",
                     model, "--device", "cpu", "--quiet"]) == 0


def test_a_conditional_stylegan_with_every_regulariser(shapes, tmp_path, capsys):
    payload = train(shapes, tmp_path / "c.pt", "--conditional", "--pl-weight", "2",
                    "--pl-interval", "2", "--r1-interval", "2", "--r1-gamma", "0.5",
                    "--style-mixing", "1", "--lr", "0.001", "--betas", "0.1", "0.9",
                    "--ema-decay", "0.5")
    config = payload["train_config"]
    assert (config["conditional"], config["pl_weight"], config["pl_interval"]) == (True, 2.0, 2)
    assert (config["r1_interval"], config["r1_gamma"], config["style_mixing_prob"]) == (
        2, 0.5, 1.0)
    assert (config["lr_g"], tuple(config["betas"]), config["ema_decay"]) == (
        0.001, (0.1, 0.9), 0.5)
    assert "loss_pl" in payload["history"]
    command = payload["meta"]["command"]
    assert command_config(command) == StyleGANTrainConfig(**config)
    assert "--conditional --latent-dim 8 --width 4" in command
    assert "--cond-discriminator" not in command  # dcgan only
    models = load_models(tmp_path / "c.pt")
    assert models["generator"].num_classes == models["discriminator"].num_classes == 2
    png = tmp_path / "classes.png"
    assert main(["sample", "--checkpoint", str(tmp_path / "c.pt"), "--num", "4", "--nrow",
                 "2", "--out", str(png), "--device", "cpu"]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "c.pt"), "--data", str(shapes), "--num", "10",
                 "--feature-net", "identity", "--metrics", "fid", "--device", "cpu",
                 "--quiet"]) == 0
    assert "FID" in capsys.readouterr().out


def test_other_models_keep_their_commands_and_defaults(tmp_path):
    out = tmp_path / "ring.pt"
    assert main(["train", "--data", "ring", "--steps", "1", "--batch-size", "16", "--limit",
                 "64", "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    payload = load_checkpoint(out)
    command = payload["meta"]["command"]
    for flag in ("--style-mixing", "--r1-interval", "--pl-weight", "--pl-interval"):
        assert flag not in command
    assert "--lr 0.0002" in command
    assert "--r1-gamma 0.0" in command
    assert payload["train_config_class"] == "GANTrainConfig"
    assert payload["train_config"]["ema_decay"] is None


@pytest.mark.parametrize(("options", "message"), [
    (["--d-norm", "layer"], "--d-norm applies to --model dcgan only"),
    (["--conditional", "--cond-discriminator", "concat"],
     "--cond-discriminator applies to --model dcgan only"),
    (["--loss", "wgan-gp"], "--loss wgan-gp does not apply to --model stylegan"),
    (["--generator-loss", "hinge"], "generator_loss must be 'non_saturating'"),
    (["--d-steps", "2"], "d_steps must be 1"),
    (["--gp-weight", "10"], "gp_weight must be 0"),
    (["--clip-value", "0.01"], "clip_value must be None"),
    (["--image-size", "24"], "image_size must be"),
    (["--data", "ring"], "--model stylegan needs square images"),
    (["--model", "dcgan", "--style-mixing", "0.5"], "--style-mixing applies to --model stylegan"),
    (["--model", "mlp", "--pl-weight", "2"], "--pl-weight applies to --model stylegan"),
    (["--model", "mlp", "--r1-interval", "4"], "--r1-interval applies to --model stylegan"),
])
def test_options_that_do_not_apply_are_refused_in_one_line(options, message, shapes, tmp_path,
                                                           capsys):
    out = tmp_path / "x.pt"
    argv = ["train", "--model", "stylegan", "--data", str(shapes), "--image-size", "16",
            "--steps", "1", "--batch-size", "8", "--device", "cpu", "--quiet", "--out",
            str(out), *options]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(("options", "message"), [
    (["--style-mixing", "1.5"], "argument --style-mixing: expected a number in [0, 1]"),
    (["--r1-interval", "0"], "argument --r1-interval: expected a positive integer"),
    (["--pl-interval", "2.5"], "argument --pl-interval: expected a positive integer"),
    (["--pl-weight", "-1"], "argument --pl-weight: expected a number >= 0"),
])
def test_bad_values_of_the_new_options_are_parse_errors(options, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--model", "stylegan", "--data", "cifar10", *options])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_command_config_refuses_stylegan_options_of_other_models():
    with pytest.raises(ValueError, match="--style-mixing applies to --model stylegan only"):
        command_config("python -m gan_lessons train --data ring --style-mixing 0.5")
    config = command_config("python -m gan_lessons train --model stylegan --data cifar10")
    assert config == StyleGANTrainConfig(num_steps=3000)
