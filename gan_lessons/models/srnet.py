"""A small super-resolution network (SRResNet-style, Ledig et al. 2017, sized for MNIST on a CPU).

``SRNet`` maps a low-resolution image ``(B, C, s, s)`` to ``(B, C, S, S)``, ``S = s * factor``:

    ``SR(x) = clip(bicubic(x) + R(x), -1, 1)``

* **Residual on top of bicubic** (as in VDSR, Kim et al. 2016): the network only predicts what
  bicubic interpolation misses (sharp edges), not the whole image. Its last convolution starts
  at zero, so an untrained net *is* the bicubic baseline and training can only move away from
  it where the loss says so.
* **Computed at low resolution, upsampled by sub-pixel convolution** (ESPCN, Shi et al. 2016;
  SRGAN's generator): a head convolution and ``blocks`` residual blocks (conv - ReLU - conv,
  without BatchNorm, as EDSR found best for SR) run on the ``s x s`` map, then each x2 step is
  a convolution to ``4 * width`` channels and a ``PixelShuffle(2)`` that rearranges them into a
  map twice as large. Every convolution of the body costs ``factor**2`` times less than on the
  bicubic image (16 x for x4), and the network learns its own upsampling filters.

The weights of a MNIST net (``width=32``, ``blocks=4``) take about 0.6 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_lessons._validate import check_int
from gan_lessons.degradations import upsample_bicubic

from ._inputs import check_config, model_input

__all__ = ["PixelatedSR", "SRNet", "SRNetConfig"]

FACTORS = (2, 4)


@dataclass(frozen=True)
class SRNetConfig:
    """Sizes of an :class:`SRNet`.

    Attributes:
        factor: the upscaling factor, 2 or 4 (MNIST x4: 7 x 7 -> 28 x 28).
        image_size: the high-resolution side ``S``; ``factor`` must divide it.
        channels: image channels (1 for MNIST, 3 for CIFAR-10).
        width: feature channels of the body.
        blocks: residual blocks of the body (0: head and upsampler only).
    """

    factor: int = 4
    image_size: int = 28
    channels: int = 1
    width: int = 32
    blocks: int = 4

    def __post_init__(self) -> None:
        check_int(self.factor, "factor")
        if self.factor not in FACTORS:
            raise ValueError(f"factor must be one of {FACTORS}, got {self.factor}")
        check_int(self.image_size, "image_size", minimum=self.factor)
        if self.image_size % self.factor:
            raise ValueError(f"image_size must be divisible by factor={self.factor}, got "
                             f"{self.image_size}")
        check_int(self.channels, "channels", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.blocks, "blocks", minimum=0)

    @property
    def low_res_size(self) -> int:
        """``s = image_size / factor``, the side of the input."""
        return self.image_size // self.factor

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(channels, s, s)``: one low-resolution input."""
        return (self.channels, self.low_res_size, self.low_res_size)

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """``(channels, S, S)``: one output image."""
        return (self.channels, self.image_size, self.image_size)


class ResidualBlock(nn.Module):
    """``h + conv(relu(conv(h)))`` on ``(B, width, s, s)``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.conv2(torch.relu(self.conv1(h)))


class SRNet(nn.Module):
    """``low_res (B, C, s, s)`` in [-1, 1] -> ``(B, C, S, S)`` in [-1, 1], ``S = s * factor``
    (module docstring).

    Attributes:
        head: ``C -> width`` convolution at ``s x s``.
        body: ``config.blocks`` :class:`ResidualBlock` at ``s x s``.
        upsample: ``log2(factor)`` sub-pixel steps (conv to ``4 * width``, PixelShuffle(2), ReLU).
        tail: ``width -> C`` convolution at ``S x S``: the residual; zero at initialisation.
    """

    def __init__(self, config: SRNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, SRNetConfig)
        width = config.width
        self.head = nn.Conv2d(config.channels, width, 3, padding=1)
        self.body = nn.Sequential(*(ResidualBlock(width) for _ in range(config.blocks)))
        steps = []
        for _ in range(config.factor.bit_length() - 1):  # 1 step for x2, 2 for x4
            # (B, 4 width, h, w) -> (B, width, 2h, 2w)
            steps += [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.ReLU()]
        self.upsample = nn.Sequential(*steps)
        self.tail = nn.Conv2d(width, config.channels, 3, padding=1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        for block in self.body:
            block.conv2.weight.data.mul_(0.1)  # keep the residual stream's scale near its input
        nn.init.zeros_(self.tail.weight)  # start as the bicubic baseline

    def forward(self, low_res: torch.Tensor) -> torch.Tensor:
        """``low_res``: ``(B, C, s, s)`` -> ``(B, C, S, S)`` in [-1, 1]."""
        low_res = model_input(low_res, "low_res", self)
        if low_res.ndim != 4 or tuple(low_res.shape[1:]) != self.config.input_shape:
            shape = ", ".join(map(str, self.config.input_shape))
            raise ValueError(f"low_res must have shape (B, {shape}), got {tuple(low_res.shape)}")
        h = torch.relu(self.head(low_res))  # (B, width, s, s)
        h = self.upsample(self.body(h))  # (B, width, S, S)
        base = upsample_bicubic(low_res, self.config.factor)  # (B, C, S, S)
        return (base + self.tail(h)).clamp(-1.0, 1.0)


class PixelatedSR(nn.Module):
    """An :class:`SRNet` reading its low-res input *pixelated*, each pixel repeated into a
    ``factor x factor`` block (how pix2pix's same-size pairs carry it): ``(B, C, S, S) ->
    net(block means (B, C, s, s)) (B, C, S, S)``. The parameters are ``net``'s (as ``net.*``).

    Args:
        net: the :class:`SRNet` to wrap, or an :class:`SRNetConfig` (or ``None``: the
            defaults) to build a fresh one (how a checkpoint rebuilds it).
    """

    def __init__(self, net: SRNet | SRNetConfig | None = None) -> None:
        super().__init__()
        if net is None or isinstance(net, SRNetConfig):
            net = SRNet(net)
        if not isinstance(net, SRNet):
            raise TypeError(f"net must be an SRNet or an SRNetConfig, got {type(net).__name__}")
        self.net = net

    @property
    def config(self) -> SRNetConfig:
        """The wrapped net's config."""
        return self.net.config

    def forward(self, pixelated: torch.Tensor) -> torch.Tensor:
        """``pixelated``: ``(B, C, S, S)`` -> ``(B, C, S, S)``."""
        pixelated = model_input(pixelated, "pixelated", self)
        shape = self.net.config.data_shape
        if pixelated.ndim != 4 or tuple(pixelated.shape[1:]) != shape:
            raise ValueError(f"pixelated must have shape (B, {', '.join(map(str, shape))}), got "
                             f"{tuple(pixelated.shape)}")
        return self.net(nn.functional.avg_pool2d(pixelated, self.net.config.factor))
