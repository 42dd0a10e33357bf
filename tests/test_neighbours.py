"""Nearest-neighbour search of generated images in a training set (gan_lessons.neighbours)."""

import pytest
import torch

from gan_lessons.data import TensorImageDataset
from gan_lessons.neighbours import nearest_neighbours, neighbour_figure


def _images(n, seed, shape=(1, 6, 6)):
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _brute_force(queries, reference, k):
    d = torch.cdist(queries.flatten(1).double(), reference.flatten(1).double())  # (Q, N)
    return d.topk(k, dim=1, largest=False)


@pytest.mark.parametrize("batch_size", [3, 16, 4096])
def test_matches_brute_force_for_any_chunk_size(batch_size):
    reference, queries = _images(50, 0), _images(9, 1)
    distances, indices = nearest_neighbours(queries, reference, k=4, batch_size=batch_size)
    want_d, want_i = _brute_force(queries, reference, 4)
    assert distances.shape == indices.shape == (9, 4)
    assert indices.dtype == torch.long
    assert distances.dtype == torch.float32
    assert torch.equal(indices, want_i)
    torch.testing.assert_close(distances.double(), want_d, rtol=1e-5, atol=1e-5)
    assert (distances[:, 1:] >= distances[:, :-1]).all()  # nearest first


def test_copies_are_found_at_distance_zero():
    reference = _images(200, 2, (3, 8, 8))
    copies = reference[[17, 123, 5]].clone()
    distances, indices = nearest_neighbours(copies, reference, k=2, batch_size=32)
    assert indices[:, 0].tolist() == [17, 123, 5]
    assert distances[:, 0].abs().max() == 0.0  # exact, not the expansion's rounding error
    assert (distances[:, 1] > 0.1).all()


def test_accepts_a_tensor_image_dataset_and_a_feature_function():
    reference = _images(30, 3)
    dataset = TensorImageDataset(reference, torch.zeros(30, dtype=torch.long))
    queries = _images(4, 4)
    d1, i1 = nearest_neighbours(queries, dataset, k=3)
    d2, i2 = nearest_neighbours(queries, reference, k=3)
    assert torch.equal(i1, i2)
    assert torch.equal(d1, d2)

    def mean_brightness(x):  # (B, C, H, W) -> (B, 1)
        return x.mean(dim=(1, 2, 3))[:, None]

    d, i = nearest_neighbours(queries, reference, k=1, features=mean_brightness, batch_size=8)
    gap = (mean_brightness(queries) - mean_brightness(reference).T).abs()  # (Q, N)
    assert torch.equal(i[:, 0], gap.argmin(1))
    torch.testing.assert_close(d[:, 0], gap.min(1).values)


def test_bad_input_is_refused_with_the_argument_named():
    reference, queries = _images(5, 5), _images(2, 6)
    with pytest.raises(ValueError, match="k must be <= 5"):
        nearest_neighbours(queries, reference, k=6)
    with pytest.raises(ValueError, match="same sample shape"):
        nearest_neighbours(_images(2, 6, (1, 4, 4)), reference)
    with pytest.raises(TypeError, match="reference must be a tensor"):
        nearest_neighbours(queries, [1, 2, 3])
    with pytest.raises(TypeError, match="floating-point"):
        nearest_neighbours(queries, torch.zeros(5, 1, 6, 6, dtype=torch.uint8))


def test_figure_has_one_row_per_query_and_one_column_per_neighbour():
    reference, queries = _images(20, 7, (3, 8, 8)), _images(3, 8, (3, 8, 8))
    distances, indices = nearest_neighbours(queries, reference, k=2)
    fig = neighbour_figure(queries, reference, indices, distances, max_rows=2)
    assert len(fig.axes) == 2 * 3
    assert fig.axes[1].get_xlabel().startswith(f"#{int(indices[0, 0])}")
    with pytest.raises(ValueError, match="indices must have shape"):
        neighbour_figure(queries, reference, indices[:2])
