"""Endless, reproducible random mini-batches from in-memory tensors or any ``Dataset``."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ._validate import check_bool, check_int, check_shard
from .device import get_device

__all__ = ["BatchStream", "DataError", "check_sample_shape", "num_classes", "sample_shape"]

#: Values this far outside a ``value_range`` still pass (rounding of resized images).
RANGE_TOLERANCE = 1e-2


class DataError(ValueError):
    """The training data itself is bad: NaN/Inf values, or values outside the range the model
    expects. Raised before the first training step when it can be found then."""


def check_values(x: torch.Tensor, value_range: tuple[float, float] | None,
                 where: str = "data") -> None:
    """Raise :class:`DataError` if ``x`` holds NaN/Inf, or values outside ``value_range`` (with
    :data:`RANGE_TOLERANCE`); warn if images expected in [-1, 1] all lie in [0, 1]."""
    if x.numel() == 0:
        return
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        first = int((~finite).reshape(len(x), -1).any(1).nonzero()[0, 0]) if x.ndim else 0
        raise DataError(f"{where} holds NaN or Inf values (the first in sample {first}): the "
                        "data itself is broken, training on it would only give NaN losses; "
                        "clean or drop those samples")
    if value_range is None:
        return
    low, high = (float(v) for v in torch.aminmax(x.detach().float()))
    lo, hi = value_range
    if low < lo - RANGE_TOLERANCE or high > hi + RANGE_TOLERANCE:
        hint = (" (pixels in [0, 255]? use x / 127.5 - 1)" if high > 2 and low >= 0 else "")
        raise DataError(f"{where} holds values in [{low:.4g}, {high:.4g}], outside [{lo:g}, "
                        f"{hi:g}], the range the model works in (a tanh generator's output, "
                        f"the pixel range of the losses); scale the data to [{lo:g}, {hi:g}] "
                        f"first{hint}")
    if (lo, hi) == (-1.0, 1.0) and low >= 0 and x.ndim == 4:
        warnings.warn(f"{where} lies in [{low:.3g}, {high:.3g}]: images in [0, 1]? The model "
                      "works in [-1, 1], so half of its range is never used; scale them with "
                      "x * 2 - 1", stacklevel=3)


def _epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The visiting order of epoch ``epoch``: a function of ``(seed, epoch)`` alone."""
    g = torch.Generator().manual_seed((seed * 0x9E3779B1 + epoch) % (2**63))
    return torch.randperm(n, generator=g)


def _shard_range(b: int, batch_size: int, shard: tuple[int, int]) -> slice:
    """Where process ``rank`` of ``world`` finds its ``batch_size`` samples of global batch
    ``b`` (of ``world * batch_size`` samples) in an epoch's visiting order."""
    rank, world = shard
    first = (b * world + rank) * batch_size
    return slice(first, first + batch_size)


class _IndexBatches:
    """Endless lists of indices, epoch by epoch without replacement (``drop_last``), starting
    at batch ``start``; a ``batch_sampler`` for ``DataLoader``. With ``shard=(rank, world)``
    each list is the ``rank``-th slice of a global batch of ``world * batch_size``."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int,
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.n, self.batch_size, self.seed, self.start = n, batch_size, seed, start
        self.shard = shard

    def __iter__(self) -> Iterator[list[int]]:
        per_epoch = self.n // (self.batch_size * self.shard[1])
        epoch, pos = divmod(self.start, per_epoch)
        while True:
            perm = _epoch_permutation(self.n, self.seed, epoch).tolist()
            for b in range(pos, per_epoch):
                yield perm[_shard_range(b, self.batch_size, self.shard)]
            epoch, pos = epoch + 1, 0


def _first_tensor(item, name: str = "data") -> torch.Tensor:
    if isinstance(item, list | tuple) and item:
        item = item[0]  # (image, label) -> image
    if not isinstance(item, torch.Tensor):
        raise TypeError(f"{name} must yield tensors or (tensor, label) pairs, got "
                        f"{type(item).__name__}")
    return item


def _in_memory(data) -> torch.Tensor | None:
    """The whole data set as one tensor, if it is one (tensor, TensorImageDataset, ...)."""
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, TensorDataset):
        return data.tensors[0]
    images = getattr(data, "images", None)  # gan_lessons.data.TensorImageDataset
    if isinstance(data, Dataset) and isinstance(images, torch.Tensor) and len(images) == len(data):
        return images
    return None


_NO_LABELS = ("labels=True needs data with labels, e.g. a TensorImageDataset or (image, label) "
              "pairs; got {}")


def _in_memory_labels(data) -> torch.Tensor | None:
    """The labels ``(N,)`` of an in-memory data set (``TensorDataset(x, y)``'s ``y``,
    ``TensorImageDataset.labels``), or None when it has none (a plain tensor)."""
    if isinstance(data, TensorDataset):
        return data.tensors[1] if len(data.tensors) > 1 else None
    labels = getattr(data, "labels", None)
    return labels if isinstance(data, Dataset) and isinstance(labels, torch.Tensor) else None


def _check_label_tensor(labels: torch.Tensor, n: int | None) -> torch.Tensor:
    """``labels`` if it is an integer tensor of shape ``(n,)`` (``n=None``: one item's label,
    shape ``()``); TypeError/ValueError naming ``labels`` otherwise."""
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class indices (e.g. torch.int64), got dtype "
                        f"{labels.dtype}; convert class numbers with .long()")
    if n is None and labels.ndim != 0:  # one item's label
        raise ValueError(f"labels must be one class index per sample (an int or a 0-d tensor), "
                         f"got a tensor of shape {tuple(labels.shape)}")
    if n is not None and labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one class index per sample, got "
                         f"{tuple(labels.shape)}")
    return labels


def _check_item_label(item) -> None:
    """Check that a dataset item is an ``(tensor, label)`` pair with an integer label."""
    if not isinstance(item, list | tuple) or len(item) < 2:
        raise ValueError(_NO_LABELS.format(f"a Dataset of {type(item).__name__} items"))
    label = item[1]
    if isinstance(label, torch.Tensor):
        _check_label_tensor(label, None)
    elif isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise TypeError(f"labels must be integer class indices, got a label of type "
                        f"{type(label).__name__} ({label!r})")


class BatchStream:
    """Endless random mini-batches of ``data`` on ``device``, shaped ``(batch_size, *sample)``.

    The data is visited epoch by epoch in a random order without replacement; a last partial
    batch is dropped. The order of epoch ``e`` depends only on ``(seed, e)``, so the stream from
    any batch on is reproducible from ``consumed`` (the number of batches drawn so far), which
    is all a checkpoint stores to resume it exactly.

    Args:
        data: a floating tensor ``(N, ...)`` (e.g. 2-D points ``(N, 2)``), a dataset holding its
            samples in one tensor (``TensorImageDataset.images``, ``TensorDataset``), or any
            ``Dataset`` of tensors or ``(tensor, label)`` pairs. In-memory tensors are moved to
            ``device`` once and batches are gathered there (no ``DataLoader``); other datasets go
            through a ``DataLoader``.
        batch_size: samples per batch; at most ``N``.
        device: where batches live; ``None``: :func:`~gan_lessons.device.get_device`.
        seed: seeds the visiting order.
        start: batches to skip (continue a stream after ``start`` batches).
        num_workers: ``DataLoader`` workers (general datasets only).
        dtype: floating dtype of the batches (default float32).
        channels_last: return 4-D batches in the channels-last memory format.
        value_range: ``(low, high)``: refuse data outside it (e.g. ``(-1, 1)`` for images).
            NaN/Inf are refused always: in-memory data is checked whole when the stream is made,
            a general ``Dataset`` batch by batch (and its first batch by
            :meth:`check_first_batch`), each with a :class:`DataError` naming the data.
        labels: yield ``(x, y)`` pairs: ``x`` as without labels (the same batches in the same
            order) and ``y`` int64 class indices ``(batch_size,)`` on ``device``, taken from
            ``TensorImageDataset.labels``, ``TensorDataset(x, y)``'s ``y`` or the labels of
            ``(tensor, label)`` items (for conditional GANs).
        shard: ``(rank, world)`` for data-parallel training: the stream visits the data in the
            order of a single stream with batch ``world * batch_size`` and yields slice
            ``rank`` of each of its batches, so that ``world`` processes together see exactly
            what one process with the global batch sees (``consumed`` counts global batches).
            Default ``(0, 1)``: one process.
    """

    def __init__(self, data, batch_size: int, *, device: str | torch.device | None = None,
                 seed: int = 0, start: int = 0, num_workers: int = 0,
                 dtype: torch.dtype = torch.float32, channels_last: bool = False,
                 value_range: tuple[float, float] | None = None, labels: bool = False,
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.shard = check_shard(shard)
        world = self.shard[1]
        self.labels = check_bool(labels, "labels")
        self._labels: torch.Tensor | None = None  # in-memory labels (N,), int64 on device
        self.seed = check_int(seed, "seed", minimum=0)
        self.consumed = check_int(start, "start", minimum=0)
        self.device = get_device(device) if device is None else torch.device(device)
        self.channels_last = channels_last
        self.value_range = value_range
        tensor = _in_memory(data)
        if tensor is not None:
            if not tensor.is_floating_point():
                raise TypeError(f"data must hold floating-point samples (e.g. images in [-1, 1]),"
                                f" got dtype {tensor.dtype}")
            if tensor.ndim < 2:
                raise ValueError(f"data must have shape (N, ...) with a sample dimension, got "
                                 f"{tuple(tensor.shape)}; use x[:, None] for 1-D samples")
            check_values(tensor, value_range)
            self.num_samples = len(tensor)
            self.sample_shape = tuple(tensor.shape[1:])
            if self.labels:
                y = _in_memory_labels(data)
                if y is None:
                    kind = ("a plain tensor" if isinstance(data, torch.Tensor)
                            else f"a {type(data).__name__} without labels")
                    raise ValueError(_NO_LABELS.format(kind))
                self._labels = _check_label_tensor(y, len(tensor)).to(self.device, torch.long)
            self._tensor = tensor.to(self.device, dtype)
            self._dataset = None
        elif isinstance(data, Dataset):
            self.num_samples = len(data)  # type: ignore[arg-type]
            self._tensor = None
            self._dataset = data
            first = data[0] if self.num_samples else None
            self.sample_shape = tuple(_first_tensor(first).shape) if self.num_samples else ()
            if self.labels and self.num_samples:
                _check_item_label(first)
            self._dtype, self._num_workers = dtype, check_int(num_workers, "num_workers", 0)
        else:
            raise TypeError("data must be a tensor (N, ...), a TensorImageDataset or a torch "
                            f"Dataset, got {type(data).__name__}")
        if self.num_samples < self.batch_size * world:
            per = "" if world == 1 else f" divided by the {world} processes"
            raise ValueError(f"batch_size must be at most the number of samples{per} "
                             f"({self.num_samples // world}), got {self.batch_size}")
        self._iter: Iterator | None = None

    @property
    def batches_per_epoch(self) -> int:
        """Global batches per epoch (a last partial one is dropped)."""
        return self.num_samples // (self.batch_size * self.shard[1])

    def _tensor_batches(self) -> Iterator[torch.Tensor]:
        epoch, pos = divmod(self.consumed, self.batches_per_epoch)
        while True:  # one small host-to-device copy per epoch, none per batch
            perm = _epoch_permutation(self.num_samples, self.seed, epoch).to(self.device)
            for b in range(pos, self.batches_per_epoch):
                yield self._tensor[perm[_shard_range(b, self.batch_size, self.shard)]]
            epoch, pos = epoch + 1, 0

    def _labelled_tensor_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, pos = divmod(self.consumed, self.batches_per_epoch)
        while True:  # the same permutation as _tensor_batches, gathered from both tensors
            perm = _epoch_permutation(self.num_samples, self.seed, epoch).to(self.device)
            for b in range(pos, self.batches_per_epoch):
                idx = perm[_shard_range(b, self.batch_size, self.shard)]
                yield self._tensor[idx], self._labels[idx]
            epoch, pos = epoch + 1, 0

    def _loader_batches(self) -> Iterator[torch.Tensor]:
        loader = DataLoader(
            self._dataset, batch_sampler=_IndexBatches(self.num_samples, self.batch_size,
                                                       self.seed, self.consumed, self.shard),
            num_workers=self._num_workers, pin_memory=self.device.type == "cuda",
            # its own generator, so creating the loader does not draw from torch's global one
            generator=torch.Generator().manual_seed(self.seed),
            persistent_workers=self._num_workers > 0)
        for i, batch in enumerate(loader, self.consumed):
            y = self._batch_labels(batch, i) if self.labels else None
            batch = _first_tensor(batch)
            check_values(batch, self.value_range, f"data (batch {i})")  # on the CPU: no sync
            x = batch.to(self.device, self._dtype, non_blocking=True)
            yield x if y is None else (x, y.to(self.device, torch.long, non_blocking=True))

    def _batch_labels(self, batch, i: int) -> torch.Tensor:
        """The labels ``(B,)`` of a collated ``[x, y, ...]`` batch, checked."""
        y = batch[1] if isinstance(batch, list | tuple) and len(batch) > 1 else None
        if not isinstance(y, torch.Tensor):
            raise TypeError(f"labels must be integer class indices; batch {i} of data has "
                            f"labels of type {type(y).__name__}")
        return _check_label_tensor(y, self.batch_size)

    def check_first_batch(self) -> None:
        """Decode the next batch now and check it, without consuming it or any random state:
        bad files or values are found before training starts, not at its first step."""
        if self._dataset is None:
            return  # in-memory data was checked whole
        epoch, pos = divmod(self.consumed, self.batches_per_epoch)
        perm = _epoch_permutation(self.num_samples, self.seed, epoch)
        indices = perm[_shard_range(pos, self.batch_size, self.shard)].tolist()
        with torch.random.fork_rng(devices=[]):  # random transforms draw from a copy
            batch = torch.stack([_first_tensor(self._dataset[i]) for i in indices])
        check_values(batch, self.value_range, "data (its first batch)")

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The next batch ``x`` ``(B, *sample_shape)``, or ``(x, y)`` with labels ``y``
        ``(B,)`` int64 when the stream was made with ``labels=True``."""
        if self._iter is None:
            if self._tensor is None:
                self._iter = self._loader_batches()
            elif self.labels:
                self._iter = self._labelled_tensor_batches()
            else:
                self._iter = self._tensor_batches()
        batch = next(self._iter)
        self.consumed += 1
        if self.labels:
            x, y = batch
            if self.channels_last and x.ndim == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            return x, y
        if self.channels_last and batch.ndim == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch


def sample_shape(data) -> tuple[int, ...] | None:
    """The shape of one sample of ``data`` (a tensor or dataset), or ``None`` if it is empty."""
    tensor = _in_memory(data)
    if tensor is not None:
        return tuple(tensor.shape[1:])
    if isinstance(data, Dataset) and len(data):  # type: ignore[arg-type]
        return tuple(_first_tensor(data[0]).shape)
    return None


def num_classes(data) -> int | None:
    """The number of classes of ``data``: ``len(data.classes)`` when it has a non-empty
    ``classes`` list (``TensorImageDataset``, torchvision's ``ImageFolder``), else
    ``max(labels) + 1`` for in-memory labels ``(N,)`` (``TensorImageDataset.labels``,
    ``TensorDataset(x, y)``'s ``y``), else ``None`` (a plain tensor, or a dataset whose labels
    are not known without reading every item)."""
    classes = getattr(data, "classes", None)
    if isinstance(classes, list | tuple) and classes:
        return len(classes)
    if not isinstance(data, torch.Tensor | Dataset):
        raise TypeError(f"data must be a tensor (N, ...), a TensorImageDataset or a torch "
                        f"Dataset, got {type(data).__name__}")
    labels = _in_memory_labels(data)
    if labels is None:
        return None
    _check_label_tensor(labels, len(data))  # type: ignore[arg-type]
    return int(labels.max()) + 1 if len(labels) else None


def check_sample_shape(data, expected, owner: str) -> None:
    """Raise ValueError when ``data``'s samples do not have the shape ``expected``.

    ``expected`` is a model's ``config.data_shape`` (``None``: nothing to check); ``owner`` names
    the model in the message, e.g. ``"the discriminator"``.
    """
    shape = sample_shape(data)
    if expected is not None and shape is not None and shape != tuple(expected):
        raise ValueError(f"data has samples of shape {shape}, but {owner} expects "
                         f"{tuple(expected)} (its config.data_shape)")
