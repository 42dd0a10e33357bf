"""The feature networks of the metrics: the bundled MNIST and CIFAR-10 classifiers (shapes,
checks, checksums, accuracy on a test slice) and the FID InceptionV3, checked against
pytorch-fid's own network loaded with the same random weights."""

from __future__ import annotations

import shutil

import pytest
import torch
import torch.nn.functional as F

from gan_lessons import feature_nets
from gan_lessons.feature_nets import (
    FEATURE_NET_CONFIGS,
    INCEPTION_WEIGHTS_ENV,
    INCEPTION_WEIGHTS_FILE,
    FeatureClassifier,
    FeatureClassifierConfig,
    FIDInceptionV3,
    TrainRecipe,
    load_feature_net,
)
from gan_lessons.pretrained import (
    PRETRAINED_DIR,
    load_pretrained,
    pretrained_info,
    pretrained_path,
    sha256_file,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHAPES = {"mnist": ((1, 28, 28), 128), "cifar10": ((3, 32, 32), 256)}
"""Data set -> (image shape, feature size D)."""

BUNDLED = ["cifar10", "mnist"]
"""The data sets whose classifier is bundled."""


def _images(shape, n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, *shape, generator=gen) * 2 - 1


# --------------------------------------------------------------------------- the classifiers


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_classifier_features_and_logits_have_the_documented_shapes(name):
    shape, dim = SHAPES[name]
    net = FeatureClassifier(FEATURE_NET_CONFIGS[name]).eval()
    x = _images(shape)
    with torch.no_grad():
        features, logits = net.features(x), net.logits(x)
        assert torch.equal(net(x), logits)
        both = net.features_and_logits(x)  # one pass, the same two tensors
        assert torch.allclose(both[0], features)
        assert torch.allclose(both[1], logits)
    assert features.shape == (3, dim) == (3, net.config.feature_dim)
    assert logits.shape == (3, 10)
    assert torch.isfinite(features).all()
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize(("bad", "error", "match"), [
    ([[0.0]], TypeError, "x must be a torch.Tensor"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.uint8), TypeError, "x must be a floating-point"),
    (torch.zeros(1, 28, 28), ValueError, r"x must have shape \(N, 1, 28, 28\)"),
    (torch.zeros(2, 3, 28, 28), ValueError, r"x must have shape \(N, 1, 28, 28\)"),
    (torch.zeros(2, 1, 32, 32), ValueError, r"got \(2, 1, 32, 32\)"),
    (torch.zeros(0, 1, 28, 28), ValueError, "N >= 1"),
    (torch.full((2, 1, 28, 28), float("nan")), ValueError, "x holds NaN"),
])
def test_classifier_refuses_bad_images_naming_the_argument(bad, error, match):
    net = FeatureClassifier(FEATURE_NET_CONFIGS["mnist"]).eval()
    for method in (net.features, net.logits, net.features_and_logits):
        with pytest.raises(error, match=match):
            method(bad)


def test_classifier_config_checks():
    with pytest.raises(ValueError, match="widths must hold 3"):
        FeatureClassifierConfig(widths=(8, 16))
    with pytest.raises(ValueError, match="channels must be >= 1"):
        FeatureClassifierConfig(channels=0)
    with pytest.raises(TypeError, match="config must be a FeatureClassifierConfig"):
        FeatureClassifier({"channels": 1})
    assert FeatureClassifierConfig(widths=[8, 16, 32]).widths == (8, 16, 32)  # from asdict()


def test_training_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="lr must be > 0"):
        TrainRecipe(num_epochs=1, batch_size=8, lr=0.0)
    with pytest.raises(TypeError, match="flip must be a bool"):
        TrainRecipe(num_epochs=1, batch_size=8, lr=0.1, flip=1)
    train = feature_nets.train_feature_classifier
    with pytest.raises(ValueError, match=r"name must be one of \('mnist', 'cifar10'\)"):
        train("svhn", tmp_path / "a.pt")
    with pytest.raises(TypeError, match="recipe must be a TrainRecipe"):
        train("mnist", tmp_path / "a.pt", recipe={"lr": 0.1})
    with pytest.raises(ValueError, match="config must take mnist's 1x28x28 images"):
        train("mnist", tmp_path / "a.pt", config=FEATURE_NET_CONFIGS["cifar10"])
    with pytest.raises(ValueError, match="is a folder"):
        train("mnist", tmp_path)
    net = FeatureClassifier(FEATURE_NET_CONFIGS["mnist"])
    images = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    accuracy = feature_nets.classifier_accuracy
    with pytest.raises(TypeError, match="images must be a uint8 tensor"):
        accuracy(net, images.float(), torch.zeros(4))
    with pytest.raises(ValueError, match=r"labels must be a tensor of shape \(4,\)"):
        accuracy(net, images, torch.zeros(3))
    with pytest.raises(TypeError, match=r"net must be a network with a \.logits"):
        accuracy(object(), images, torch.zeros(4))
    assert accuracy(net, images, torch.zeros(4, dtype=torch.int64), batch_size=3) in (0, 1)


def test_augment_translates_and_flips_uint8_images():
    images = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    out = feature_nets._augment(images, 2, True, torch.Generator().manual_seed(0))
    assert out.shape == (6, 3, 8, 8)
    assert out.is_contiguous(memory_format=torch.channels_last)
    padded = F.pad(images.float() / 127.5 - 1, (2, 2, 2, 2), mode="reflect")
    for i in range(6):  # every output is a crop of the padded image, flipped or not
        crops = [padded[i, :, dy:dy + 8, dx:dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.allclose(out[i], c) or torch.allclose(out[i], c.flip(2))
                   for c in crops)


def test_training_saves_every_epoch_resumes_and_loads(tmp_path, monkeypatch):
    """A few steps on random 28x28 'digits' (the real run is scripts/make_pretrained.sh)."""
    gen = torch.Generator().manual_seed(0)
    data = (torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=gen),
            torch.randint(0, 10, (64,), generator=gen))
    monkeypatch.setattr(feature_nets, "load_uint8_images", lambda *a, **k: data)
    config = FeatureClassifierConfig(channels=1, image_size=28, stem_width=4, widths=(4, 8, 8))
    out = tmp_path / "net.pt"

    def train(epochs, **kwargs):
        recipe = TrainRecipe(num_epochs=epochs, batch_size=16, lr=0.05)
        return feature_nets.train_feature_classifier("mnist", out, recipe=recipe, config=config,
                                                     progress=False, command="test", **kwargs)

    history = train(1)
    assert len(history["epoch_loss"]) == 1
    assert 0.0 <= history["test_accuracy"][-1] <= 1.0
    with pytest.raises(ValueError, match="already exists; pass resume=True"):
        train(1)  # a finished run is never replaced
    history = train(2, resume=True)  # continues at epoch 2, keeps epoch 1's history
    assert len(history["epoch_loss"]) == 2
    assert all(torch.isfinite(torch.tensor(history["epoch_loss"])))
    net = load_feature_net("mnist", weights=out, device="cpu")
    assert net.features(_images((1, 28, 28))).shape == (3, 8)
    with pytest.raises(ValueError, match="not for 'cifar10'"):
        load_feature_net("cifar10", weights=out, device="cpu")


# --------------------------------------------------------------------------- bundled networks


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_classifier_is_registered_small_and_checksummed(name, tmp_path):
    info = pretrained_info(f"feature_{name}")
    assert info["command"].startswith(f"python -m gan_lessons.feature_nets train {name}")
    assert info["steps"] > 0
    path = pretrained_path(f"feature_{name}")  # checks the SHA-256
    assert path.stat().st_size == info["bytes"] <= 5_000_000
    copy = tmp_path / info["file"]
    shutil.copyfile(path, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the weights
    copy.write_bytes(bytes(data))
    assert sha256_file(copy) != info["sha256"]
    with pytest.raises(ValueError, match="checksum mismatch"):
        pretrained_path(f"feature_{name}", directory=tmp_path)


@pytest.mark.parametrize("name", BUNDLED)
def test_load_feature_net_gives_a_frozen_float32_eval_network(name):
    net = load_feature_net(name, device="cpu")
    shape, dim = SHAPES[name]
    assert isinstance(net, FeatureClassifier)
    assert net.config == FEATURE_NET_CONFIGS[name]
    assert not net.training
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in net.parameters())
    assert net.features(_images(shape)).shape == (3, dim)
    classifier = load_pretrained(f"feature_{name}")["classifier"]  # the generic loader too
    assert isinstance(classifier, FeatureClassifier)
    assert torch.equal(classifier.head.weight, net.head.weight)


# Accuracy on a fixed random slice of the test split (as_tensor_dataset(..., seed=0)): MNIST
# 99.40 % of 1,000, CIFAR-10 87.20 % of 500. On the whole 10,000-image test sets (`python -m
# gan_lessons.feature_nets accuracy NAME`, the bundled float16 weights): MNIST 99.49 %,
# CIFAR-10 86.26 %. The thresholds leave a margin for the slice and still prove a working net.
ACCURACY = {"mnist": (1000, 0.985), "cifar10": (500, 0.84)}


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_classifier_accuracy_on_a_test_slice(name):
    from gan_lessons.data import DatasetNotFoundError, as_tensor_dataset, load_dataset

    n, threshold = ACCURACY[name]
    try:
        test = load_dataset(name, train=False, download=False)
    except DatasetNotFoundError as exc:
        pytest.skip(f"no {name} test set here: {exc}")
    test = as_tensor_dataset(test, limit=n, progress=False, seed=0)  # a fixed random slice
    net = load_feature_net(name, device="cpu")
    with torch.no_grad():
        predicted = torch.cat([net.logits(test.images[i:i + 250]).argmax(1)
                               for i in range(0, n, 250)])
    accuracy = (predicted == test.labels).float().mean().item()
    assert accuracy >= threshold, f"{name}: {accuracy:.4f} on {n} test images"


# --------------------------------------------------------------------------- FID Inception


@pytest.fixture(scope="module")
def random_inception():
    """FIDInceptionV3 with random weights and batch-norm statistics measured on random images
    (so that features vary from image to image, as with real weights)."""
    torch.manual_seed(0)
    net = FIDInceptionV3()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a plain average over the calibration batch
            m.reset_running_stats()
    with torch.no_grad():
        net.train().features(_images((3, 64, 64), n=2, seed=1))
    return net.eval().requires_grad_(False)


def test_inception_matches_pytorch_fid_with_the_same_weights(random_inception, monkeypatch):
    inception = pytest.importorskip("pytorch_fid.inception")
    state = random_inception.state_dict()
    # pytorch-fid downloads the FID weights while it builds its network; hand it ours instead.
    monkeypatch.setattr(inception, "load_state_dict_from_url", lambda *a, **k: state)
    reference = inception.InceptionV3([3]).eval()  # 2048-d pool3, resize 299, scale to [-1, 1]
    for size in [(32, 32), (28, 40)]:  # both resized to 299x299 on the way in
        x = _images((3, *size), n=2, seed=size[1])
        with torch.no_grad():
            ours = random_inception.features(x)
            theirs = reference((x + 1) / 2)[0].flatten(1)  # pytorch-fid takes [0, 1]
        assert ours.shape == (2, 2048)
        assert (ours[0] - ours[1]).abs().max() > 1e-2  # features depend on the image
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * theirs.abs().max())
    gray = _images((1, 28, 28), n=1)
    with torch.no_grad():
        torch.testing.assert_close(random_inception.logits(gray),
                                   random_inception.logits(gray.expand(-1, 3, -1, -1)))
        assert random_inception.logits(gray).shape == (1, 1008)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1/3, H, W\)"):
        random_inception.features(torch.zeros(2, 2, 32, 32))


def test_inception_weights_come_from_the_argument_or_the_environment(random_inception,
                                                                    tmp_path, monkeypatch):
    path = tmp_path / INCEPTION_WEIGHTS_FILE
    torch.save(random_inception.state_dict(), path)
    x = _images((3, 32, 32), n=1)
    with torch.no_grad():
        expected = random_inception.features(x)
    # Our random weights are not pytorch-fid's file: the checksum test refuses them ...
    with pytest.raises(ValueError, match="SHA-256 does not start with 6726825d"):
        load_feature_net("inception", weights=path, device="cpu")
    # ... unless told not to check.
    net = load_feature_net("inception", weights=path, device="cpu", verify=False)
    assert not net.training
    assert not any(p.requires_grad for p in net.parameters())
    torch.testing.assert_close(net.features(x), expected)
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(path))
    net = load_feature_net("inception", device="cpu", verify=False)
    torch.testing.assert_close(net.features(x), expected)
    # Without either, the copy pytorch-fid downloaded into the torch.hub cache is used.
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    path.rename(tmp_path / "checkpoints" / INCEPTION_WEIGHTS_FILE)
    net = load_feature_net("inception", device="cpu", verify=False)
    torch.testing.assert_close(net.features(x), expected)


def test_inception_without_weights_says_where_to_get_them(monkeypatch, tmp_path):
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # an empty cache
    with pytest.raises(FileNotFoundError) as excinfo:
        load_feature_net("inception")
    message = str(excinfo.value)
    assert INCEPTION_WEIGHTS_FILE in message
    assert "https://github.com/mseitzer/pytorch-fid/releases" in message
    assert INCEPTION_WEIGHTS_ENV in message
    assert "weights=" in message

    def offline(url, dst, hash_prefix=None):
        raise OSError("<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(FileNotFoundError, match=r"could not download .*Name or service"):
        load_feature_net("inception", weights="download")
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(tmp_path / "missing.pth"))
    with pytest.raises(FileNotFoundError, match=f"{INCEPTION_WEIGHTS_ENV}.*missing.pth"):
        load_feature_net("inception")
    bad = tmp_path / "bad.pth"
    bad.write_text("not a torch file")
    with pytest.raises(ValueError, match="does not hold FID Inception weights"):
        load_feature_net("inception", weights=bad, verify=False)


def test_load_feature_net_checks_its_arguments():
    with pytest.raises(ValueError, match=r"name must be one of \('mnist', 'cifar10', 'inception'"):
        load_feature_net("imagenet")
    with pytest.raises(TypeError, match="name must be a str"):
        load_feature_net(3)
    with pytest.raises(TypeError, match=r"weights must be a str or os\.PathLike"):
        load_feature_net("mnist", weights=3)
    with pytest.raises(TypeError, match="verify must be a bool"):
        load_feature_net("mnist", verify=1)
    with pytest.raises(FileNotFoundError):
        load_feature_net("mnist", weights="no/such/file.pt")
    assert PRETRAINED_DIR.is_dir()
