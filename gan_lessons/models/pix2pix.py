"""pix2pix (Isola et al., 2017): a U-Net generator and a conditional patch discriminator, sized
for small images on a CPU.

**Generator** (:class:`UNetGenerator`). An encoder of ``depth`` stride-2 convolutions (kernel 4,
padding 1) halves the image ``depth`` times; a decoder of stride-2 transposed convolutions
doubles it back. Each decoder block reads the previous block's output *concatenated* with the
encoder feature map of the same size (the skip connections of the U-Net), so fine detail of
the input (edges, the exact position of a stroke) reaches the output without squeezing through
the bottleneck. As in the paper:

* encoder blocks are conv - BatchNorm - LeakyReLU(0.2), without normalisation on the first
  block (it would normalise away the image) and on the innermost one (a 1 x 1 bottleneck would
  have a single value per channel to normalise);
* decoder blocks are transposed conv - BatchNorm - [Dropout] - ReLU; dropout in the first
  (innermost) decoder blocks is pix2pix's only source of randomness: the paper found that a
  noise input ``z`` was simply ignored;
* the last transposed convolution gives ``out_channels`` and a tanh: outputs in ``[-1, 1]``;
* weights are drawn from N(0, 0.02^2), BatchNorm scales from N(1, 0.02^2).

**Discriminator** (:class:`PatchDiscriminator`). It sees the input and an image (the target or
the generator's output) concatenated on the channels and returns a *map* of logits, one per
overlapping patch: ``d_layers`` hidden convolutions with kernel 4 (all stride 2 except the last,
stride 1; the paper's C64-C128-C256-C512), then a stride-1 convolution to one channel. Each
logit sees a square of :attr:`Pix2PixConfig.receptive_field` pixels of the input:
16 for ``d_layers=2``, 34 for 3 (the default here), 70 for 4 (the paper's 70 x 70 PatchGAN),
142 for 5. The L1 term already gets the low frequencies right; the patch discriminator only
has to judge local texture and sharpness, with fewer parameters than a whole-image one.

**Normalisation: BatchNorm**, not InstanceNorm. The paper uses BatchNorm (with batch size 1 it
amounts to instance normalisation). Here batches have more than one image, and in eval mode
BatchNorm is a fixed per-channel affine map: each output pixel of the generator and each patch
logit depends only on its receptive field, which is what makes the patch discriminator's
field well defined (and testable). InstanceNorm normalises over the whole image, so every logit
would depend on every pixel, and its statistics degenerate on the small maps near a U-Net's
bottleneck (a 1 x 1 map normalises to zero). The price: in training mode BatchNorm mixes the
images of a batch, and in eval mode the generator uses running statistics (the paper kept
batch statistics and dropout on at test time; call ``generator.train()`` to get that).

Supported sizes: ``image_size = s * 2**k`` with ``s`` 4 or 7 and ``k >= 2``, i.e. powers of two
from 16 (16, 32, 64, ...) and 28, 56, 112, ... (MNIST's 28 x 28 works without padding: its
U-Net runs 28 -> 14 -> 7 and back). ``depth`` may be anything from 1 to the number of times
``image_size`` halves exactly (5 for 32: down to 1 x 1, as the paper's 256 x 256 net goes; 2
for 28); the default stops at 4 x 4 (7 x 7 for 28, 56, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_lessons._validate import check_bool, check_float, check_int

from ._inputs import check_config, model_input
from .dcgan import dcgan_start_size, init_dcgan_weights

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""The ITU-R BT.601 luma weights of R, G and B (``Y = 0.299 R + 0.587 G + 0.114 B``)."""

__all__ = ["PatchDiscriminator", "Pix2PixConfig", "UNetGenerator", "patch_receptive_field"]


def _halvings(image_size: int) -> int:
    """How many times ``image_size`` halves exactly (32 -> 5, 28 -> 2)."""
    count = 0
    while image_size % 2 == 0:
        image_size //= 2
        count += 1
    return count


def patch_receptive_field(d_layers: int) -> int:
    """Side in pixels of the square of input pixels one logit of a :class:`PatchDiscriminator`
    with ``d_layers`` hidden layers sees: 7, 16, 34, 70, 142 for 1 to 5 layers.

    Walking back from the logit: the output convolution (kernel 4) sees 4 positions, the
    stride-1 hidden layer 4 + 3 = 7; each stride-2 layer (kernel 4) below turns ``r`` into
    ``2 r + 2``.
    """
    d_layers = check_int(d_layers, "d_layers", minimum=1)
    field = 7
    for _ in range(d_layers - 1):
        field = 2 * field + 2
    return field


@dataclass(frozen=True)
class Pix2PixConfig:
    """Sizes of a pix2pix pair (generator and discriminator share it).

    Attributes:
        image_size: side of the square images (see the module docstring for what is
            supported: 16, 32, 64, ... and 28, 56, ...).
        in_channels: channels of the input (1 for a greyscale or edge map).
        out_channels: channels of the output (3 for a colour image).
        width: channels of the first encoder block (the paper's 64); they double at each
            halving, up to ``max_width``. The discriminator uses the same widths.
        max_width: the cap on the channel count (the paper's 512).
        depth: stride-2 levels of the U-Net, from 1 up to the number of exact halvings of
            ``image_size``; ``None`` (default): down to 4 x 4 (7 x 7 for 28, 56, ...), i.e.
            ``log2(image_size) - 2`` for powers of two (3 for 32). Stored resolved.
        dropout: dropout probability in the first decoder blocks (0.5, the paper); 0: none.
        dropout_blocks: how many decoder blocks, counted from the bottleneck, have dropout;
            ``None`` (default): ``min(3, max(1, depth - 2))``, capped at ``depth - 1`` (the
            paper's 3 of its 8-level net; 1 for the 3-level 32 x 32 net). Stored resolved.
        d_layers: hidden layers of the patch discriminator (the last has stride 1, the
            others stride 2); its patches are :attr:`receptive_field` pixels wide (34 for 3).
            The logit map must be at least 1 x 1: ``image_size / 2**(d_layers - 1) >= 3``.
        keep_luma: colourisation (1 grey input channel, 3 output channels) that keeps the
            input's brightness: the U-Net's RGB output ``c`` is shifted by
            ``grey - luma(c)`` on every channel, so only the colour is predicted and the
            output's luma equals the input (exactly, wherever no channel is clipped to
            [-1, 1]). Colourisation papers predict only the colour for the same reason
            (Zhang et al. 2016 work in Lab space).
    """

    image_size: int = 32
    in_channels: int = 1
    out_channels: int = 3
    width: int = 32
    max_width: int = 256
    depth: int | None = None
    dropout: float = 0.5
    dropout_blocks: int | None = None
    d_layers: int = 3
    keep_luma: bool = False

    def __post_init__(self) -> None:
        start = dcgan_start_size(self.image_size)
        check_int(self.in_channels, "in_channels", minimum=1)
        check_int(self.out_channels, "out_channels", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.max_width, "max_width", minimum=self.width)
        if self.depth is None:
            object.__setattr__(self, "depth", (self.image_size // start).bit_length() - 1)
        check_int(self.depth, "depth", minimum=1, maximum=_halvings(self.image_size))
        object.__setattr__(self, "dropout", check_float(self.dropout, "dropout", 0.0, 1.0))
        if self.dropout >= 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.dropout_blocks is None:
            object.__setattr__(self, "dropout_blocks",
                               min(3, max(1, self.depth - 2), self.depth - 1))
        check_int(self.dropout_blocks, "dropout_blocks", minimum=0, maximum=self.depth - 1)
        check_int(self.d_layers, "d_layers", minimum=1)
        check_bool(self.keep_luma, "keep_luma")
        if self.keep_luma and (self.in_channels, self.out_channels) != (1, 3):
            raise ValueError(f"keep_luma needs in_channels=1 and out_channels=3 (grey to "
                             f"colour), got {self.in_channels} and {self.out_channels}")
        stride = 2 ** (self.d_layers - 1)
        if self.image_size % stride or self.image_size // stride < 3:
            raise ValueError(f"d_layers={self.d_layers} is too deep for image_size="
                             f"{self.image_size}: the image must halve exactly "
                             f"{self.d_layers - 1} times to at least 3 x 3")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(in_channels, image_size, image_size)``: one input."""
        return (self.in_channels, self.image_size, self.image_size)

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """``(out_channels, image_size, image_size)``: one output (or target) image."""
        return (self.out_channels, self.image_size, self.image_size)

    def widths(self) -> list[int]:
        """Channels of the encoder's feature maps, from the image side inwards (``depth``)."""
        return [min(self.width * 2**i, self.max_width) for i in range(self.depth)]

    @property
    def receptive_field(self) -> int:
        """Side of the square of input pixels one patch logit sees
        (:func:`patch_receptive_field`)."""
        return patch_receptive_field(self.d_layers)

    @property
    def patch_grid(self) -> int:
        """``P``: the discriminator returns ``(B, 1, P, P)`` logits,
        ``P = image_size / 2**(d_layers - 1) - 2``."""
        return self.image_size // 2 ** (self.d_layers - 1) - 2


def _check_images(x, name: str, module: nn.Module, shape: tuple[int, int, int]) -> torch.Tensor:
    x = model_input(x, name, module)
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"{name} must have shape (B, {', '.join(map(str, shape))}), got "
                         f"{tuple(x.shape)}")
    return x


class UNetGenerator(nn.Module):
    """inputs ``(B, in_channels, S, S)`` in [-1, 1] -> images ``(B, out_channels, S, S)`` in
    [-1, 1], through a U-Net of ``config.depth`` levels (module docstring).

    Attributes:
        encoder: ``depth`` blocks; block ``i`` maps ``S / 2**i`` to ``S / 2**(i + 1)``.
        decoder: ``depth`` blocks; block ``j`` reads ``S / 2**(depth - j)`` (after ``j > 0``
            concatenated with the encoder's map of that size) and doubles it; the last ends in
            tanh.
    """

    def __init__(self, config: Pix2PixConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, Pix2PixConfig)
        widths, depth = config.widths(), config.depth
        self.encoder = nn.ModuleList()
        for i, (c_in, c_out) in enumerate(zip([config.in_channels, *widths], widths,
                                              strict=False)):
            norm = 0 < i < depth - 1  # not on the image, not on the bottleneck
            # each block halves H and W: floor((H + 2 - 4) / 2) + 1 = H / 2
            layers = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm)]
            if norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.encoder.append(nn.Sequential(*layers))
        self.decoder = nn.ModuleList()
        inner = widths[-1]  # channels coming up from below
        for j in range(depth - 1):
            skip = 0 if j == 0 else widths[depth - 1 - j]
            c_out = widths[depth - 2 - j]
            # each block doubles H and W: (H - 1) * 2 - 2 + 4 = 2H
            layers = [nn.ConvTranspose2d(inner + skip, c_out, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(c_out)]
            if j < config.dropout_blocks and config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            layers.append(nn.ReLU(inplace=True))
            self.decoder.append(nn.Sequential(*layers))
            inner = c_out
        skip = widths[0] if depth > 1 else 0
        self.decoder.append(nn.Sequential(
            nn.ConvTranspose2d(inner + skip, config.out_channels, 4, 2, 1), nn.Tanh()))
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, in_channels, S, S)`` -> ``(B, out_channels, S, S)`` in [-1, 1]."""
        h = _check_images(x, "x", self, self.config.input_shape)
        skips = []
        for block in self.encoder:
            h = block(h)
            skips.append(h)  # (B, widths[i], S / 2**(i + 1), ...)
        skips.pop()  # the bottleneck is h itself
        for j, block in enumerate(self.decoder):
            if j > 0:
                h = torch.cat([h, skips.pop()], dim=1)  # same size: concatenate channels
            h = block(h)
        if self.config.keep_luma:
            luma = torch.tensor(LUMA_WEIGHTS, dtype=h.dtype, device=h.device)
            shift = x.to(h.dtype) - torch.einsum("nchw,c->nhw", h, luma)[:, None]
            h = (h + shift).clamp(-1.0, 1.0)
        return h


class PatchDiscriminator(nn.Module):
    """``(inputs (B, in_channels, S, S), images (B, out_channels, S, S))`` -> logits
    ``(B, 1, P, P)``, one per overlapping patch of ``config.receptive_field`` pixels
    (``P = config.patch_grid``; no sigmoid).

    The logit at ``(i, j)`` sees rows :meth:`field` ``(i)`` and columns ``field(j)`` of the
    (zero-padded) input; in eval mode nothing outside that square changes it.
    """

    def __init__(self, config: Pix2PixConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, Pix2PixConfig)
        widths = [min(config.width * 2**i, config.max_width) for i in range(config.d_layers)]
        c_in = config.in_channels + config.out_channels
        layers: list[nn.Module] = []
        for i, c_out in enumerate(widths):
            stride = 1 if i == config.d_layers - 1 else 2
            layers.append(nn.Conv2d(c_in, c_out, 4, stride, 1, bias=i == 0))
            if i > 0:  # no normalisation on the input layer
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in = c_out
        layers.append(nn.Conv2d(c_in, 1, 4, 1, 1))  # (B, 1, P, P) logits
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def field(self, index: int) -> range:
        """The rows (or columns) of the input that patch row (column) ``index`` sees, clipped
        to the image: ``range(max(0, index * J - p), min(S, index * J - p + R))`` with ``J =
        2**(d_layers - 1)`` the total stride, ``p`` the padding carried back to the input and
        ``R`` the receptive field."""
        config = self.config
        index = check_int(index, "index", minimum=0, maximum=config.patch_grid - 1)
        jump, pad = 1, 0
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                pad += layer.padding[0] * jump
                jump *= layer.stride[0]
        start = index * jump - pad
        return range(max(0, start), min(config.image_size, start + config.receptive_field))

    def forward(self, inputs: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """``inputs`` ``(B, in_channels, S, S)``, ``images`` ``(B, out_channels, S, S)`` ->
        logits ``(B, 1, P, P)``."""
        config = self.config
        inputs = _check_images(inputs, "inputs", self, config.input_shape)
        images = _check_images(images, "images", self, config.data_shape)
        if inputs.shape[0] != images.shape[0]:
            raise ValueError(f"inputs and images must hold as many samples, got "
                             f"{inputs.shape[0]} and {images.shape[0]}")
        return self.net(torch.cat([inputs, images], dim=1))

