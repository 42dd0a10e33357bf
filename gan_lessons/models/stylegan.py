"""A small StyleGAN2 (Karras et al., 2020) that trains on a CPU, with StyleGAN's AdaIN (2019)
as an option. Pure PyTorch (no custom CUDA ops), device-agnostic, float32 by default.

**Generator.** Two networks in a row:

* the *mapping network* ``z -> w``: ``z`` is normalised to unit second moment (``z / rms(z)``),
  then ``mapping_layers`` fully connected layers with leaky ReLU turn it into a style vector
  ``w`` of length ``w_dim``. A conditional model (``num_classes > 0``) embeds the label,
  normalises the embedding too and concatenates it to ``z`` first, as NVlabs' conditional
  mapping does. The generator keeps ``w_avg``, a running mean of ``w`` used by the truncation
  trick ``w' = w_avg + psi (w - w_avg)``.
* the *synthesis network* ``ws -> image``: a learned constant ``start x start`` tensor (4 x 4,
  or 7 x 7 for 28 x 28 MNIST, as in :func:`~gan_lessons.models.dcgan.dcgan_start_size`) goes
  through 3 x 3 convolutions whose weights are *modulated* per sample by a style (an affine map
  of one ``w``), doubling the resolution before the first convolution of every block. Each
  convolution is followed by per-pixel noise (a fixed random image times a learned strength,
  initialised to 0), a bias and leaky ReLU. Every resolution has a toRGB layer (a modulated
  1 x 1 convolution); the RGB images are upsampled and summed (StyleGAN2's *skip* generator),
  and ``tanh`` bounds the sum to [-1, 1]. NVlabs' code leaves the sum unbounded and clamps it
  only when saving images; the book's metrics and data need [-1, 1], and ``tanh`` (as in
  DCGAN) keeps a gradient where a clamp in ``forward`` would give none, and shows the
  discriminator the very images that are evaluated.

**Styles.** ``ws`` has shape ``(B, num_ws, w_dim)``: one ``w`` per style input, coarse to fine.
With ``n`` resolution blocks there are ``2n - 1`` convolutions (one at the start resolution,
two in every later block) and ``n`` toRGB layers; as in NVlabs' code, ``num_ws = 2n``:

* convolution ``i`` (``i = 0 ... 2n - 2``, coarse to fine) reads ``ws[:, i]``;
* the toRGB layer of block ``k`` (``k = 0 ... n - 1``) reads ``ws[:, 2k + 1]``, the ``w`` of the
  next block's first convolution (the last toRGB reads ``ws[:, 2n - 1]``, which only it uses).

So 32 x 32 (blocks 4, 8, 16, 32) has ``num_ws = 8``, 28 x 28 (7, 14, 28) has 6. Feeding the
same ``w`` to every entry is the ordinary generator; different ``w`` per entry is *style
mixing* (:func:`style_mix`) and per-layer editing (:func:`edit_styles`).

**Style blocks** (``StyleGANConfig.style_block``):

* ``"modulated"`` (StyleGAN2, the default): the style ``s`` scales the convolution's *input*
  channels, ``w'_oik = s_i w_oik``, and *demodulation* divides each output channel by
  ``sqrt(sum_ik w'_oik^2 + 1e-8)``, so unit-variance inputs give unit-variance outputs
  whatever the style (:func:`modulated_conv2d`). This replaces AdaIN's normalisation of the
  activations, which caused StyleGAN's "droplet" artefacts.
* ``"adain"`` (StyleGAN, 2019): a plain convolution, noise, bias and leaky ReLU, then adaptive
  instance normalisation: each channel of each sample is normalised to zero mean and unit
  variance over its pixels and scaled and shifted by the style, ``y_s * x_norm + y_b``.

Only the convolutions change: the toRGB layers, the skip architecture, the noise and the
mapping network are the same in both, so the pair isolates what demodulation changes.

**Equalized learning rate** (Karras et al., 2018): every weight is stored ``N(0, 1) / lr_mul``
and multiplied at run time by ``lr_mul / sqrt(fan_in)`` (biases by ``lr_mul``), see
:class:`EqualizedLinear` and :class:`EqualizedConv2d`. The effective weights are those of He
initialisation, but Adam's steps, which hardly depend on the gradient's scale, change every
layer at the same relative rate. The mapping network uses ``lr_mul = 0.01``: its effective
learning rate is 100 times smaller.

**Discriminator.** StyleGAN2's residual discriminator (``architecture="resnet"``, the default)
or its skip variant (``"skip"``, images downsampled and added through a fromRGB layer at every
resolution); StyleGAN2's paper pairs a skip generator with a *resnet* discriminator, its best
combination (Table 2 of the paper), so that is the default. Then the minibatch standard
deviation (:func:`minibatch_std`), a 3 x 3 convolution, a fully connected layer and one logit;
a conditional discriminator projects the label embedding onto the features (NVlabs' ``cmap``,
the projection discriminator of Miyato & Koyama, 2018).

**Simplifications** against NVlabs' ``stylegan2-ada-pytorch``, to stay short and CPU friendly:
bilinear resampling (``F.interpolate(scale_factor=2, mode="bilinear")`` up, which is the
``[1, 3, 3, 1]`` filter of NVlabs with edges replicated, and 2 x 2 average pooling down) instead
of ``upfirdn2d``; the modulated convolution scales the activations instead of building a weight
per sample (the same numbers, one ordinary convolution); the conditional discriminator embeds
the label without a mapping network of its own; ``tanh`` at the output; no float16 layers, no
style-mixing regularisation and no path-length regulariser in the model (they belong to
training).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from gan_lessons._validate import check_bool, check_choice, check_float, check_int

from ._inputs import check_config, model_input
from .conditional import check_labels
from .dcgan import SquareImageSizes, dcgan_start_size

__all__ = [
    "D_ARCHITECTURES",
    "NOISE_MODES",
    "STYLE_BLOCKS",
    "EqualizedConv2d",
    "EqualizedLinear",
    "ModulatedConv2d",
    "StyleGANConfig",
    "StyleGANDiscriminator",
    "StyleGANGenerator",
    "adain",
    "edit_styles",
    "minibatch_std",
    "modulated_conv2d",
    "style_mix",
]

STYLE_BLOCKS = ("adain", "modulated")
"""Choices of ``StyleGANConfig.style_block``: StyleGAN's AdaIN or StyleGAN2's modulated conv."""

D_ARCHITECTURES = ("resnet", "skip")
"""Choices of ``StyleGANConfig.architecture`` (the discriminator's)."""

NOISE_MODES = ("random", "const", "none")
"""Choices of ``noise_mode``: fresh noise per call, the stored noise images, or no noise."""

LEAKY_SLOPE = 0.2
"""Negative slope of every leaky ReLU (NVlabs)."""

LEAKY_GAIN = math.sqrt(2.0)
"""Every leaky ReLU's output is multiplied by ``sqrt(2)`` (He gain), keeping activations at
unit second moment with the equalized (``1 / sqrt(fan_in)``) weights."""


def _lrelu(x: torch.Tensor, gain: float = LEAKY_GAIN) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE) * gain


def _normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each row divided by its root mean square: ``x / sqrt(mean(x^2) + eps)``."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def _upsample(x: torch.Tensor) -> torch.Tensor:
    """Double H and W bilinearly (the separable ``[1, 3, 3, 1] / 4`` filter, edges replicated)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def _downsample(x: torch.Tensor) -> torch.Tensor:
    """Halve H and W by 2 x 2 average pooling."""
    return F.avg_pool2d(x, 2)


def _check_tensor(value, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, kw_only=True)
class StyleGANConfig(SquareImageSizes):
    """Sizes of a StyleGAN pair (keyword-only); stored in checkpoints by ``asdict``.

    The defaults are a CIFAR-10 model (32 x 32 x 3, unconditional) small enough to train on a
    CPU: 0.75 M parameters in the generator and 0.87 M in the discriminator.

    Attributes:
        image_size: a power of two >= 16 (start 4 x 4) or 28 (start 7 x 7, MNIST); any size
            :func:`~gan_lessons.models.dcgan.dcgan_start_size` accepts (also 56, 112, ...).
        channels: 1 (grey) or 3 (RGB).
        z_dim: length of ``z`` (the generator's ``latent_dim``).
        w_dim: length of the style vector ``w``.
        mapping_layers: fully connected layers of the mapping network (NVlabs' CIFAR-10
            config has 2; the FFHQ one 8).
        width: channels at the image resolution; they double at every halving of the
            resolution up to ``max_width`` (as ``width``/``max_width`` of DCGAN). The defaults,
            32 and 128, give 128 channels at 4 x 4 and 8 x 8, 64 at 16 x 16 and 32 at 32 x 32
            (128 at 7 x 7, 64 at 14 x 14, 32 at 28 x 28), in the generator and the
            discriminator alike: :meth:`channels_at`.
        max_width: the most channels of any resolution.
        style_block: ``"modulated"`` (StyleGAN2, default) or ``"adain"`` (StyleGAN).
        num_classes: 0 for an unconditional model; ``K > 0`` for labels ``0 ... K - 1``: the
            generator embeds the label (``w_dim`` numbers) and concatenates it to ``z`` before
            the mapping network; the discriminator projects a label embedding on its features.
        mapping_lr_mul: learning-rate multiplier of the mapping network, in (0, 1] (0.01,
            NVlabs).
        w_avg_beta: decay of the running mean ``w_avg`` (0.995, NVlabs):
            ``w_avg <- beta * w_avg + (1 - beta) * mean(w)`` at every training-mode mapping.
        architecture: the discriminator's, ``"resnet"`` (default, StyleGAN2's choice) or
            ``"skip"``; the generator is always the skip architecture.
        mbstd_group: group size of the minibatch standard deviation (4, NVlabs' default;
            their CIFAR-10 config uses 32); a batch the group size does not divide uses the
            largest group size that divides it (:func:`minibatch_std`).

    Invalid values raise ``TypeError`` or ``ValueError`` naming the field.
    """

    image_size: int = 32
    channels: int = 3
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 2
    width: int = 32
    max_width: int = 128
    style_block: str = "modulated"
    num_classes: int = 0
    mapping_lr_mul: float = 0.01
    w_avg_beta: float = 0.995
    architecture: str = "resnet"
    mbstd_group: int = 4

    def __post_init__(self) -> None:
        dcgan_start_size(self.image_size)
        channels = check_int(self.channels, "channels")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        check_int(self.z_dim, "z_dim", minimum=1)
        check_int(self.w_dim, "w_dim", minimum=1)
        check_int(self.mapping_layers, "mapping_layers", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.max_width, "max_width", minimum=self.width)
        check_choice(self.style_block, "style_block", STYLE_BLOCKS)
        check_int(self.num_classes, "num_classes", minimum=0)
        check_float(self.mapping_lr_mul, "mapping_lr_mul", minimum=0.0, maximum=1.0,
                    exclusive_minimum=True)
        check_float(self.w_avg_beta, "w_avg_beta", minimum=0.0, maximum=1.0)
        check_choice(self.architecture, "architecture", D_ARCHITECTURES)
        check_int(self.mbstd_group, "mbstd_group", minimum=1)
        # stored as floats (an int 1 becomes 1.0), as the field types say
        object.__setattr__(self, "mapping_lr_mul", float(self.mapping_lr_mul))
        object.__setattr__(self, "w_avg_beta", float(self.w_avg_beta))

    @property
    def resolutions(self) -> tuple[int, ...]:
        """The synthesis blocks' resolutions, coarse to fine, e.g. ``(4, 8, 16, 32)``."""
        sizes = [self.start_size]
        while sizes[-1] < self.image_size:
            sizes.append(sizes[-1] * 2)
        return tuple(sizes)

    @property
    def num_ws(self) -> int:
        """The number of style inputs of the synthesis, ``2 * len(resolutions)`` (see the module
        docstring)."""
        return 2 * len(self.resolutions)

    def channels_at(self, resolution: int) -> int:
        """Feature channels at ``resolution`` (one of :attr:`resolutions`):
        ``min(width * image_size / resolution, max_width)``."""
        resolution = check_int(resolution, "resolution", minimum=1)
        if resolution not in self.resolutions:
            raise ValueError(f"resolution must be one of {self.resolutions}, got {resolution}")
        return min(self.width * (self.image_size // resolution), self.max_width)


# --------------------------------------------------------------------------- layers


class EqualizedLinear(nn.Module):
    """A fully connected layer with equalized learning rate: ``y = x W_eff^T + b_eff``.

    The stored ``weight`` ``(out_features, in_features)`` is drawn ``N(0, 1) / lr_mul``; the
    layer uses ``W_eff = weight * weight_gain`` with ``weight_gain = lr_mul / sqrt(in_features)``
    (so ``W_eff ~ N(0, 1 / in_features)`` at initialisation, He's variance without the
    activation's gain), and ``b_eff = bias * lr_mul`` with the stored bias initialised to
    ``bias_init / lr_mul`` (so ``b_eff = bias_init`` at first). The gradient of the stored
    weight is ``weight_gain`` times that of ``W_eff``, hence the name: with Adam, whose step
    does not depend on the gradient's scale, every layer learns at the same relative speed,
    ``lr_mul`` times the optimizer's rate.
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True,
                 bias_init: float = 0.0, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        check_bool(bias, "bias")
        bias_init = check_float(bias_init, "bias_init")
        self.lr_mul = check_float(lr_mul, "lr_mul", minimum=0.0, exclusive_minimum=True)
        self.weight_gain = self.lr_mul / math.sqrt(self.in_features)
        self.weight = nn.Parameter(torch.randn(self.out_features, self.in_features) / self.lr_mul)
        self.bias = (nn.Parameter(torch.full((self.out_features,), bias_init / self.lr_mul))
                     if bias else None)

    def effective_weight(self) -> torch.Tensor:
        """``weight * lr_mul / sqrt(in_features)``: the matrix the layer multiplies by."""
        return self.weight * self.weight_gain

    def effective_bias(self) -> torch.Tensor | None:
        """``bias * lr_mul`` (None without a bias)."""
        return None if self.bias is None else self.bias * self.lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(..., in_features)`` -> ``(..., out_features)``."""
        x = _check_tensor(x, "x")
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape (..., {self.in_features}), got "
                             f"{tuple(x.shape)}")
        return F.linear(x, self.effective_weight(), self.effective_bias())

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, bias={self.bias is not None}, "
                f"lr_mul={self.lr_mul}")


class EqualizedConv2d(nn.Module):
    """A convolution with equalized learning rate (stride 1, "same" padding ``kernel_size // 2``).

    As :class:`EqualizedLinear`: the stored ``weight`` ``(out, in, k, k)`` is ``N(0, 1) /
    lr_mul`` and is used times ``weight_gain = lr_mul / sqrt(in * k * k)``; the bias (zeros)
    times ``lr_mul``. Resampling is done outside (the blocks upsample or pool around it).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *,
                 bias: bool = True, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        check_bool(bias, "bias")
        self.lr_mul = check_float(lr_mul, "lr_mul", minimum=0.0, exclusive_minimum=True)
        self.padding = self.kernel_size // 2
        self.weight_gain = self.lr_mul / math.sqrt(self.in_channels * self.kernel_size ** 2)
        self.weight = nn.Parameter(torch.randn(self.out_channels, self.in_channels,
                                               self.kernel_size, self.kernel_size) / self.lr_mul)
        self.bias = nn.Parameter(torch.zeros(self.out_channels)) if bias else None

    def effective_weight(self) -> torch.Tensor:
        """``weight * lr_mul / sqrt(in_channels * kernel_size**2)``."""
        return self.weight * self.weight_gain

    def effective_bias(self) -> torch.Tensor | None:
        """``bias * lr_mul`` (None without a bias)."""
        return None if self.bias is None else self.bias * self.lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, in_channels, H, W)`` -> ``(B, out_channels, H', W')`` (H' = H for odd
        kernels)."""
        x = _check_tensor(x, "x")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape (B, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}")
        return F.conv2d(x, self.effective_weight(), self.effective_bias(), padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"bias={self.bias is not None}, lr_mul={self.lr_mul}")


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *,
                     demodulate: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """StyleGAN2's modulated convolution (stride 1, padding ``k // 2``), one style per sample.

    Args:
        x: ``(B, I, H, W)`` input.
        weight: ``(O, I, k, k)`` the weight as used (an equalized layer passes its effective
            weight).
        styles: ``(B, I)``: sample ``b`` convolves with ``w'_oik = styles[b, i] * w_oik``.
        demodulate: divide each output channel by ``sigma_o = sqrt(sum_ik w'_oik^2 + eps)``,
            so that inputs of unit variance, independent across channels and pixels, give
            outputs of unit variance (away from the zero-padded borders).
        eps: keeps ``sigma`` away from 0.

    Returns ``(B, O, H, W)``. The per-sample weight is never built: scaling the input channels
    by the style, convolving with ``weight`` and scaling the output channels by ``1 / sigma``
    gives the same numbers with one ordinary convolution (NVlabs' "non-fused" path).
    """
    x = _check_tensor(x, "x")
    weight = _check_tensor(weight, "weight")
    styles = _check_tensor(styles, "styles")
    check_bool(demodulate, "demodulate")
    eps = check_float(eps, "eps", minimum=0.0)
    if weight.ndim != 4 or weight.shape[2] != weight.shape[3] or weight.shape[2] % 2 == 0:
        raise ValueError(f"weight must have shape (O, I, k, k) with an odd k, got "
                         f"{tuple(weight.shape)}")
    in_channels = weight.shape[1]
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"x must have shape (B, {in_channels}, H, W), got {tuple(x.shape)}")
    if styles.shape != (x.shape[0], in_channels):
        raise ValueError(f"styles must have shape (B, I) = ({x.shape[0]}, {in_channels}), got "
                         f"{tuple(styles.shape)}")
    x = x * styles[:, :, None, None].to(x.dtype)  # modulate: scale input channels
    x = F.conv2d(x, weight.to(x.dtype), padding=weight.shape[2] // 2)
    if demodulate:
        # sum_ik (s_i w_oik)^2 = sum_i s_i^2 sum_k w_oik^2:
        # a (B, I) @ (I, O) product
        w_sq = weight.square().sum(dim=(2, 3))  # (O, I)
        sigma_sq = styles.square() @ w_sq.t()  # (B, O)
        x = x * (sigma_sq + eps).rsqrt()[:, :, None, None].to(x.dtype)
    return x


def adain(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, *,
          eps: float = 1e-8) -> torch.Tensor:
    r"""Adaptive instance normalisation (Huang & Belongie, 2017), as StyleGAN (2019) uses it.

    .. math::
        \mathrm{AdaIN}(x, y)_{bc} = y_{s,bc}\,\frac{x_{bc} - \mu(x_{bc})}{\sigma(x_{bc})}
        + y_{b,bc}

    Each channel ``c`` of each sample ``b`` is normalised over its pixels to mean 0 and
    standard deviation 1 (population std, ``sqrt(mean((x - mu)^2) + eps)``), then scaled and
    shifted by the style. In style transfer the style is the channel statistics of another
    image's features (``scale = sigma(y)``, ``shift = mu(y)``); in StyleGAN it is an affine map
    of ``w``.

    Args:
        x: features ``(B, C, H, W)``.
        scale: ``(B, C)``, the new standard deviation of each channel.
        shift: ``(B, C)``, the new mean of each channel.
        eps: added to the variance.

    Returns ``(B, C, H, W)`` whose channels have mean ``shift`` and std ``|scale|`` (up to
    ``eps``).
    """
    x = _check_tensor(x, "x")
    scale = _check_tensor(scale, "scale")
    shift = _check_tensor(shift, "shift")
    eps = check_float(eps, "eps", minimum=0.0)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (B, C, H, W), got {tuple(x.shape)}")
    for value, name in ((scale, "scale"), (shift, "shift")):
        if value.shape != x.shape[:2]:
            raise ValueError(f"{name} must have shape (B, C) = {tuple(x.shape[:2])}, got "
                             f"{tuple(value.shape)}")
    scale, shift = scale.to(x.dtype), shift.to(x.dtype)
    x = x - x.mean(dim=(2, 3), keepdim=True)  # per sample and channel
    x = x * (x.square().mean(dim=(2, 3), keepdim=True) + eps).rsqrt()
    return x * scale[:, :, None, None] + shift[:, :, None, None]


class ModulatedConv2d(nn.Module):
    """A modulated convolution layer: the affine map ``w -> styles`` and the weight.

    ``affine`` is an :class:`EqualizedLinear` ``(w_dim -> in_channels)`` whose bias starts at 1,
    so every style starts near 1; the weight ``(out, in, k, k)`` is equalized as in
    :class:`EqualizedConv2d` (stored ``N(0, 1)``, used times ``1 / sqrt(in * k * k)``).
    ``forward(x, w)`` is :func:`modulated_conv2d` with ``styles = affine(w)``, without a bias
    (the layers that use it add bias and noise).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, *,
                 demodulate: bool = True) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.w_dim = check_int(w_dim, "w_dim", minimum=1)
        self.demodulate = check_bool(demodulate, "demodulate")
        self.affine = EqualizedLinear(self.w_dim, self.in_channels, bias_init=1.0)
        self.weight_gain = 1.0 / math.sqrt(self.in_channels * self.kernel_size ** 2)
        self.weight = nn.Parameter(torch.randn(self.out_channels, self.in_channels,
                                               self.kernel_size, self.kernel_size))

    def effective_weight(self) -> torch.Tensor:
        """``weight / sqrt(in_channels * kernel_size**2)``."""
        return self.weight * self.weight_gain

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, in_channels, H, W)``, ``w``: ``(B, w_dim)`` -> ``(B, out_channels, H,
        W)``."""
        w = _check_tensor(w, "w")
        if w.ndim != 2 or w.shape[1] != self.w_dim:
            raise ValueError(f"w must have shape (B, {self.w_dim}), got {tuple(w.shape)}")
        return modulated_conv2d(x, self.effective_weight(), self.affine(w),
                                demodulate=self.demodulate)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"w_dim={self.w_dim}, demodulate={self.demodulate}")


class _SynthesisLayer(nn.Module):
    """One styled 3 x 3 convolution: [upsample] -> conv -> + noise -> + bias -> leaky ReLU
    [-> AdaIN]. ``noise_const`` ``(R, R)`` is the stored noise image; ``noise_strength`` (a
    scalar, initially 0) scales whichever noise is added."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 style_block: str, up: bool) -> None:
        super().__init__()
        self.up = up
        self.resolution = resolution
        self.style_block = style_block
        if style_block == "modulated":
            self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, demodulate=True)
        else:  # StyleGAN's AdaIN: a plain convolution, the style after the normalisation
            self.conv = EqualizedConv2d(in_channels, out_channels, 3, bias=False)
            self.style_scale = EqualizedLinear(w_dim, out_channels, bias_init=1.0)
            self.style_shift = EqualizedLinear(w_dim, out_channels, bias_init=0.0)
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        if self.up:
            x = _upsample(x)
        x = self.conv(x, w) if self.style_block == "modulated" else self.conv(x)
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
            x = x + noise * self.noise_strength.to(x.dtype)
        elif noise_mode == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        x = _lrelu(x + self.bias.to(x.dtype)[:, None, None])
        if self.style_block == "adain":
            x = adain(x, self.style_scale(w), self.style_shift(w))
        return x


class _ToRGB(nn.Module):
    """A modulated 1 x 1 convolution without demodulation, plus a bias: features -> image."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias.to(x.dtype)[:, None, None]


# --------------------------------------------------------------------------- generator


class StyleGANGenerator(nn.Module):
    """``z`` ``(B, z_dim)`` [and labels ``(B,)``] -> images ``(B, channels, S, S)`` in [-1, 1].

    ``G(z) = synthesis(broadcast(truncate(mapping(z))))``; see the module docstring.

    Attributes:
        config: the :class:`StyleGANConfig`.
        latent_dim: ``z_dim`` (what the rest of the package reads).
        num_ws: style inputs of :meth:`synthesis`.
        num_classes: only on a conditional generator (``config.num_classes > 0``); the metrics
            and the training loop treat a generator with an int ``num_classes`` as conditional.
        w_avg: buffer ``(w_dim,)``, the running mean of ``w``, the centre of truncation.
        embed: (conditional) the label embedding, an :class:`EqualizedLinear` on one-hot labels.
        mapping_net: the mapping network's :class:`EqualizedLinear` layers (``lr_mul =
            config.mapping_lr_mul``).
        const: the learned constant input ``(C, start, start)``.
        layers: the ``2n - 1`` styled convolutions, coarse to fine; ``layers[i]`` reads
            ``ws[:, i]``, and ``layers[i].noise_strength`` / ``.noise_const`` are its noise.
        to_rgbs: the ``n`` toRGB layers, ``to_rgbs[k]`` reads ``ws[:, 2k + 1]``.
    """

    def __init__(self, config: StyleGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, StyleGANConfig)
        self.latent_dim = config.z_dim
        self.num_ws = config.num_ws
        if config.num_classes:
            self.num_classes = config.num_classes
            # NVlabs: embed the one-hot label (w_dim numbers), normalise, concatenate to z
            self.embed = EqualizedLinear(config.num_classes, config.w_dim)
        sizes = [config.z_dim + (config.w_dim if config.num_classes else 0)]
        sizes += [config.w_dim] * config.mapping_layers
        self.mapping_net = nn.ModuleList(
            EqualizedLinear(a, b, lr_mul=config.mapping_lr_mul)
            for a, b in itertools.pairwise(sizes))
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

        resolutions = config.resolutions
        first = config.channels_at(resolutions[0])
        self.const = nn.Parameter(torch.randn(first, resolutions[0], resolutions[0]))
        layers = [_SynthesisLayer(first, first, config.w_dim, resolutions[0],
                                  style_block=config.style_block, up=False)]
        to_rgbs = [_ToRGB(first, config.channels, config.w_dim)]
        for previous, res in itertools.pairwise(resolutions):
            c_in, c_out = config.channels_at(previous), config.channels_at(res)
            layers += [_SynthesisLayer(c_in, c_out, config.w_dim, res,
                                       style_block=config.style_block, up=True),
                       _SynthesisLayer(c_out, c_out, config.w_dim, res,
                                       style_block=config.style_block, up=False)]
            to_rgbs.append(_ToRGB(c_out, config.channels, config.w_dim))
        self.layers = nn.ModuleList(layers)
        self.to_rgbs = nn.ModuleList(to_rgbs)

    # ------------------------------------------------------------------ mapping
    def mapping(self, z: torch.Tensor, labels: torch.Tensor | None = None, *,
                update_w_avg: bool = True) -> torch.Tensor:
        """``z`` ``(B, z_dim)`` [and labels ``(B,)``] -> ``w`` ``(B, w_dim)``.

        In training mode (``self.training``) and with ``update_w_avg``, also moves ``w_avg``
        towards the batch's mean ``w``: ``w_avg.lerp_(w.mean(0), 1 - w_avg_beta)``.
        """
        z = self._z(z)
        labels = self._labels(labels, z)
        check_bool(update_w_avg, "update_w_avg")
        x = self._map(z, labels)
        if self.training and update_w_avg and len(x):
            with torch.no_grad():
                self.w_avg.lerp_(x.detach().mean(dim=0).to(self.w_avg.dtype),
                                 1.0 - self.config.w_avg_beta)
        return x

    def _map(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The mapping network on checked inputs, ``w_avg`` untouched (what an ONNX export
        traces: the checks of :meth:`mapping` read the labels' values)."""
        x = _normalize_2nd_moment(z)
        if labels is not None:
            onehot = F.one_hot(labels, self.config.num_classes).to(x.dtype)
            x = torch.cat([x, _normalize_2nd_moment(self.embed(onehot))], dim=1)
        for layer in self.mapping_net:
            x = _lrelu(layer(x))
        return x

    def truncate(self, w: torch.Tensor, truncation_psi: float = 1.0) -> torch.Tensor:
        """The truncation trick ``w_avg + psi (w - w_avg)`` for ``w`` of shape ``(..., w_dim)``.

        ``psi = 1`` returns ``w``; ``psi = 0`` gives ``w_avg`` for every ``z``; ``0 < psi < 1``
        trades variety for typical, cleaner images; any finite ``psi`` is accepted.
        """
        w = _check_tensor(w, "w")
        psi = check_float(truncation_psi, "truncation_psi")
        if w.ndim < 1 or w.shape[-1] != self.config.w_dim:
            raise ValueError(f"w must have shape (..., {self.config.w_dim}), got "
                             f"{tuple(w.shape)}")
        if psi == 1.0:
            return w
        return self.w_avg.to(w.dtype).lerp(w, psi)

    def w_plus(self, z: torch.Tensor, labels: torch.Tensor | None = None,
               truncation_psi: float = 1.0) -> torch.Tensor:
        """``ws`` ``(B, num_ws, w_dim)``: ``z``'s truncated ``w`` repeated for every style input
        (what :meth:`forward` feeds :meth:`synthesis`); never updates ``w_avg``."""
        w = self.mapping(z, labels, update_w_avg=False)
        # a copy per style input (not an expanded view), so that ws[:, i] can be set in place
        return self.truncate(w, truncation_psi)[:, None, :].repeat(1, self.num_ws, 1)

    # ------------------------------------------------------------------ synthesis
    def synthesis(self, ws: torch.Tensor, noise_mode: str = "random", *,
                  return_rgbs: bool = False):
        """``ws`` ``(B, num_ws, w_dim)`` -> images ``(B, channels, S, S)`` in [-1, 1].

        Args:
            ws: one ``w`` per style input (see the module docstring for which layer reads
                which).
            noise_mode: ``"random"`` (fresh noise images every call), ``"const"`` (each
                layer's stored ``noise_const``: deterministic) or ``"none"``.
            return_rgbs: also return the list of the ``n`` toRGB outputs, coarse to fine,
                each ``(B, channels, R, R)`` at its own resolution ``R``, before they are
                summed: the image is ``tanh(sum_k up_k(rgbs[k]))`` where ``up_k`` upsamples
                bilinearly ``n - 1 - k`` times to the full size.

        Returns the images, or ``(images, rgbs)`` with ``return_rgbs``.
        """
        ws = model_input(ws, "ws", self)
        expected = (self.num_ws, self.config.w_dim)
        if ws.ndim != 3 or tuple(ws.shape[1:]) != expected:
            raise ValueError(f"ws must have shape (B, num_ws, w_dim) = (B, {expected[0]}, "
                             f"{expected[1]}), got {tuple(ws.shape)}")
        check_choice(noise_mode, "noise_mode", NOISE_MODES)
        check_bool(return_rgbs, "return_rgbs")
        x = self.const.to(ws.dtype)[None].expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise_mode)
        image = self.to_rgbs[0](x, ws[:, 1])
        rgbs = [image]
        for k in range(1, len(self.to_rgbs)):
            x = self.layers[2 * k - 1](x, ws[:, 2 * k - 1], noise_mode)
            x = self.layers[2 * k](x, ws[:, 2 * k], noise_mode)
            rgb = self.to_rgbs[k](x, ws[:, 2 * k + 1])
            rgbs.append(rgb)
            image = _upsample(image) + rgb
        image = torch.tanh(image)
        return (image, rgbs) if return_rgbs else image

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                truncation_psi: float = 1.0, noise_mode: str = "random") -> torch.Tensor:
        """``z`` ``(B, z_dim)`` [and ``labels`` ``(B,)`` ints, for a conditional model] ->
        images ``(B, channels, S, S)`` in [-1, 1].

        ``w = mapping(z, labels)`` (updating ``w_avg`` in training mode), truncated with
        ``truncation_psi`` and fed to every style input of :meth:`synthesis`.
        """
        psi = check_float(truncation_psi, "truncation_psi")
        check_choice(noise_mode, "noise_mode", NOISE_MODES)
        w = self.truncate(self.mapping(z, labels), psi)
        return self.synthesis(w[:, None, :].expand(-1, self.num_ws, -1), noise_mode)

    # ------------------------------------------------------------------ checks
    def _z(self, z) -> torch.Tensor:
        z = model_input(z, "z", self)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def _labels(self, labels, z: torch.Tensor) -> torch.Tensor | None:
        if not self.config.num_classes:
            if labels is not None:
                raise ValueError("labels must be None: this generator is unconditional "
                                 "(num_classes=0)")
            return None
        if labels is None:
            raise ValueError(f"labels are required: this generator is conditional "
                             f"(num_classes={self.config.num_classes})")
        return check_labels(labels, z.shape[0], self.config.num_classes).to(z.device)


def _ws_pair(generator, z_a, z_b, labels, truncation_psi, noise_mode):
    if not isinstance(generator, StyleGANGenerator):
        raise TypeError(f"generator must be a StyleGANGenerator, got {type(generator).__name__}")
    check_choice(noise_mode, "noise_mode", NOISE_MODES)
    z_a = model_input(z_a, "z_a", generator)
    z_b = model_input(z_b, "z_b", generator)
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same shape, got {tuple(z_a.shape)} and "
                         f"{tuple(z_b.shape)}")
    return (generator.w_plus(z_a, labels, truncation_psi),
            generator.w_plus(z_b, labels, truncation_psi))


def style_mix(generator: StyleGANGenerator, z_a: torch.Tensor, z_b: torch.Tensor,
              crossover: int, *, truncation_psi: float = 1.0, noise_mode: str = "const",
              labels: torch.Tensor | None = None) -> torch.Tensor:
    """Style mixing: the style inputs ``< crossover`` take ``z_a``'s ``w``, the others ``z_b``'s.

    Args:
        generator: a :class:`StyleGANGenerator`.
        z_a, z_b: ``(B, z_dim)`` each; row ``b`` of the result mixes ``z_a[b]`` and ``z_b[b]``.
        crossover: an int in ``[0, num_ws]``: 0 gives ``z_b``'s image, ``num_ws`` ``z_a``'s;
            a small crossover takes only the coarse styles (pose, layout) from A, a large one
            everything but the finest (colour, texture) from A.
        truncation_psi: applied to both ``w`` (see :meth:`StyleGANGenerator.truncate`).
        noise_mode: ``"const"`` by default, so that only the styles differ between images.
        labels: ``(B,)`` class indices for a conditional generator, the same for A and B.

    Returns images ``(B, channels, S, S)``. ``w_avg`` is not updated; wrap the call in
    ``torch.no_grad()`` when no gradient is needed.
    """
    ws_a, ws_b = _ws_pair(generator, z_a, z_b, labels, truncation_psi, noise_mode)
    crossover = check_int(crossover, "crossover", minimum=0, maximum=generator.num_ws)
    ws = torch.cat([ws_a[:, :crossover], ws_b[:, crossover:]], dim=1)
    return generator.synthesis(ws, noise_mode)


def edit_styles(generator: StyleGANGenerator, ws: torch.Tensor, layers, direction: torch.Tensor,
                amount: float, *, noise_mode: str = "const") -> torch.Tensor:
    """Move the ``w`` of some style inputs along ``direction`` and draw the result.

    Args:
        generator: a :class:`StyleGANGenerator`.
        ws: ``(B, num_ws, w_dim)``, e.g. ``generator.w_plus(z)``; not modified.
        layers: the style inputs to move: an int in ``[0, num_ws)`` or a sequence of them
            (e.g. ``range(0, 4)`` for the coarse styles); see the module docstring for which
            convolution and toRGB layer reads which input.
        direction: ``(w_dim,)`` (the same for every sample) or ``(B, w_dim)``; it is used as
            given (normalise it first for steps in units of its length).
        amount: a finite number: ``ws[:, layers] += amount * direction``.
        noise_mode: as in :meth:`StyleGANGenerator.synthesis`, ``"const"`` by default.

    Returns images ``(B, channels, S, S)`` (``generator.synthesis`` of the edited ``ws``).
    """
    if not isinstance(generator, StyleGANGenerator):
        raise TypeError(f"generator must be a StyleGANGenerator, got {type(generator).__name__}")
    ws = model_input(ws, "ws", generator)
    num_ws, w_dim = generator.num_ws, generator.config.w_dim
    if ws.ndim != 3 or tuple(ws.shape[1:]) != (num_ws, w_dim):
        raise ValueError(f"ws must have shape (B, num_ws, w_dim) = (B, {num_ws}, {w_dim}), got "
                         f"{tuple(ws.shape)}")
    if isinstance(layers, numbers.Integral) and not isinstance(layers, bool):
        layers = [layers]
    if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
        raise TypeError(f"layers must be an int or a non-empty sequence of ints, got "
                        f"{type(layers).__name__}")
    index = [check_int(i, "layers", minimum=0, maximum=num_ws - 1) for i in layers]
    direction = model_input(direction, "direction", generator)
    if direction.shape not in ((w_dim,), (ws.shape[0], w_dim)):
        raise ValueError(f"direction must have shape ({w_dim},) or (B, {w_dim}) = "
                         f"({ws.shape[0]}, {w_dim}), got {tuple(direction.shape)}")
    amount = check_float(amount, "amount")
    check_choice(noise_mode, "noise_mode", NOISE_MODES)
    mask = torch.zeros(num_ws, 1, dtype=ws.dtype, device=ws.device)
    mask[index] = 1.0
    step = amount * direction.to(ws.device).reshape(-1, 1, w_dim)  # (1 or B, 1, w_dim)
    return generator.synthesis(ws + mask * step, noise_mode)


# --------------------------------------------------------------------------- discriminator


def minibatch_std(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append the minibatch standard deviation channel (Karras et al., 2018; StyleGAN2's form).

    The batch is split into groups of ``G`` samples, ``G`` the largest divisor of ``B`` that is
    at most ``group_size`` (``B = 6``, ``group_size = 4``: ``G = 3``; a prime ``B`` gets
    ``G = 1``, whose deviation is 0). As in NVlabs' code sample ``b`` belongs to group
    ``b mod (B / G)``. For each group, the standard deviation of every feature over its ``G``
    samples is averaged over channels and pixels into one number, which becomes an extra
    constant channel of each of the group's samples: ``(B, C, H, W) -> (B, C + 1, H, W)``.
    A discriminator can then see a batch lacking variety (mode collapse).
    """
    x = _check_tensor(x, "x")
    if x.ndim != 4 or x.shape[0] < 1:
        raise ValueError(f"x must have shape (B, C, H, W) with B >= 1, got {tuple(x.shape)}")
    group_size = check_int(group_size, "group_size", minimum=1)
    batch, channels, height, width = x.shape
    group = next(g for g in range(min(group_size, batch), 0, -1) if batch % g == 0)
    y = x.reshape(group, -1, channels, height, width)  # (G, B / G, C, H, W)
    y = y - y.mean(dim=0)
    y = (y.square().mean(dim=0) + 1e-8).sqrt()  # (B / G, C, H, W)
    y = y.mean(dim=(1, 2, 3))  # (B / G,)
    y = y.reshape(-1, 1, 1, 1).repeat(group, 1, height, width)  # (B, 1, H, W)
    return torch.cat([x, y], dim=1)


class _DiscriminatorBlock(nn.Module):
    """Two 3 x 3 convolutions with leaky ReLU, the second after 2 x 2 average pooling; "resnet"
    adds a 1 x 1 convolution (no bias) of the pooled input, the sum scaled by ``1 / sqrt(2)``."""

    def __init__(self, in_channels: int, out_channels: int, architecture: str) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3)
        self.skip = (EqualizedConv2d(in_channels, out_channels, 1, bias=False)
                     if architecture == "resnet" else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = _lrelu(self.conv0(x))
        y = _lrelu(self.conv1(_downsample(y)))
        if self.skip is None:
            return y
        return (self.skip(_downsample(x)) + y) * math.sqrt(0.5)


class StyleGANDiscriminator(nn.Module):
    """images ``(B, channels, S, S)`` [and labels ``(B,)``] -> logits ``(B, 1)``.

    ``from_rgb`` (1 x 1 convolution and leaky ReLU) at the image resolution, one
    ``_DiscriminatorBlock`` per halving down to the start resolution (4 or 7), then the
    epilogue: :func:`minibatch_std`, a 3 x 3 convolution, a fully connected layer to ``C``
    features and the output layer. With ``architecture="skip"`` every later resolution adds
    ``from_rgbs[k]`` of the average-pooled image to the features (and the blocks have no
    residual 1 x 1 path).

    A conditional discriminator (``num_classes > 0``, which sets ``self.num_classes``) has the
    output layer give ``C`` numbers ``phi(x)`` and projects them on the label's embedding:
    ``D(x, y) = <phi(x), cmap(y)> / sqrt(C)`` with ``cmap(y)`` the normalised embedding
    (``embed``, an :class:`EqualizedLinear` on the one-hot label); as NVlabs' ``cmap``, without
    its mapping network.
    """

    def __init__(self, config: StyleGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = check_config(config, StyleGANConfig)
        resolutions = config.resolutions[::-1]  # fine to coarse
        top = config.channels_at(resolutions[0])
        self.from_rgb = EqualizedConv2d(config.channels, top, 1)
        self.blocks = nn.ModuleList(
            _DiscriminatorBlock(config.channels_at(res), config.channels_at(half),
                                config.architecture)
            for res, half in itertools.pairwise(resolutions))
        if config.architecture == "skip":  # one fromRGB per later resolution
            self.from_rgbs = nn.ModuleList(
                EqualizedConv2d(config.channels, config.channels_at(res), 1)
                for res in resolutions[1:])
        last, start = config.channels_at(resolutions[-1]), config.start_size
        self.conv = EqualizedConv2d(last + 1, last, 3)
        self.fc = EqualizedLinear(last * start * start, last)
        if config.num_classes:
            self.num_classes = config.num_classes
            self.out = EqualizedLinear(last, last)
            self.embed = EqualizedLinear(config.num_classes, last)
        else:
            self.out = EqualizedLinear(last, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(B, channels, S, S)`` [, ``labels``: ``(B,)`` ints] -> logits ``(B, 1)``."""
        x = model_input(x, "x", self)
        expected = self.config.data_shape
        if x.ndim != 4 or tuple(x.shape[1:]) != expected or x.shape[0] < 1:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, expected))}) with "
                             f"B >= 1, got {tuple(x.shape)}")
        num_classes = self.config.num_classes
        if not num_classes and labels is not None:
            raise ValueError("labels must be None: this discriminator is unconditional "
                             "(num_classes=0)")
        if num_classes:
            if labels is None:
                raise ValueError(f"labels are required: this discriminator is conditional "
                                 f"(num_classes={num_classes})")
            labels = check_labels(labels, x.shape[0], num_classes).to(x.device)
        image = x
        h = _lrelu(self.from_rgb(x))
        for k, block in enumerate(self.blocks):
            h = block(h)
            if self.config.architecture == "skip":
                image = _downsample(image)
                h = h + _lrelu(self.from_rgbs[k](image))
        h = minibatch_std(h, self.config.mbstd_group)
        h = _lrelu(self.conv(h))
        h = _lrelu(self.fc(h.flatten(1)))
        out = self.out(h)
        if not num_classes:
            return out
        cmap = _normalize_2nd_moment(self.embed(F.one_hot(labels, num_classes).to(out.dtype)))
        return (out * cmap).sum(dim=1, keepdim=True) / math.sqrt(out.shape[1])
