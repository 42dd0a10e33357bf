"""Recorded commands and the fast defaults (issue 17).

A checkpoint's command spells out every option, so it trains the same config after a default
changes: the registry's commands parse to the configs stored in the bundled files and re-run to
the same training curves; a new run's command parses back to its own config. The fast defaults
(``reuse_fakes`` with ``d_steps == 1``, fused Adam) keep a short MNIST run's statistics.
"""

from __future__ import annotations

import shlex
import statistics
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from gan_lessons.__main__ import build_parser, command_config, main
from gan_lessons.checkpoints import load_checkpoint, load_models
from gan_lessons.pretrained import (
    pretrained_checkpoint,
    pretrained_info,
    pretrained_names,
    pretrained_path,
)
from gan_lessons.train import GANTrainConfig, TrainConfig, train_gan

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HAS_MNIST = (SHARED_DATA / "MNIST" / "raw").is_dir()
TRAINED_BY_THE_CLI = [n for n in pretrained_names()
                      if shlex.split(pretrained_info(n)["command"])[2:4] in (
                          ["gan_lessons", "train"], ["gan_lessons", "train-ae"])]
#: options newer than some bundled checkpoints, with the behaviour those were trained with
LEGACY = {"reuse_fakes": False, "fused_adam": False, "gp_weight": 0.0, "r1_gamma": 0.0,
          "clip_value": None, "ema_decay": None, "conditional": False}
#: options whose meaning depends on a default: each recorded command must spell them out
SPELLED_OUT = {"train": ["--model", "--steps", "--batch-size", "--lr", "--d-steps",
                         "--generator-loss", "--betas", "--gp-weight", "--r1-gamma",
                         "--conditional", "--latent-dim", "--reuse-fakes", "--fused-adam",
                         "--seed", "--checkpoint-every", "--amp", "--workers"],
               "train-ae": ["--model", "--steps", "--batch-size", "--lr", "--beta",
                            "--reconstruction", "--latent-dim", "--seed", "--checkpoint-every",
                            "--amp", "--workers"]}


def _plain(value):
    return list(value) if isinstance(value, tuple | list) else value


def test_every_gan_and_autoencoder_checkpoint_is_checked():
    assert len(TRAINED_BY_THE_CLI) >= 19  # 12 ring runs, mlp, 2 DCGANs, 4 autoencoders


@pytest.mark.parametrize("name", TRAINED_BY_THE_CLI)
def test_registry_command_parses_to_the_config_stored_in_the_file(name):
    command = pretrained_info(name)["command"]
    payload = load_checkpoint(pretrained_path(name))
    stored = payload["train_config"]
    parsed = asdict(command_config(command))
    for key, value in parsed.items():
        if key in stored:
            assert _plain(value) == _plain(stored[key]), key
        elif key in LEGACY:
            assert value == LEGACY[key], key
        else:
            assert key in TrainConfig.RESUMABLE_CHANGES, key
    words = shlex.split(command)
    for flag in SPELLED_OUT[words[3]]:
        assert flag in words or "--no-" + flag[2:] in words, flag
    args = build_parser().parse_args(words[3:])
    role = "generator" if "generator" in payload["models"] else "autoencoder"
    model_config = payload["models"][role]["config"]
    latent_field = "z_dim" if args.model == "stylegan" else "latent_dim"  # StyleGAN's z
    assert args.latent_dim == model_config[latent_field]
    assert args.width == model_config.get("width")
    if args.model == "dcgan":  # configs from before d_norm existed mean "batch"
        assert args.d_norm == model_config.get("d_norm", "batch")


def _rerun(command: str, out: Path, steps: int) -> dict:
    """Run a recorded command afresh for ``steps`` steps into ``out``; its history."""
    words = shlex.split(command)[3:]
    words[words.index("--out") + 1] = str(out)
    words[words.index("--steps") + 1] = str(steps)
    if "--resume" in words:
        words.remove("--resume")
    assert main([*words, "--quiet"]) == 0
    return load_checkpoint(out)["history"]


@pytest.mark.parametrize("name", ["ring_z2_ns_s0", "ring_z16_mm_s1"])
def test_a_bundled_ring_run_reproduces_from_its_recorded_command(name, tmp_path):
    """The first steps agree to float32 rounding; later ones drift apart slowly, because a
    CPU with other vector units (AVX-512 against AVX2) rounds sums differently and a GAN's
    trajectory amplifies that: on an AVX-512 machine ring_z2_ns_s0's loss_d differed by
    1e-4 (relative) from step 20 and by 3e-3 at step 60. Another option, seed or loss
    would differ by far more, from the first steps on."""
    steps, exact = 60, 10
    history = _rerun(pretrained_info(name)["command"], tmp_path / "again.pt", steps)
    bundled = pretrained_checkpoint(name)["history"]
    for key in ("loss_d", "loss_g", "d_real", "d_fake"):
        assert history[key][:exact] == pytest.approx(bundled[key][:exact], rel=1e-4,
                                                     abs=1e-5), key
        assert history[key] == pytest.approx(bundled[key][:steps], rel=2e-2, abs=1e-4), key


@pytest.mark.skipif(not HAS_MNIST, reason="no offline MNIST")
@pytest.mark.parametrize("name", ["dcgan_mnist", "conv_vae16_mnist"])
def test_a_bundled_mnist_run_reproduces_its_first_steps(name, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(SHARED_DATA))
    steps = 3
    history = _rerun(pretrained_info(name)["command"], tmp_path / "again.pt", steps)
    bundled = pretrained_checkpoint(name)["history"]
    for key in history:
        if key != "step":
            assert history[key] == pytest.approx(bundled[key][:steps], rel=1e-4), key


def test_a_new_runs_command_parses_back_to_its_config_and_reproduces_it(tmp_path):
    first = tmp_path / "first.pt"
    argv = ["train", "--data", "ring", "--steps", "5", "--batch-size", "16", "--limit", "64",
            "--d-steps", "2", "--generator-loss", "minimax", "--no-fused-adam", "--seed", "3",
            "--device", "cpu", "--quiet", "--out", str(first)]
    assert main(argv) == 0
    payload = load_checkpoint(first)
    command = payload["meta"]["command"]
    assert "--no-reuse-fakes" in command  # resolved from --d-steps 2
    assert command_config(command) == GANTrainConfig(**payload["train_config"])
    again = tmp_path / "again.pt"
    words = shlex.split(command)[3:]
    words[words.index("--out") + 1] = str(again)
    assert main(words) == 0
    for name, model in load_models(first).items():
        other = load_models(again)[name].state_dict()
        for key, value in model.state_dict().items():
            assert torch.equal(value, other[key]), (name, key)


@pytest.mark.parametrize(("command", "error", "match"), [
    (3, TypeError, "command must be a str"),
    ("python -m gan_lessons sample --checkpoint x.pt", ValueError, "command must start with"),
    ("python train.py --data ring", ValueError, "command must start with"),
    ("python -m gan_lessons train --data ring --steps -3", ValueError, "command does not parse"),
])
def test_command_config_refuses_what_is_not_a_training_command(command, error, match):
    with pytest.raises(error, match=match):
        command_config(command)


@pytest.mark.skipif(not HAS_MNIST, reason="no offline MNIST")
def test_the_fast_defaults_keep_a_short_mnist_runs_statistics():
    """reuse_fakes + fused Adam against fresh noise + the plain Adam kernel: 3 seeds each of a
    small MLP GAN, 300 steps on 4096 MNIST digits; the seed-averaged means of the losses and
    of D's outputs over the second half agree within the seeds' spread (measured: differences
    below 0.02, seed-to-seed standard deviations about 0.02-0.03)."""
    from gan_lessons.data import as_tensor_dataset, load_dataset
    from gan_lessons.device import seed_everything
    from gan_lessons.models import MLPGANConfig, build_gan

    mnist = as_tensor_dataset(load_dataset("mnist", root=SHARED_DATA), 4096, progress=False)
    config = MLPGANConfig(latent_dim=32, hidden_g=(128, 256), hidden_d=(256, 128))
    keys = ("loss_d", "loss_g", "d_real", "d_fake")
    means = {}
    before = {"reuse_fakes": False, "fused_adam": False}
    for name, options in {"before": before, "default": {}}.items():
        for seed in range(3):
            seed_everything(seed)
            g, d = build_gan("mlp", config)
            history = train_gan(g, d, mnist, GANTrainConfig(num_steps=300, seed=seed,
                                                            snapshot_every=0, **options),
                                device="cpu", progress=False).history
            means[name, seed] = {k: statistics.fmean(history[k][150:]) for k in keys}
    for key in keys:
        before = [means["before", s][key] for s in range(3)]
        default = [means["default", s][key] for s in range(3)]
        spread = max(statistics.stdev(before), statistics.stdev(default), 0.01)
        assert abs(statistics.fmean(default) - statistics.fmean(before)) < 2 * spread, key
