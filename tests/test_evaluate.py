"""gan_lessons.metrics.evaluate with a tiny random stand-in feature network, and the
``python -m gan_lessons evaluate`` command."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gan_lessons import metrics
from gan_lessons.metrics import Evaluation, Score, clear_cache, evaluate

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHAPE = (1, 8, 8)
TEMPLATES = torch.tanh(2 * torch.randn(10, *SHAPE, generator=torch.Generator().manual_seed(1)))


def digits(n: int, seed: int) -> torch.Tensor:
    """``n`` images ``(n, 1, 8, 8)`` in [-1, 1]: one of 10 templates, jittered, per image."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=gen)
    noise = 0.3 * torch.randn(n, *SHAPE, generator=gen)
    return (TEMPLATES[labels] + noise).clamp(-1, 1)


class StandIn(nn.Module):
    """A random feature network with the interface of gan_lessons.feature_nets: ``.features``
    ``(N, 16)`` and ``.logits`` ``(N, 10)`` of images in [-1, 1]. Counts the images it sees."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.proj = nn.Parameter(torch.randn(64, 16, generator=gen) / 8)
        self.head = nn.Parameter(torch.randn(16, 10, generator=gen))
        self.seen = 0

    def features(self, x):
        self.seen += len(x)
        return torch.tanh(x.flatten(1) @ self.proj)

    def logits(self, x):
        return 3 * torch.tanh(x.flatten(1) @ self.proj) @ self.head


class TinyGenerator(nn.Module):
    """z (B, 4) -> (B, 1, 8, 8) in [-1, 1], with a batch norm to check the mode is restored."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 64), nn.BatchNorm1d(64), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, *SHAPE)


REAL = digits(1200, seed=0)  # the "data set"
N = 300


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def test_same_distribution_is_near_the_floor_and_a_constant_generator_is_far():
    net = StandIn()
    same = evaluate(digits(N, seed=7), REAL, num_samples=N, feature_net=net, progress=False,
                    kid_subsets=20)
    assert isinstance(same, Evaluation)
    assert same.names == ("fid", "kid", "is", "precision", "recall", "density", "coverage")
    for score in same.scores:  # every metric has its real-vs-real reference
        assert isinstance(score, Score)
        assert np.isfinite(score.reference)
    assert same["fid"].value < 2 * same["fid"].reference + 0.01
    assert same["kid"].value < same["kid"].reference + 3 * same["kid"].reference_std + 1e-3
    assert same["is"].value == pytest.approx(same["is"].reference, rel=0.1)
    for name in ("precision", "recall", "coverage"):
        assert same[name].value == pytest.approx(same[name].reference, abs=0.1), name

    constant = evaluate(lambda z: torch.zeros(len(z), *SHAPE), REAL, num_samples=N,
                        feature_net=net, latent_dim=3, progress=False, kid_subsets=20)
    assert constant["fid"].value > 20 * same["fid"].reference
    assert constant["kid"].value > 20 * abs(same["kid"].reference)
    assert constant["recall"].value < 0.01
    assert constant["is"].value == pytest.approx(1.0)
    assert constant["fid"].reference == same["fid"].reference  # the same cached floor


def test_the_table_fits_79_columns_and_names_the_reference():
    result = evaluate(digits(N, seed=3), REAL, num_samples=N, feature_net=StandIn(),
                      metrics=("fid", "kid", "prdc", "is"), progress=False, kid_subsets=5)
    text = str(result)
    assert all(len(line) <= 79 for line in text.splitlines()), text
    assert "real vs real" in text
    assert "FID" in text
    assert "±" in text
    assert "StandIn features" in text
    assert "two disjoint subsets" in text
    assert "not comparable" in text
    assert set(result.as_dict()) == set(result.names)
    assert result.as_dict()["kid"]["std"] == result["kid"].std
    with pytest.raises(KeyError, match="no metric 'bogus'"):
        result["bogus"]


def test_real_features_are_cached_and_recomputed_when_the_net_changes():
    net = StandIn()
    fake = digits(N, seed=5)
    first = evaluate(fake, REAL, num_samples=N, feature_net=net, metrics="fid", progress=False)
    assert net.seen == 3 * N  # generated, real, reference
    second = evaluate(fake, REAL, num_samples=N, feature_net=net, metrics=["fid"],
                      progress=False)
    assert net.seen == 4 * N  # only the generated samples again
    assert second == first
    with torch.no_grad():
        net.proj.mul_(2)  # "retrained": a new key
    evaluate(fake, REAL, num_samples=N, feature_net=net, metrics="fid", progress=False)
    assert net.seen == 7 * N
    evaluate(fake, REAL, num_samples=N, feature_net=net, metrics="fid", progress=False,
             cache=False)
    assert net.seen == 10 * N
    clear_cache()
    evaluate(fake, REAL, num_samples=N, feature_net=net, metrics="fid", progress=False)
    assert net.seen == 13 * N


def test_a_data_set_object_leaves_the_cache_when_it_dies():
    real, net = digits(400, seed=11), StandIn()
    for _ in range(2):
        evaluate(digits(100, seed=12), real, num_samples=100, feature_net=net, metrics="fid",
                 progress=False)
    assert len(metrics._REAL_CACHE) == 1
    del real
    gc.collect()
    assert len(metrics._REAL_CACHE) == 0


def test_generator_models_autoencoders_and_modes():
    generator = TinyGenerator().train()
    result = evaluate(generator, REAL, num_samples=100, feature_net=StandIn(), batch_size=32,
                      metrics=("fid", "precision"), progress=False)
    assert result.names == ("fid", "precision")
    assert generator.training  # its mode is restored
    assert result["fid"].value > result["fid"].reference

    from gan_lessons.models import ConvAutoencoderConfig, ConvVAE

    vae = ConvVAE(ConvAutoencoderConfig(image_size=8, width=2, latent_dim=3))
    result = evaluate(vae, REAL, num_samples=50, feature_net=StandIn(), metrics="kid",
                      progress=False)  # sampled through vae.decode(z)
    assert result["kid"].value > result["kid"].reference


def test_a_folder_of_grey_images(tmp_path):
    from PIL import Image

    for i, image in enumerate(digits(80, seed=21)):
        pixels = ((image[0] + 1) * 127.5).round().to(torch.uint8).numpy()  # (8, 8)
        Image.fromarray(pixels).save(tmp_path / f"{i:02d}.png")
    result = evaluate(digits(40, seed=22), tmp_path, num_samples=40, feature_net=StandIn(),
                      metrics=("fid", "recall"), progress=False)  # read as RGB, made grey
    assert result.reference == f"two disjoint subsets of {tmp_path}"
    assert result["fid"].value < 3 * result["fid"].reference + 0.05
    assert result["recall"].value > 0.5


def test_toy_sets_use_the_samples_as_features():
    from gan_lessons.data import toy_dataset

    result = evaluate(toy_dataset("ring", 400, seed=9), "ring", num_samples=400,
                      progress=False, kid_subsets=10)
    assert result.names == ("fid", "kid", "precision", "recall", "density", "coverage")
    assert result["fid"].value < 3 * result["fid"].reference + 0.01
    assert "identity" in result.feature_net
    assert "independent draws of ring" in str(result)
    far = evaluate(lambda z: z + 5, "ring", num_samples=400, latent_dim=2, progress=False,
                   metrics="fid")
    assert far["fid"].value > 25


def test_evaluate_checkpoint_rebuilds_the_generator():
    from gan_lessons.pretrained import pretrained_path

    result = metrics.evaluate_checkpoint(pretrained_path("ring_z2_ns_s0"), "ring",
                                         num_samples=300, progress=False, kid_subsets=5,
                                         device="cpu")
    assert result["fid"].value < 1.0  # a trained GAN on the ring
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        metrics.evaluate_checkpoint("never-read.pt", "ring", bogus=1)


def test_the_evaluate_command(tmp_path, capsys):
    from gan_lessons.__main__ import main
    from gan_lessons.pretrained import pretrained_path

    checkpoint = str(pretrained_path("ring_z2_ns_s0"))
    assert main(["evaluate", checkpoint, "--data", "ring", "--num", "300", "--quiet",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^FID +[-.e\d]+ +[-.e\d]+$", out, re.MULTILINE), out
    assert re.search(r"^coverage +[-.e\d]+ +[-.e\d]+$", out, re.MULTILINE), out
    assert "identity" in out  # a toy set's samples are their own features; no IS
    assert all(len(line) <= 79 for line in out.splitlines())
    assert main(["evaluate", checkpoint, "--data", "ring", "--num", "300", "--quiet",
                 "--metrics", "fid,recall"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:3]]
    assert rows == ["FID", "recall"]
    for argv, message in [
        ([str(tmp_path / "missing.pt"), "--data", "ring"], "missing.pt"),
        ([checkpoint, "--data", "ring", "--metrics", "fid,bogus"], "metrics must be one of"),
        ([checkpoint, "--real", str(tmp_path / "nothing")], "existing folder of images"),
        ([checkpoint, "--data", "ring", "--num", "1"], "num_samples must be >= 2"),
    ]:
        assert main(["evaluate", *argv, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("python -m gan_lessons evaluate: error:"), err
        assert message in err
        assert err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", checkpoint])  # neither --data nor --real
    assert exit_info.value.code == 2


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _bundled_mnist_classifier() -> bool:
    from gan_lessons.pretrained import PRETRAINED_DIR, pretrained_info, pretrained_names

    return "feature_mnist" in pretrained_names() and (
        PRETRAINED_DIR / pretrained_info("feature_mnist")["file"]).is_file()


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir()
                    or not _bundled_mnist_classifier(),
                    reason="needs the offline MNIST and the bundled MNIST classifier")
def test_a_bundled_mnist_generator_against_the_bundled_classifier(monkeypatch):
    from gan_lessons.pretrained import load_pretrained

    monkeypatch.setenv("GAN_LESSONS_DATA", str(SHARED_DATA))
    generator = load_pretrained("dcgan_mnist")["generator"]
    result = evaluate(generator, "mnist", num_samples=200, metrics=("fid", "is", "recall"),
                      device="cpu", progress=False)
    assert result.reference == "mnist train vs test"
    assert "mnist classifier features" in str(result)
    assert result["fid"].value > 2 * result["fid"].reference
    assert result["is"].reference > result["is"].value > 1


IMAGES = digits(4, seed=0)
NET = StandIn()
BAD_INPUTS = [
    ({"num_samples": 1}, ValueError, "num_samples must be >= 2, got 1"),
    ({"num_samples": 10.0}, TypeError, "num_samples must be an int"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"seed": -2}, ValueError, "seed must be >= 0"),
    ({"k": 10}, ValueError, "k must be below num_samples, got k=10 and num_samples=10"),
    ({"kid_subset_size": 1}, ValueError, "kid_subset_size must be >= 2"),
    ({"kid_subset_size": 11}, ValueError, "kid_subset_size must be <= 10"),
    ({"is_splits": 0}, ValueError, "is_splits must be >= 1"),
    ({"progress": 1}, TypeError, "progress must be a bool"),
    ({"cache": "yes"}, TypeError, "cache must be a bool"),
    ({"metrics": ("fid", "bogus")}, ValueError, "metrics must be one of"),
    ({"metrics": ()}, TypeError, "metrics must be a non-empty sequence"),
    ({"metrics": 3}, TypeError, "metrics must be a non-empty sequence"),
    ({"feature_net": None}, ValueError, "feature_net is required unless dataset is"),
    ({"feature_net": "vgg"}, ValueError, "feature_net must be one of"),
    ({"feature_net": nn.Linear(2, 2)}, TypeError, "feature_net must be a name or a network"),
    ({"feature_net": "identity", "metrics": "is"}, ValueError,
     "metrics asks for 'is', but feature_net has no .logits(x) method"),
    ({"generator": 5}, TypeError, "generator must be a callable z -> samples"),
    ({"generator": lambda z: z}, ValueError, "latent_dim is required"),
    ({"generator": lambda z: z, "latent_dim": 0}, ValueError, "latent_dim must be >= 1"),
    ({"generator": IMAGES}, ValueError,
     "generator, given as a tensor of samples, must hold at least num_samples=10 samples"),
    ({"generator": lambda z: 2 * torch.ones(len(z), *SHAPE), "latent_dim": 2}, ValueError,
     "generator must produce images in [-1, 1], got values in [2, 2]"),
    ({"generator": lambda z: torch.full((len(z), *SHAPE), float("nan")), "latent_dim": 2},
     ValueError, "generator produced NaN or Inf samples"),
    ({"generator": lambda z: z.numpy(), "latent_dim": 2}, TypeError,
     "generator must return a tensor of samples, got ndarray"),
    ({"generator": torch.zeros(10, 1, 4, 4)}, ValueError,
     "generator made samples of shape (1, 4, 4), but the real data's samples have shape "
     "(1, 8, 8)"),
    ({"dataset": REAL[:15]}, ValueError,
     "num_samples must be at most half of the real set's 15 samples"),
    ({"dataset": 3.5}, TypeError, "dataset must be 'mnist', 'cifar10'"),
    ({"dataset": "no/such/folder"}, ValueError,
     "dataset must be one of ('mnist', 'cifar10', 'ring', 'grid', 'moons', 'spiral') or an "
     "existing folder of images, got 'no/such/folder'"),
]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), BAD_INPUTS,
                         ids=[f"{'-'.join(row[0])}-{i}" for i, row in enumerate(BAD_INPUTS)])
def test_bad_input_raises_a_clear_error(kwargs, error, fragment):
    arguments = {"generator": digits(10, seed=1), "dataset": REAL, "num_samples": 10,
                 "feature_net": NET, "progress": False, **kwargs}
    with pytest.raises(error, match=re.escape(fragment)):
        evaluate(**arguments)
