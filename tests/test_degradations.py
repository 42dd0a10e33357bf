"""Tests of gan_lessons.degradations: masks, noise, downsampling and the simple repairs."""

from __future__ import annotations

import pytest
import torch

from gan_lessons.degradations import (
    add_noise,
    apply_mask,
    box_mask,
    downsample,
    mean_fill,
    nearest_neighbour_fill,
    upsample_bicubic,
)


def _images(n: int, seed: int, shape=(1, 8, 8)) -> torch.Tensor:
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_box_mask_centre_and_random():
    mask = box_mask(2, 8, 4)
    assert mask.shape == (2, 1, 8, 8)
    assert int((mask == 0).sum()) == 2 * 16
    assert (mask[:, :, 2:6, 2:6] == 0).all()
    random = box_mask(5, 8, 3, seed=1)
    assert ((random == 0).sum(dim=(1, 2, 3)) == 9).all()
    assert torch.equal(random, box_mask(5, 8, 3, seed=1))
    assert not all(torch.equal(random[0], random[i]) for i in range(1, 5))


def test_apply_mask_keeps_known_pixels_and_fills_the_hole():
    x, mask = _images(2, 0), box_mask(2, 8, 4)
    damaged = apply_mask(x, mask, fill=-1.0)
    assert torch.equal(damaged[mask.expand_as(x) == 1], x[mask.expand_as(x) == 1])
    assert (damaged[mask.expand_as(x) == 0] == -1).all()
    assert torch.equal(apply_mask(x, mask[:1]), apply_mask(x, mask))  # (1, 1, H, W) broadcasts


def test_add_noise_has_the_asked_std_and_stays_in_range():
    x = torch.zeros(64, 1, 16, 16)
    noisy = add_noise(x, 0.1, seed=0)
    assert abs(noisy.std().item() - 0.1) < 0.005
    assert add_noise(x + 0.95, 0.5).max() <= 1
    assert torch.equal(noisy, add_noise(x, 0.1, seed=0))


def test_downsample_averages_blocks_and_bicubic_goes_back_up():
    x = _images(3, 1, (3, 8, 8))
    low = downsample(x, 4)
    assert low.shape == (3, 3, 2, 2)
    assert torch.allclose(low[:, :, 1, 0], x[:, :, 4:8, 0:4].mean(dim=(2, 3)))
    up = upsample_bicubic(low, 4)
    assert up.shape == x.shape
    assert up.abs().max() <= 1
    flat = torch.full((1, 1, 2, 2), 0.3)
    assert torch.allclose(upsample_bicubic(flat, 4), torch.full((1, 1, 8, 8), 0.3))


def test_mean_fill_uses_the_training_mean_in_the_hole_only():
    x, train, mask = _images(2, 0), _images(10, 1), box_mask(2, 8, 4)
    filled = mean_fill(x, mask, train)
    hole = mask.expand_as(x) == 0
    assert torch.allclose(filled[hole], train.mean(0, keepdim=True).expand_as(x)[hole])
    assert torch.equal(filled[~hole], x[~hole])


def test_nearest_neighbour_fill_finds_the_training_image_that_matches_the_known_pixels():
    train = _images(50, 2)
    x = train[[7, 31]].clone()
    mask = box_mask(2, 8, 4)
    damaged = apply_mask(x, mask)
    # a decoy that matches only inside the hole must not win
    decoy = torch.full((1, 1, 8, 8), 5.0)
    decoy[mask[:1] == 0] = x[0][mask[0] == 0]
    pool = torch.cat([train, decoy])
    filled = nearest_neighbour_fill(damaged, mask, pool, batch_size=16)  # several chunks
    assert torch.allclose(filled, x)  # the image itself is in the pool: an exact repair


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: box_mask(1, 8, 9), ValueError, "hole"),
    (lambda: apply_mask(torch.zeros(2, 1, 8, 8), torch.ones(2, 1, 8, 7)), ValueError,
     "mask must have shape"),
    (lambda: apply_mask(torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.5)), ValueError,
     "mask must hold only 0"),
    (lambda: apply_mask(torch.zeros(2, 1, 8, 8), [[1]]), TypeError, "mask must be a tensor"),
    (lambda: apply_mask(torch.zeros(8, 8), torch.ones(1, 1, 8, 8)), ValueError,
     "images must be a float tensor of shape"),
    (lambda: add_noise(torch.zeros(1, 1, 2, 2), -0.1), ValueError, "std"),
    (lambda: downsample(torch.zeros(1, 1, 8, 8), 3), ValueError, "factor must divide"),
    (lambda: downsample(torch.zeros(1, 1, 8, 8), 1), ValueError, "factor"),
    (lambda: upsample_bicubic(torch.zeros(1, 1, 2, 2), 0), ValueError, "factor"),
    (lambda: mean_fill(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8), torch.zeros(3, 3, 8, 8)),
     ValueError, "train_images must be images of shape"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
