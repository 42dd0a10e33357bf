"""Latent-space helpers: principal directions, walks, linear and spherical interpolation."""

import pytest
import torch

from gan_lessons.latent import lerp, principal_directions, slerp, walk


def test_principal_directions_find_the_stretched_axis():
    torch.manual_seed(0)
    codes = torch.randn(5000, 3) * torch.tensor([0.1, 3.0, 1.0]) + torch.tensor([1.0, 2.0, 3.0])
    mean, directions, stds = principal_directions(codes, 2)
    assert torch.allclose(mean, torch.tensor([1.0, 2.0, 3.0]), atol=0.1)
    assert torch.allclose(directions @ directions.T, torch.eye(2), atol=1e-5)
    assert directions[0, 1].abs() > 0.99
    assert directions[1, 2].abs() > 0.99
    assert stds.tolist() == pytest.approx([3.0, 1.0], rel=0.05)


def test_walk_and_lerp_endpoints():
    z0, z1 = torch.zeros(4), torch.ones(4)
    assert torch.equal(walk(z0, z1, torch.tensor([0.0, 2.0]))[1], torch.full((4,), 2.0))
    path = lerp(z0, z1, 5)
    assert path.shape == (5, 4)
    assert torch.equal(path[0], z0)
    assert torch.equal(path[-1], z1)


def test_slerp_stays_on_the_sphere():
    torch.manual_seed(0)
    z0, z1 = torch.randn(128), torch.randn(128)
    z1 = z1 / z1.norm() * z0.norm()
    path = slerp(z0, z1, 9)
    assert torch.allclose(path[0], z0, atol=1e-5)
    assert torch.allclose(path[-1], z1, atol=1e-5)
    assert torch.allclose(path.norm(dim=1), torch.full((9,), z0.norm().item()), rtol=1e-4)
    assert lerp(z0, z1, 9)[4].norm() < 0.9 * z0.norm()  # the straight line cuts inside


@pytest.mark.parametrize(("call", "match"), [
    (lambda: principal_directions(torch.zeros(5), 1), "codes"),
    (lambda: principal_directions(torch.zeros(5, 3), 4), "k"),
    (lambda: lerp(torch.zeros(2), torch.ones(2), 1), "steps"),
    (lambda: walk(torch.zeros(2), torch.zeros(3), torch.zeros(1)), "direction"),
])
def test_bad_input(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_slerp_from_the_zero_vector_is_the_straight_line():
    # issue 10, item 9: slerp from a zero vector returned NaN
    z1 = torch.randn(16, generator=torch.Generator().manual_seed(0))
    for path in (slerp(torch.zeros(16), z1, 5), slerp(z1, torch.zeros(16), 5),
                 slerp(torch.zeros(16), torch.zeros(16), 3)):
        assert torch.isfinite(path).all()
    assert torch.allclose(slerp(torch.zeros(16), z1, 5), lerp(torch.zeros(16), z1, 5))
    tiny = torch.full((16,), 1e-30)  # its squares underflow: the norm is 0 in float32
    assert torch.isfinite(slerp(tiny, z1, 5)).all()


def test_lerp_and_slerp_refuse_to_broadcast():
    # issue 10, item 9: lerp of shapes (100,) and (1,) silently broadcast to (steps, 100)
    for fn in (lerp, slerp):
        with pytest.raises(ValueError, match=r"z0 and z1 must have the same shape .*\(100,\) and \(1,\)"):
            fn(torch.zeros(100), torch.ones(1), 5)


def test_mixed_float_dtypes_are_promoted():
    a, b = torch.randn(8), torch.randn(8, dtype=torch.float64)
    assert slerp(a, b, 3).dtype == torch.float64
    assert lerp(a, b, 3).dtype == torch.float64
    assert walk(a, b, [0.0, 1.0]).shape == (2, 8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_slerp_of_opposite_vectors_is_the_straight_line_in_every_dtype(dtype):
    # in float32, cos of a and -a came out as -0.99999988: omega missed pi by 5e-4 and the
    # "arc" bent through 0.707 a at t = 0.25 instead of falling back to the line
    a = torch.tensor([1.0, 2.0, 3.0], dtype=dtype)
    for b in (-a, 2 * a):  # antiparallel, parallel
        torch.testing.assert_close(slerp(a, b, 5), lerp(a, b, 5))
