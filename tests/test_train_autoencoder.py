"""Training autoencoders and VAEs with fit(): losses go down, history, snapshots, checkpoints,
exact resume, the NaN guard, and the train-ae command line."""

import dataclasses
from pathlib import Path

import pytest
import torch
from datasets_for_tests import PairDataset

from gan_lessons.__main__ import main
from gan_lessons.checkpoints import load_checkpoint, load_models
from gan_lessons.losses import bce_reconstruction
from gan_lessons.models import (
    ConvAutoencoder,
    ConvAutoencoderConfig,
    ConvVAE,
    MLPAutoencoder,
    MLPAutoencoderConfig,
)
from gan_lessons.train import TrainingDivergedError
from gan_lessons.train_autoencoder import (
    AETrainConfig,
    AutoencoderStep,
    fixed_batch,
    train_autoencoder,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAPE = (1, 8, 8)


def images(n=96, seed=0):
    """n small 8x8 images in [-1, 1]: a bright square at a random place on a dark background."""
    g = torch.Generator().manual_seed(seed)
    x = -torch.ones(n, *SHAPE)
    corners = torch.randint(0, 5, (n, 2), generator=g)
    for i, (r, c) in enumerate(corners.tolist()):
        x[i, 0, r:r + 4, c:c + 4] = 1.0
    return x


def mlp_ae(seed=0):
    torch.manual_seed(seed)
    return MLPAutoencoder(MLPAutoencoderConfig(data_shape=SHAPE, hidden=(32,), latent_dim=2))


def conv_vae(seed=0):
    torch.manual_seed(seed)
    return ConvVAE(ConvAutoencoderConfig(image_size=8, width=4, latent_dim=2))


CONFIG_FIELDS = {f.name for f in dataclasses.fields(AETrainConfig)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train(num_steps, model=None, data=None, **kwargs):
    """train_autoencoder on CPU without a progress bar; config fields may be keywords."""
    options = {"batch_size": 16, "snapshot_every": 0, "lr": 1e-2}
    options.update({k: kwargs.pop(k) for k in list(kwargs) if k in CONFIG_FIELDS})
    model = mlp_ae() if model is None else model
    data = images() if data is None else data
    return train_autoencoder(model, data, AETrainConfig(num_steps=num_steps, **options),
                             device="cpu", progress=False, **kwargs)


@pytest.mark.parametrize("make", [mlp_ae, conv_vae], ids=["mlp_ae", "conv_vae"])
def test_a_few_steps_reduce_the_reconstruction_loss(make):
    x = images()
    model = make()
    with torch.no_grad():
        before = bce_reconstruction(model.eval()(x).logits, x).item()
    result = train(60, model.train(), x)
    assert result.models["autoencoder"] is model
    assert model.training
    with torch.no_grad():
        after = bce_reconstruction(model.eval()(x).logits, x).item()
    assert after < 0.7 * before
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_history_keys_of_an_autoencoder_and_a_vae():
    h = train(4).history
    assert list(h) == ["step", "loss"]
    assert h["step"] == [1, 2, 3, 4]
    assert all(isinstance(v, float) and v > 0 for v in h["loss"])

    h = train(4, conv_vae(), beta=0.5).history
    assert list(h) == ["step", "loss", "recon", "kl"]
    for loss, recon, kl in zip(h["loss"], h["recon"], h["kl"], strict=True):
        assert loss == pytest.approx(recon + 0.5 * kl, rel=1e-5)
        assert kl >= 0
    h0 = train(3, conv_vae(), beta=0.0).history
    assert h0["loss"] == pytest.approx(h0["recon"])


def test_mse_reconstruction_option():
    x = images()
    model = mlp_ae()
    h = train(3, model, x, reconstruction="mse").history
    assert all(0 < v < 4 * x[0].numel() for v in h["loss"])  # at most (2^2) per pixel


def test_snapshots_reconstruct_a_fixed_batch_or_decode_fixed_noise():
    x = images()
    result = train(6, conv_vae(), x, snapshot_every=3, num_snapshot_samples=5)
    assert [s for s, _ in result.snapshots] == [0, 3, 6]
    assert all(t.shape == (5, *SHAPE) and t.abs().max() <= 1 for _, t in result.snapshots)
    model = result.models["autoencoder"].eval()
    x_fixed = fixed_batch(x, 5, seed=0)
    with torch.no_grad():
        assert torch.allclose(model(x_fixed).x_hat, result.snapshots[-1][1], atol=1e-6)

    result = train(4, conv_vae(), x, snapshot_every=2, num_snapshot_samples=6, seed=3,
                   snapshot="samples")
    z_fixed = torch.randn(6, 2, generator=torch.Generator().manual_seed(3))
    model = result.models["autoencoder"].eval()
    with torch.no_grad():
        assert torch.allclose(model.decode(z_fixed), result.snapshots[-1][1], atol=1e-6)


def test_fixed_batch_is_the_same_for_every_form_of_the_data():
    from gan_lessons.data import TensorImageDataset

    x = images(30)
    a = fixed_batch(x, 7, seed=2)
    assert a.shape == (7, *SHAPE)
    assert torch.equal(a, fixed_batch(TensorImageDataset(x), 7, seed=2))
    assert torch.equal(a, fixed_batch(PairDataset(x), 7, seed=2))
    assert not torch.equal(a, fixed_batch(x, 7, seed=3))
    with pytest.raises(ValueError, match="num"):
        fixed_batch(x, 31)


@pytest.mark.parametrize("wrap", [lambda x: x, PairDataset], ids=["tensor", "dataset"])
def test_resume_continues_exactly(tmp_path, wrap):
    n = 8
    data = wrap(images(40))  # 40 // 16 = 2 batches per epoch: resuming crosses epochs
    straight = train(n, conv_vae(), data, snapshot_every=2)

    path = tmp_path / "half.pt"
    first = train(n // 2, conv_vae(), data, snapshot_every=2, checkpoint_path=path)
    assert first.step == n // 2
    fresh = conv_vae(seed=123)  # differently initialised: everything must come from the file
    resumed = train(n, fresh, data, snapshot_every=2, checkpoint_path=path, resume=True)

    for pa, pb in zip(straight.models["autoencoder"].parameters(), fresh.parameters(),
                      strict=True):
        assert torch.equal(pa, pb)
    assert resumed.history == straight.history
    assert [s for s, _ in resumed.snapshots] == [s for s, _ in straight.snapshots]
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(resumed.snapshots,
                                                           straight.snapshots, strict=True))


def test_resume_refuses_another_beta(tmp_path):
    path = tmp_path / "run.pt"
    train(2, conv_vae(), checkpoint_path=path)
    with pytest.raises(ValueError, match="beta"):
        train(4, conv_vae(), checkpoint_path=path, resume=True, beta=2.0)


def test_checkpoint_rebuilds_the_model(tmp_path):
    path = tmp_path / "vae.pt"
    result = train(3, conv_vae(), checkpoint_path=path, command="made by a test")
    ckpt = load_checkpoint(path)
    assert ckpt["meta"]["command"] == "made by a test"
    assert ckpt["train_config_class"] == "AETrainConfig"
    assert ckpt["models"]["autoencoder"]["family"] == "conv_vae"
    loaded = load_models(path)["autoencoder"]
    assert isinstance(loaded, ConvVAE)
    z = torch.randn(4, 2)
    with torch.no_grad():
        assert torch.allclose(loaded.decode(z), result.models["autoencoder"].eval().decode(z),
                              atol=1e-6)


class NaNAutoencoder(MLPAutoencoder):
    """Returns NaN logits from the ``bad_step``-th training forward pass on."""

    bad_step = 7

    def forward(self, x):
        out = super().forward(x)
        if self.training:
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls >= self.bad_step:
                return out._replace(logits=out.logits * float("nan"))
        return out


def test_nan_guard_names_the_step(tmp_path):
    torch.manual_seed(0)
    model = NaNAutoencoder(MLPAutoencoderConfig(data_shape=SHAPE, hidden=(8,)))
    path = tmp_path / "run.pt"
    with pytest.raises(TrainingDivergedError, match="step 7") as info:
        train(20, model, checkpoint_path=path, checkpoint_every=5)
    assert info.value.step == 7
    assert info.value.loss == "loss"
    assert info.value.history["step"][-1] == 7
    assert load_checkpoint(path)["step"] == 5  # the last good checkpoint is kept


class LogitsOnly(torch.nn.Module):
    """A student's autoencoder: returns a plain tensor of logits."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3),
                                       torch.nn.ReLU(), torch.nn.Linear(3, 64),
                                       torch.nn.Unflatten(1, SHAPE))

    def forward(self, x):
        return self.net(x)


def test_any_module_returning_logits_trains():
    result = train(5, LogitsOnly(), PairDataset(images()), num_snapshot_samples=4,
                   snapshot_every=5)
    assert list(result.history) == ["step", "loss"]
    assert result.snapshots[-1][1].shape == (4, *SHAPE)


def test_step_function_directly():
    model = mlp_ae()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    step = AutoencoderStep(model, opt, reconstruction="mse")
    metrics = step(iter([images(8)]), 1)
    assert set(metrics) == {"loss"}
    assert metrics["loss"].ndim == 0
    assert not metrics["loss"].requires_grad
    assert step.state_dict() == {"precision": {}}


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"lr": 0.0}, ValueError, "lr"),
    ({"reconstruction": "l1"}, ValueError, "reconstruction"),
    ({"beta": -1.0}, ValueError, "beta"),
    ({"beta": "1"}, TypeError, "beta"),
])
def test_config_validation(kwargs, error, words):
    with pytest.raises(error, match=words):
        AETrainConfig(num_steps=1, **kwargs)


def test_bad_arguments():
    from gan_lessons.train import GANTrainConfig

    x = images()
    with pytest.raises(TypeError, match="AETrainConfig"):
        train_autoencoder(mlp_ae(), x, GANTrainConfig(num_steps=1), device="cpu")
    with pytest.raises(TypeError, match="model"):
        train_autoencoder("vae", x, AETrainConfig(num_steps=1), device="cpu")
    with pytest.raises(ValueError, match=r"\(1, 28, 28\)"):
        train(1, ConvAutoencoder(ConvAutoencoderConfig(width=4)), x)
    with pytest.raises(ValueError, match="snapshot"):
        train(1, snapshot="latents")
    with pytest.raises(TypeError, match="decode"):
        train(1, LogitsOnly(), snapshot="samples", snapshot_every=1)


# --------------------------------------------------------------------------- command line


def test_train_ae_on_an_image_folder_then_load(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(12):
        Image.new("L", (10, 10), 20 * i).save(folder / f"{i}.png")
    out = tmp_path / "runs" / "vae.pt"
    argv = ["train-ae", "--model", "conv_vae", "--data", str(folder), "--image-size", "8",
            "--width", "4", "--latent-dim", "3", "--steps", "3", "--batch-size", "4",
            "--beta", "0.5", "--device", "cpu", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"saved {out} (step 3, loss" in printed
    assert "kl" in printed
    ckpt = load_checkpoint(out)
    assert ckpt["meta"]["command"] == (
        f"python -m gan_lessons train-ae --model conv_vae --data {folder} --out {out} "
        "--steps 3 --batch-size 4 --lr 0.001 --beta 0.5 --reconstruction bce --latent-dim 3 "
        "--width 4 --seed 0 --image-size 8 --device cpu --checkpoint-every 0 --no-amp "
        "--workers 0 --quiet")
    assert ckpt["train_config"]["beta"] == 0.5
    assert ckpt["models"]["autoencoder"]["config"] == {"image_size": 8, "channels": 3,
                                                       "width": 4, "latent_dim": 3}
    vae = load_models(out)["autoencoder"]
    assert isinstance(vae, ConvVAE)
    assert vae.decode(torch.randn(2, 3)).shape == (2, 3, 8, 8)


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="no offline MNIST")
@pytest.mark.parametrize("model", ["mlp_ae", "conv_ae"])
def test_train_ae_on_a_tiny_mnist_subset(tmp_path, monkeypatch, model):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(SHARED_DATA))
    out = tmp_path / f"{model}.pt"
    assert main(["train-ae", "--model", model, "--data", "mnist", "--limit", "48",
                 "--steps", "2", "--batch-size", "16", "--reconstruction", "mse",
                 "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    ckpt = load_checkpoint(out)
    assert ckpt["models"]["autoencoder"]["family"] == model
    assert ckpt["models"]["autoencoder"]["config"]["latent_dim"] == 2
    assert ckpt["train_config"]["reconstruction"] == "mse"
    assert "--data mnist" in ckpt["meta"]["command"]


def test_width_is_refused_for_the_mlp_autoencoder(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(4):
        Image.new("L", (8, 8), 50 * i).save(folder / f"{i}.png")
    code = main(["train-ae", "--model", "mlp_ae", "--data", str(folder), "--image-size", "8",
                 "--width", "8", "--steps", "1", "--batch-size", "2", "--quiet",
                 "--out", str(tmp_path / "x.pt")])
    assert code == 2
    assert "--width" in capsys.readouterr().err
