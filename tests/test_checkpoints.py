"""Checkpoints: self-describing, weights-only, atomic."""

import os

import pytest
import torch
from torch import nn

import gan_lessons
from gan_lessons import checkpoints
from gan_lessons.checkpoints import (
    atomic_write,
    load_checkpoint,
    load_gan,
    load_models,
    save_checkpoint,
)
from gan_lessons.models import MLPDiscriminator, MLPGANConfig, MLPGenerator, build_gan
from gan_lessons.train import GANTrainConfig

CONFIG = MLPGANConfig.toy(latent_dim=3, hidden=(8,))


def gan():
    torch.manual_seed(0)
    return build_gan("mlp", CONFIG)


def save(path, **kwargs):
    g, d = gan()
    return save_checkpoint(path, {"generator": g, "discriminator": d}, **kwargs), g, d


class Custom:
    """Not a tensor or a plain container: torch.save pickles it by reference."""

    def __init__(self):
        self.value = 1


def test_round_trip_rebuilds_the_models_from_the_file_alone(tmp_path):
    g, d = gan()
    opt = torch.optim.Adam(g.parameters())
    history = {"step": [1, 2], "loss_d": [1.3, 1.2]}
    snapshots = [(0, torch.zeros(2, 2)), (2, torch.ones(2, 2))]
    path = save_checkpoint(tmp_path / "sub" / "run.pt", {"generator": g, "discriminator": d},
                           optimizers={"generator": opt},
                           train_config=GANTrainConfig(num_steps=2), step=2, history=history,
                           snapshots=snapshots, rng={"torch": torch.get_rng_state()},
                           command="python -m gan_lessons train --data ring")
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 2
    assert ckpt["history"] == history
    assert ckpt["models"]["generator"]["family"] == "mlp"
    assert ckpt["models"]["generator"]["config"]["latent_dim"] == 3
    assert ckpt["train_config"]["num_steps"] == 2
    assert ckpt["train_config_class"] == "GANTrainConfig"
    assert [s for s, _ in ckpt["snapshots"]] == [0, 2]
    meta = ckpt["meta"]
    assert meta["command"] == "python -m gan_lessons train --data ring"
    assert meta["gan_lessons_version"] == gan_lessons.__version__
    assert meta["created"].endswith("+00:00")
    assert type(meta["torch_version"]) is str

    g2, d2 = load_gan(path)
    assert isinstance(g2, MLPGenerator)
    assert isinstance(d2, MLPDiscriminator)
    assert g2.config == CONFIG
    assert not g2.training
    for a, b in ((g, g2), (d, d2)):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)
    assert set(load_models(path)) == {"generator", "discriminator"}
    # the file loads with plain torch.load(weights_only=True): no pickled code inside
    assert torch.load(path, weights_only=True)["format"] == checkpoints.FORMAT


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoints.FORMAT, "format_version": 1, "payload": Custom()}, path)
    with pytest.raises(ValueError, match="refusing to load") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    assert "Custom" in str(info.value)
    with pytest.raises(ValueError, match="refusing"):
        load_models(path)


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.pt"):
        load_checkpoint(tmp_path / "nope.pt")
    path, _, _ = save(tmp_path / "ok.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"truncated\.pt"):
        load_checkpoint(truncated)
    plain = tmp_path / "plain.pt"
    torch.save(nn.Linear(2, 2).state_dict(), plain)
    with pytest.raises(ValueError, match="not a gan_lessons checkpoint"):
        load_checkpoint(plain)
    with pytest.raises(TypeError, match="path"):
        load_checkpoint(42)


def test_save_refuses_what_a_weights_only_load_would_refuse(tmp_path):
    g, _d = gan()
    with pytest.raises(TypeError, match=r"\['extra'\]\['thing'\]"):
        save_checkpoint(tmp_path / "x.pt", {"generator": g}, extra={"thing": Custom()})
    with pytest.raises(TypeError, match="models"):
        save_checkpoint(tmp_path / "x.pt", {"generator": "not a model"})
    assert list(tmp_path.iterdir()) == []


def test_unregistered_models_are_saved_but_not_rebuilt(tmp_path):
    path = save_checkpoint(tmp_path / "mine.pt", {"net": nn.Linear(2, 1)})
    assert set(load_checkpoint(path)["models"]["net"]["state_dict"]) == {"weight", "bias"}
    with pytest.raises(ValueError, match="not a registered model family"):
        load_models(path)
    with pytest.raises(ValueError, match="load_models"):
        load_gan(path)


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path, _, _ = save(tmp_path / "run.pt", step=1)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save(path, step=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.pt"]
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1


def test_atomic_write_replaces_whole_files(tmp_path):
    target = tmp_path / "out" / "a.bin"
    with atomic_write(target) as f:
        f.write(b"one")
    with atomic_write(target) as f:
        f.write(b"two")
    assert target.read_bytes() == b"two"

    def interrupted_write():
        with atomic_write(target) as f:
            f.write(b"three")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted_write()
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["a.bin"]
