"""Training a super-resolution net with the pix2pix machinery: pixel loss, or pixel +
adversarial loss (SRGAN, Ledig et al. 2017).

SR is image-to-image translation from a low-resolution image to a high-resolution one, so
:func:`~gan_lessons.pix2pix_training.train_pix2pix` trains it: ``adversarial=False`` gives the
pixel-loss (L1) net, ``adversarial=True`` adds a conditional
:class:`~gan_lessons.models.pix2pix.PatchDiscriminator` that judges (low-res input, candidate)
pairs patch by patch. pix2pix wants inputs of the targets' size, so the low-res image travels
*pixelated* (each pixel repeated into a ``factor x factor`` block, how it looks when shown at
the high-res size) and :class:`~gan_lessons.models.srnet.PixelatedSR` turns it back into the
``s x s`` image (the block means) for the :class:`~gan_lessons.models.srnet.SRNet`. The
discriminator sees the pixelated input beside the candidate: the same information as the low-res
image.

>>> images = torch.rand(64, 1, 28, 28) * 2 - 1
>>> net = SRNet(SRNetConfig(factor=4))
>>> result = train_sr(net, None, images, Pix2PixTrainConfig(num_steps=2, adversarial=False),
...                   device="cpu", progress=False)
>>> net(downsample(images, 4)).shape
torch.Size([64, 1, 28, 28])
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_int
from .degradations import check_images, downsample
from .models.pix2pix import PatchDiscriminator, Pix2PixConfig
from .models.srnet import PixelatedSR, SRNet, SRNetConfig
from .pix2pix_training import Pix2PixTrainConfig, train_pix2pix
from .train import TrainResult

__all__ = ["PixelatedSR", "pixelate", "sr_discriminator", "sr_pairs", "train_sr"]


def pixelate(low_res: torch.Tensor, factor: int) -> torch.Tensor:
    """``(B, C, s, s)`` -> ``(B, C, s * factor, s * factor)``: each pixel repeated into a
    ``factor x factor`` block (nearest-neighbour upsampling);
    :func:`~gan_lessons.degradations.downsample` undoes it."""
    low_res = check_images(low_res, "low_res")
    factor = check_int(factor, "factor", minimum=1)
    return F.interpolate(low_res, scale_factor=factor, mode="nearest")


def sr_pairs(images: torch.Tensor, factor: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Training pairs for :func:`train_sr`: ``images (N, C, S, S)`` -> ``(pixelated low-res
    (N, C, S, S), images)``; the low-res image is ``downsample(images, factor)`` (block means)."""
    images = check_images(images)
    return pixelate(downsample(images, factor), factor), images


def sr_discriminator(config: SRNetConfig, **fields: Any) -> PatchDiscriminator:
    """A :class:`~gan_lessons.models.pix2pix.PatchDiscriminator` for ``config``'s pairs
    (``config.channels`` in and out, ``config.image_size``); ``fields`` are other
    :class:`~gan_lessons.models.pix2pix.Pix2PixConfig` fields, e.g. ``width=16, d_layers=2``."""
    if not isinstance(config, SRNetConfig):
        raise TypeError(f"config must be an SRNetConfig, got {type(config).__name__}")
    return PatchDiscriminator(Pix2PixConfig(image_size=config.image_size,
                                            in_channels=config.channels,
                                            out_channels=config.channels, **fields))


def train_sr(net: SRNet, discriminator: nn.Module | None, images: torch.Tensor,
             config: Pix2PixTrainConfig, *, device: str | torch.device | None = None,
             checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
             **options: Any) -> TrainResult:
    """Train ``net`` in place on the high-res ``images (N, C, S, S)`` in [-1, 1] with
    :func:`~gan_lessons.pix2pix_training.train_pix2pix`: pairs from :func:`sr_pairs`,
    ``net`` wrapped in :class:`~gan_lessons.models.srnet.PixelatedSR`.

    Args:
        net: the :class:`~gan_lessons.models.srnet.SRNet`.
        discriminator: e.g. :func:`sr_discriminator` ``(net.config)``; needed with
            ``config.adversarial`` (pixel + adversarial loss), else may be None (pixel loss).
        images: ``(N, C, S, S)`` matching ``net.config.data_shape``.
        config: a :class:`~gan_lessons.pix2pix_training.Pix2PixTrainConfig`; its ``l1_weight``
            weighs the pixel loss against the adversarial term.
        device, checkpoint_path, resume, options: as in ``train_pix2pix`` (``callback``,
            ``progress``, ``command``, ``overwrite`` ...). The checkpoint holds the wrapper
            (weights under ``net.``); save ``net`` itself to ship it.

    Returns:
        ``train_pix2pix``'s :class:`~gan_lessons.train.TrainResult` (history ``loss_l1``, and
        ``loss_d``, ``loss_g``, ``d_real``, ``d_fake`` with the adversarial term); its
        snapshots are SR outputs of the first images.
    """
    if not isinstance(net, SRNet):
        raise TypeError(f"net must be an SRNet, got {type(net).__name__}")
    images = check_images(images)
    if tuple(images.shape[1:]) != net.config.data_shape:
        shape = ", ".join(map(str, net.config.data_shape))
        raise ValueError(f"images must have shape (N, {shape}) for this net, got "
                         f"{tuple(images.shape)}")
    inputs, targets = sr_pairs(images, net.config.factor)
    return train_pix2pix(PixelatedSR(net), discriminator, inputs, targets, config, device=device,
                         checkpoint_path=checkpoint_path, resume=resume, **options)
