"""Fault injection (issue 10): training must never lose work or save wrong results.

kill -9 at random points of a run with a checkpoint after every step, then resume: the result is
bit-identical to the run that was never interrupted. A NaN injected into the weights behind a
finite loss never reaches the checkpoint. Two writers of one path, unwritable destinations,
existing checkpoints, bad data and damaged files are each refused with a clear message, before
any training. Tiny models on tiny data: the whole module runs in seconds.
"""

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import fault_child
import pytest
import torch
from datasets_for_tests import PairDataset

from gan_lessons import checkpoints
from gan_lessons.__main__ import main
from gan_lessons.batches import DataError
from gan_lessons.checkpoints import (
    CheckpointLockedError,
    checkpoint_lock,
    load_checkpoint,
    save_checkpoint,
)
from gan_lessons.models import MLPAutoencoder, MLPAutoencoderConfig, MLPGANConfig, build_gan
from gan_lessons.train import GANStep, GANTrainConfig, TrainingDivergedError, train_gan
from gan_lessons.train_autoencoder import AETrainConfig, train_autoencoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CHILD = Path(fault_child.__file__)
ROOT = CHILD.parents[1]


class Child:
    """``fault_child.main(path, *args)`` in a forked process (torch is already imported, so it
    starts at once); ``stdout`` reads its report lines; ``kill()`` is ``kill -9``."""

    def __init__(self, path, *args):
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never return into pytest
            code = 1
            try:
                os.close(out_r)
                os.close(in_w)
                with os.fdopen(out_w, "w") as out, os.fdopen(in_r) as wait:
                    fault_child.main(path, *args, out=out, wait=wait)
                code = 0
            finally:
                os._exit(code)
        os.close(out_w)
        os.close(in_r)
        self.stdout = os.fdopen(out_r)
        self._stdin = in_w
        self.returncode = None

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)

    def wait(self):
        """The exit status as subprocess gives it: ``-9`` for ``kill -9``."""
        os.close(self._stdin)
        _, status = os.waitpid(self.pid, 0)
        self.stdout.close()
        self.returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                           else os.WEXITSTATUS(status))
        return self.returncode


def temporaries(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


def assert_same_run(a, b):
    """Bit-identical weights, optimizer states, history and snapshots."""
    for name in ("generator", "discriminator"):
        for (ka, pa), (kb, pb) in zip(a.models[name].state_dict().items(),
                                      b.models[name].state_dict().items(), strict=True):
            assert ka == kb
            assert torch.equal(pa, pb), f"{name}.{ka} differs"
        sa, sb = a.optimizers[name].state_dict(), b.optimizers[name].state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        assert sa["state"].keys() == sb["state"].keys()
        for k in sa["state"]:
            for key, value in sa["state"][k].items():
                assert torch.equal(value, sb["state"][k][key]), f"{name} state {k}.{key}"
    assert a.history == b.history
    assert [s for s, _ in a.snapshots] == [s for s, _ in b.snapshots]
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(a.snapshots, b.snapshots,
                                                           strict=True))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return fault_child.run(tmp_path_factory.mktemp("straight") / "run.pt")


# --------------------------------------------------------------------------- kill -9


KILL_AFTER = sorted(random.Random(10).sample(range(1, fault_child.NUM_STEPS - 3), 3))


@pytest.mark.parametrize("after", KILL_AFTER)
def test_kill_9_at_a_random_moment_then_resume_is_bit_identical(tmp_path, uninterrupted, after):
    """SIGKILL once the run reports step ``after`` (it lands wherever the run then is: in a
    step, a snapshot or a save); the checkpoint left behind loads, and resuming from it gives
    exactly the uninterrupted run."""
    path = tmp_path / "run.pt"
    proc = Child(path, "run")
    for line in proc.stdout:
        if line.strip() == f"step {after}":
            proc.kill()
            break
    assert proc.wait() in (-signal.SIGKILL, 0)
    if path.exists():
        assert load_checkpoint(path)["step"] >= after
    resumed = fault_child.run(path, resume=True, model_seed=123)
    assert_same_run(resumed, uninterrupted)
    assert os.listdir(tmp_path) == ["run.pt"]  # no lock file, no temporary file left


@pytest.mark.parametrize("mode", ["die-in-write", "die-at-replace"])
def test_kill_9_during_a_save_keeps_the_old_file_and_resume_cleans_up(tmp_path, uninterrupted,
                                                                      mode):
    """Issue 10, item 22: a save killed mid-write left ``.run.pt.*.tmp`` behind for good."""
    path = tmp_path / "run.pt"
    proc = Child(path, mode, 5)  # the 5th save: step 5
    assert proc.wait() == -signal.SIGKILL
    assert load_checkpoint(path)["step"] == 4  # the old file, whole
    assert len(temporaries(tmp_path)) == 1  # the half-written or never-renamed file
    assert (tmp_path / "run.pt.lock").exists()  # a stale lock file: its lock died with it
    resumed = fault_child.run(path, resume=True, model_seed=7)
    assert_same_run(resumed, uninterrupted)
    assert temporaries(tmp_path) == []
    assert os.listdir(tmp_path) == ["run.pt"]


# --------------------------------------------------------------------------- NaN weights


def test_a_nan_gradient_behind_a_finite_loss_never_reaches_the_checkpoint(tmp_path):
    """Issue 10, item 2: the guard looked only at the losses, computed before the update; a NaN
    gradient then made the weights NaN, the good checkpoint was overwritten with them, and the
    message said the file "still holds the last good checkpoint"."""
    path = tmp_path / "run.pt"
    torch.manual_seed(0)
    g, d = build_gan("mlp", fault_child.CONFIG)
    calls = []

    def poison(grad):  # the generator's gradient at step 10 (one G update per step)
        calls.append(1)
        return grad * float("nan") if len(calls) == 10 else grad

    next(g.parameters()).register_hook(poison)
    config = GANTrainConfig(num_steps=20, batch_size=32, snapshot_every=0, checkpoint_every=5)
    with pytest.raises(TrainingDivergedError, match="NaN") as info:
        train_gan(g, d, fault_child.points(), config, device="cpu", progress=False,
                  checkpoint_path=path)
    err = info.value
    assert err.step == 10
    assert "generator" in err.loss
    assert all(v == v for v in err.history["loss_g"])  # every loss was finite
    assert err.checkpoint_step == 5
    assert f"{path} still holds the last good checkpoint, of step 5" in str(err)
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 5
    for entry in ckpt["models"].values():
        assert all(torch.isfinite(t).all() for t in entry["state_dict"].values())
    assert os.listdir(tmp_path) == ["run.pt"]


def test_save_checkpoint_refuses_nan_weights_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "run.pt"
    g, d = build_gan("mlp", fault_child.CONFIG)
    save_checkpoint(path, {"generator": g}, step=1)
    before = path.read_bytes()
    with torch.no_grad():
        next(g.parameters())[0] = float("nan")
    with pytest.raises(ValueError, match=r"models\['generator'\].*NaN.*left as it was"):
        save_checkpoint(path, {"generator": g}, step=2)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="no file was written"):
        save_checkpoint(tmp_path / "new.pt", {"generator": g})
    opt = torch.optim.Adam(d.parameters())
    d(torch.randn(4, 2)).sum().backward()
    opt.step()
    opt.state[next(d.parameters())]["exp_avg"][0] = float("inf")
    with pytest.raises(ValueError, match=r"optimizers\['discriminator'\]"):
        save_checkpoint(tmp_path / "new.pt", {"discriminator": d},
                        optimizers={"discriminator": opt})
    assert os.listdir(tmp_path) == ["run.pt"]


def test_blow_up_is_stopped_with_a_clear_message(tmp_path):
    """Issue 10, item 5: lr 1e6 blew the weights up to 3.8e30 and saved with exit 0."""
    path = tmp_path / "run.pt"
    config = GANTrainConfig(num_steps=50, batch_size=32, snapshot_every=0, lr_g=1e6,
                            lr_d=1e6)
    g, d = build_gan("mlp", fault_child.CONFIG)
    with pytest.raises(TrainingDivergedError, match="blew up") as info:
        train_gan(g, d, fault_child.points(), config, device="cpu", progress=False,
                  checkpoint_path=path)
    assert "max_weight" in str(info.value) or "max_loss" in str(info.value)
    assert not path.exists()
    # the bounds are options; without them only NaN/Inf stop a run
    loose = GANTrainConfig(num_steps=1, batch_size=32, snapshot_every=0, lr_g=1e6, lr_d=1e6,
                           max_weight=None, max_loss=None)
    train_gan(*build_gan("mlp", fault_child.CONFIG), fault_child.points(), loose,
              device="cpu", progress=False)
    with pytest.raises(ValueError, match="max_weight"):
        GANTrainConfig(num_steps=1, max_weight=0.0)


# --------------------------------------------------------------------------- concurrent writers


def test_a_second_writer_of_the_same_path_is_refused(tmp_path):
    """Issue 10, item 3: two runs with one --out both exited 0 and printed "saved"."""
    path = tmp_path / "run.pt"
    holder = Child(path, "hold-lock")
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CheckpointLockedError, match=f"pid {holder.pid}") as info:
            fault_child.run(path, num_steps=2)
        assert str(path) in str(info.value)
        code = main(["train", "--data", "ring", "--steps", "2", "--limit", "64",
                     "--batch-size", "16", "--device", "cpu", "--quiet", "--out", str(path)])
        assert code == 2
    finally:
        holder.kill()  # kill -9: the kernel releases its lock, the .lock file stays
        holder.wait()
    assert not path.exists()
    assert (tmp_path / "run.pt.lock").exists()
    assert fault_child.run(path, num_steps=2).step == 2  # a stale lock file does not block
    assert os.listdir(tmp_path) == ["run.pt"]


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    path = tmp_path / "run.pt"
    with checkpoint_lock(path), pytest.raises(CheckpointLockedError, match=r"run\.pt"):
        fault_child.run(path, num_steps=1)
    assert fault_child.run(path, num_steps=1).step == 1


# --------------------------------------------------------------------------- destinations


def never_step(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started although the checkpoint cannot be written")

    monkeypatch.setattr(GANStep, "__call__", fail)


def unwritable_folder(tmp_path, how):
    if how == "folder":
        return tmp_path  # the path itself is a folder
    if how == "under a file":
        (tmp_path / "file.txt").write_text("x")
        return tmp_path / "file.txt" / "run.pt"
    if how == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into a chmod 0500 folder; '/sys' covers root")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        return folder / "run.pt"
    probe = Path("/sys/gan_lessons_probe.pt")  # read-only even for root
    try:
        probe.touch()
    except OSError:
        return probe
    probe.unlink()
    pytest.skip("/sys is writable here")
    return None


@pytest.mark.parametrize("how", ["folder", "under a file", "read-only folder", "/sys"])
def test_an_unwritable_checkpoint_path_is_refused_before_training(tmp_path, monkeypatch, how):
    """Issue 10, item 1: ``train --out DIR`` trained to the end, then failed at the save."""
    path = unwritable_folder(tmp_path, how)
    never_step(monkeypatch)
    with pytest.raises(ValueError, match=str(path)):
        fault_child.run(path, num_steps=5)


def test_cli_refuses_an_unwritable_out_before_loading_data(tmp_path, monkeypatch, capsys):
    never_step(monkeypatch)
    import gan_lessons.__main__ as cli

    monkeypatch.setattr(cli, "_load_data", lambda *a, **k: pytest.fail("data loaded"))
    for out in (tmp_path, tmp_path / "file.txt" / "x.pt"):
        (tmp_path / "file.txt").write_text("x")
        assert main(["train", "--data", "ring", "--steps", "1000000", "--quiet",
                     "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert str(out) in err
        assert err.count("\n") == 1


# --------------------------------------------------------------------------- existing files


def test_an_existing_checkpoint_is_not_replaced_without_overwrite(tmp_path, capsys):
    """Issue 10, item 4: a new run silently replaced an old one."""
    path = tmp_path / "run.pt"
    fault_child.run(path, num_steps=2)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="overwrite=True"):
        fault_child.run(path, num_steps=3)
    assert path.read_bytes() == before
    argv = ["train", "--data", "ring", "--steps", "1", "--limit", "64", "--batch-size", "16",
            "--device", "cpu", "--quiet", "--out", str(path)]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert main([*argv, "--overwrite"]) == 0
    assert load_checkpoint(path)["step"] == 1
    assert main([*argv, "--overwrite", "--resume"]) == 2
    assert "exclude" in capsys.readouterr().err
    torch.manual_seed(0)
    g, d = build_gan("mlp", fault_child.CONFIG)
    result = train_gan(g, d, fault_child.points(), fault_child.train_config(2), device="cpu",
                       progress=False, checkpoint_path=path, overwrite=True)
    assert result.step == 2
    assert load_checkpoint(path)["meta"]["command"] != "python -m gan_lessons"


# --------------------------------------------------------------------------- bad data


def images(n=32, low=-1.0, high=1.0):
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(0)) * (
        high - low) + low


def image_gan():
    return build_gan("mlp", MLPGANConfig(latent_dim=3, hidden_g=(8,), hidden_d=(8,),
                                         data_shape=(1, 4, 4)))


def fit_images(data, tmp_path=None, **kwargs):
    config = GANTrainConfig(num_steps=3, batch_size=8, snapshot_every=0)
    return train_gan(*image_gan(), data, config, device="cpu", progress=False, **kwargs)


@pytest.mark.parametrize("wrap", [lambda x: x, PairDataset], ids=["tensor", "dataset"])
def test_images_outside_minus_one_one_are_refused_before_training(monkeypatch, wrap):
    """Issue 10, item 8: [0, 255] images were accepted for training."""
    never_step(monkeypatch)
    with pytest.raises(DataError, match=r"data.*outside \[-1, 1\].*127\.5"):
        fit_images(wrap(images(low=0, high=255)))
    ae = MLPAutoencoder(MLPAutoencoderConfig(data_shape=(1, 4, 4), hidden=(8,)))
    with pytest.raises(DataError, match="outside"):
        train_autoencoder(ae, wrap(images(low=0, high=255)),
                          AETrainConfig(num_steps=1, batch_size=8), device="cpu",
                          progress=False)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"x \* 2 - 1"):
        fit_images(images(low=0, high=1))  # [0, 1]: half the range unused, said once


@pytest.mark.parametrize("wrap", [lambda x: x, PairDataset], ids=["tensor", "dataset"])
def test_nan_in_the_data_is_reported_as_bad_data(tmp_path, wrap):
    """Issue 10, item 20: NaN in the data ended with "Try smaller learning rates"."""
    x = images()
    x[:, 0, 1, 1] = float("nan")  # in every batch, the first one included
    with pytest.raises(DataError, match="NaN") as info:
        fit_images(wrap(x), checkpoint_path=tmp_path / "run.pt")
    assert "learning rate" not in str(info.value)
    assert not (tmp_path / "run.pt").exists()
    late = images(64)  # a NaN that only a later batch of a Dataset meets
    late[torch.randperm(64, generator=torch.Generator().manual_seed(1))[40]] = float("nan")
    config = GANTrainConfig(num_steps=20, batch_size=8, snapshot_every=0)
    with pytest.raises(DataError, match=r"data \(batch \d+\) holds NaN"):
        train_gan(*image_gan(), PairDataset(late), config, device="cpu", progress=False)
    points = fault_child.points()
    points[3, 1] = float("inf")  # 2-D points: any finite range, but not Inf
    with pytest.raises(DataError, match="sample 3"):
        train_gan(*build_gan("mlp", fault_child.CONFIG), points,
                  GANTrainConfig(num_steps=1, batch_size=8), device="cpu", progress=False)


def test_a_broken_first_batch_fails_before_the_first_step(monkeypatch):
    """Issue 10, item 1: the data's first batch is decoded before training starts."""

    class Broken(PairDataset):
        def __getitem__(self, i):
            if i != 0:
                raise OSError(f"cannot decode image {i}")
            return super().__getitem__(i)

    never_step(monkeypatch)
    with pytest.raises(OSError, match="cannot decode image"):
        fit_images(Broken(images()))


# --------------------------------------------------------------------------- damaged files


def test_a_checkpoint_without_models_is_refused_when_loaded(tmp_path):
    """Issue 10, item 13: the format marker without 'models' crashed later with KeyError."""
    path = tmp_path / "x.pt"
    torch.save({"format": checkpoints.FORMAT, "format_version": 1}, path)
    with pytest.raises(ValueError, match=r"damaged.*'models'"):
        load_checkpoint(path)
    assert main(["sample", "--checkpoint", str(path), "--out", str(tmp_path / "s.png")]) == 2


@pytest.mark.parametrize(("content", "words"), [
    (os.urandom(256).lstrip(b"\x80P"), "neither a zip archive nor a pickle"),
    (json.dumps({"models": {}}).encode(), "JSON"),
    (b"", "empty"),
])
def test_non_pytorch_files_are_not_called_pickles(tmp_path, content, words):
    """Issue 10, item 17: random bytes or JSON were reported as "pickled Python objects ...
    could run arbitrary code"."""
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a checkpoint, nor any PyTorch file") as info:
        load_checkpoint(path)
    assert words in str(info.value)
    assert "arbitrary code" not in str(info.value)


# --------------------------------------------------------------------------- command line


def test_a_learning_rate_that_overflows_adam_is_a_one_line_error(capsys):
    """Issue 10, item 14: --lr 3e38 passed, then Adam overflowed with a traceback."""
    from gan_lessons.train import MAX_LR

    assert main.__globals__["_MAX_LR"] == MAX_LR
    for command in ("train", "train-ae"):
        with pytest.raises(SystemExit) as info:
            main([command, "--data", "ring", "--lr", "3e38"])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "--lr" in err
        assert err.count("\n") == 1
    with pytest.raises(ValueError, match="lr"):
        AETrainConfig(num_steps=1, lr=3e38)


@pytest.mark.parametrize("argv", [
    ["train", "--data", "ring", "--limit", "10000000000000"],
    ["train", "--data", "mnist", "--image-size", "100000"],
    ["train-ae", "--model", "mlp_ae", "--data", "{folder}", "--image-size", "30000",
     "--batch-size", "2"],
    ["train", "--data", "{folder}", "--image-size", "4096", "--batch-size", "2"],
])
def test_sizes_that_cannot_fit_are_refused_with_an_estimate(tmp_path, capsys, argv):
    """Issue 10, item 15: a huge --limit or --image-size ended in an allocator traceback or an
    OOM kill."""
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(folder / f"{i}.png")
    argv = [a.replace("{folder}", str(folder)) for a in argv]
    code = main([*argv, "--steps", "1", "--quiet", "--device", "cpu",
                 "--out", str(tmp_path / "x.pt")])
    assert code == 2
    err = capsys.readouterr().err
    assert "GiB of memory" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "x.pt").exists()


def test_sample_num_that_cannot_fit_is_refused(tmp_path, capsys):
    path = tmp_path / "ring.pt"
    fault_child.run(path, num_steps=1)
    png = tmp_path / "s.png"
    assert main(["sample", "--checkpoint", str(path), "--num", "100000000000", "--out",
                 str(png), "--device", "cpu"]) == 2
    assert "--num" in capsys.readouterr().err
    assert not png.exists()
    assert main(["sample", "--checkpoint", str(path), "--num", "1200", "--out", str(png),
                 "--device", "cpu"]) == 0  # drawn in chunks of 512


def test_help_without_torch_installed(tmp_path):
    """Issue 10, item 23: without torch, ``gan-lessons --help`` showed a traceback."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nfor name in ('torch', 'torchvision'):\n    sys.modules[name] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "gan_lessons", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    shown = run("--help")
    assert shown.returncode == 0, shown.stderr
    assert "train" in shown.stdout
    assert "Traceback" not in shown.stderr
    assert "non_saturating" in run("train", "--help").stdout
    failed = run("train", "--data", "ring")
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
    assert "install" in failed.stderr
