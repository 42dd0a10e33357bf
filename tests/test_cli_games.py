"""The command line's games (issue 12): --loss presets, explicit options over them, the
critic's regularisers, the EMA and conditional DCGANs, each recorded in the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from gan_lessons.__main__ import GAMES, command_config, main
from gan_lessons.checkpoints import load_checkpoint, load_models

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def train(tmp_path: Path, *options: str, data: str = "ring") -> dict:
    out = tmp_path / "run.pt"
    argv = ["train", "--data", data, "--steps", "2", "--batch-size", "16", "--limit", "64",
            "--device", "cpu", "--quiet", "--out", str(out), *options]
    assert main(argv) == 0
    return load_checkpoint(out)


@pytest.mark.parametrize("loss", GAMES)
def test_every_loss_preset_trains_and_records_the_papers_settings(loss, tmp_path):
    ckpt = train(tmp_path, "--loss", loss)
    config = ckpt["train_config"]
    preset = GAMES[loss]
    assert config["generator_loss"] == preset["generator_loss"]
    assert config["d_steps"] == preset.get("d_steps", 1)
    assert config["gp_weight"] == preset.get("gp_weight", 0.0)
    assert config["clip_value"] == preset.get("clip_value")
    assert config["lr_d"] == preset.get("lr", 2e-4)
    assert tuple(config["betas"]) == preset.get("betas", (0.5, 0.999))
    assert "--loss" not in ckpt["meta"]["command"]  # recorded as the resolved options
    assert command_config(ckpt["meta"]["command"]).gp_weight == config["gp_weight"]


def test_explicit_options_override_the_preset(tmp_path):
    config = train(tmp_path, "--loss", "wgan-gp", "--d-steps", "2", "--gp-weight", "1",
                   "--r1-gamma", "0.5", "--ema-decay", "0.9")["train_config"]
    assert (config["d_steps"], config["gp_weight"], config["r1_gamma"]) == (2, 1.0, 0.5)
    assert config["ema_decay"] == 0.9
    assert tuple(config["betas"]) == (0.0, 0.9)  # kept from the preset


@pytest.mark.parametrize(("options", "message"), [
    (["--conditional"], "--conditional needs data with at least two classes"),
    (["--d-norm", "layer"], "--d-norm applies to --model dcgan only"),
    (["--ema-decay", "0"], "ema_decay must"),
])
def test_bad_combinations_are_refused_in_one_line(options, message, tmp_path, capsys):
    argv = ["train", "--data", "ring", "--steps", "1", "--limit", "64", "--device", "cpu",
            "--quiet", "--out", str(tmp_path / "x.pt"), *options]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.pt").exists()


def test_a_conditional_dcgan_trains_on_class_folders_and_samples_each_class(tmp_path):
    folder = tmp_path / "shapes"
    for k, name in enumerate(["dark", "light"]):
        (folder / name).mkdir(parents=True)
        for i in range(8):
            Image.new("L", (16, 16), 40 + 150 * k + i).save(folder / name / f"{i}.png")
    ckpt = train(tmp_path, "--model", "dcgan", "--width", "4", "--image-size", "16",
                 "--conditional", "--cond-discriminator", "concat", "--d-norm", "spectral",
                 "--batch-size", "8", "--ema-decay", "0.5", data=str(folder))
    command = ckpt["meta"]["command"]
    assert "--conditional --latent-dim 100 --width 4" in command
    assert "--d-norm spectral --cond-discriminator concat" in command
    models = load_models(tmp_path / "run.pt")
    assert set(models) == {"generator", "discriminator", "generator_ema"}
    assert models["generator"].num_classes == 2
    assert models["discriminator"].config.discriminator == "concat"
    png = tmp_path / "samples.png"
    assert main(["sample", "--checkpoint", str(tmp_path / "run.pt"), "--num", "6", "--nrow",
                 "2", "--out", str(png), "--device", "cpu"]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
