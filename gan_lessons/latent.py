"""Latent-space helpers: principal directions, walks along directions, interpolation."""

from __future__ import annotations

import torch

from gan_lessons._validate import check_int

__all__ = ["lerp", "principal_directions", "slerp", "walk"]


def principal_directions(codes: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The top-``k`` principal directions of encoded data.

    Args:
        codes: ``(N, D)`` latent codes, e.g. ``encoder(x)`` over a data set.
        k: how many directions, ``1 <= k <= min(N, D)``.

    Returns:
        ``(mean (D,), directions (k, D) orthonormal rows, stds (k,))`` where ``stds`` is the
        standard deviation of the codes along each direction (largest first).
    """
    if not isinstance(codes, torch.Tensor) or codes.ndim != 2:
        raise ValueError(f"codes must be a 2-D tensor (N, D), got {getattr(codes, 'shape', codes)!r}")
    k = check_int(k, "k", minimum=1, maximum=min(codes.shape))
    codes = codes.detach().float()
    mean = codes.mean(0)
    _, s, vh = torch.linalg.svd(codes - mean, full_matrices=False)
    stds = s[:k] / max(codes.shape[0] - 1, 1) ** 0.5
    return mean, vh[:k], stds


def walk(z0: torch.Tensor, direction: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Points ``z0 + t * direction`` for every ``t`` in ``offsets``: ``(D,), (D,), (T,) -> (T, D)``."""
    if z0.ndim != 1 or direction.shape != z0.shape:
        raise ValueError(f"z0 and direction must both have shape (D,), got {tuple(z0.shape)} "
                         f"and {tuple(direction.shape)}")
    return z0 + offsets.to(z0)[:, None] * direction


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Linear interpolation: ``(D,), (D,) -> (steps, D)`` from z0 to z1 inclusive."""
    steps = check_int(steps, "steps", minimum=2)
    t = torch.linspace(0, 1, steps, device=z0.device, dtype=z0.dtype)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation along the great circle between z0 and z1: ``(steps, D)``.

    Gaussian latents concentrate near a sphere of radius sqrt(D); a straight line between two of
    them passes closer to the origin than any typical sample, while the arc does not (White 2016).
    Falls back to :func:`lerp` for (anti)parallel vectors.
    """
    steps = check_int(steps, "steps", minimum=2)
    cos = torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6 or (torch.pi - omega).abs() < 1e-6:
        return lerp(z0, z1, steps)
    t = torch.linspace(0, 1, steps, device=z0.device, dtype=z0.dtype)[:, None]
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
