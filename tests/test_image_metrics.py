"""Tests of gan_lessons.image_metrics: PSNR and SSIM per image, and the feature distance."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from gan_lessons.image_metrics import feature_distance, psnr, ssim


def _images(seed: int, shape=(4, 1, 16, 16)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


class _Flatten:
    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def test_psnr_is_the_formula_per_image():
    x, y = _images(0), _images(1)
    mse = (x - y).square().mean(dim=(1, 2, 3))
    expected = 10 * torch.log10(4.0 / mse)  # data range 2 for [-1, 1]
    assert torch.allclose(psnr(x, y), expected, rtol=1e-5)
    assert psnr(x, y).shape == (4,)
    # halving the error adds 20 log10(2) = 6.02 dB
    assert torch.allclose(psnr(y + (x - y) / 2, y) - psnr(x, y),
                          torch.full((4,), 20 * math.log10(2)), atol=1e-4)
    assert torch.isinf(psnr(x, x)).all()


def test_psnr_data_range():
    x, y = _images(0), _images(1)
    assert torch.allclose(psnr(x, y, data_range=1.0), psnr(x, y) - 20 * math.log10(2), atol=1e-4)


def test_ssim_is_one_for_a_copy_and_falls_with_noise():
    y = torch.nn.functional.avg_pool2d(_images(2, (3, 3, 32, 32)), 3, 1, 1)  # some structure
    assert torch.allclose(ssim(y, y), torch.ones(3), atol=1e-5)
    noise = _images(3, y.shape)
    scores = [ssim(y + s * noise, y) for s in (0.05, 0.2, 0.8)]
    assert all((a > b).all() for a, b in itertools.pairwise(scores))
    assert torch.allclose(ssim(y + 0.2 * noise, y), ssim(y, y + 0.2 * noise), atol=1e-6)


def test_ssim_sees_structure_that_psnr_does_not():
    """Two distortions with the same mean squared error: a constant shift keeps the structure
    (high SSIM), noise destroys it. (Away from 0: SSIM's luminance term compares local means
    by their ratio.)"""
    structure = torch.nn.functional.avg_pool2d(_images(4, (2, 1, 32, 32)), 5, 1, 2)
    y = 0.4 + 2 * structure  # local means near 0.4, contrast about 0.2
    noise = torch.randn(y.shape, generator=torch.Generator().manual_seed(5))
    noise = noise / noise.square().mean().sqrt() * 0.1  # RMS 0.1
    shifted, noisy = y + 0.1, y + noise
    assert torch.allclose(psnr(shifted, y), psnr(noisy, y), atol=0.1)
    assert (ssim(shifted, y) > 0.95).all()  # measured 0.97-0.98
    assert (ssim(noisy, y) < 0.85).all()  # measured 0.82-0.83


def test_feature_distance():
    x, y = _images(0), _images(1)
    net = _Flatten()
    assert torch.allclose(feature_distance(x, y, net), (x - y).square().sum(dim=(1, 2, 3)))
    assert torch.equal(feature_distance(x, x, net), torch.zeros(4))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: psnr(torch.zeros(4, 16, 16), torch.zeros(4, 16, 16)), ValueError,
     "images must have shape"),
    (lambda: psnr(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 9)), ValueError,
     "images and targets must have the same shape"),
    (lambda: psnr([0.0], torch.zeros(1, 1, 1, 1)), TypeError, "images must be a tensor"),
    (lambda: psnr(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=torch.long)),
     TypeError, "targets must be a float tensor"),
    (lambda: psnr(torch.full((1, 1, 2, 2), math.nan), torch.zeros(1, 1, 2, 2)), ValueError,
     "images must be finite"),
    (lambda: psnr(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2), data_range=0), ValueError,
     "data_range"),
    (lambda: ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8)), ValueError,
     "at least 11 x 11"),
    (lambda: feature_distance(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), object()),
     TypeError, "feature_net must have a features"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
