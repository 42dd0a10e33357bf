"""Feature networks: the classifiers that turn images into the features the metrics compare.

FID, KID and precision/recall compare two sets of images through the features of a fixed
network, and the Inception Score reads a classifier's predictions. The standard network is
pytorch-fid's InceptionV3, whose weights are a download; this book ships its own domain networks
instead, small classifiers trained on the data set itself (the practice of TF-GAN's
``mnist_frechet_distance`` and the "Fréchet LeNet distance"):

* ``"mnist"``: :class:`FeatureClassifier` for ``(N, 1, 28, 28)`` digits, 128-d features;
* ``"cifar10"``: :class:`FeatureClassifier` for ``(N, 3, 32, 32)`` CIFAR-10 images, 256-d;
* ``"inception"``: :class:`FIDInceptionV3`, the standard FID network (2048-d pool3 features),
  given a local copy of ``pt_inception-2015-12-05-6726825d.pth``.

>>> net = load_feature_net("mnist")                      # doctest: +SKIP
>>> net.features(x).shape, net.logits(x).shape           # x: (N, 1, 28, 28) in [-1, 1]
(torch.Size([N, 128]), torch.Size([N, 10]))

Scores computed with different feature networks are not comparable with each other: an MNIST
FID of 2 and a CIFAR-10 Inception FID of 2 measure different things.

The bundled classifiers are reproduced by ``scripts/make_pretrained.sh features``, which runs
(on one CPU thread; the registry records each command and its training time)::

    python -m gan_lessons.feature_nets train mnist --amp --out runs/pretrained/feature_mnist.pt
    python -m gan_lessons.feature_nets train cifar10 --epochs 10 --amp \\
        --out runs/pretrained/feature_cifar10.pt
    python -m gan_lessons.feature_nets accuracy cifar10 [--weights FILE] [--limit N]

Importing this module reads no file and downloads nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_bool, check_choice, check_float, check_int
from .models import register_family

__all__ = [
    "FEATURE_NET_CONFIGS",
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "FIDInceptionV3",
    "FeatureClassifier",
    "FeatureClassifierConfig",
    "TrainRecipe",
    "classifier_accuracy",
    "load_feature_net",
    "load_uint8_images",
    "train_feature_classifier",
]

INCEPTION_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
"""The file name of pytorch-fid's FID Inception weights (the TF 2015-12-05 graph, ported)."""

INCEPTION_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                         + INCEPTION_WEIGHTS_FILE)
"""Where pytorch-fid downloads the FID Inception weights from."""

INCEPTION_WEIGHTS_ENV = "GAN_LESSONS_INCEPTION_WEIGHTS"
"""The environment variable that names a local copy of the FID Inception weights."""

_INCEPTION_SHA256_PREFIX = "6726825d"  # torch.hub convention: the file name holds its hash


# --------------------------------------------------------------------------- checks


def _check_images(x: Any, name: str, channels: tuple[int, ...],
                  size: tuple[int, int] | None) -> None:
    """``x`` must be a finite floating-point tensor ``(N, C, H, W)`` with C in ``channels`` and
    ``(H, W) == size`` (any size if ``size`` is None)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of images, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor with values in [-1, 1], "
                        f"got dtype {x.dtype}")
    want = "(N, C, H, W)" if size is None else f"(N, C, {size[0]}, {size[1]})"
    want = want.replace("C", "/".join(map(str, channels)))
    if x.ndim != 4 or x.shape[0] < 1 or x.shape[1] not in channels or (
            size is not None and tuple(x.shape[2:]) != size):
        raise ValueError(f"{name} must have shape {want} with N >= 1, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} holds NaN or Inf values")


# --------------------------------------------------------------------------- the classifiers


@dataclass(frozen=True)
class FeatureClassifierConfig:
    """A small VGG-style classifier whose penultimate layer gives the features.

    Attributes:
        channels: image channels (1 for MNIST, 3 for CIFAR-10).
        image_size: height and width of the (square) input images.
        stem_width: channels of the first convolution, at full resolution.
        widths: channels of the three stages; each stage is conv-BN-ReLU, 2x2 max-pool,
            conv-BN-ReLU, halving the resolution. ``widths[-1]`` is the feature size ``D``.
        num_classes: number of classes of :meth:`FeatureClassifier.logits`.
        logit_scale: a fixed factor on the logits (0.125, as in Page's fast CIFAR-10 ResNet),
            which keeps early SGD steps with a large learning rate stable.
    """

    channels: int = 3
    image_size: int = 32
    stem_width: int = 32
    widths: tuple[int, ...] = (64, 128, 256)
    num_classes: int = 10
    logit_scale: float = 0.125

    def __post_init__(self) -> None:
        check_int(self.channels, "channels", minimum=1)
        check_int(self.image_size, "image_size", minimum=8)
        check_int(self.stem_width, "stem_width", minimum=1)
        widths = tuple(self.widths)
        if len(widths) != 3:
            raise ValueError(f"widths must hold 3 stage widths, got {len(widths)}")
        for w in widths:
            check_int(w, "widths", minimum=1)
        object.__setattr__(self, "widths", widths)  # a list from asdict() comes back a tuple
        check_int(self.num_classes, "num_classes", minimum=2)
        check_float(self.logit_scale, "logit_scale", minimum=0.0, exclusive_minimum=True)

    @property
    def feature_dim(self) -> int:
        """``D``, the size of :meth:`FeatureClassifier.features`."""
        return self.widths[-1]


FEATURE_NET_CONFIGS: dict[str, FeatureClassifierConfig] = {
    "mnist": FeatureClassifierConfig(channels=1, image_size=28, stem_width=32,
                                     widths=(32, 64, 128)),
    "cifar10": FeatureClassifierConfig(channels=3, image_size=32, stem_width=32,
                                       widths=(64, 128, 256)),
}
"""The configs of the bundled classifiers by data set name."""


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class FeatureClassifier(nn.Module):
    """A small classifier: ``features`` (global max-pool of the last stage) and ``logits``.

    Shapes for the CIFAR-10 config: ``(N, 3, 32, 32)`` -> stem ``(N, 32, 32, 32)`` -> stages
    ``(N, 64, 16, 16)``, ``(N, 128, 8, 8)``, ``(N, 256, 4, 4)`` -> max-pool ``(N, 256)`` ->
    linear ``(N, 10)``. MNIST: 28 -> 14 -> 7 -> 3, features ``(N, 128)``.
    """

    def __init__(self, config: FeatureClassifierConfig | None = None) -> None:
        super().__init__()
        if config is None:
            config = FeatureClassifierConfig()
        if not isinstance(config, FeatureClassifierConfig):
            raise TypeError(f"config must be a FeatureClassifierConfig, got "
                            f"{type(config).__name__}")
        self.config = config
        layers = _conv_bn(config.channels, config.stem_width)
        c_in = config.stem_width
        for width in config.widths:
            layers += [*_conv_bn(c_in, width), nn.MaxPool2d(2), *_conv_bn(width, width)]
            c_in = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, config.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _check(self, x: Any, name: str = "x") -> torch.Tensor:
        c = self.config
        _check_images(x, name, (c.channels,), (c.image_size, c.image_size))
        return x.to(self.head.weight.dtype)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amax(self.body(x), dim=(2, 3))  # (N, D, h, w) -> (N, D)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` images in [-1, 1] -> ``(N, D)`` penultimate-layer features."""
        return self._features(self._check(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` images in [-1, 1] -> ``(N, num_classes)`` class logits."""
        return self.forward(x)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, D)`` features and ``(N, num_classes)`` logits from one forward pass."""
        f = self._features(self._check(x))
        return f, self.head(f) * self.config.logit_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits ``(N, num_classes)``, as :meth:`logits`."""
        return self.head(self._features(self._check(x))) * self.config.logit_scale


register_family("feature_classifier", FeatureClassifierConfig, classifier=FeatureClassifier)


# --------------------------------------------------------------------------- FID Inception


def _fid_blocks():
    """The four Inception blocks whose forward passes differ in the TF FID graph (average
    pooling without the padded zeros; max pooling in the last block), as torchvision
    subclasses with the same parameter names."""
    from torchvision.models import inception as tvi

    def pool(x):
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class FIDInceptionA(tvi.InceptionA):
        def forward(self, x):
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(pool(x))], 1)

    class FIDInceptionC(tvi.InceptionC):
        def forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = x
            for i in range(1, 6):
                d = getattr(self, f"branch7x7dbl_{i}")(d)
            return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(pool(x))], 1)

    class FIDInceptionE(tvi.InceptionE):
        def __init__(self, in_channels: int, max_pool: bool) -> None:
            super().__init__(in_channels)
            self.max_pool = max_pool

        def forward(self, x):
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
            p = (F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool
                 else pool(x))
            return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(p)], 1)

    return FIDInceptionA, FIDInceptionC, FIDInceptionE


class FIDInceptionV3(nn.Module):
    """The standard FID network: InceptionV3 as in pytorch-fid (``use_fid_inception=True``).

    torchvision's ``inception_v3`` trunk (1008 classes, no auxiliary head) with the FID graph's
    Mixed blocks. :meth:`features` resizes ``(N, 3, H, W)`` images in [-1, 1] bilinearly to
    299x299 and returns the 2048-d pool3 features; :meth:`logits` the 1008 class logits used by
    the Inception Score. Grayscale ``(N, 1, H, W)`` images are repeated to 3 channels.

    Built with random weights; load pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` with
    ``load_state_dict`` (or use :func:`load_feature_net`) before measuring anything.
    """

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        net = inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
        block_a, block_c, block_e = _fid_blocks()
        net.Mixed_5b = block_a(192, pool_features=32)
        net.Mixed_5c = block_a(256, pool_features=64)
        net.Mixed_5d = block_a(288, pool_features=64)
        net.Mixed_6b = block_c(768, channels_7x7=128)
        net.Mixed_6c = block_c(768, channels_7x7=160)
        net.Mixed_6d = block_c(768, channels_7x7=160)
        net.Mixed_6e = block_c(768, channels_7x7=192)
        net.Mixed_7b = block_e(1280, max_pool=False)
        net.Mixed_7c = block_e(2048, max_pool=True)
        names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                 "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
                 "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b",
                 "Mixed_7c"]
        for name in names:  # same parameter names as the weights file (and torchvision)
            self.add_module(name, getattr(net, name))
        self.fc = net.fc
        self._trunk = names

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = (x + 1) / 2  # [-1, 1] -> [0, 1], what pytorch-fid takes
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1  # pytorch-fid's normalize_input: back to the [-1, 1] the TF graph expects
        for name in self._trunk:
            x = getattr(self, name)(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # (N, 2048, 8, 8) -> (N, 2048)

    def _check(self, x: Any, name: str = "x") -> torch.Tensor:
        _check_images(x, name, (1, 3), None)
        return x.to(self.fc.weight.dtype)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` (or ``(N, 1, H, W)``) images in [-1, 1] -> ``(N, 2048)`` pool3."""
        return self._features(self._check(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images in [-1, 1] -> ``(N, 1008)`` logits of the FID graph."""
        return self.forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits ``(N, 1008)``, as :meth:`logits`."""
        return self.fc(self._features(self._check(x)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hub_weights_file() -> Path:
    """Where torch.hub (and so pytorch-fid) keeps the downloaded FID weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE


def _inception_weights_path(weights: str | os.PathLike | None) -> Path:
    """The weights file: ``weights``, else ``$GAN_LESSONS_INCEPTION_WEIGHTS``, else the copy
    pytorch-fid downloaded into the torch.hub cache; ``weights="download"`` fetches it there."""
    hub = _hub_weights_file()
    how = (f"The standard FID network needs pytorch-fid's weights file {INCEPTION_WEIGHTS_FILE} "
           f"(about 91 MB). Get it from {INCEPTION_WEIGHTS_URL} (on a machine with internet, "
           f"load_feature_net('inception', weights='download') does that into {hub}) and pass "
           f"its path as load_feature_net('inception', weights=PATH) or set the environment "
           f"variable {INCEPTION_WEIGHTS_ENV}=PATH")
    if weights is None:
        weights = os.environ.get(INCEPTION_WEIGHTS_ENV) or None
        if weights is None:
            if hub.is_file():
                return hub
            raise FileNotFoundError(f"no Inception weights given, and none in {hub}. {how}.")
        source = f"${INCEPTION_WEIGHTS_ENV}"
    elif isinstance(weights, str) and weights == "download":
        if not hub.is_file():
            try:
                hub.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(INCEPTION_WEIGHTS_URL, str(hub),
                                               hash_prefix=_INCEPTION_SHA256_PREFIX)
            except Exception as exc:  # offline: URLError; a bad download: RuntimeError
                raise FileNotFoundError(f"could not download the Inception weights ({exc}). "
                                        f"{how}.") from exc
        return hub
    else:
        if not isinstance(weights, str | os.PathLike):
            raise TypeError(f"weights must be a str or os.PathLike path, got "
                            f"{type(weights).__name__}")
        source = "weights"
    path = Path(os.fspath(weights)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{source} names {str(path)!r}, which is not a file. {how}.")
    return path


def _load_inception(weights: str | os.PathLike | None, verify: bool) -> FIDInceptionV3:
    path = _inception_weights_path(weights)
    if verify and not _sha256(path).startswith(_INCEPTION_SHA256_PREFIX):
        raise ValueError(f"{path} is not {INCEPTION_WEIGHTS_FILE}: its SHA-256 does not start "
                         f"with {_INCEPTION_SHA256_PREFIX}, so its features would not give "
                         f"standard FIDs (pass verify=False to use other weights anyway)")
    net = FIDInceptionV3()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except Exception as exc:  # pickle errors, missing keys, shape mismatches, corrupt zip
        raise ValueError(f"{path} does not hold FID Inception weights that load weights-only "
                         f"into FIDInceptionV3: {exc}") from exc
    return net


# --------------------------------------------------------------------------- loading


def _classifier_from_checkpoint(path: Path) -> FeatureClassifier:
    from .checkpoints import load_checkpoint

    payload = load_checkpoint(path)
    entry = payload["models"].get("classifier")
    if entry is None or entry.get("family") != "feature_classifier":
        raise ValueError(f"{path} holds no feature classifier (no 'classifier' model of family "
                         f"'feature_classifier'); write one with python -m "
                         f"gan_lessons.feature_nets train")
    net = FeatureClassifier(FeatureClassifierConfig(**entry["config"]))
    net.load_state_dict(entry["state_dict"])  # float16 weights are cast to float32 here
    return net


def load_feature_net(name: str, *, weights: str | os.PathLike | None = None,
                     device: str | torch.device | None = None,
                     verify: bool = True) -> nn.Module:
    """A feature network in eval mode, float32, gradients off, on ``device``.

    Args:
        name: ``"mnist"``, ``"cifar10"`` (the bundled classifiers, checksum-verified) or
            ``"inception"`` (the standard FID InceptionV3).
        weights: for ``"inception"``, the path of ``pt_inception-2015-12-05-6726825d.pth``
            (default: the environment variable ``GAN_LESSONS_INCEPTION_WEIGHTS``, else the copy
            pytorch-fid keeps in the torch.hub cache), or ``"download"`` to fetch it into that
            cache (needs internet); for the classifiers, a checkpoint written by ``python -m gan_lessons.feature_nets train``
            to use instead of the bundled file.
        device: where to put the network; default :func:`gan_lessons.device.get_device`.
        verify: check that an Inception weights file is the standard one (its SHA-256 starts
            with ``6726825d``).

    Returns:
        A module with ``.features(x) -> (N, D)`` and ``.logits(x) -> (N, K)``, where D = 128,
        256, 2048 and K = 10, 10, 1008 for ``"mnist"``, ``"cifar10"``, ``"inception"``.

    Raises:
        FileNotFoundError: no Inception weights given or found (the message says where to get
            them and how to point at them), a download failed, or a given file does not exist.
        ValueError: unknown ``name``; a file that is corrupt, not what the registry describes,
            or not a feature network.
    """
    check_choice(name, "name", ("mnist", "cifar10", "inception"))
    check_bool(verify, "verify")
    from .device import get_device

    device = get_device() if device is None else torch.device(device)
    if name == "inception":
        net = _load_inception(weights, verify)
    elif weights is None:
        from .pretrained import pretrained_path

        net = _classifier_from_checkpoint(pretrained_path(f"feature_{name}"))
    else:
        if not isinstance(weights, str | os.PathLike):
            raise TypeError(f"weights must be a str or os.PathLike path, got "
                            f"{type(weights).__name__}")
        net = _classifier_from_checkpoint(Path(os.fspath(weights)).expanduser())
        if net.config != FEATURE_NET_CONFIGS[name] and (
                (net.config.channels, net.config.image_size)
                != (FEATURE_NET_CONFIGS[name].channels, FEATURE_NET_CONFIGS[name].image_size)):
            raise ValueError(f"weights holds a classifier for {net.config.channels}x"
                             f"{net.config.image_size}x{net.config.image_size} images, not "
                             f"for {name!r}")
    net = net.float().to(device).eval()
    net.requires_grad_(False)
    return net


# --------------------------------------------------------------------------- data


def load_uint8_images(name: str, *, train: bool, root: str | os.PathLike | None = None,
                      cache_dir: str | os.PathLike | None = None,
                      progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """A data set decoded once into ``(images, labels)``: uint8 ``(N, C, H, W)``, int64 ``(N,)``.

    The offline CIFAR-10 copy is 60,000 JPEG files; decoding them takes a minute or two, so the
    result is cached as ``<cache_dir>/gan_lessons_<name>_<split>_<hash of the root>.pt``
    (default cache folder: the system's temporary folder). Images come from
    :func:`gan_lessons.data.load_dataset` in [-1, 1] and go back to their exact bytes.
    """
    from .data import as_tensor_dataset, data_root, load_dataset

    check_choice(name, "name", tuple(FEATURE_NET_CONFIGS))
    check_bool(train, "train")
    split = "train" if train else "test"
    folder = Path(tempfile.gettempdir() if cache_dir is None else os.fspath(cache_dir))
    key = hashlib.sha256(str(data_root(root).resolve()).encode()).hexdigest()[:8]
    cache = folder / f"gan_lessons_{name}_{split}_{key}.pt"
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return saved["images"], saved["labels"]
        except Exception:  # a damaged cache is rebuilt
            pass
    data = as_tensor_dataset(load_dataset(name, root, train=train), progress=progress)
    images = data.images.add(1).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
    labels = data.labels.to(torch.int64)
    try:
        from .checkpoints import atomic_write

        with atomic_write(cache) as f:
            torch.save({"images": images, "labels": labels}, f)
    except OSError:  # an unwritable cache folder only costs the next run a decode
        pass
    return images, labels


def _to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(127.5).sub_(1.0)  # uint8 [0, 255] -> [-1, 1]


def _augment(images: torch.Tensor, pad: int, flip: bool,
             generator: torch.Generator) -> torch.Tensor:
    """uint8 ``(B, C, H, W)`` -> float ``(B, C, H, W)`` in [-1, 1], randomly translated by up to
    ``pad`` pixels (reflection padding, then a random crop) and flipped left-right."""
    x = _to_float(images)
    b, _, h, w = x.shape
    if pad > 0:
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (B, C, H + 2p, W + 2p)
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
        rows = (dy[:, None] + torch.arange(h))[:, None, :, None]  # (B, 1, H, 1)
        cols = (dx[:, None] + torch.arange(w))[:, None, None, :]  # (B, 1, 1, W)
        x = x[torch.arange(b)[:, None, None, None], torch.arange(x.shape[1])[None, :, None, None],
              rows, cols]
    if flip:
        mask = torch.rand(b, generator=generator) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x.contiguous(memory_format=torch.channels_last)


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainRecipe:
    """How a feature classifier is trained: SGD with Nesterov momentum, a linear warm-up to
    ``lr`` over ``warmup`` of the run then a linear decay to 0, label smoothing, weight decay,
    random translations (and flips) of the training images."""

    num_epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 5e-4
    momentum: float = 0.9
    label_smoothing: float = 0.1
    warmup: float = 0.2
    pad: int = 2
    flip: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        check_int(self.num_epochs, "num_epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", minimum=0.0, exclusive_minimum=True)
        check_float(self.weight_decay, "weight_decay", minimum=0.0)
        check_float(self.momentum, "momentum", minimum=0.0, maximum=1.0)
        check_float(self.label_smoothing, "label_smoothing", minimum=0.0, maximum=1.0)
        check_float(self.warmup, "warmup", minimum=0.0, maximum=1.0)
        check_int(self.pad, "pad", minimum=0)
        check_bool(self.flip, "flip")
        check_int(self.seed, "seed", minimum=0)


RECIPES: dict[str, TrainRecipe] = {
    "mnist": TrainRecipe(num_epochs=2, batch_size=256, lr=0.2, label_smoothing=0.1, pad=2,
                         flip=False),
    "cifar10": TrainRecipe(num_epochs=10, batch_size=512, lr=0.4, label_smoothing=0.2, pad=4,
                           flip=True),
}


def _lr_factor(step: int, total: int, warmup: float) -> float:
    warm = max(1, round(warmup * total))
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total - step) / max(1, total - warm))


@torch.no_grad()
def classifier_accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                        batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``net.logits`` on uint8 ``(N, C, H, W)`` images and labels ``(N,)``."""
    if not callable(getattr(net, "logits", None)):
        raise TypeError(f"net must be a network with a .logits(x) method, got "
                        f"{type(net).__name__}")
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        raise TypeError(f"images must be a uint8 tensor (N, C, H, W), got "
                        f"{getattr(images, 'dtype', type(images).__name__)} of shape "
                        f"{tuple(getattr(images, 'shape', ()))}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a tensor of shape ({len(images)},), one per image, "
                         f"got {tuple(getattr(labels, 'shape', ()))}")
    if len(images) == 0:
        raise ValueError("images must hold at least one image")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    correct = 0
    for i in range(0, len(images), batch_size):
        x = _to_float(images[i:i + batch_size]).to(device)
        correct += int((net.logits(x).argmax(1).cpu() == labels[i:i + batch_size]).sum())
    net.train(was_training)
    return correct / len(images)


def train_feature_classifier(name: str, out: str | os.PathLike, *,
                             recipe: TrainRecipe | None = None,
                             config: FeatureClassifierConfig | None = None,
                             root: str | os.PathLike | None = None,
                             device: str | torch.device = "cpu", amp: bool = False,
                             resume: bool = False, progress: bool = True,
                             command: str | None = None) -> dict[str, Any]:
    """Train the feature classifier of data set ``name`` and save it to ``out`` after every
    epoch (atomically, with the optimizer state, so ``resume`` continues a stopped run at the
    last finished epoch and gives the same weights as an uninterrupted run).

    Returns:
        The history, with ``"epoch_loss"`` and ``"epoch_seconds"`` per epoch, and
        ``"test_accuracy"`` (on the whole test split, measured after the last epoch).

    Raises:
        ValueError: ``out`` exists and ``resume`` is False (a checkpoint is never replaced), or
            cannot be written; another process is writing it.
    """
    import contextlib

    from .checkpoints import checkpoint_lock, prepare_checkpoint_path, remove_stale_temporaries

    check_choice(name, "name", tuple(FEATURE_NET_CONFIGS))
    check_bool(resume, "resume")
    check_bool(amp, "amp")
    check_bool(progress, "progress")
    if recipe is not None and not isinstance(recipe, TrainRecipe):
        raise TypeError(f"recipe must be a TrainRecipe or None, got {type(recipe).__name__}")
    if config is not None:
        if not isinstance(config, FeatureClassifierConfig):
            raise TypeError(f"config must be a FeatureClassifierConfig or None, got "
                            f"{type(config).__name__}")
        want = FEATURE_NET_CONFIGS[name]
        if (config.channels, config.image_size) != (want.channels, want.image_size):
            raise ValueError(f"config must take {name}'s {want.channels}x{want.image_size}x"
                             f"{want.image_size} images, got channels={config.channels}, "
                             f"image_size={config.image_size}")
    if not isinstance(out, str | os.PathLike):
        raise TypeError(f"out must be a str or os.PathLike path, got {type(out).__name__}")
    out = Path(os.fspath(out))
    with contextlib.ExitStack() as stack:
        prepare_checkpoint_path(out)  # writable, not a folder: found now, not after training
        stack.enter_context(checkpoint_lock(out))  # one writer at a time
        remove_stale_temporaries(out)  # of saves killed mid-write
        if out.exists() and not resume:
            raise ValueError(f"out {out} already exists; pass resume=True (--resume) to "
                             f"continue it, or choose another path")
        return _train(name, out, recipe, config, root, device, amp, resume, progress, command)


def _train(name, out, recipe, config, root, device, amp, resume, progress, command):
    from tqdm.auto import tqdm

    from .checkpoints import load_checkpoint, save_checkpoint
    from .precision import MixedPrecision

    recipe = RECIPES[name] if recipe is None else recipe
    config = FEATURE_NET_CONFIGS[name] if config is None else config
    device = torch.device(device)
    images, labels = load_uint8_images(name, train=True, root=root, progress=progress)
    test_images, test_labels = load_uint8_images(name, train=False, root=root,
                                                 progress=progress)
    torch.manual_seed(recipe.seed)
    net = FeatureClassifier(config).to(device).to(memory_format=torch.channels_last)
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": recipe.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=recipe.lr, momentum=recipe.momentum, nesterov=True)
    precision = MixedPrecision(device, enabled=amp)
    steps_per_epoch = len(images) // recipe.batch_size  # the last partial batch is dropped
    total = recipe.num_epochs * steps_per_epoch
    history: dict[str, list] = {"epoch_loss": [], "epoch_seconds": [], "test_accuracy": []}
    epoch0 = 0
    if resume and out.is_file():
        payload = load_checkpoint(out)
        net.load_state_dict(payload["models"]["classifier"]["state_dict"])
        optimizer.load_state_dict(payload["optimizers"]["classifier"])
        history = {k: list(v) for k, v in payload["history"].items()}
        epoch0 = payload["step"] // steps_per_epoch
    command = shlex.join(["python", "-m", "gan_lessons.feature_nets", *sys.argv[1:]]) \
        if command is None else command
    bar = tqdm(total=total, initial=epoch0 * steps_per_epoch, desc=f"train {name} classifier",
               disable=not progress, dynamic_ncols=True)
    for epoch in range(epoch0, recipe.num_epochs):
        start = time.perf_counter()
        gen = torch.Generator().manual_seed(recipe.seed * 100_003 + epoch)  # resumable order
        order = torch.randperm(len(images), generator=gen)
        net.train()
        loss_sum = torch.zeros((), device=device)
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * _lr_factor(step, total, recipe.warmup)
            idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            x = _augment(images[idx], recipe.pad, recipe.flip, gen).to(device)
            y = labels[idx].to(device)
            with precision.autocast():
                logits = net(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=recipe.label_smoothing)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the training loss became {float(loss)} at step "
                                         f"{step}; lower lr (now {recipe.lr})")
            optimizer.zero_grad(set_to_none=True)
            precision.backward_step(loss, optimizer, "classifier")
            loss = loss.detach()
            loss_sum += loss
            bar.update(1)
            if i % 10 == 0:
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
        history["epoch_loss"].append(float(loss_sum) / steps_per_epoch)
        history["epoch_seconds"].append(round(time.perf_counter() - start, 1))
        if epoch + 1 == recipe.num_epochs:
            history["test_accuracy"].append(
                classifier_accuracy(net, test_images, test_labels))
            bar.write(f"{name}: test accuracy {history['test_accuracy'][-1]:.4f} on "
                      f"{len(test_images)} images")
        save_checkpoint(out, {"classifier": net.eval()}, optimizers={"classifier": optimizer},
                        train_config=recipe, step=(epoch + 1) * steps_per_epoch,
                        history=history, command=command)
    bar.close()
    return history


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_lessons.feature_nets train|accuracy`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m gan_lessons.feature_nets",
                                     description="Train and check the feature classifiers.")
    sub = parser.add_subparsers(dest="action", required=True)
    tr = sub.add_parser("train", help="train a feature classifier, saving after every epoch")
    tr.add_argument("data", choices=tuple(FEATURE_NET_CONFIGS))
    tr.add_argument("--out", required=True, help="checkpoint file to write")
    tr.add_argument("--epochs", type=int, help="number of epochs (default: the recipe's)")
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float, help="peak learning rate")
    tr.add_argument("--seed", type=int)
    tr.add_argument("--stem-width", type=int)
    tr.add_argument("--widths", type=int, nargs=3, metavar="W")
    tr.add_argument("--root", help="data root (default: $GAN_LESSONS_DATA, then the cache)")
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--amp", action="store_true",
                    help="mixed precision (bfloat16 autocast on a CPU with native bfloat16)")
    tr.add_argument("--threads", type=int, help="torch.set_num_threads")
    tr.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    acc = sub.add_parser("accuracy", help="test accuracy of a feature classifier")
    acc.add_argument("data", choices=tuple(FEATURE_NET_CONFIGS))
    acc.add_argument("--weights", help="a checkpoint (default: the bundled classifier)")
    acc.add_argument("--limit", type=int, help="only N test images (a fixed random subset)")
    acc.add_argument("--root")
    args = parser.parse_args(argv)
    if args.action == "accuracy":
        net = load_feature_net(args.data, weights=args.weights, device="cpu")
        images, labels = load_uint8_images(args.data, train=False, root=args.root)
        if args.limit is not None and args.limit < len(images):  # a fixed random subset
            keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
            keep = keep[:check_int(args.limit, "--limit", minimum=1)].sort().values
            images, labels = images[keep], labels[keep]
        print(f"{args.data}: test accuracy {classifier_accuracy(net, images, labels):.4f} on "
              f"{len(images)} images")
        return 0
    if args.threads is not None:
        torch.set_num_threads(check_int(args.threads, "--threads", minimum=1))
    base = RECIPES[args.data]
    changes = {k: v for k, v in {"num_epochs": args.epochs, "batch_size": args.batch_size,
                                 "lr": args.lr, "seed": args.seed}.items() if v is not None}
    recipe = TrainRecipe(**{**asdict(base), **changes})
    config = FEATURE_NET_CONFIGS[args.data]
    if args.stem_width is not None or args.widths is not None:
        config = FeatureClassifierConfig(**{
            **asdict(config),
            **({"stem_width": args.stem_width} if args.stem_width is not None else {}),
            **({"widths": tuple(args.widths)} if args.widths is not None else {})})
    start = time.perf_counter()
    history = train_feature_classifier(args.data, args.out, recipe=recipe, config=config,
                                       root=args.root, device=args.device, amp=args.amp,
                                       resume=args.resume, progress=not args.quiet)
    print(f"{args.data}: test accuracy {history['test_accuracy'][-1]:.4f}, "
          f"{sum(history['epoch_seconds']):.0f} s of training "
          f"({time.perf_counter() - start:.0f} s this run), saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
