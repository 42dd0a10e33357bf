"""Data sets for the book: MNIST, CIFAR-10, a folder of your own images, and 2-D toy sets.

Every image data set yields ``(image, label)`` pairs where ``image`` is a float32 tensor of shape
``(C, H, W)`` scaled to ``[-1, 1]`` (the range a ``tanh`` generator produces) and ``label`` is an
int. :func:`to_image` undoes the scaling for display.

Where the files live (the *data root*) is decided at call time by :func:`data_root`: the ``root``
argument, else the environment variable ``GAN_LESSONS_DATA``, else ``~/.cache/gan_lessons/data``
(``$XDG_CACHE_HOME/gan_lessons/data`` when that is set). A missing data set is downloaded with
torchvision; when that is impossible (no internet) :class:`DatasetNotFoundError` says which files
were expected where. Importing this module downloads, seeds and writes nothing.

>>> from gan_lessons.data import load_dataset, to_image
>>> mnist = load_dataset("mnist")              # TensorImageDataset, images (60000, 1, 28, 28)
>>> x, y = mnist[0]                            # x: (1, 28, 28) in [-1, 1], y: int
>>> batch = mnist.images[:64].to(device)       # sample batches straight from the tensor
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import torch
from torch.utils.data import Dataset

from gan_lessons._validate import check_choice, check_float, check_int

if TYPE_CHECKING:
    from torchvision.datasets import ImageFolder

__all__ = [
    "DATASETS",
    "DATA_ENV_VAR",
    "IMAGE_EXTENSIONS",
    "TOY_DATASETS",
    "TOY_STD",
    "BadImageError",
    "DatasetNotFoundError",
    "ImageFileDataset",
    "TensorImageDataset",
    "as_tensor_dataset",
    "check_images",
    "data_root",
    "load_dataset",
    "load_rgb",
    "named_set",
    "to_image",
    "to_numpy_image",
    "toy_dataset",
    "toy_modes",
]

DATA_ENV_VAR = "GAN_LESSONS_DATA"
"""Name of the environment variable that sets the data root."""

DATASETS = ("mnist", "cifar10")
"""The named image data sets :func:`load_dataset` knows (any folder of images works too)."""

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_CIFAR_BATCHES = "cifar-10-batches-py"
_CIFAR_JPG = "cifar10-jpg"
_OFF = "downloading is off (download=False)"

FOLDER_DEFAULT_SIZE = 64
"""The size a folder's images are resized to when they do not all share one size."""


def named_set(name: str | os.PathLike) -> str | None:
    """The named data set that ``name`` means (lower case: ``"mnist"``, ``"cifar10"`` or a toy
    set such as ``"ring"``), or None when it means a folder.

    A name means a folder when it is a path object, when it is written as a path (it holds a
    ``/``, or starts with ``.`` or ``~``), or when a folder of that name exists in the working
    directory: ``"./cifar10"``, ``Path("cifar10")`` and (if such a folder exists) ``"cifar10"``
    all mean the folder, not the named set.
    """
    if not isinstance(name, str | os.PathLike):
        raise TypeError(f"name must be a str or a path, got {type(name).__name__}")
    if not isinstance(name, str) or not name:
        return None
    written_as_path = "/" in name or os.sep in name or name.startswith((".", "~"))
    if written_as_path or Path(name).is_dir():
        return None
    key = name.lower()
    return key if key in DATASETS + TOY_DATASETS else None


# --------------------------------------------------------------------------- data root


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds the data sets, decided now (not at import).

    ``root`` if given, else ``$GAN_LESSONS_DATA`` if set and non-empty, else the cache folder
    ``$XDG_CACHE_HOME/gan_lessons/data`` (``~/.cache/gan_lessons/data`` without XDG). ``~`` is
    expanded and the path made absolute; the folder is not created.
    """
    if root is None:
        root = os.environ.get(DATA_ENV_VAR) or None
    if root is None:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(cache) / "gan_lessons" / "data"
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a str, a path or None, got {type(root).__name__}")
    return Path(root).expanduser().absolute()


class DatasetNotFoundError(FileNotFoundError):
    """A named data set is not under the data root and could not be downloaded.

    The message names the files expected, the root searched and the ``GAN_LESSONS_DATA``
    variable. ``root`` and ``expected`` are also kept as attributes.
    """

    def __init__(self, message: str, root: Path | None = None, expected: Sequence[str] = ()):
        super().__init__(message)
        self.root = root
        self.expected = tuple(expected)


def _not_found(title: str, root: Path, expected: Sequence[str], reason: str) -> DatasetNotFoundError:
    lines = "\n".join(f"    {e}" for e in expected)
    message = (
        f"{title} was not found in the data root {root} and {reason}.\n"
        f"  Expected:\n{lines}\n"
        f"  Fix: put the files there, or point the data root at a folder that has them:\n"
        f"    export {DATA_ENV_VAR}=/path/to/data     (or pass root='/path/to/data')\n"
        f"  The data root is the `root` argument, else ${DATA_ENV_VAR}, else "
        f"~/.cache/gan_lessons/data."
    )
    return DatasetNotFoundError(message, root, expected)


def _mkdirs(path: Path) -> list[Path]:
    """``mkdir -p path``; returns the folders it created, outermost first."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _download(root: Path, fetch: Callable[[str], object], outputs: Sequence[str]) -> str | None:
    """Run ``fetch(tmp)`` in a fresh temporary folder under ``root``, then move each relative
    path in ``outputs`` from it into ``root``. Nothing half-written is left behind: the temporary
    folder is always removed, and so are folders created for it when the download fails.
    Returns None on success, else the reason for the failure.
    """
    created: list[Path] = []
    tmp = None
    try:
        created = _mkdirs(root)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
        fetch(str(tmp))
        for rel in outputs:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, root / rel)
    except Exception as exc:  # any network, disk or checksum failure
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp = None
        for folder in reversed(created):
            try:
                folder.rmdir()  # only if still empty
            except OSError:
                break
        text = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


# --------------------------------------------------------------------------- datasets


def _classes(classes) -> list[str] | None:
    """``classes`` as a list of str (or None)."""
    if classes is None:
        return None
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise TypeError(f"classes must be a list of str or None, got {type(classes).__name__}")
    return [str(c) for c in classes]


class TensorImageDataset(Dataset):
    """A whole image data set held in two tensors, for fast training.

    ``images`` is float32 ``(N, C, H, W)`` in ``[-1, 1]``; ``labels`` is int64 ``(N,)`` (zeros
    when not given). ``dataset[i]`` is ``(images[i], int(labels[i]))``; training loops can also
    index the tensors directly, e.g. ``dataset.images[idx]`` after ``dataset.to(device)``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None = None,
                 classes: Sequence[str] | None = None):
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
        if images.ndim != 4 or not images.is_floating_point():
            raise ValueError(f"images must be a float tensor (N, C, H, W), got "
                             f"{images.dtype} of shape {tuple(images.shape)}")
        if labels is None:
            labels = torch.zeros(len(images), dtype=torch.long, device=images.device)
        if not isinstance(labels, torch.Tensor):
            raise TypeError(f"labels must be a torch.Tensor or None, got {type(labels).__name__}")
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {tuple(labels.shape)}")
        self.images = images
        self.labels = labels.long()
        self.classes = _classes(classes)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])

    def to(self, device: torch.device | str) -> TensorImageDataset:
        """A copy with both tensors on ``device`` (``self`` if they are there already)."""
        images, labels = self.images.to(device), self.labels.to(device)
        if images is self.images and labels is self.labels:
            return self
        return TensorImageDataset(images, labels, self.classes)

    def __repr__(self) -> str:
        return (f"TensorImageDataset(images={tuple(self.images.shape)}, "
                f"device={self.images.device}, classes={self.classes})")


class ImageFileDataset(Dataset):
    """Images read lazily from files: ``dataset[i]`` opens ``samples[i][0]`` as RGB and applies
    ``transform`` (a PIL image in, a ``(3, H, W)`` tensor out). ``samples`` is a list of
    ``(path, label)``; ``classes`` the class names (``None`` for a flat folder)."""

    def __init__(self, samples: Sequence[tuple[str, int]], transform: Callable,
                 classes: Sequence[str] | None = None):
        if isinstance(samples, str | bytes) or not isinstance(samples, Sequence):
            raise TypeError(f"samples must be a list of (path, label) pairs, "
                            f"got {type(samples).__name__}")
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.samples = list(samples)
        self.transform = transform
        self.classes = _classes(classes)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return self.transform(load_rgb(path)), label

    def __repr__(self) -> str:
        return f"ImageFileDataset({len(self)} images, classes={self.classes})"


class BadImageError(ValueError):
    """An image file that cannot be decoded (truncated, corrupt, not an image). The message
    names every bad file; ``paths`` holds them."""

    def __init__(self, message: str, paths: Sequence[str] = ()):
        super().__init__(message)
        self.paths = tuple(paths)


_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def load_rgb(path: str | os.PathLike):
    """Open and fully decode one image file as an 8-bit RGB PIL image.

    16-bit grey images (PIL modes ``I;16*`` and ``I``, e.g. 16-bit PNGs) are scaled from
    ``[0, 65535]`` to ``[0, 255]`` (PIL's own ``convert("RGB")`` clips them to white).
    A file that cannot be decoded (e.g. a truncated JPEG) raises :class:`BadImageError` naming it.
    """
    import numpy as np
    from PIL import Image

    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no image file {os.fspath(path)}")
    try:
        with Image.open(path) as img:
            img.load()  # decode now, so that a truncated file fails here, with its name
            if img.mode in _SIXTEEN_BIT_MODES:
                grey = np.asarray(img).astype(np.float64) / 257.0  # 65535 -> 255
                img = Image.fromarray(grey.clip(0, 255).round().astype(np.uint8), mode="L")
            return img.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImageError(f"cannot decode the image {os.fspath(path)}: "
                            f"{type(exc).__name__}: {exc}", [os.fspath(path)]) from exc


def _uint8_to_float(images: torch.Tensor, image_size: int | None) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` in [0, 255] -> float32 ``(N, C, S, S)`` in [-1, 1], resized with
    antialiasing when ``image_size`` is given (in chunks, to bound the memory used)."""
    n, c, h, w = images.shape
    size = (h, w) if image_size is None else (image_size, image_size)
    if size == (h, w):
        return images.float().div_(127.5).sub_(1.0)
    out = torch.empty((n, c, *size), dtype=torch.float32)
    for start in range(0, n, 8192):
        chunk = images[start:start + 8192].float().div_(127.5).sub_(1.0)
        out[start:start + 8192] = torch.nn.functional.interpolate(
            chunk, size=size, mode="bilinear", antialias=True, align_corners=False
        ).clamp_(-1.0, 1.0)
    return out


def _pil_transform(image_size: int | None, crop: bool) -> Callable:
    """PIL image -> float32 ``(3, H, W)`` in [-1, 1], resized (and center-cropped) if asked."""
    from torchvision.transforms import v2

    steps = []
    if image_size is not None:
        steps.append(v2.Resize(image_size, antialias=True))
        if crop:
            steps.append(v2.CenterCrop(image_size))
    steps += [v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
              v2.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]
    return v2.Compose(steps)


def _load_mnist(root: Path, train: bool, image_size: int | None,
                download: bool) -> TensorImageDataset:
    from torchvision import datasets

    raw = root / "MNIST" / "raw"
    if not all((raw / f).is_file() for f in _MNIST_FILES):
        expected = [str(raw / f) for f in _MNIST_FILES]
        if not download:
            raise _not_found("MNIST", root, expected, _OFF)
        reason = _download(
            root, lambda tmp: datasets.MNIST(tmp, train=train, download=True),
            [f"MNIST/raw/{f}" for f in _MNIST_FILES],
        )
        if reason is not None:
            raise _not_found("MNIST", root, expected, f"could not be downloaded ({reason})")
    mnist = datasets.MNIST(str(root), train=train, download=False)
    images = _uint8_to_float(mnist.data.unsqueeze(1), image_size)  # (N, 28, 28) -> (N, 1, S, S)
    return TensorImageDataset(images, mnist.targets, list(mnist.classes))


def _load_cifar10(root: Path, train: bool, image_size: int | None,
                  download: bool) -> TensorImageDataset | ImageFolder:
    from torchvision import datasets

    split = "train" if train else "test"
    batches, jpg = root / _CIFAR_BATCHES, root / _CIFAR_JPG / split
    if not batches.is_dir() and jpg.is_dir():
        # The offline copy: 60,000 JPEGs, decoded lazily (see as_tensor_dataset).
        return datasets.ImageFolder(str(jpg), transform=_pil_transform(image_size, crop=False),
                                    loader=load_rgb)
    expected = [f"{batches}{os.sep}  (torchvision's CIFAR-10 batches)",
                f"{jpg}{os.sep}<class>{os.sep}*.jpg  (an ImageFolder copy)"]
    if not batches.is_dir():
        if not download:
            raise _not_found("CIFAR-10", root, expected, _OFF)
        reason = _download(
            root, lambda tmp: datasets.CIFAR10(tmp, train=train, download=True), [_CIFAR_BATCHES]
        )
        if reason is not None:
            raise _not_found("CIFAR-10", root, expected, f"could not be downloaded ({reason})")
    try:
        cifar = datasets.CIFAR10(str(root), train=train, download=False)
    except RuntimeError:  # torchvision's checksum test failed
        raise _not_found("CIFAR-10", root, expected, f"the files in {batches} are corrupt") from None
    images = torch.from_numpy(cifar.data).permute(0, 3, 1, 2)  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    return TensorImageDataset(_uint8_to_float(images, image_size),
                              torch.tensor(cifar.targets), list(cifar.classes))


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def _visible_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), skipping hidden files and folders.

    Symbolic links are followed, but every real folder is walked and every real file counted
    once (a link loop, or two links to one folder, would otherwise repeat its images).
    """
    found, seen_dirs, seen_files = [], set(), set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen_dirs:
            dirnames[:] = []  # walked already (a link loop or a second link to it)
            continue
        seen_dirs.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            path = Path(dirpath, f)
            if _is_image(path) and os.path.realpath(path) not in seen_files:
                seen_files.add(os.path.realpath(path))
                found.append(path)
    return found


def _folder_size(files: Sequence[Path]) -> int:
    """The size a folder's images are loaded at when none is asked for: their own size when
    they all share one square size; the shorter side when they share one oblong size (center
    crop); else :data:`FOLDER_DEFAULT_SIZE`. Reads only the image headers. Warns unless the
    images are all one square size, so that a resize is never silent."""
    from PIL import Image

    sizes = set()
    for f in files:
        try:
            with Image.open(f) as img:
                sizes.add(img.size)  # (width, height)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue  # check_images (or loading) names the bad file later
    if len(sizes) == 1:
        (width, height), = sizes
        if width == height:
            return width
        side = min(width, height)
        warnings.warn(f"the images are {width} x {height} (width x height): each is "
                      f"center-cropped to {side} x {side}, as the models take square images; "
                      f"pass image_size to resize them", stacklevel=3)
        return side
    if sizes:
        smallest = min(sizes, key=lambda s: s[0] * s[1])
        largest = max(sizes, key=lambda s: s[0] * s[1])
        warnings.warn(f"the images have {len(sizes)} different sizes (from {smallest[0]} x "
                      f"{smallest[1]} to {largest[0]} x {largest[1]}): each is resized and "
                      f"center-cropped to {FOLDER_DEFAULT_SIZE} x {FOLDER_DEFAULT_SIZE}; pass "
                      f"image_size to choose the size", stacklevel=3)
    return FOLDER_DEFAULT_SIZE


def _load_folder(folder: Path, image_size: int | None) -> ImageFileDataset:
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    per_class = [(d.name, _visible_files(d)) for d in subdirs]
    per_class = [(name, files) for name, files in per_class if files]
    files = sorted(p for p in folder.iterdir() if p.is_file() and _is_image(p))
    if per_class and files:
        in_classes = sum(len(f) for _, f in per_class)
        raise ValueError(
            f"name: the folder {folder} has {len(files)} images at its top level (e.g. "
            f"{files[0].name}) and {in_classes} in {len(per_class)} class subfolders; a folder "
            f"holds either images (one class) or one subfolder per class, not both. Move the "
            f"top-level images into a subfolder, or point name at one of the subfolders"
        )
    if not per_class and not files:
        raise FileNotFoundError(
            f"no images in {folder}: expected image files ({', '.join(IMAGE_EXTENSIONS)}) "
            f"directly in it, or in one subfolder per class"
        )
    all_files = files or [f for _, class_files in per_class for f in class_files]
    if image_size is None:
        image_size = _folder_size(all_files)
    transform = _pil_transform(image_size, crop=True)
    if per_class:  # class subfolders, as ImageFolder reads them
        samples = [(str(f), i) for i, (_, files) in enumerate(per_class) for f in files]
        return ImageFileDataset(samples, transform, [name for name, _ in per_class])
    return ImageFileDataset([(str(f), 0) for f in files], transform)


@overload
def load_dataset(name: Literal["mnist"], root: str | os.PathLike | None = None,
                 train: bool = True, image_size: int | None = None, *,
                 download: bool = True) -> TensorImageDataset: ...


@overload
def load_dataset(name: str | os.PathLike, root: str | os.PathLike | None = None,
                 train: bool = True, image_size: int | None = None, *,
                 download: bool = True) -> TensorImageDataset | ImageFileDataset | ImageFolder:
    ...


def load_dataset(name: str | os.PathLike, root: str | os.PathLike | None = None,
                 train: bool = True, image_size: int | None = None, *,
                 download: bool = True) -> TensorImageDataset | ImageFileDataset | ImageFolder:
    """Load an image data set whose items are ``(image, label)``, ``image`` float32 ``(C, H, W)``
    in ``[-1, 1]``.

    Args:
        name: ``"mnist"`` (``(1, 28, 28)``), ``"cifar10"`` (``(3, 32, 32)``), or the path of a
            folder of your own images: one subfolder per class (as ``ImageFolder`` reads them)
            or the images directly in the folder (all labelled 0). Names ignore case; a
            name written as a path (``"./cifar10"``) or naming an existing folder means that
            folder (see :func:`named_set`).
        root: the data root for the named sets (see :func:`data_root`); unused for a folder.
        train: the training split (``True``) or the test split.
        image_size: resize to ``(image_size, image_size)`` (a folder's images: resize the
            shorter side, then center-crop). If not given, the named sets keep their own size
            (28, 32) and a folder's images theirs when they all share one size; otherwise
            they are center-cropped to the shorter side (one oblong size) or made 64 x 64
            (mixed sizes), with a warning that says so.
        download: if a named set is missing, download it with torchvision into the data root
            (through a temporary folder, so a failure leaves nothing half-written).

    Returns:
        MNIST, and CIFAR-10 in torchvision's format, as a :class:`TensorImageDataset` (decoded
        once, in memory: ``.images`` is ``(N, C, H, W)``); the offline CIFAR-10 JPEG copy (``<root>/cifar10-jpg/``) as a lazy
        ``ImageFolder`` and a folder as a lazy :class:`ImageFileDataset` -- pass those to
        :func:`as_tensor_dataset` to decode them (or a subset) once for fast training.

    Raises:
        DatasetNotFoundError: a named set is missing and cannot be downloaded.
        ValueError, TypeError: an argument is invalid (the message names it).
    """
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {type(train).__name__}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {type(download).__name__}")
    if image_size is not None:
        image_size = check_int(image_size, "image_size", minimum=1)
    if not isinstance(name, str | os.PathLike):
        raise TypeError(f"name must be one of {DATASETS} or a folder path, "
                        f"got {type(name).__name__}")
    if named_set(name) in DATASETS:
        loader = _load_mnist if named_set(name) == "mnist" else _load_cifar10
        return loader(data_root(root), train, image_size, download)
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise ValueError(f"name must be one of {DATASETS} or an existing folder of images, "
                         f"got {os.fspath(name)!r} (no folder {folder.absolute()})")
    return _load_folder(folder, image_size)


def as_tensor_dataset(dataset: Dataset, limit: int | None = None, progress: bool = True, *,
                      seed: int = 0) -> TensorImageDataset:
    """Decode ``dataset`` (or ``limit`` of its items) once into a :class:`TensorImageDataset`
    (a :class:`TensorImageDataset` comes back as is, or as the chosen subset).

    With ``limit`` smaller than the data set, a random subset (fixed by ``seed``, kept in the
    data set's order) is taken, so a class-sorted folder still gives every class. Items must be
    ``(image, label)`` with images of one shape ``(C, H, W)``. Shows a tqdm bar if ``progress``.
    """
    if not isinstance(dataset, Dataset) or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be a torch Dataset with a length, got "
                        f"{type(dataset).__name__}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    n = len(dataset)
    if limit is not None:
        limit = check_int(limit, "limit", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    if limit is not None and limit < n:
        gen = torch.Generator().manual_seed(seed)
        indices = torch.randperm(n, generator=gen)[:limit].sort().values.tolist()
    else:
        indices = list(range(n))
    classes = getattr(dataset, "classes", None)
    if isinstance(dataset, TensorImageDataset):
        if len(indices) == n:
            return dataset
        idx = torch.tensor(indices, device=dataset.images.device)
        return TensorImageDataset(dataset.images[idx], dataset.labels[idx], classes)
    from tqdm.auto import tqdm

    images, labels = [], []
    for i in tqdm(indices, desc="decoding images", disable=not progress):
        image, label = dataset[i]
        images.append(image)
        labels.append(int(label))
    return TensorImageDataset(torch.stack(images), torch.tensor(labels), classes)


def check_images(dataset: Dataset, limit: int | None = None, progress: bool = False) -> int:
    """Check a data set before training: every file decodes, every value is finite and in
    ``[-1, 1]``. Returns how many items were checked; raises if any is bad.

    * A data set read from files (``dataset.samples`` holds ``(path, label)`` pairs: an
      :class:`ImageFileDataset` from a folder, or the offline CIFAR-10 ``ImageFolder``) has each
      file decoded (not transformed), the first ``limit`` of them if given. All bad files are
      reported at once in one :class:`BadImageError` that names them (e.g. a truncated JPEG).
    * A :class:`TensorImageDataset` has its images checked for NaN/inf and for values outside
      ``[-1, 1]`` (e.g. data still in ``[0, 255]`` or ``[0, 1]``): ``ValueError``.
    * Any other data set has its first ``limit`` items (all if ``None``) loaded.

    Meant to run before the first training step, so that bad data fails in seconds, with the
    file's name, instead of mid-training.
    """
    if not isinstance(dataset, Dataset) or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be a torch Dataset with a length, got "
                        f"{type(dataset).__name__}")
    if limit is not None:
        limit = check_int(limit, "limit", minimum=1)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    if isinstance(dataset, TensorImageDataset):
        images = dataset.images if limit is None else dataset.images[:limit]
        _check_image_range(images, "dataset.images")
        return len(images)
    from tqdm.auto import tqdm

    samples = getattr(dataset, "samples", None)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    if not isinstance(samples, Sequence):
        for i in tqdm(range(n), desc="checking items", disable=not progress):
            dataset[i]
        return n
    bad = []
    for path, _ in tqdm(samples[:n], desc="checking images", disable=not progress):
        try:
            load_rgb(path)
        except BadImageError as exc:
            bad.append((os.fspath(path), str(exc)))
    if bad:
        shown = "\n".join(f"  {message}" for _, message in bad[:10])
        more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise BadImageError(f"{len(bad)} of {n} image files cannot be decoded; fix or remove "
                            f"them:\n{shown}{more}", [path for path, _ in bad])
    return n


def _check_image_range(images: torch.Tensor, name: str) -> None:
    """Raise ValueError unless ``images`` is finite and within ``[-1, 1]`` (1e-4 slack)."""
    if images.numel() == 0:
        return
    finite = torch.isfinite(images)
    if not bool(finite.all()):
        first = int((~finite).flatten(1).any(1).nonzero()[0])
        raise ValueError(f"{name} holds NaN or inf values (the first in image {first}): "
                         f"the data are bad, fix them before training")
    low, high = float(images.min()), float(images.max())
    if low < -1.0 - 1e-4 or high > 1.0 + 1e-4:
        raise ValueError(f"{name} must be scaled to [-1, 1] (the range of the tanh generator), "
                         f"got values in [{low:g}, {high:g}]; from [0, 255] use x / 127.5 - 1, "
                         f"from [0, 1] use 2 * x - 1")


# --------------------------------------------------------------------------- display


def to_image(x: torch.Tensor) -> torch.Tensor:
    """Undo the ``[-1, 1]`` scaling for display: ``(x + 1) / 2`` clamped to ``[0, 1]``.

    ``x`` is ``(C, H, W)`` or ``(B, C, H, W)``; the result has the same shape and device, is
    float and detached from the autograd graph.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"x must have shape (C, H, W) or (B, C, H, W), got {tuple(x.shape)}")
    x = x.detach()
    if not x.is_floating_point():
        x = x.float()
    return ((x + 1) / 2).clamp(0.0, 1.0)


def to_numpy_image(x: torch.Tensor):
    """A ``(C, H, W)`` image in ``[-1, 1]`` as a numpy array for ``plt.imshow``: ``(H, W, 3)``
    in ``[0, 1]``, or ``(H, W)`` for one channel (show it with ``cmap="gray"``). A batch
    ``(B, C, H, W)`` gives ``(B, H, W, C)``."""
    img = to_image(x).cpu()
    img = img.permute(1, 2, 0) if img.ndim == 3 else img.permute(0, 2, 3, 1)
    if img.shape[-1] == 1 and x.ndim == 3:
        img = img[..., 0]
    return img.numpy()


# --------------------------------------------------------------------------- 2-D toy sets

TOY_DATASETS = ("ring", "grid", "moons", "spiral")
"""The 2-D toy distributions of :func:`toy_dataset`."""

TOY_STD = {"ring": 0.05, "grid": 0.05, "moons": 0.1, "spiral": 0.1}
"""Default noise std per toy set (for ``ring`` and ``grid``, each mode's std)."""


def toy_modes(name: str) -> torch.Tensor:
    """The mode centres ``(K, 2)`` of a mixture toy set: ``"ring"`` (8 on a circle of radius 2)
    or ``"grid"`` (25 at ``{-4, -2, 0, 2, 4}²``). Each mode's std is ``TOY_STD[name]``."""
    check_choice(name, "name", ("ring", "grid"))
    if name == "ring":
        angles = torch.arange(8, dtype=torch.float32) * (2 * math.pi / 8)
        return 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    axis = torch.arange(-4.0, 5.0, 2.0)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([gx.flatten(), gy.flatten()], dim=1)


def toy_dataset(name: str, n: int = 1000, seed: int = 0, *, std: float | None = None) -> torch.Tensor:
    """``n`` points ``(n, 2)`` float32 from a 2-D toy distribution, the same for the same seed.

    * ``"ring"``: 8 Gaussians on a circle of radius 2; ``"grid"``: 25 Gaussians on a 5×5 grid
      from -4 to 4 (see :func:`toy_modes`), each mode equally likely.
    * ``"moons"``: two interleaving half circles (about ``[-3, 3] × [-1.5, 1.5]``).
    * ``"spiral"``: one arm of 1.5 turns out to radius 4, points spread about evenly along it.

    ``std`` is the Gaussian noise (default ``TOY_STD[name]``). Uses its own generator, so the
    global random state is untouched.
    """
    check_choice(name, "name", TOY_DATASETS)
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    if std is None:
        std = TOY_STD[name]
    std = check_float(std, "std", minimum=0.0)
    gen = torch.Generator().manual_seed(seed)
    if name in ("ring", "grid"):
        modes = toy_modes(name)
        centres = modes[torch.randint(len(modes), (n,), generator=gen)]
    elif name == "moons":
        t = torch.rand(n, generator=gen) * math.pi
        upper = torch.rand(n, generator=gen) < 0.5
        x = torch.where(upper, t.cos(), 1 - t.cos())
        y = torch.where(upper, t.sin(), 0.5 - t.sin())
        centres = 2.0 * torch.stack([x - 0.5, y - 0.25], dim=1)
    else:  # spiral
        t = 3 * math.pi * torch.rand(n, generator=gen).sqrt()
        centres = (4 / (3 * math.pi)) * torch.stack([t * t.cos(), t * t.sin()], dim=1)
    return centres + std * torch.randn(n, 2, generator=gen)
