"""Tests of gan_lessons.data: the data root, MNIST/CIFAR-10 from the offline copies, missing
data, folders of images, the [-1, 1] scaling and the 2-D toy sets. No test touches the network."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lessons import data
from gan_lessons.data import (
    DATA_ENV_VAR,
    DatasetNotFoundError,
    TensorImageDataset,
    as_tensor_dataset,
    data_root,
    load_dataset,
    to_image,
    to_numpy_image,
    toy_dataset,
    toy_modes,
)

SHARED = Path(os.environ.get(DATA_ENV_VAR) or Path(__file__).resolve().parents[2] / "shared" / "data")


def _shared(sub: str) -> Path:
    if not (SHARED / sub).is_dir():
        pytest.skip(f"no offline data at {SHARED / sub}")
    return SHARED


@pytest.fixture
def shared_env(monkeypatch):
    """Point GAN_LESSONS_DATA at the offline copies (skip when they are absent)."""
    root = _shared("")
    monkeypatch.setenv(DATA_ENV_VAR, str(root))
    return root


# --------------------------------------------------------------------------- data root


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "gan_lessons" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".cache" / "gan_lessons" / "data"
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root(str(tmp_path / "arg")) == tmp_path / "arg"
    monkeypatch.setenv(DATA_ENV_VAR, "")  # empty counts as unset
    assert data_root() == tmp_path / "home" / ".cache" / "gan_lessons" / "data"
    assert not (tmp_path / "home").exists()  # resolving creates nothing


def test_data_root_rejects_non_paths():
    with pytest.raises(TypeError, match="root"):
        data_root(3)


# --------------------------------------------------------------------------- MNIST / CIFAR-10


def test_mnist_from_env(shared_env):
    _shared("MNIST/raw")
    test = load_dataset("mnist", train=False)
    assert isinstance(test, TensorImageDataset)
    assert test.images.shape == (10000, 1, 28, 28)
    assert test.images.dtype == torch.float32
    assert test.images.min() == -1.0
    assert test.images.max() == 1.0
    assert test.labels.shape == (10000,)
    assert set(test.labels.tolist()) == set(range(10))
    x, y = test[0]
    assert x.shape == (1, 28, 28)
    assert isinstance(y, int)
    assert y == 7
    assert len(load_dataset("MNIST", train=True)) == 60000


def test_mnist_resize(shared_env):
    _shared("MNIST/raw")
    small = load_dataset("mnist", root=shared_env, train=False, image_size=32)
    assert small.images.shape == (10000, 1, 32, 32)
    assert small.images.min() >= -1.0
    assert small.images.max() <= 1.0


def test_cifar10_offline_jpg_copy(shared_env):
    _shared("cifar10-jpg/test")
    test = load_dataset("cifar10", train=False)
    assert len(test) == 10000
    assert test.classes[:2] == ["airplane", "automobile"]
    for i in (0, 9999):
        x, _y = test[i]
        assert x.shape == (3, 32, 32)
        assert x.dtype == torch.float32
        assert -1.0 <= x.min() < 0.0 < x.max() <= 1.0
    assert test[9999][1] == 9
    resized = load_dataset("cifar10", train=False, image_size=16)
    assert resized[0][0].shape == (3, 16, 16)


def test_as_tensor_dataset_subset(shared_env):
    _shared("cifar10-jpg/test")
    subset = as_tensor_dataset(load_dataset("cifar10", train=False), limit=20, progress=False)
    assert subset.images.shape == (20, 3, 32, 32)
    assert len(set(subset.labels.tolist())) > 1  # a random subset, not the first class only
    again = as_tensor_dataset(load_dataset("cifar10", train=False), limit=20, progress=False)
    assert torch.equal(subset.images, again.images)
    assert subset.classes[0] == "airplane"


def test_tensor_dataset():
    images = torch.rand(5, 1, 4, 4) * 2 - 1
    ds = TensorImageDataset(images)
    assert len(ds) == 5
    assert ds[2][1] == 0
    assert torch.equal(ds[2][0], images[2])
    assert ds.to("cpu") is ds
    sub = as_tensor_dataset(ds, limit=3)
    assert len(sub) == 3
    with pytest.raises(ValueError, match="images"):
        TensorImageDataset(torch.zeros(5, 4, 4))
    with pytest.raises(ValueError, match="labels"):
        TensorImageDataset(images, torch.zeros(4, dtype=torch.long))


# --------------------------------------------------------------------------- missing data


def test_missing_without_download(tmp_path):
    for name, expected in [("mnist", "MNIST/raw/train-images-idx3-ubyte"),
                           ("cifar10", "cifar-10-batches-py")]:
        with pytest.raises(DatasetNotFoundError) as info:
            load_dataset(name, root=tmp_path, download=False)
        message = str(info.value)
        assert DATA_ENV_VAR in message
        assert str(tmp_path) in message
        assert str(tmp_path / expected) in message
        context = info.value.__context__
        assert context is None or info.value.__suppress_context__  # no chained traceback
    assert "cifar10-jpg" in message
    assert isinstance(info.value, FileNotFoundError)
    assert list(tmp_path.iterdir()) == []


def test_failed_download_leaves_nothing(tmp_path, monkeypatch):
    from torchvision import datasets

    class OfflineMNIST:
        def __init__(self, root, train=True, download=False):
            raw = Path(root, "MNIST", "raw")
            raw.mkdir(parents=True)
            (raw / "train-images-idx3-ubyte").write_bytes(b"half")  # a partial file
            raise RuntimeError("Error downloading:\n<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(datasets, "MNIST", OfflineMNIST)
    root = tmp_path / "new" / "root"
    with pytest.raises(DatasetNotFoundError, match="Name or service not known") as info:
        load_dataset("mnist", root=root)
    assert "train-images-idx3-ubyte" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no temporary folder, no created root
    (tmp_path / "kept").mkdir()
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", root=tmp_path / "kept")
    assert list((tmp_path / "kept").iterdir()) == []


def _idx(path: Path, array: np.ndarray) -> None:
    code = 0x08 if array.dtype == np.uint8 else 0x0D
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def test_successful_download_moves_files_into_place(tmp_path, monkeypatch):
    from torchvision import datasets

    real_mnist = datasets.MNIST

    class MNIST(real_mnist):  # torchvision reads from <root>/<class name>/raw
        def __init__(self, root, train=True, download=False):
            if download:  # what torchvision would write, in miniature
                raw = Path(root, "MNIST", "raw")
                raw.mkdir(parents=True)
                for prefix in ("train", "t10k"):
                    _idx(raw / f"{prefix}-images-idx3-ubyte",
                         np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28))
                    _idx(raw / f"{prefix}-labels-idx1-ubyte", np.array([1, 2, 3], dtype=np.uint8))
            super().__init__(root, train=train, download=False)

    monkeypatch.setattr(datasets, "MNIST", MNIST)
    ds = load_dataset("mnist", root=tmp_path)
    assert ds.images.shape == (3, 1, 28, 28)
    assert ds.labels.tolist() == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MNIST"]  # temp folder removed
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(data._MNIST_FILES)


# --------------------------------------------------------------------------- folders


def _png(path: Path, size: tuple[int, int], color) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def test_flat_image_folder(tmp_path):
    _png(tmp_path / "a.png", (40, 30), (255, 0, 0))
    _png(tmp_path / "b.PNG", (20, 50), (0, 0, 255))
    (tmp_path / "notes.txt").write_text("not an image")
    ds = load_dataset(tmp_path, image_size=16)
    assert len(ds) == 2
    assert ds.classes is None
    x, y = ds[0]
    assert x.shape == (3, 16, 16)
    assert y == 0
    assert torch.allclose(x[:, 8, 8], torch.tensor([1.0, -1.0, -1.0]), atol=0.02)
    with pytest.warns(UserWarning, match=r"2 different sizes .*64 x 64"):
        mixed = load_dataset(str(tmp_path))  # no size asked, the images differ: 64, said so
    assert mixed[1][0].shape == (3, 64, 64)


def test_folder_keeps_its_images_own_size(tmp_path, recwarn):
    for i in range(3):
        _png(tmp_path / f"{i}.png", (32, 32), (i * 100, 0, 0))
    ds = load_dataset(tmp_path)
    assert ds[0][0].shape == (3, 32, 32)  # not resized to 64 (4x the pixels)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    assert torch.allclose(ds[2][0][:, 5, 5], torch.tensor([200 / 127.5 - 1, -1.0, -1.0]),
                          atol=1e-6)  # not resampled: exact pixel values


def test_folder_of_one_oblong_size_is_cropped_to_its_shorter_side(tmp_path):
    _png(tmp_path / "a.png", (48, 32), (0, 255, 0))
    _png(tmp_path / "b.png", (48, 32), (0, 255, 0))
    with pytest.warns(UserWarning, match=r"48 x 32 .*center-cropped to 32 x 32"):
        ds = load_dataset(tmp_path)
    assert ds[0][0].shape == (3, 32, 32)


def test_class_folders_use_their_images_size(tmp_path):
    _png(tmp_path / "a" / "1.png", (24, 24), (0, 0, 0))
    _png(tmp_path / "b" / "2.png", (24, 24), (0, 0, 0))
    assert load_dataset(tmp_path)[1][0].shape == (3, 24, 24)


def test_a_path_means_the_folder_not_the_named_set(tmp_path, monkeypatch):
    _png(tmp_path / "cifar10" / "x.png", (8, 8), (255, 0, 0))
    monkeypatch.chdir(tmp_path)
    for name in ("./cifar10", "cifar10", Path("cifar10"), str(tmp_path / "cifar10")):
        ds = load_dataset(name)
        assert isinstance(ds, data.ImageFileDataset), name
        assert ds[0][0].shape == (3, 8, 8)
    assert data.named_set("cifar10") is None  # the folder exists here
    monkeypatch.chdir(tmp_path / "cifar10")
    assert data.named_set("CIFAR10") == "cifar10"
    assert data.named_set("ring") == "ring"
    assert data.named_set("./ring") is None
    assert data.named_set("~/mnist") is None
    assert data.named_set(Path("mnist")) is None
    assert data.named_set("faces") is None


def test_class_image_folder(tmp_path):
    _png(tmp_path / "cats" / "1.png", (8, 8), (0, 0, 0))
    _png(tmp_path / "dogs" / "1.jpg", (8, 8), (255, 255, 255))
    _png(tmp_path / ".ipynb_checkpoints" / "x.png", (8, 8), (0, 0, 0))  # hidden: ignored
    ds = load_dataset(tmp_path, image_size=8)
    assert ds.classes == ["cats", "dogs"]
    assert len(ds) == 2
    x, y = ds[1]
    assert y == 1
    assert x.min() > 0.9


def test_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no images"):
        load_dataset(tmp_path)


def test_folder_with_top_level_images_and_class_subfolders_is_refused(tmp_path):
    # issue 10, item 6: the 3 top-level images were silently ignored (50 of 53 loaded)
    for i in range(3):
        _png(tmp_path / f"top{i}.png", (8, 8), (0, 0, 0))
    for i in range(50):
        _png(tmp_path / ("cats" if i % 2 else "dogs") / f"{i}.png", (8, 8), (0, 0, 0))
    with pytest.raises(ValueError, match=r"has 3 images at its top level .* and 50 in 2 class"):
        load_dataset(tmp_path, image_size=8)
    assert len(load_dataset(tmp_path / "cats", image_size=8)) == 25  # a subfolder alone works


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    # issue 10, item 7: a 16-bit PNG (PIL mode I;16) came out all white
    from PIL import Image

    ramp = np.linspace(0, 65535, 16 * 16).reshape(16, 16).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    x, _ = load_dataset(tmp_path, image_size=16)[0]
    expected = torch.from_numpy(ramp / 65535.0 * 2 - 1).float()
    assert torch.allclose(x[0], expected, atol=2 / 255)
    assert torch.equal(x[0], x[1])
    assert x.min() == -1.0
    assert x.max() == 1.0
    assert float(x.mean()) == pytest.approx(0.0, abs=0.01)  # not clipped to white


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loop_in_a_class_folder_counts_each_image_once(tmp_path):
    # issue 10, item 11: a link back to the class folder counted each image about 41 times
    for i in range(3):
        _png(tmp_path / "cats" / f"{i}.png", (8, 8), (0, 0, 0))
    _png(tmp_path / "dogs" / "0.png", (8, 8), (0, 0, 0))
    os.symlink(tmp_path / "cats", tmp_path / "cats" / "loop")
    os.symlink(tmp_path / "cats" / "0.png", tmp_path / "cats" / "also0.png")
    ds = load_dataset(tmp_path, image_size=8)
    assert len(ds) == 4
    assert [label for _, label in ds.samples] == [0, 0, 0, 1]


def _truncated_jpeg(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path, "JPEG")
    path.write_bytes(path.read_bytes()[:600])


def test_truncated_jpeg_is_reported_with_its_name(tmp_path):
    # issue 10, item 18: "Truncated File Read" with no file name, mid-training
    _png(tmp_path / "good.png", (8, 8), (0, 0, 0))
    _truncated_jpeg(tmp_path / "broken.jpg")
    ds = load_dataset(tmp_path, image_size=8)
    with pytest.raises(data.BadImageError, match=r"broken\.jpg"):
        ds[0]
    with pytest.raises(data.BadImageError, match=r"broken\.jpg"):
        as_tensor_dataset(ds, progress=False)
    # check_images finds it before training, and names every bad file at once
    (tmp_path / "junk.png").write_bytes(b"not a png at all")
    with pytest.raises(data.BadImageError, match=r"2 of 3 image files") as info:
        data.check_images(load_dataset(tmp_path, image_size=8))
    assert sorted(Path(p).name for p in info.value.paths) == ["broken.jpg", "junk.png"]
    assert "good.png" not in str(info.value)


def test_check_images_passes_good_data_and_refuses_bad_ranges(tmp_path):
    _png(tmp_path / "a.png", (8, 8), (0, 0, 0))
    _png(tmp_path / "b.png", (8, 8), (255, 0, 0))
    assert data.check_images(load_dataset(tmp_path, image_size=8)) == 2
    assert data.check_images(load_dataset(tmp_path, image_size=8), limit=1) == 1
    images = torch.rand(4, 1, 8, 8) * 2 - 1
    assert data.check_images(TensorImageDataset(images)) == 4
    with pytest.raises(ValueError, match=r"\[-1, 1\].*\[0, 255\]"):
        data.check_images(TensorImageDataset(images * 127.5 + 127.5))
    images[2, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or inf values .*image 2"):
        data.check_images(TensorImageDataset(images))


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "imagenet"}, ValueError, r"name must be one of \('mnist', 'cifar10'\)"),
        ({"name": 3}, TypeError, "name"),
        ({"name": "mnist", "train": "yes"}, TypeError, "train"),
        ({"name": "mnist", "image_size": 0}, ValueError, "image_size"),
        ({"name": "mnist", "image_size": 2.5}, TypeError, "image_size"),
        ({"name": "mnist", "download": 1}, TypeError, "download"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_dataset(root=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- display


def test_to_image_inverts_scaling():
    img = torch.rand(2, 3, 4, 4)
    assert torch.allclose(to_image(img * 2 - 1), img)
    out = to_image(torch.tensor([[[-3.0, 3.0]]]))
    assert out.tolist() == [[[0.0, 1.0]]]
    assert to_image(torch.zeros(1, 2, 2, requires_grad=True)).requires_grad is False
    with pytest.raises(ValueError, match="x must have shape"):
        to_image(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="x must be"):
        to_image(np.zeros((1, 4, 4)))


def test_to_numpy_image_shapes():
    assert to_numpy_image(torch.zeros(1, 5, 6)).shape == (5, 6)
    assert to_numpy_image(torch.zeros(3, 5, 6)).shape == (5, 6, 3)
    assert to_numpy_image(torch.zeros(2, 3, 5, 6)).shape == (2, 5, 6, 3)


# --------------------------------------------------------------------------- toy sets


@pytest.mark.parametrize("name", data.TOY_DATASETS)
def test_toy_dataset_shape_and_determinism(name):
    state = torch.random.get_rng_state()
    points = toy_dataset(name, n=500, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # global generator untouched
    assert points.shape == (500, 2)
    assert points.dtype == torch.float32
    assert torch.equal(points, toy_dataset(name, n=500, seed=3))
    assert not torch.equal(points, toy_dataset(name, n=500, seed=4))
    assert points.abs().max() < 5


@pytest.mark.parametrize(("name", "k"), [("ring", 8), ("grid", 25)])
def test_toy_modes(name, k):
    modes = toy_modes(name)
    assert modes.shape == (k, 2)
    points = toy_dataset(name, n=2000)
    dist = torch.cdist(points, modes).min(dim=1).values  # distance to the nearest mode
    assert dist.max() < 6 * data.TOY_STD[name]
    assert len(torch.cdist(points, modes).argmin(dim=1).unique()) == k  # every mode is used
    if name == "ring":
        assert torch.allclose(modes.norm(dim=1), torch.full((8,), 2.0))


def test_toy_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        toy_dataset("swissroll")
    with pytest.raises(ValueError, match="name"):
        toy_modes("moons")
    with pytest.raises(ValueError, match="n must be"):
        toy_dataset("ring", n=0)
    with pytest.raises(ValueError, match="std"):
        toy_dataset("ring", std=-1.0)
