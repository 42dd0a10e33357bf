"""How close is a restored image to the true one? Three per-image scores for inpainting,
denoising, super-resolution and image-to-image translation.

* **PSNR**, the peak signal-to-noise ratio ``10 log10(range^2 / MSE)`` in decibels: the mean
  squared error on a log scale (higher is better; +6 dB is half the RMS error). It rewards the
  blurry average of all plausible answers, which is why a GAN's sharp guess can lose to a
  bicubic upsampling on PSNR and still look better.
* **SSIM**, the structural similarity index (Wang et al., 2004): local means, variances and
  covariance compared in 11 x 11 Gaussian windows, in [-1, 1] (1: identical). Closer to what
  a viewer notices than PSNR, still blind to "is this a plausible digit".
* **Feature distance**: the squared distance between a classifier's features of the two
  images (the evaluation chapter's feature networks), a perceptual score in the spirit of
  LPIPS (Zhang et al., 2018): small when the images mean the same to the classifier.

PSNR and SSIM are torchmetrics' (``torchmetrics.functional.image``), per image. Images are in
[-1, 1], so ``data_range`` is 2 unless you say otherwise.
"""

from __future__ import annotations

import torch

from ._validate import check_float

__all__ = ["feature_distance", "psnr", "ssim"]

SSIM_WINDOW = 11  # torchmetrics' default Gaussian window


def _pair(images, targets) -> tuple[torch.Tensor, torch.Tensor]:
    for value, name in ((images, "images"), (targets, "targets")):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a tensor (B, C, H, W), got {type(value).__name__}")
        if value.ndim != 4:
            raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a float tensor, got {value.dtype}")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} must be finite, got NaN or inf")
    if images.shape != targets.shape:
        raise ValueError(f"images and targets must have the same shape, got "
                         f"{tuple(images.shape)} and {tuple(targets.shape)}")
    return images.detach().float(), targets.detach().float().to(images.device)


def psnr(images: torch.Tensor, targets: torch.Tensor, *, data_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of each image against its target: ``(B,)``.

    ``images``, ``targets``: ``(B, C, H, W)``; ``data_range``: max - min of the pixel scale
    (2 for [-1, 1]). An exact copy gives ``inf``.
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio

    images, targets = _pair(images, targets)
    data_range = check_float(data_range, "data_range", 0.0, exclusive_minimum=True)
    return peak_signal_noise_ratio(images, targets, data_range=data_range, reduction="none",
                                   dim=(1, 2, 3))


def ssim(images: torch.Tensor, targets: torch.Tensor, *, data_range: float = 2.0) -> torch.Tensor:
    """Structural similarity of each image with its target: ``(B,)``, 1 for identical images.

    ``images``, ``targets``: ``(B, C, H, W)`` with ``H, W >= 11`` (the Gaussian window);
    ``data_range`` as in :func:`psnr`.
    """
    from torchmetrics.functional.image import structural_similarity_index_measure

    images, targets = _pair(images, targets)
    data_range = check_float(data_range, "data_range", 0.0, exclusive_minimum=True)
    if min(images.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"images must be at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels for "
                         f"SSIM's window, got {tuple(images.shape[-2:])}")
    return structural_similarity_index_measure(images, targets, data_range=data_range,
                                               reduction="none")


def feature_distance(images: torch.Tensor, targets: torch.Tensor, feature_net) -> torch.Tensor:
    """Squared distance between ``feature_net.features`` of each image and of its target:
    ``(B,)`` (0 for identical images). ``feature_net``, e.g.
    ``gan_lessons.metrics.load_feature_net("mnist")``, takes images in [-1, 1]."""
    if not callable(getattr(feature_net, "features", None)):
        raise TypeError(f"feature_net must have a features(images) method (e.g. "
                        f"metrics.load_feature_net('mnist')), got {type(feature_net).__name__}")
    images, targets = _pair(images, targets)
    with torch.no_grad():
        return (feature_net.features(images) - feature_net.features(targets)).square().sum(1)
