"""Labelled batches (issue 12, conditional GANs): BatchStream(labels=True) and num_classes."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from gan_lessons.batches import BatchStream, num_classes
from gan_lessons.data import TensorImageDataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N, NUM_CLASSES, BATCH = 23, 5, 4  # 5 batches an epoch, 3 samples dropped each epoch


def labelled_images(n=N, num_classes=NUM_CLASSES):
    """Images (n, 1, 2, 2) each filled with a value that encodes its label and its index:
    ``x = (label + 10 * index) / 1000``, so ``label = round(1000 x) % 10`` and no two samples
    are equal."""
    y = torch.arange(n) * 3 % num_classes
    x = ((y + 10 * torch.arange(n)).float() / 1000).view(n, 1, 1, 1).expand(n, 1, 2, 2)
    return x.contiguous(), y


def label_of(x):
    """The label each image ``x`` (B, 1, 2, 2) encodes, (B,) int64."""
    return (x[:, 0, 0, 0] * 1000).round().long() % 10


class PairItems(Dataset):
    """A general Dataset of (image, label) pairs: it goes through the DataLoader."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class BareItems(Dataset):
    """A general Dataset of bare tensors (no labels)."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def make(kind):
    x, y = labelled_images()
    if kind == "tensor_image":
        return TensorImageDataset(x, y)
    if kind == "tensor_dataset":
        return TensorDataset(x, y.int())  # any integer dtype comes out as int64
    return PairItems(x, [int(v) for v in y])  # python ints, collated by the DataLoader


KINDS = ["tensor_image", "tensor_dataset", "loader"]


@pytest.mark.parametrize("kind", KINDS)
def test_labels_belong_to_their_samples_across_epochs(kind):
    stream = BatchStream(make(kind), BATCH, device="cpu", seed=3, labels=True)
    seen = []
    for _ in range(12):  # 2.4 epochs
        x, y = next(stream)
        assert x.shape == (BATCH, 1, 2, 2)
        assert x.dtype == torch.float32
        assert y.shape == (BATCH,)
        assert y.dtype == torch.int64
        assert y.device == x.device
        assert torch.equal(y, label_of(x))
        seen.append(x[:, 0, 0, 0])
    first_epoch = torch.cat(seen[:5])
    assert len(set(first_epoch.tolist())) == 20  # without replacement within an epoch
    assert stream.consumed == 12


@pytest.mark.parametrize("kind", KINDS)
def test_x_is_the_same_with_and_without_labels(kind):
    with_labels = BatchStream(make(kind), BATCH, device="cpu", seed=7, labels=True)
    without = BatchStream(make(kind), BATCH, device="cpu", seed=7)
    plain = BatchStream(labelled_images()[0], BATCH, device="cpu", seed=7)  # a plain tensor
    for _ in range(8):
        x, _ = next(with_labels)
        x_without = next(without)
        assert isinstance(x_without, torch.Tensor)
        assert torch.equal(x, x_without)
        assert torch.equal(x, next(plain))


@pytest.mark.parametrize("kind", KINDS)
def test_resume_gives_the_same_pairs(kind):
    fresh = BatchStream(make(kind), BATCH, device="cpu", seed=2, labels=True)
    pairs = [next(fresh) for _ in range(11)]
    for k in (3, 5, 7):  # mid-epoch, an epoch boundary, into the second epoch
        resumed = BatchStream(make(kind), BATCH, device="cpu", seed=2, start=k, labels=True)
        for x, y in pairs[k:]:
            x2, y2 = next(resumed)
            assert torch.equal(x, x2)
            assert torch.equal(y, y2)


def test_channels_last_applies_to_x_only():
    stream = BatchStream(make("tensor_image"), BATCH, device="cpu", channels_last=True,
                         labels=True)
    x, y = next(stream)
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, label_of(x))


def test_float64_data_is_cast_but_labels_stay_int64():
    x, y = labelled_images()
    stream = BatchStream(TensorDataset(x.double(), y), BATCH, device="cpu", labels=True,
                         dtype=torch.float64)
    xb, yb = next(stream)
    assert xb.dtype == torch.float64
    assert yb.dtype == torch.int64
    assert torch.equal(yb, label_of(xb))


def test_labels_true_needs_labels():
    x, _ = labelled_images()
    for data, kind in [(x, "a plain tensor"), (TensorDataset(x), "TensorDataset"),
                       (BareItems(x), "Tensor items")]:
        with pytest.raises(ValueError, match="labels=True needs data with labels") as info:
            BatchStream(data, BATCH, device="cpu", labels=True)
        assert kind in str(info.value)
    with pytest.raises(TypeError, match="labels must be a bool"):
        BatchStream(x, BATCH, device="cpu", labels=1)


def test_bad_labels():
    x, y = labelled_images()
    with pytest.raises(TypeError, match=r"labels must be integer.*float32"):
        BatchStream(TensorDataset(x, y.float()), BATCH, device="cpu", labels=True)
    with pytest.raises(TypeError, match=r"labels must be integer.*bool"):
        BatchStream(TensorDataset(x, y > 2), BATCH, device="cpu", labels=True)
    with pytest.raises(TypeError, match=r"labels must be integer.*float"):
        BatchStream(PairItems(x, y.float().tolist()), BATCH, device="cpu", labels=True)
    with pytest.raises(TypeError, match=r"labels must be integer.*str"):
        BatchStream(PairItems(x, ["cat"] * N), BATCH, device="cpu", labels=True)
    with pytest.raises(TypeError, match=r"labels must be integer.*float32"):
        BatchStream(PairItems(x, y.float()), BATCH, device="cpu", labels=True)
    with pytest.raises(ValueError, match=r"labels must have shape \(23,\)"):
        BatchStream(TensorDataset(x, y[:, None]), BATCH, device="cpu", labels=True)
    with pytest.raises(ValueError, match="labels must be one class index per sample"):
        BatchStream(PairItems(x, y[:, None]), BATCH, device="cpu", labels=True)
    wrong_length = TensorImageDataset(x, y)
    wrong_length.labels = y[:-1]
    with pytest.raises(ValueError, match=r"labels must have shape \(23,\), .* got \(22,\)"):
        BatchStream(wrong_length, BATCH, device="cpu", labels=True)


def test_loader_labels_are_checked_batch_by_batch():
    x, _ = labelled_images()
    labels = [0] + [0.5] * (N - 1)  # the first item passes the check at construction
    stream = BatchStream(PairItems(x, labels), BATCH, device="cpu", labels=True)
    with pytest.raises(TypeError, match="labels must be integer"):
        next(stream)


def test_without_labels_nothing_changes():
    x, y = labelled_images()
    stream = BatchStream(TensorImageDataset(x, y), BATCH, device="cpu", seed=1)
    assert stream._labels is None
    assert not stream.labels
    assert isinstance(next(stream), torch.Tensor)
    # the loader path still takes the image of a pair and ignores bad labels
    stream = BatchStream(PairItems(x, ["cat"] * N), BATCH, device="cpu", seed=1)
    assert isinstance(next(stream), torch.Tensor)


def test_num_classes():
    x, y = labelled_images()
    assert num_classes(TensorImageDataset(x, y)) == NUM_CLASSES  # from the labels
    named = TensorImageDataset(x, y, classes=[f"c{i}" for i in range(10)])
    assert num_classes(named) == 10  # the names win: classes may be missing from the labels
    assert num_classes(TensorDataset(x, torch.tensor([0, 7] * 11 + [2]))) == 8
    assert num_classes(TensorImageDataset(x)) == 1  # no labels given: all zeros

    folder = PairItems(x, y.tolist())
    folder.classes = ["cat", "dog", "fox"]  # like torchvision's ImageFolder
    assert num_classes(folder) == 3
    assert num_classes(PairItems(x, y.tolist())) is None  # labels only by reading every item
    assert num_classes(x) is None
    assert num_classes(TensorDataset(x)) is None


def test_num_classes_bad_input():
    x, y = labelled_images()
    with pytest.raises(TypeError, match="data must be a tensor"):
        num_classes([1, 2, 3])
    with pytest.raises(TypeError, match="labels must be integer"):
        num_classes(TensorDataset(x, y.float()))
