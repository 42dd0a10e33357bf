"""Endless, reproducible random mini-batches from in-memory tensors or any ``Dataset``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ._validate import check_int
from .device import get_device

__all__ = ["BatchStream", "DataError", "check_sample_shape", "sample_shape"]

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


class _IndexBatches:
    """Endless lists of indices, epoch by epoch without replacement (``drop_last``), starting
    at batch ``start``; a ``batch_sampler`` for ``DataLoader``."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int) -> None:
        self.n, self.batch_size, self.seed, self.start = n, batch_size, seed, start

    def __iter__(self) -> Iterator[list[int]]:
        per_epoch = self.n // self.batch_size
        epoch, pos = divmod(self.start, per_epoch)
        while True:
            perm = _epoch_permutation(self.n, self.seed, epoch).tolist()
            for b in range(pos, per_epoch):
                yield perm[b * self.batch_size:(b + 1) * self.batch_size]
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
    """

    def __init__(self, data, batch_size: int, *, device: str | torch.device | None = None,
                 seed: int = 0, start: int = 0, num_workers: int = 0,
                 dtype: torch.dtype = torch.float32, channels_last: bool = False,
                 value_range: tuple[float, float] | None = None) -> None:
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
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
            self._tensor = tensor.to(self.device, dtype)
            self._dataset = None
        elif isinstance(data, Dataset):
            self.num_samples = len(data)  # type: ignore[arg-type]
            self._tensor = None
            self._dataset = data
            self.sample_shape = tuple(_first_tensor(data[0]).shape) if self.num_samples else ()
            self._dtype, self._num_workers = dtype, check_int(num_workers, "num_workers", 0)
        else:
            raise TypeError("data must be a tensor (N, ...), a TensorImageDataset or a torch "
                            f"Dataset, got {type(data).__name__}")
        if self.num_samples < self.batch_size:
            raise ValueError(f"batch_size must be at most the number of samples "
                             f"({self.num_samples}), got {self.batch_size}")
        self._iter: Iterator[torch.Tensor] | None = None

    def _tensor_batches(self) -> Iterator[torch.Tensor]:
        per_epoch = self.num_samples // self.batch_size
        epoch, pos = divmod(self.consumed, per_epoch)
        while True:  # one small host-to-device copy per epoch, none per batch
            perm = _epoch_permutation(self.num_samples, self.seed, epoch).to(self.device)
            for b in range(pos, per_epoch):
                yield self._tensor[perm[b * self.batch_size:(b + 1) * self.batch_size]]
            epoch, pos = epoch + 1, 0

    def _loader_batches(self) -> Iterator[torch.Tensor]:
        loader = DataLoader(
            self._dataset, batch_sampler=_IndexBatches(self.num_samples, self.batch_size,
                                                       self.seed, self.consumed),
            num_workers=self._num_workers, pin_memory=self.device.type == "cuda",
            # its own generator, so creating the loader does not draw from torch's global one
            generator=torch.Generator().manual_seed(self.seed),
            persistent_workers=self._num_workers > 0)
        for i, batch in enumerate(loader, self.consumed):
            batch = _first_tensor(batch)
            check_values(batch, self.value_range, f"data (batch {i})")  # on the CPU: no sync
            yield batch.to(self.device, self._dtype, non_blocking=True)

    def check_first_batch(self) -> None:
        """Decode the next batch now and check it, without consuming it or any random state:
        bad files or values are found before training starts, not at its first step."""
        if self._dataset is None:
            return  # in-memory data was checked whole
        per_epoch = self.num_samples // self.batch_size
        epoch, pos = divmod(self.consumed, per_epoch)
        perm = _epoch_permutation(self.num_samples, self.seed, epoch)
        indices = perm[pos * self.batch_size:(pos + 1) * self.batch_size].tolist()
        with torch.random.fork_rng(devices=[]):  # random transforms draw from a copy
            batch = torch.stack([_first_tensor(self._dataset[i]) for i in indices])
        check_values(batch, self.value_range, "data (its first batch)")

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> torch.Tensor:
        if self._iter is None:
            self._iter = (self._tensor_batches() if self._tensor is not None
                          else self._loader_batches())
        batch = next(self._iter)
        self.consumed += 1
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


def check_sample_shape(data, expected, owner: str) -> None:
    """Raise ValueError when ``data``'s samples do not have the shape ``expected``.

    ``expected`` is a model's ``config.data_shape`` (``None``: nothing to check); ``owner`` names
    the model in the message, e.g. ``"the discriminator"``.
    """
    shape = sample_shape(data)
    if expected is not None and shape is not None and shape != tuple(expected):
        raise ValueError(f"data has samples of shape {shape}, but {owner} expects "
                         f"{tuple(expected)} (its config.data_shape)")
