"""DCGAN generator and discriminator (Radford, Metz & Chintala, 2016), for any image size.

The generator turns ``z`` into a ``start x start`` map with one transposed convolution, then
doubles the size with stride-2 transposed convolutions (kernel 4, padding 1) until it reaches
``image_size``; the discriminator mirrors it with stride-2 convolutions and ends in a single
``start x start`` convolution that gives one logit. ``start`` is 4 for power-of-two sizes
(16, 32, 64, ...) and 7 for 28 x 28 MNIST (7 -> 14 -> 28), so no size needs cropping or padding.

Following the paper: no pooling and no hidden fully connected layers; BatchNorm in both nets
except the generator's output and the discriminator's input layer; ReLU + tanh in G, LeakyReLU
(0.2) in D; weights drawn from N(0, 0.02^2) (standard deviation 0.02). The discriminator
returns logits (no sigmoid).

``DCGANConfig.d_norm`` swaps the discriminator's BatchNorm for a per-sample normalisation, as a
WGAN-GP critic needs (its gradient penalty is computed per sample, and BatchNorm mixes the
samples of a batch): ``"none"``, ``"layer"`` (``GroupNorm(1, C)``) or ``"spectral"`` (spectral
normalisation of every weight, Miyato et al., 2018). The generator never changes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_lessons._validate import check_choice, check_float, check_int

from ._inputs import check_config, model_input

__all__ = [
    "D_NORMS",
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "dcgan_discriminator_trunk",
    "dcgan_start_size",
    "spectral_normalize",
]

D_NORMS = ("batch", "none", "layer", "spectral")
"""Choices of ``d_norm``, the normalisation of the discriminator's hidden layers."""


def dcgan_start_size(image_size: int) -> int:
    """The smallest feature map, 4 or 7, from which stride-2 steps reach ``image_size``.

    Valid sizes are ``start * 2**k`` with ``k >= 2``: 16, 32, 64, 128, ... and 28, 56, 112, ...
    """
    image_size = check_int(image_size, "image_size", minimum=1)
    for start in (4, 7):
        size = start * 4
        while size < image_size:
            size *= 2
        if size == image_size:
            return start
    raise ValueError(
        f"image_size must be a power of two >= 16 (16, 32, 64, ...) or 7 * 2**k >= 28 "
        f"(28, 56, ...), got {image_size}"
    )


class SquareImageSizes:
    """``data_shape`` and ``start_size`` for a config with ``channels`` and ``image_size`` fields
    (a mixin of :class:`DCGANConfig` and :class:`~gan_lessons.models.stylegan.StyleGANConfig`)."""

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """``(channels, image_size, image_size)``: the shape of one image."""
        return (self.channels, self.image_size, self.image_size)

    @property
    def start_size(self) -> int:
        """The first layer's spatial size, 4 (or 7 for 28, 56, ...; :func:`dcgan_start_size`)."""
        return dcgan_start_size(self.image_size)


@dataclass(frozen=True)
class DCGANConfig(SquareImageSizes):
    """Sizes of a DCGAN pair.

    ``width`` is the channel count next to the image (``ngf``/``ndf`` of the PyTorch example);
    it doubles at every halving of the spatial size, up to ``max_width``.

    ``d_norm`` normalises the discriminator's hidden layers (never its input layer):

    * ``"batch"``: BatchNorm, as in Radford et al. (the default, and what older checkpoints hold);
    * ``"none"``: no normalisation;
    * ``"layer"``: layer normalisation of each sample over ``(C, H, W)``, with a scale and shift
      per channel; implemented as ``nn.GroupNorm(1, C)``;
    * ``"spectral"``: no BatchNorm; every weight of D divided by its largest singular value
      (``W / sigma(W)``, Miyato et al., 2018, eq. 8), see :func:`spectral_normalize`.

    Only ``"batch"`` mixes the samples of a batch; the others suit a WGAN-GP critic.
    """

    image_size: int = 64
    channels: int = 3
    latent_dim: int = 100
    width: int = 64
    max_width: int = 512
    leaky_slope: float = 0.2
    d_norm: str = "batch"

    def __post_init__(self) -> None:
        dcgan_start_size(self.image_size)
        check_int(self.channels, "channels", minimum=1)
        check_int(self.latent_dim, "latent_dim", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.max_width, "max_width", minimum=self.width)
        check_float(self.leaky_slope, "leaky_slope", minimum=0.0, maximum=1.0)
        check_choice(self.d_norm, "d_norm", D_NORMS)

    @property
    def num_doublings(self) -> int:
        """Stride-2 layers between ``start_size`` and ``image_size``."""
        return (self.image_size // self.start_size).bit_length() - 1

    def widths(self) -> list[int]:
        """Channels of the feature maps from the image side inwards, one per doubling."""
        return [min(self.width * 2**i, self.max_width) for i in range(self.num_doublings)]


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02^2) for (transposed) convolutions, N(1, 0.02^2) for BatchNorm (and GroupNorm)
    scales, zero shifts (0.02 is the standard deviation, as in Radford et al.)."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class DCGANGenerator(nn.Module):
    """z ``(B, latent_dim)`` -> images ``(B, channels, image_size, image_size)`` in [-1, 1]."""

    def __init__(self, config: DCGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, DCGANConfig)
        self.latent_dim = config.latent_dim
        widths = config.widths()[::-1]  # widest first
        layers: list[nn.Module] = [
            # (B, latent_dim, 1, 1) -> (B, widths[0], start, start)
            nn.ConvTranspose2d(config.latent_dim, widths[0], config.start_size, 1, 0,
                               bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            # each block doubles H and W: (H - 1) * 2 - 2 + 4 = 2H
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        layers += [
            nn.ConvTranspose2d(widths[-1], config.channels, 4, 2, 1, bias=False),
            nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z``: ``(B, latent_dim)`` -> ``(B, channels, image_size, image_size)`` (a float ``z``
        of another dtype is cast to the weights' dtype)."""
        z = model_input(z, "z", self)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al., 2018) of every ``Conv2d``, ``Linear`` and
    ``Embedding`` in ``module``, in place; returns ``module``.

    Each weight ``W`` is replaced by ``W / sigma(W)`` (eq. 8), where ``sigma`` is the largest
    singular value of ``W`` reshaped to a matrix ``(out, -1)`` (``W.flatten(1)`` for a
    convolution), estimated by one power iteration per forward pass in train mode
    (``torch.nn.utils.parametrizations.spectral_norm``). Call it after initialising the weights:
    the raw weight becomes ``layer.parametrizations.weight.original``, and the state dict holds
    it with the power iteration's vectors ``_u``, ``_v``. Such a module is saved through its
    state dict: torch refuses to pickle or ``copy.deepcopy`` parametrized modules.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    for layer in list(module.modules()):
        if isinstance(layer, nn.Conv2d | nn.Linear | nn.Embedding) and not (
                parametrize.is_parametrized(layer, "weight")):
            spectral_norm(layer)
    return module


def dcgan_discriminator_trunk(config: DCGANConfig, in_channels: int | None = None
                              ) -> nn.Sequential:
    """The DCGAN discriminator without its last layer: ``(B, in_channels, S, S)`` -> features
    ``(B, widths[-1], start, start)``.

    ``in_channels`` defaults to ``config.channels`` (the conditional discriminators add label
    channels). Stride-2 convolutions, each followed (except the first) by the ``config.d_norm``
    normalisation (none for ``"spectral"``), and LeakyReLU. The layers keep PyTorch's default
    initialisation: the model they go into calls ``init_dcgan_weights`` on itself once it is
    built, then :func:`spectral_normalize` if ``config.d_norm == "spectral"``.
    """
    config = check_config(config, DCGANConfig)
    if in_channels is None:
        in_channels = config.channels
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    widths = config.widths()
    slope = config.leaky_slope
    # no normalisation on the input layer (Radford et al.):
    # it would normalise away the image
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, widths[0], 4, 2, 1, bias=False),
        nn.LeakyReLU(slope, inplace=True)]
    for c_in, c_out in itertools.pairwise(widths):
        # each block halves H and W: floor((H + 2 - 4) / 2) + 1 = H / 2
        layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False))
        if config.d_norm == "batch":
            layers.append(nn.BatchNorm2d(c_out))
        elif config.d_norm == "layer":
            # per sample over (C, H, W), a scale and shift per channel
            layers.append(nn.GroupNorm(1, c_out))
        layers.append(nn.LeakyReLU(slope, inplace=True))
    return nn.Sequential(*layers)


class DCGANDiscriminator(nn.Module):
    """images ``(B, channels, image_size, image_size)`` -> logits ``(B, 1)``.

    ``config.d_norm`` picks the normalisation of the hidden layers (see :class:`DCGANConfig`).
    """

    def __init__(self, config: DCGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, DCGANConfig)
        layers = list(dcgan_discriminator_trunk(config))
        # (B, widths[-1], start, start) -> (B, 1, 1, 1): one logit, no sigmoid
        layers.append(nn.Conv2d(config.widths()[-1], 1, config.start_size, 1, 0,
                                bias=False))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)
        if config.d_norm == "spectral":
            spectral_normalize(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, channels, image_size, image_size)`` -> logits ``(B, 1)``."""
        x = model_input(x, "x", self)
        expected = (self.config.channels, self.config.image_size, self.config.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, expected))}), "
                             f"got {tuple(x.shape)}")
        return self.net(x).flatten(1)
