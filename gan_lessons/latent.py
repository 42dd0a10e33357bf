"""Latent-space helpers: principal directions, walks along directions, interpolation."""

from __future__ import annotations

import torch

from gan_lessons._validate import check_int

__all__ = ["lerp", "principal_directions", "slerp", "walk"]


def _vector(value, name: str) -> torch.Tensor:
    """Check that ``value`` is one latent vector: a finite floating tensor ``(D,)``."""
    if not isinstance(value, torch.Tensor):
        hint = " (convert it with torch.as_tensor)" if hasattr(value, "__array__") else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape (D,), got "
                        f"{type(value).__name__}{hint}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.ndim != 1 or value.shape[0] == 0:
        raise ValueError(f"{name} must have shape (D,) with D >= 1 (one latent vector; for a "
                         f"batch, call it once per row), got {tuple(value.shape)}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return value


def _pair(z0, z1, names: tuple[str, str] = ("z0", "z1")) -> tuple[torch.Tensor, torch.Tensor]:
    """Two latent vectors of the same shape ``(D,)`` (no broadcasting)."""
    z0, z1 = _vector(z0, names[0]), _vector(z1, names[1])
    if z0.shape != z1.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape (D,), got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}")
    if z0.device != z1.device:
        raise ValueError(f"{names[0]} and {names[1]} must be on the same device, got "
                         f"{z0.device} and {z1.device}")
    dtype = torch.promote_types(z0.dtype, z1.dtype)  # e.g. float32 and float64 -> float64
    return z0.to(dtype), z1.to(dtype)


def principal_directions(codes: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The top-``k`` principal directions of encoded data.

    Args:
        codes: ``(N, D)`` latent codes, e.g. ``encoder(x)`` over a data set.
        k: how many directions, ``1 <= k <= min(N, D)``.

    Returns:
        ``(mean (D,), directions (k, D) orthonormal rows, stds (k,))`` where ``stds`` is the
        standard deviation of the codes along each direction (largest first).
    """
    if not isinstance(codes, torch.Tensor):
        raise TypeError(f"codes must be a torch.Tensor (N, D), got {type(codes).__name__}")
    if codes.ndim != 2 or min(codes.shape) == 0:
        raise ValueError(f"codes must be a 2-D tensor (N, D) with N, D >= 1, "
                         f"got {tuple(codes.shape)}")
    if codes.dtype == torch.bool or codes.is_complex():
        raise TypeError(f"codes must hold real numbers, got dtype {codes.dtype}")
    k = check_int(k, "k", minimum=1, maximum=min(codes.shape))
    codes = codes.detach().float()
    if not bool(torch.isfinite(codes).all()):
        raise ValueError("codes must be finite, got NaN or inf")
    mean = codes.mean(0)
    _, s, vh = torch.linalg.svd(codes - mean, full_matrices=False)
    stds = s[:k] / max(codes.shape[0] - 1, 1) ** 0.5
    return mean, vh[:k], stds


def walk(z0: torch.Tensor, direction: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Points ``z0 + t * direction`` for every ``t`` in ``offsets``: ``(D,), (D,), (T,) -> (T, D)``.

    ``offsets`` is a 1-D tensor or a list of numbers.
    """
    z0, direction = _pair(z0, direction, ("z0", "direction"))
    if isinstance(offsets, list | tuple):
        try:
            offsets = torch.tensor(offsets, dtype=z0.dtype, device=z0.device)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError("offsets must be a 1-D tensor or a list of numbers") from None
    if not isinstance(offsets, torch.Tensor):
        raise TypeError(f"offsets must be a 1-D tensor (T,) or a list of numbers, got "
                        f"{type(offsets).__name__}")
    if offsets.ndim != 1 or offsets.dtype == torch.bool or offsets.is_complex():
        raise ValueError(f"offsets must be a 1-D tensor of real numbers (T,), got dtype "
                         f"{offsets.dtype} and shape {tuple(offsets.shape)}")
    offsets = offsets.to(z0)
    if not bool(torch.isfinite(offsets).all()):
        raise ValueError("offsets must be finite, got NaN or inf")
    return z0 + offsets[:, None] * direction


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Linear interpolation: ``(D,), (D,) -> (steps, D)`` from z0 to z1 inclusive.

    ``z0`` and ``z1`` must have the same shape (nothing is broadcast).
    """
    z0, z1 = _pair(z0, z1)
    steps = check_int(steps, "steps", minimum=2)
    t = torch.linspace(0, 1, steps, device=z0.device, dtype=z0.dtype)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation along the great circle between z0 and z1: ``(steps, D)``.

    Gaussian latents concentrate near a sphere of radius sqrt(D); a straight line between two of
    them passes closer to the origin than any typical sample, while the arc does not (White 2016).
    Falls back to :func:`lerp` for (anti)parallel vectors (``|cos| >= 1 - 16 eps`` of the
    dtype) and when either end is the zero vector (the arc is undefined there; the straight
    line is the only path).
    """
    z0, z1 = _pair(z0, z1)
    steps = check_int(steps, "steps", minimum=2)
    n0, n1 = z0.norm(), z1.norm()
    if n0 == 0 or n1 == 0:  # (also when the squares underflow to 0)
        return lerp(z0, z1, steps)
    cos = torch.dot(z0 / n0, z1 / n1).clamp(-1.0, 1.0)
    # (anti)parallel up to rounding; in float32, opposite vectors can give
    # cos = -0.99999988, whose arccos is 5e-4 short of pi
    if cos.abs() >= 1 - 16 * torch.finfo(cos.dtype).eps:
        return lerp(z0, z1, steps)
    omega = torch.arccos(cos)
    t = torch.linspace(0, 1, steps, device=z0.device, dtype=z0.dtype)[:, None]
    return ((torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1)
            / torch.sin(omega))


def check_latent_generator(generator, space: str = "z", *,
                           name: str = "generator") -> tuple[int, bool]:
    """``(latent_dim, is_stylegan)`` of ``generator``, a callable ``z (B, latent_dim) ->
    images``; ``space`` ``"w"`` or ``"w+"`` needs a ``StyleGANGenerator``. ``name`` is the
    argument the errors name."""
    from .models.stylegan import StyleGANGenerator

    if not callable(generator):
        raise TypeError(f"{name} must be a callable z (B, latent_dim) -> images, got "
                        f"{type(generator).__name__}")
    latent_dim = getattr(generator, "latent_dim", None)
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise TypeError(f"{name} must have an int attribute latent_dim >= 1 (the length of "
                        f"z), got {latent_dim!r}")
    is_stylegan = isinstance(generator, StyleGANGenerator)
    if space != "z" and not is_stylegan:
        raise TypeError(f"{name} must be a StyleGANGenerator for space={space!r} (it needs "
                        f".mapping and .synthesis), got {type(generator).__name__}")
    return latent_dim, is_stylegan
