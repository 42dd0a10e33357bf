"""Damaged images and the simple repairs a GAN prior has to beat.

The applications chapter restores images that lost something: a hole (inpainting), noise
(denoising) or resolution (super-resolution). This module makes the damage, reproducibly, and
provides the baselines a reader would try first:

* :func:`box_mask` and :func:`apply_mask`: a missing square (mask 1 = known pixel, 0 = lost);
* :func:`add_noise`: Gaussian noise, clipped to [-1, 1];
* :func:`downsample`: area averaging by an integer factor (each low-resolution pixel is the
  mean of a ``factor x factor`` block, a camera's view of a finer scene), and
  :func:`upsample_bicubic`, the standard baseline back up;
* :func:`mean_fill`: fill the hole with the mean training image;
* :func:`nearest_neighbour_fill`: fill it from the training image that matches the known
  pixels best (the non-parametric baseline of Hays and Efros, 2007, on a small scale).

Images are ``(B, C, H, W)`` in [-1, 1]; masks ``(B, 1, H, W)`` of 0s and 1s.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from ._validate import check_float, check_int

__all__ = ["add_noise", "apply_mask", "box_mask", "downsample", "mean_fill",
           "nearest_neighbour_fill", "upsample_bicubic"]


def check_images(value, name: str = "images") -> torch.Tensor:
    """``value`` checked to be a float tensor ``(B, C, H, W)``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a tensor (B, C, H, W), got {type(value).__name__}")
    if value.ndim != 4 or not value.is_floating_point():
        raise ValueError(f"{name} must be a float tensor of shape (B, C, H, W), got "
                         f"{value.dtype} of shape {tuple(value.shape)}")
    return value


def check_pixel_map_shape(value: torch.Tensor, images: torch.Tensor, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless the per-pixel map ``value`` has the shape
    ``(B, 1, H, W)`` or ``(1, 1, H, W)`` of ``images`` ``(B, C, H, W)`` (a mask, weights)."""
    b, _, h, w = images.shape
    if value.ndim != 4 or value.shape[1] != 1 or value.shape[2:] != (h, w) \
            or value.shape[0] not in (1, b):
        raise ValueError(f"{name} must have shape ({b}, 1, {h}, {w}) or (1, 1, {h}, {w}), got "
                         f"{tuple(value.shape)}")


def check_mask(mask, images: torch.Tensor) -> torch.Tensor:
    """``mask`` checked against ``images`` ``(B, C, H, W)``: a tensor of 0s and 1s of shape
    ``(B, 1, H, W)`` or ``(1, 1, H, W)``; returned as floats on ``images``' device."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a tensor (B, 1, H, W) of 0s and 1s, got "
                        f"{type(mask).__name__}")
    check_pixel_map_shape(mask, images, "mask")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 (lost) and 1 (known)")
    return mask.to(images.device, images.dtype)


def box_mask(num: int, size: int, hole: int, *, seed: int | None = None) -> torch.Tensor:
    """``(num, 1, size, size)`` masks, each missing one ``hole x hole`` square: in the centre
    (``seed=None``) or at a random place per image (drawn from ``seed``)."""
    num = check_int(num, "num", minimum=1)
    size = check_int(size, "size", minimum=1)
    hole = check_int(hole, "hole", minimum=1, maximum=size)
    mask = torch.ones(num, 1, size, size)
    if seed is None:
        tops = lefts = torch.full((num,), (size - hole) // 2)
    else:
        rng = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
        tops = torch.randint(0, size - hole + 1, (num,), generator=rng)
        lefts = torch.randint(0, size - hole + 1, (num,), generator=rng)
    for i, (top, left) in enumerate(zip(tops.tolist(), lefts.tolist(), strict=True)):
        mask[i, :, top:top + hole, left:left + hole] = 0
    return mask


def apply_mask(images: torch.Tensor, mask: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """The damaged images: known pixels kept, lost ones set to ``fill`` (0: mid-grey)."""
    images = check_images(images)
    mask = check_mask(mask, images)
    fill = check_float(fill, "fill", -1.0, 1.0)
    return images * mask + fill * (1 - mask)


def add_noise(images: torch.Tensor, std: float, *, seed: int = 0) -> torch.Tensor:
    """``images`` plus Gaussian noise of standard deviation ``std`` (in [-1, 1] units; 0.5 is
    a quarter of the range), clipped to [-1, 1]."""
    images = check_images(images)
    std = check_float(std, "std", 0.0)
    rng = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    noise = torch.randn(images.shape, generator=rng).to(images.device, images.dtype)
    return (images + std * noise).clamp(-1, 1)


def _factor(images: torch.Tensor, factor) -> int:
    factor = check_int(factor, "factor", minimum=2)
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"factor must divide the image size {h}x{w}, got {factor}")
    return factor


def downsample(images: torch.Tensor, factor: int) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, C, H / factor, W / factor)``: the mean of each
    ``factor x factor`` block (``factor`` must divide ``H`` and ``W``)."""
    images = check_images(images)
    return F.avg_pool2d(images, _factor(images, factor))


def upsample_bicubic(images: torch.Tensor, factor: int) -> torch.Tensor:
    """``(B, C, h, w)`` -> ``(B, C, h * factor, w * factor)`` by bicubic interpolation, clipped
    to [-1, 1]: the baseline of super-resolution."""
    images = check_images(images)
    factor = check_int(factor, "factor", minimum=2)
    return F.interpolate(images, scale_factor=factor, mode="bicubic",
                         align_corners=False).clamp(-1, 1)


def mean_fill(images: torch.Tensor, mask: torch.Tensor,
              train_images: torch.Tensor) -> torch.Tensor:
    """Fill the lost pixels of ``images`` with the mean of ``train_images`` ``(N, C, H, W)``."""
    images = check_images(images)
    mask = check_mask(mask, images)
    train_images = check_images(train_images, "train_images")
    if train_images.shape[1:] != images.shape[1:]:
        raise ValueError(f"train_images must be images of shape {tuple(images.shape[1:])}, got "
                         f"{tuple(train_images.shape[1:])}")
    mean = train_images.mean(dim=0, keepdim=True).to(images.device, images.dtype)
    return images * mask + mean * (1 - mask)


def nearest_neighbour_fill(images: torch.Tensor, mask: torch.Tensor,
                           train_images: torch.Tensor, *, batch_size: int = 2048) -> torch.Tensor:
    """Fill the lost pixels of each image from the training image closest to it on the known
    pixels (squared distance over the mask), copied into the hole."""
    images = check_images(images)
    mask = check_mask(mask, images).expand(images.shape[0], -1, -1, -1)
    train_images = check_images(train_images, "train_images")
    if train_images.shape[1:] != images.shape[1:]:
        raise ValueError(f"train_images must be images of shape {tuple(images.shape[1:])}, got "
                         f"{tuple(train_images.shape[1:])}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    known = (images * mask).flatten(1)  # (B, D)
    weights = mask.expand_as(images).flatten(1)  # (B, D)
    best = torch.full((images.shape[0],), float("inf"), device=images.device)
    best_index = torch.zeros(images.shape[0], dtype=torch.long, device=images.device)
    for start in range(0, len(train_images), batch_size):
        chunk = train_images[start:start + batch_size].to(images.device, images.dtype).flatten(1)
        # sum_d m (x - t)^2 = sum m x^2 - 2 (m x) . t + m . t^2, per pair (B, N)
        distance = ((known * images.flatten(1)).sum(1, keepdim=True)
                    - 2 * known @ chunk.T + weights @ chunk.square().T)
        value, index = distance.min(dim=1)
        better = value < best
        best = torch.where(better, value, best)
        best_index = torch.where(better, index + start, best_index)
    neighbours = train_images[best_index.cpu()].to(images.device, images.dtype)
    return images * mask + neighbours * (1 - mask)
