"""Perceptual path length (gan_lessons.path_length): values against independent computations,
their properties, and the argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gan_lessons.models.stylegan import StyleGANConfig, StyleGANGenerator
from gan_lessons.path_length import PathLength, perceptual_path_length

D = 6  # latent size of the small generators


class LinearGenerator(nn.Module):
    """``G(z) = A z`` as 1 x 4 x 4 images (float64), optionally through tanh."""

    def __init__(self, matrix: torch.Tensor, smooth: bool = False) -> None:
        super().__init__()
        self.latent_dim = matrix.shape[1]
        self.linear = nn.Linear(matrix.shape[1], matrix.shape[0], bias=False).double()
        self.linear.weight.data.copy_(matrix)
        self.smooth = smooth

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.linear(z)
        return (torch.tanh(x) if self.smooth else x).reshape(len(z), 1, 4, 4)


class Flatten(nn.Module):
    """The identity feature net, times ``scale``."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x.flatten(1)


def orthogonal_generator(scale: float = 1.0) -> LinearGenerator:
    """``A = scale * Q`` with orthonormal columns: ``||A v|| = scale ||v||``."""
    q, _ = torch.linalg.qr(torch.randn(16, D, generator=torch.Generator().manual_seed(1),
                                       dtype=torch.float64))
    return LinearGenerator(scale * q)


def draws(n: int, latent_dim: int, seed: int, sampling: str = "full"):
    """The documented draws: z0, z1, then t."""
    rng = torch.Generator().manual_seed(seed)
    z0 = torch.randn(n, latent_dim, generator=rng, dtype=torch.float64)
    z1 = torch.randn(n, latent_dim, generator=rng, dtype=torch.float64)
    if sampling == "full":
        t = torch.rand(n, generator=rng, dtype=torch.float64)
    else:
        t = torch.randint(0, 2, (n,), generator=rng).to(torch.float64)
    return z0, z1, t


def great_circle(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The point at angle ``t * angle(a, b)`` from ``a`` towards ``b``, radius sqrt(len(a)),
    by a rotation in the plane of ``a`` and ``b`` (Gram-Schmidt)."""
    u = a / np.linalg.norm(a)
    v = b - (b @ u) * u
    v /= np.linalg.norm(v)
    angle = math.atan2(b @ v, b @ u)
    return math.sqrt(len(a)) * (math.cos(t * angle) * u + math.sin(t * angle) * v)


def tiny_stylegan(**kwargs) -> StyleGANGenerator:
    torch.manual_seed(0)
    return StyleGANGenerator(StyleGANConfig(image_size=16, channels=1, z_dim=8, w_dim=8,
                                            width=4, max_width=8, **kwargs))


@pytest.fixture(scope="module")
def stylegan() -> StyleGANGenerator:
    return tiny_stylegan()


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("sampling", ["full", "end"])
def test_z_values_match_a_finite_difference_on_the_great_circle(sampling):
    g, eps = orthogonal_generator(1.5), 1e-4
    result = perceptual_path_length(g, Flatten(), num_samples=8, epsilon=eps, sampling=sampling,
                                    seed=3)
    z0, z1, t = (x.numpy() for x in draws(8, D, 3, sampling))
    matrix = g.linear.weight.detach().numpy()
    expected = [np.sum((matrix @ (great_circle(a, b, s + eps) - great_circle(a, b, s))) ** 2)
                / eps**2 for a, b, s in zip(z0, z1, t, strict=True)]
    np.testing.assert_allclose(result.values, expected, rtol=1e-6)
    if sampling == "end":
        assert set(t) == {0.0, 1.0}


@pytest.mark.parametrize("sampling", ["full", "end"])
def test_z_values_of_a_linear_generator_are_the_analytic_speed(sampling):
    # slerp has constant speed: |d/dt z(t)| = sqrt(D) * angle(a, b) for every t, so with
    # ||A v|| = s ||v|| a pair's PPL tends to s^2 D angle^2 as eps -> 0
    s = 1.5
    result = perceptual_path_length(orthogonal_generator(s), Flatten(), num_samples=20,
                                    epsilon=1e-6, sampling=sampling, seed=5)
    z0, z1, _ = draws(20, D, 5, sampling)
    cos = torch.nn.functional.cosine_similarity(z0, z1).numpy()
    np.testing.assert_allclose(result.values, s**2 * D * np.arccos(cos) ** 2, rtol=1e-5)


@pytest.mark.parametrize("sampling", ["full", "end"])
def test_w_values_match_an_independent_computation(stylegan, sampling):
    eps = 1e-3
    result = perceptual_path_length(stylegan, Flatten(), space="w", num_samples=6,
                                    epsilon=eps, sampling=sampling, seed=2)
    z0, z1, t = draws(6, 8, 2, sampling)
    expected = []
    with torch.no_grad():
        for a, b, s in zip(z0.float(), z1.float(), t.float(), strict=True):
            w0 = stylegan.mapping(a[None], update_w_avg=False)
            w1 = stylegan.mapping(b[None], update_w_avg=False)
            ends = [w0 + u * (w1 - w0) for u in (s, s + eps)]
            x = [stylegan.synthesis(w.repeat(1, stylegan.num_ws, 1), "const") for w in ends]
            expected.append(float(((x[1] - x[0]) ** 2).sum()) / eps**2)
    np.testing.assert_allclose(result.values, expected, rtol=1e-3)


def test_stylegan_in_z_uses_the_constant_noise(stylegan):
    eps = 1e-3
    result = perceptual_path_length(stylegan, Flatten(), num_samples=4, epsilon=eps, seed=4)
    z0, z1, t = draws(4, 8, 4)
    expected = []
    with torch.no_grad():
        for a, b, s in zip(z0.numpy(), z1.numpy(), t.numpy(), strict=True):
            z = torch.tensor(np.stack([great_circle(a, b, s), great_circle(a, b, s + eps)]),
                             dtype=torch.float32)
            x = stylegan(z, noise_mode="const")
            expected.append(float(((x[1] - x[0]) ** 2).sum()) / eps**2)
    np.testing.assert_allclose(result.values, expected, rtol=1e-2)


def test_features_twice_as_large_give_four_times_the_path_length(stylegan):
    kwargs = {"num_samples": 10, "seed": 1, "space": "w"}
    one = perceptual_path_length(stylegan, Flatten(1.0), **kwargs)
    two = perceptual_path_length(stylegan, Flatten(2.0), **kwargs)
    np.testing.assert_allclose(two.values, 4 * one.values, rtol=1e-6)
    assert two.mean == pytest.approx(4 * one.mean, rel=1e-6)


def test_halving_epsilon_changes_little_for_a_smooth_generator():
    q = orthogonal_generator().linear.weight.detach()
    g = LinearGenerator(0.5 * q, smooth=True)
    big = perceptual_path_length(g, Flatten(), num_samples=30, epsilon=1e-3)
    small = perceptual_path_length(g, Flatten(), num_samples=30, epsilon=5e-4)
    np.testing.assert_allclose(small.values, big.values, rtol=2e-3)
    assert not np.allclose(small.values, big.values, rtol=1e-9, atol=0)  # they do differ


def test_the_mean_drops_the_values_outside_the_1st_and_99th_percentiles():
    result = perceptual_path_length(orthogonal_generator(), Flatten(), num_samples=200)
    values = np.sort(result.values)
    assert isinstance(result, PathLength)
    assert result.values.shape == (200,)
    # the lower 1st percentile of 200 values is the 2nd smallest, the higher 99th the 2nd largest
    assert result.mean == pytest.approx(values[1:-1].mean())
    assert result.median == pytest.approx(np.median(values))
    assert str(result).startswith("PPL")
    assert "200 pairs" in str(result)
    with pytest.raises(ValueError, match="read-only"):
        result.values[0] = 0.0


# --------------------------------------------------------------------------- properties


def test_the_same_seed_gives_the_same_values_and_another_seed_others(stylegan):
    kwargs = {"num_samples": 6, "batch_size": 4}
    a = perceptual_path_length(stylegan, Flatten(), seed=7, **kwargs)
    b = perceptual_path_length(stylegan, Flatten(), seed=7, **kwargs)
    c = perceptual_path_length(stylegan, Flatten(), seed=8, **kwargs)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_values_do_not_depend_on_the_batch_size():
    g = orthogonal_generator()
    a = perceptual_path_length(g, Flatten(), num_samples=9, batch_size=2)
    b = perceptual_path_length(g, Flatten(), num_samples=9, batch_size=100)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)


@pytest.mark.parametrize("space", ["z", "w"])
def test_training_flags_and_w_avg_are_restored(space):
    g = tiny_stylegan()
    g.w_avg.normal_()
    g.train()
    g.layers[0].eval()  # a mixed state must come back as it was
    net = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(256)).train()
    net.features = net.forward
    flags = [m.training for m in (*g.modules(), *net.modules())]
    w_avg = g.w_avg.clone()
    stats = net[1].running_mean.clone()
    perceptual_path_length(g, net, space=space, num_samples=4)
    assert [m.training for m in (*g.modules(), *net.modules())] == flags
    assert torch.equal(g.w_avg, w_avg)
    assert torch.equal(net[1].running_mean, stats)  # the feature net ran in eval mode


def test_a_conditional_generator_gets_one_label_per_pair():
    g = tiny_stylegan(num_classes=3)
    for space in ("z", "w"):
        result = perceptual_path_length(g, Flatten(), space=space, num_samples=4)
        assert np.isfinite(result.values).all()


def test_a_plain_callable_generator_works():
    def g(z):
        return torch.tanh(z[:, :4]).reshape(-1, 1, 2, 2)

    g.latent_dim = D
    result = perceptual_path_length(g, Flatten(), num_samples=5)
    assert result.values.shape == (5,)


# --------------------------------------------------------------------------- bad arguments


def test_space_w_needs_a_stylegan_generator():
    with pytest.raises(TypeError, match="generator must be a StyleGANGenerator"):
        perceptual_path_length(orthogonal_generator(), Flatten(), space="w")


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"space": "x"}, ValueError, "space"),
    ({"space": 1}, TypeError, "space"),
    ({"sampling": "middle"}, ValueError, "sampling"),
    ({"num_samples": 1}, ValueError, "num_samples"),
    ({"num_samples": 2.0}, TypeError, "num_samples"),
    ({"epsilon": 0.0}, ValueError, "epsilon"),
    ({"epsilon": -1e-4}, ValueError, "epsilon"),
    ({"epsilon": float("nan")}, ValueError, "epsilon"),
    ({"epsilon": float("inf")}, ValueError, "epsilon"),
    ({"epsilon": "small"}, TypeError, "epsilon"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": True}, TypeError, "batch_size"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 0.5}, TypeError, "seed"),
    ({"progress": 1}, TypeError, "progress"),
    ({"device": "not-a-device"}, ValueError, "device"),
    ({"device": "meta"}, ValueError, "device"),
    ({"feature_net": object()}, TypeError, "feature_net"),
    ({"generator": "G"}, TypeError, "generator"),
    ({"generator": lambda z: z}, TypeError, "generator"),  # no latent_dim
])
def test_bad_arguments_raise_errors_naming_them(kwargs, error, name):
    arguments = {"generator": orthogonal_generator(), "feature_net": Flatten(), **kwargs}
    generator, feature_net = arguments.pop("generator"), arguments.pop("feature_net")
    with pytest.raises(error, match=name):
        perceptual_path_length(generator, feature_net, **arguments)
