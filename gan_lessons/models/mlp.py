"""The fully connected GAN of the first chapters (Goodfellow et al., 2014).

The defaults are the MNIST model of the source article: the generator maps ``z`` (100 numbers)
through 256, 512 and 1024 ReLU units to 784 pixels squashed by ``tanh`` into ``[-1, 1]``; the
discriminator maps the 784 pixels through 1024, 512 and 256 LeakyReLU(0.2) units, each followed
by dropout 0.3, to one number. Unlike the article's model the discriminator returns that number
as a *logit* (no ``Sigmoid``): the losses in :mod:`gan_lessons.losses` apply the sigmoid inside
a numerically stable ``softplus``.

:meth:`MLPGANConfig.toy` gives the small networks of the 2-D "lab" data sets (ring, grid, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .._validate import check_choice, check_float, check_int
from ._inputs import model_input

__all__ = ["MLPDiscriminator", "MLPGANConfig", "MLPGenerator"]


def _int_tuple(value, name: str, *, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, tuple | list):
        raise TypeError(f"{name} must be a tuple of ints, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    return tuple(check_int(v, f"{name}[{i}]", minimum=1) for i, v in enumerate(value))


@dataclass(frozen=True)
class MLPGANConfig:
    """Sizes of an MLP generator/discriminator pair; stored in checkpoints with ``asdict``.

    Attributes:
        latent_dim: length of the noise vector ``z``.
        hidden_g: widths of the generator's hidden layers (ReLU), input side first.
        hidden_d: widths of the discriminator's hidden layers (LeakyReLU + dropout).
        data_shape: shape of one sample, e.g. ``(1, 28, 28)`` for MNIST or ``(2,)`` for points.
        dropout: dropout probability after each hidden layer of the discriminator.
        leaky_slope: negative slope of the discriminator's LeakyReLU.
        output: the generator's last activation: ``"tanh"`` for images in ``[-1, 1]``,
            ``"linear"`` for unbounded data such as 2-D points.

    Lists are accepted and stored as tuples. Invalid values raise ``TypeError``/``ValueError``.
    """

    latent_dim: int = 100
    hidden_g: tuple[int, ...] = (256, 512, 1024)
    hidden_d: tuple[int, ...] = (1024, 512, 256)
    data_shape: tuple[int, ...] = field(default=(1, 28, 28))
    dropout: float = 0.3
    leaky_slope: float = 0.2
    output: str = "tanh"

    def __post_init__(self) -> None:
        check_int(self.latent_dim, "latent_dim", minimum=1)
        object.__setattr__(self, "hidden_g", _int_tuple(self.hidden_g, "hidden_g", allow_empty=True))
        object.__setattr__(self, "hidden_d", _int_tuple(self.hidden_d, "hidden_d", allow_empty=True))
        object.__setattr__(self, "data_shape",
                           _int_tuple(self.data_shape, "data_shape", allow_empty=False))
        object.__setattr__(self, "dropout", check_float(self.dropout, "dropout", 0.0))
        if self.dropout >= 1.0:
            raise ValueError(f"dropout must be < 1, got {self.dropout}")
        object.__setattr__(self, "leaky_slope",
                           check_float(self.leaky_slope, "leaky_slope", 0.0, 1.0))
        check_choice(self.output, "output", ("tanh", "linear"))

    @property
    def data_dim(self) -> int:
        """The number of values in one sample, the product of ``data_shape`` (784 for MNIST)."""
        return math.prod(self.data_shape)

    @classmethod
    def toy(cls, latent_dim: int = 2, hidden: tuple[int, ...] = (128, 128), data_dim: int = 2,
            dropout: float = 0.0, leaky_slope: float = 0.2) -> MLPGANConfig:
        """A config for 2-D toy data: both networks get ``hidden`` widths, linear output.

        >>> MLPGANConfig.toy(latent_dim=8).data_shape
        (2,)
        """
        return cls(latent_dim=latent_dim, hidden_g=hidden, hidden_d=hidden,
                   data_shape=(check_int(data_dim, "data_dim", minimum=1),), dropout=dropout,
                   leaky_slope=leaky_slope, output="linear")


def _check_config(config) -> MLPGANConfig:
    if config is None:
        return MLPGANConfig()
    if not isinstance(config, MLPGANConfig):
        raise TypeError(f"config must be an MLPGANConfig, got {type(config).__name__}")
    return config


def _init_weights(net: nn.Module, slope: float) -> None:
    """He-normal init for the hidden ``Linear`` layers (they feed a ReLU/LeakyReLU of negative
    slope ``slope``), Xavier-uniform for the output layer, zero biases."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    for i, m in enumerate(linears):
        if i < len(linears) - 1:
            nn.init.kaiming_normal_(m.weight, a=slope, nonlinearity="leaky_relu")
        else:
            nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


class MLPGenerator(nn.Module):
    """``z`` of shape ``(B, latent_dim)`` -> samples of shape ``(B, *data_shape)``.

    Linear + ReLU for each width in ``config.hidden_g``, then Linear to ``prod(data_shape)`` and
    ``tanh`` (``config.output == "tanh"``) or nothing (``"linear"``).

    Attributes:
        config: the :class:`MLPGANConfig` it was built from.
        latent_dim: ``config.latent_dim``; the training loop samples ``z`` of this length.
    """

    def __init__(self, config: MLPGANConfig | None = None) -> None:
        super().__init__()
        self.config = _check_config(config)
        self.latent_dim = self.config.latent_dim
        layers: list[nn.Module] = []
        width = self.config.latent_dim
        for hidden in self.config.hidden_g:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, self.config.data_dim))
        if self.config.output == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        _init_weights(self.net, slope=0.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z``: ``(B, latent_dim)`` -> ``(B, *data_shape)`` (a float ``z`` of another dtype
        is cast to the weights' dtype)."""
        z = model_input(z, "z", self)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        x = self.net(z)  # (B, data_dim)
        return x.view(z.shape[0], *self.config.data_shape)


class MLPDiscriminator(nn.Module):
    """Samples ``(B, *data_shape)`` (or flattened ``(B, prod(data_shape))``) -> logits ``(B, 1)``.

    Linear + LeakyReLU(``leaky_slope``) + Dropout(``dropout``) for each width in
    ``config.hidden_d``, then Linear to one logit. There is no sigmoid: ``sigmoid(logit)`` is the
    probability that the input is real, and the losses apply it themselves.
    """

    def __init__(self, config: MLPGANConfig | None = None) -> None:
        super().__init__()
        self.config = _check_config(config)
        layers: list[nn.Module] = [nn.Flatten()]
        width = self.config.data_dim
        for hidden in self.config.hidden_d:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(self.config.leaky_slope)]
            if self.config.dropout > 0:
                layers.append(nn.Dropout(self.config.dropout))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        _init_weights(self.net, slope=self.config.leaky_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, *data_shape)`` or ``(B, prod(data_shape))`` -> logits ``(B, 1)``."""
        x = model_input(x, "x", self)
        shape = tuple(x.shape[1:])
        if x.ndim < 2 or shape not in (self.config.data_shape, (self.config.data_dim,)):
            raise ValueError(f"x must have shape (B, {', '.join(map(str, self.config.data_shape))})"
                             f" or (B, {self.config.data_dim}), got {tuple(x.shape)}")
        return self.net(x)  # (B, 1)
