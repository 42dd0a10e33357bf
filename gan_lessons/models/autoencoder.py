"""Autoencoders: an MLP autoencoder, a convolutional autoencoder and a convolutional VAE.

Every decoder ends in per-pixel *logits* ``l``. The image is ``x_hat = tanh(l / 2)`` in
[-1, 1], the range of the data, and ``sigmoid(l) = (x_hat + 1) / 2`` is the Bernoulli mean of a
pixel in [0, 1], so both the MSE and the (numerically stable, with-logits) BCE reconstruction
losses in :mod:`gan_lessons.losses` work from the same output.

All three share one interface: ``encode(x) -> z`` (the VAE: the mean), ``decode(z) -> x_hat``,
``decode_logits(z) -> l`` and ``forward(x) -> AutoencoderOutput``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from math import prod
from typing import NamedTuple

import torch
from torch import nn

from gan_lessons._validate import check_int

from ._inputs import check_config, model_input

__all__ = [
    "AutoencoderOutput",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "ConvVAE",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
]


class AutoencoderOutput(NamedTuple):
    """What ``forward`` returns. ``mu``/``logvar`` are ``None`` for a plain autoencoder.

    logits ``(B, C, H, W)``, z ``(B, latent_dim)``, mu and logvar ``(B, latent_dim)``.
    """

    logits: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor | None = None
    logvar: torch.Tensor | None = None

    @property
    def x_hat(self) -> torch.Tensor:
        """The reconstruction in [-1, 1]."""
        return logits_to_image(self.logits)


def logits_to_image(logits: torch.Tensor) -> torch.Tensor:
    """Pixel logits -> image in [-1, 1]: ``tanh(l / 2) = 2 * sigmoid(l) - 1``."""
    return torch.tanh(logits / 2)


def _check_shape(shape, name: str) -> tuple[int, ...]:
    if not isinstance(shape, tuple | list) or len(shape) != 3:
        raise ValueError(f"{name} must be a (C, H, W) tuple, got {shape!r}")
    return tuple(check_int(s, name, minimum=1) for s in shape)


def _init_weights(module: nn.Module) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)


class _Autoencoder(nn.Module):
    """Shared ``decode``/``encode``/``forward``; subclasses set ``encoder`` and ``decoder``."""

    latent_dim: int
    variational = False

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        x = model_input(x, "x", self)
        expected = tuple(self.data_shape)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, expected))}), "
                             f"got {tuple(x.shape)}")
        return x

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        z = model_input(z, "z", self)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x ``(B, C, H, W)`` -> z ``(B, latent_dim)`` (a VAE returns the posterior mean)."""
        x = self._check_x(x)
        return self.encoder(x)[:, : self.latent_dim]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(B, latent_dim)`` -> pixel logits ``(B, C, H, W)``."""
        z = self._check_z(z)
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z ``(B, latent_dim)`` -> image ``(B, C, H, W)`` in [-1, 1]."""
        return logits_to_image(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        z = self.encode(x)
        return AutoencoderOutput(self.decoder(z), z)


# --------------------------------------------------------------------------- MLP


@dataclass(frozen=True)
class MLPAutoencoderConfig:
    data_shape: tuple[int, int, int] = (1, 28, 28)
    hidden: tuple[int, ...] = (512, 256)
    latent_dim: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", _check_shape(self.data_shape, "data_shape"))
        if not isinstance(self.hidden, tuple | list):
            raise TypeError(f"hidden must be a tuple of ints, got {type(self.hidden).__name__}")
        object.__setattr__(self, "hidden", tuple(check_int(h, "hidden", minimum=1) for h in self.hidden))
        check_int(self.latent_dim, "latent_dim", minimum=1)


def _mlp(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU(inplace=True))
    return layers


class MLPAutoencoder(_Autoencoder):
    """Fully connected: x ``(B, C, H, W)`` -> flat -> hidden -> z -> hidden -> logits."""

    def __init__(self, config: MLPAutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, MLPAutoencoderConfig)
        self.data_shape, self.latent_dim = config.data_shape, config.latent_dim
        n_pixels = prod(config.data_shape)
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp([n_pixels, *config.hidden, config.latent_dim]))
        self.decoder = nn.Sequential(*_mlp([config.latent_dim, *config.hidden[::-1], n_pixels]),
                                     nn.Unflatten(1, config.data_shape))
        _init_weights(self)


# --------------------------------------------------------------------------- convolutional


@dataclass(frozen=True)
class ConvAutoencoderConfig:
    """Two stride-2 convolutions down (28 -> 14 -> 7), a linear bottleneck, and back up.

    ``image_size`` must be divisible by 4.
    """

    image_size: int = 28
    channels: int = 1
    width: int = 32
    latent_dim: int = 2

    def __post_init__(self) -> None:
        check_int(self.image_size, "image_size", minimum=4)
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {self.image_size}")
        check_int(self.channels, "channels", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.latent_dim, "latent_dim", minimum=1)

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)


def _conv_encoder(config: ConvAutoencoderConfig, n_out: int) -> nn.Sequential:
    w, s = config.width, config.image_size // 4
    return nn.Sequential(
        nn.Conv2d(config.channels, w, 4, 2, 1),         # (B, w, H/2, W/2)
        nn.ReLU(inplace=True),
        nn.Conv2d(w, 2 * w, 4, 2, 1),                   # (B, 2w, H/4, W/4)
        nn.ReLU(inplace=True),
        nn.Flatten(), nn.Linear(2 * w * s * s, n_out),  # (B, n_out)
    )


def _conv_decoder(config: ConvAutoencoderConfig) -> nn.Sequential:
    w, s = config.width, config.image_size // 4
    return nn.Sequential(
        nn.Linear(config.latent_dim, 2 * w * s * s), nn.ReLU(inplace=True),
        nn.Unflatten(1, (2 * w, s, s)),                 # (B, 2w, H/4, W/4)
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1),          # (B, w, H/2, W/2)
        nn.ReLU(inplace=True),
        # (B, C, H, W): one logit per pixel, no output activation
        nn.ConvTranspose2d(w, config.channels, 4, 2, 1),
    )


class ConvAutoencoder(_Autoencoder):
    """Convolutional encoder and transposed-convolutional decoder around a linear bottleneck."""

    def __init__(self, config: ConvAutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, ConvAutoencoderConfig)
        self.data_shape, self.latent_dim = config.data_shape, config.latent_dim
        self.encoder = _conv_encoder(config, config.latent_dim)
        self.decoder = _conv_decoder(config)
        _init_weights(self)


class ConvVAE(_Autoencoder):
    """Variational autoencoder (Kingma & Welling, 2014) with the convolutional architecture.

    The encoder gives the mean and log-variance of a diagonal Gaussian q(z|x); ``forward``
    samples ``z = mu + exp(logvar / 2) * eps`` (the reparameterisation trick) while training and
    uses ``z = mu`` in eval mode. Samples from the prior: ``decode(torch.randn(B, latent_dim))``.
    """

    variational = True

    def __init__(self, config: ConvAutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, ConvAutoencoderConfig)
        self.data_shape, self.latent_dim = config.data_shape, config.latent_dim
        self.encoder = _conv_encoder(config, 2 * config.latent_dim)  # [mu, logvar]
        self.decoder = _conv_decoder(config)
        _init_weights(self)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x ``(B, C, H, W)`` -> (mu, logvar), each ``(B, latent_dim)``."""
        x = self._check_x(x)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        mu, logvar = self.posterior(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return AutoencoderOutput(self.decoder(z), z, mu, logvar)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """A differentiable sample of N(mu, exp(logvar)): ``mu + exp(logvar / 2) * eps``, eps ~ N(0, I)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
