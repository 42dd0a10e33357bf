"""Class-conditional DCGANs: the generator and the discriminator both see the label ``y``.

The generator embeds the label and concatenates it to ``z`` (Mirza & Osindero, 2014), then runs
a DCGAN generator body: ``G(z, y) = G_dcgan([z, E y])``. Two discriminators:

* :class:`ConcatDiscriminator` gives the label at the input, as ``num_classes`` constant
  channels (one-hot: the channel of class ``y`` is all ones, the others zeros) concatenated to
  the image channels, then a DCGAN discriminator body: ``D(x, y) = D_dcgan([x, onehot(y)])``.
* :class:`ProjectionDiscriminator` (Miyato & Koyama, 2018, eq. 3) projects the label onto the
  image features: ``D(x, y) = psi(phi(x)) + embed(y)^T phi(x)``, where ``phi`` is the DCGAN
  discriminator's convolutional trunk summed over positions.

Both bodies are the DCGAN layers of :mod:`gan_lessons.models.dcgan`, with its sizes (28, 32,
64, ...) and its ``d_norm`` choices. ``build_gan("conditional", config)`` returns the generator
and the discriminator that ``config.discriminator`` names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from gan_lessons._validate import check_choice, check_int

from ._inputs import check_config, model_input
from .dcgan import (
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    dcgan_discriminator_trunk,
    init_dcgan_weights,
    spectral_normalize,
)

__all__ = [
    "CONDITIONAL_DISCRIMINATORS",
    "ConcatDiscriminator",
    "ConditionalDiscriminator",
    "ConditionalGANConfig",
    "ConditionalGenerator",
    "ProjectionDiscriminator",
    "check_labels",
    "each_class_in_turn",
]

CONDITIONAL_DISCRIMINATORS = ("concat", "projection")
"""Choices of ``ConditionalGANConfig.discriminator``."""


@dataclass(frozen=True, kw_only=True)
class ConditionalGANConfig:
    """Sizes of a class-conditional DCGAN pair (keyword-only); stored in checkpoints by ``asdict``.

    Attributes:
        num_classes: number of classes; labels are ints in ``[0, num_classes)`` (default 10,
            MNIST and CIFAR-10).
        image_size, channels, latent_dim, width, max_width, leaky_slope: as in
            :class:`~gan_lessons.models.dcgan.DCGANConfig` (same defaults).
        embed_dim: length of the generator's label embedding, concatenated to ``z``; ``None``
            (the default) means ``num_classes``, so the label takes as many inputs as a one-hot
            code would. Stored resolved (an int).
        discriminator: ``"concat"`` (:class:`ConcatDiscriminator`) or ``"projection"``
            (:class:`ProjectionDiscriminator`, the default).
        d_norm: the discriminator's normalisation, ``"batch"`` (default), ``"none"``,
            ``"layer"`` or ``"spectral"`` (see :class:`~gan_lessons.models.dcgan.DCGANConfig`).
    """

    num_classes: int = 10
    image_size: int = 64
    channels: int = 3
    latent_dim: int = 100
    embed_dim: int | None = None
    width: int = 64
    max_width: int = 512
    leaky_slope: float = 0.2
    discriminator: str = "projection"
    d_norm: str = "batch"

    def __post_init__(self) -> None:
        check_int(self.num_classes, "num_classes", minimum=1)
        if self.embed_dim is None:
            object.__setattr__(self, "embed_dim", self.num_classes)
        check_int(self.embed_dim, "embed_dim", minimum=1)
        check_choice(self.discriminator, "discriminator", CONDITIONAL_DISCRIMINATORS)
        self.dcgan_config()  # checks the DCGAN fields, with DCGANConfig's messages

    def dcgan_config(self) -> DCGANConfig:
        """The unconditional :class:`~gan_lessons.models.dcgan.DCGANConfig` with the same sizes
        and ``d_norm``."""
        return DCGANConfig(image_size=self.image_size, channels=self.channels,
                           latent_dim=self.latent_dim, width=self.width,
                           max_width=self.max_width, leaky_slope=self.leaky_slope,
                           d_norm=self.d_norm)

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """``(channels, image_size, image_size)``: the shape of one image."""
        return (self.channels, self.image_size, self.image_size)


def check_labels(labels, batch_size: int, num_classes: int, *,
                 name: str = "labels") -> torch.Tensor:
    """``labels`` checked and returned as int64 class indices of shape ``(batch_size,)``.

    ``labels`` must be an integer tensor (any integer dtype, on any device) of shape ``(B,)``
    with ``B == batch_size``, and values in ``[0, num_classes)``; the range check reads the
    minimum and maximum in one device sync. Raises ``TypeError`` (not a tensor, or not of an
    integer dtype) or ``ValueError`` (shape, range), naming ``labels`` (or ``name``).
    """
    batch_size = check_int(batch_size, "batch_size", minimum=0)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of integer class indices, got "
                        f"{type(labels).__name__}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor of class indices (torch.int64), got "
                        f"dtype {labels.dtype}; convert class numbers with .long()")
    if labels.ndim != 1 or labels.shape[0] != batch_size:
        raise ValueError(f"{name} must have shape (B,) = ({batch_size},), one class index per "
                         f"sample, got {tuple(labels.shape)}")
    if batch_size:
        low, high = torch.stack(torch.aminmax(labels)).tolist()  # one sync
        if low < 0 or high >= num_classes:
            raise ValueError(f"{name} must be class indices in [0, {num_classes}), got values "
                             f"from {low} to {high}")
    return labels.long()


class ConditionalGenerator(nn.Module):
    """``z`` ``(B, latent_dim)`` and labels ``(B,)`` -> images ``(B, channels, S, S)`` in [-1, 1].

    ``G(z, y) = G_dcgan([z, E y])``: the label's learned embedding (``nn.Embedding``, rows
    ``N(0, 1)`` like ``z``) is concatenated to ``z`` and a DCGAN generator with
    ``latent_dim + embed_dim`` inputs does the rest.

    Attributes:
        config: the :class:`ConditionalGANConfig` it was built from.
        latent_dim, num_classes: from the config; the training loop samples ``z`` and labels.
        embed: the label embedding ``(num_classes, embed_dim)``.
        body: the :class:`~gan_lessons.models.dcgan.DCGANGenerator`.
    """

    def __init__(self, config: ConditionalGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, ConditionalGANConfig)
        self.latent_dim = config.latent_dim
        self.num_classes = config.num_classes
        self.embed = nn.Embedding(config.num_classes, config.embed_dim)
        self.body = DCGANGenerator(
            replace(config.dcgan_config(), latent_dim=config.latent_dim + config.embed_dim))

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``z``: ``(B, latent_dim)``, ``labels``: ``(B,)`` ints -> ``(B, channels, S, S)``."""
        z = model_input(z, "z", self)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        labels = check_labels(labels, z.shape[0], self.num_classes).to(z.device)
        return self._generate(z, labels)

    def _generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on checked inputs (what an ONNX export traces: the checks read the
        labels' values)."""
        y = self.embed(labels).to(z.dtype)  # (B, embed_dim)
        return self.body(torch.cat([z, y], dim=1))  # (B, latent_dim + embed_dim) -> images


class ConditionalDiscriminator(nn.Module):
    """Base of the conditional discriminators: images ``(B, channels, S, S)`` and labels ``(B,)``
    -> logits ``(B, 1)``.

    ``ConditionalDiscriminator(config)`` builds the kind that ``config.discriminator`` names
    (:class:`ConcatDiscriminator` or :class:`ProjectionDiscriminator`); this is how the model
    registry rebuilds either from a checkpoint.
    """

    kind: str = ""

    def __new__(cls, config: ConditionalGANConfig | None = None):
        if cls is ConditionalDiscriminator:
            kind = check_config(config, ConditionalGANConfig).discriminator
            cls = {"concat": ConcatDiscriminator, "projection": ProjectionDiscriminator}[kind]
        return super().__new__(cls)

    def __init__(self, config: ConditionalGANConfig | None = None) -> None:
        super().__init__()
        config = check_config(config, ConditionalGANConfig)
        # the class decides the kind, so describe_model stores the kind that was built
        self.config = replace(config, discriminator=self.kind)
        self.num_classes = config.num_classes

    def _inputs(self, x, labels) -> tuple[torch.Tensor, torch.Tensor]:
        x = model_input(x, "x", self)
        expected = self.config.data_shape
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, expected))}), "
                             f"got {tuple(x.shape)}")
        return x, check_labels(labels, x.shape[0], self.num_classes).to(x.device)


class ConcatDiscriminator(ConditionalDiscriminator):
    """``D(x, y) = D_dcgan([x, onehot(y)])``: the label as ``num_classes`` constant input channels.

    ``(B, C, S, S)`` images and ``(B,)`` labels -> ``(B, C + num_classes, S, S)`` -> a DCGAN
    discriminator (``body``) -> logits ``(B, 1)``. ``config.discriminator`` is ``"concat"``
    whatever the config passed said.
    """

    kind = "concat"

    def __init__(self, config: ConditionalGANConfig | None = None) -> None:
        super().__init__(config)
        config = self.config
        self.body = DCGANDiscriminator(
            replace(config.dcgan_config(), channels=config.channels + config.num_classes))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, channels, S, S)``, ``labels``: ``(B,)`` ints -> logits ``(B, 1)``."""
        x, labels = self._inputs(x, labels)
        size = x.shape[-1]
        onehot = F.one_hot(labels, self.num_classes).to(x.dtype)  # (B, K)
        maps = onehot[:, :, None, None].expand(-1, -1, size, size)  # (B, K, S, S)
        return self.body(torch.cat([x, maps], dim=1))


class ProjectionDiscriminator(ConditionalDiscriminator):
    """Projection discriminator (Miyato & Koyama, 2018, eq. 3):
    ``D(x, y) = psi(phi(x)) + embed(y)^T phi(x)``.

    ``phi(x) = trunk(x).sum((2, 3))``: the DCGAN discriminator's convolutions (all but its last
    layer, :func:`~gan_lessons.models.dcgan.dcgan_discriminator_trunk`), summed over positions
    (global sum pooling, as in the paper) to ``(B, F)`` with ``F`` the widest feature width;
    ``psi`` is ``nn.Linear(F, 1)`` and ``embed`` is ``nn.Embedding(num_classes, F)``, both
    Xavier-uniform as in the authors' code. With ``d_norm="spectral"``, ``psi`` and ``embed`` are
    spectrally normalised too. ``config.discriminator`` is ``"projection"`` whatever the config
    passed said.
    """

    kind = "projection"

    def __init__(self, config: ConditionalGANConfig | None = None) -> None:
        super().__init__(config)
        config = self.config.dcgan_config()
        features = config.widths()[-1]
        self.trunk = dcgan_discriminator_trunk(config)  # (B, C, S, S) -> (B, F, start, start)
        self.psi = nn.Linear(features, 1)
        self.embed = nn.Embedding(self.num_classes, features)
        init_dcgan_weights(self)
        nn.init.xavier_uniform_(self.psi.weight)
        nn.init.zeros_(self.psi.bias)
        nn.init.xavier_uniform_(self.embed.weight)
        if config.d_norm == "spectral":
            spectral_normalize(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, channels, S, S)``, ``labels``: ``(B,)`` ints -> logits ``(B, 1)``."""
        x, labels = self._inputs(x, labels)
        phi = self.trunk(x).sum(dim=(2, 3))  # (B, F)
        projection = (self.embed(labels) * phi).sum(dim=1, keepdim=True)  # <embed(y), phi(x)>
        return self.psi(phi) + projection


def each_class_in_turn(generator, num_classes: int):
    """``z (B, D) -> generator(z, labels=...)`` with the labels ``0, 1, ..., num_classes - 1``
    in turn, continued across calls: drawing in chunks gives every class equally often (the
    metrics, ``python -m gan_lessons sample``). Each call of this function starts at 0."""
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    drawn = 0

    def draw(z: torch.Tensor) -> torch.Tensor:
        nonlocal drawn
        labels = torch.arange(drawn, drawn + len(z), device=z.device) % num_classes
        drawn += len(z)
        return generator(z, labels=labels)

    return draw
