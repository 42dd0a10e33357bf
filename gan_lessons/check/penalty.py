"""Checker for a student's WGAN-GP gradient penalty ``fn(critic, x_real, x_fake)``.

Test critics whose exact penalty is known whatever epsilon is drawn: a linear critic
``D(x) = <a, x>`` has the gradient ``a`` everywhere, so the penalty is ``(|a| - 1)^2``; a
quadratic critic ``D(x) = <a, x>^2 / 2`` with ``<a, x_real> = <a, x_fake> = c`` has the gradient
``c a`` on the segment between them (one epsilon per sample) but not off it (one per pixel).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ._report import Case, CheckResult, call, check_callable, run_cases
from .losses import close, scalar

__all__ = ["gradient_penalty"]

_FORMULA = ("GP = mean over the batch of (||grad D(x_hat)|| - 1)^2, the norm per sample over "
            "all its pixels, x_hat = eps*x_real + (1 - eps)*x_fake, one eps ~ U[0, 1] per sample")
_CREATE_GRAPH = ("pass create_graph=True to torch.autograd.grad, so that the penalty can be "
                 "backpropagated into the critic's parameters.")


class _LinearCritic(nn.Module):
    """``D(x) = <a, x>`` per sample, scores ``(B,)`` (or ``(B, 1)`` with ``column``)."""

    def __init__(self, a: torch.Tensor, column: bool = False) -> None:
        super().__init__()
        self.a = nn.Parameter(a.clone())
        self.column = column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = (x * self.a).flatten(1).sum(1)
        return scores[:, None] if self.column else scores


class _QuadraticCritic(_LinearCritic):
    """``D(x) = <a, x>^2 / 2``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * super().forward(x).pow(2)


def _on_plane(x: torch.Tensor, a: torch.Tensor, c: float) -> torch.Tensor:
    """``x`` moved along ``a`` (a unit vector) so that ``<a, x_i> = c`` for every sample."""
    dots = (x * a).flatten(1).sum(1).view(-1, *[1] * (x.ndim - 1))
    return x + (c - dots) * a


def _linear_variants(a: torch.Tensor, batch: int):
    norm = float(a.norm())
    variants = [
        ("the norm is taken over the whole batch: take it per sample "
         "(grad.flatten(1).norm(dim=1)), then average (norm - 1)^2 over the batch.",
         (math.sqrt(batch) * norm - 1) ** 2)]
    if a.ndim > 1:  # images: a norm over the channels alone gives one norm per pixel
        per_pixel = a.flatten(1).norm(dim=0)
        variants.append(("the norm is taken over dim=1 only (the channels): flatten each sample "
                         "first, grad.flatten(1).norm(dim=1).",
                         float(((per_pixel - 1) ** 2).mean())))
    return [
        *variants,
        ("the -1 is missing: the penalty is (||grad|| - 1)^2, pulling the norm towards 1.",
         norm ** 2),
        ("the square is missing: the penalty is (||grad|| - 1)^2.", abs(norm - 1)),
        ("the square is missing: the penalty is (||grad|| - 1)^2.", norm - 1),
        ("use the norm, not the squared norm: ||g|| = sqrt(sum of g^2).", (norm ** 2 - 1) ** 2),
        ("summed over the batch: average (||grad|| - 1)^2 over the samples.",
         batch * (norm - 1) ** 2),
    ]


def _run(fn, critic: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        got = call(fn, critic, x_real.clone(), x_fake.clone())
    return got, *scalar(got, "the penalty")


def _linear_case(shape: tuple[int, ...], norm: float, column: bool, seed: int) -> Case:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(shape[1:], generator=g)
    a = a * (norm / a.norm())
    x_real, x_fake = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    expected = (norm - 1) ** 2
    want_grad = 2 * (norm - 1) * a / norm  # d/da (|a| - 1)^2

    def check(fn):
        critic = _LinearCritic(a, column)
        got, value, problem = _run(fn, critic, x_real, x_fake, seed)
        if problem:
            return problem
        if not close(value, expected):
            for hint, wrong in _linear_variants(a, shape[0]):
                if close(value, wrong) and not close(wrong, expected):
                    return f"expected {expected:.6g}, got {value:.6g}", hint
            return f"expected {expected:.6g}, got {value:.6g}", _FORMULA + "."
        if not got.requires_grad:
            return ("the value is right, but the penalty does not depend on the critic's "
                    "parameters (no graph)", _CREATE_GRAPH)
        (grad,) = torch.autograd.grad(got, [critic.a], allow_unused=True)
        if grad is None or not torch.allclose(grad, want_grad, rtol=1e-4, atol=1e-6):
            return ("the value is right, but its gradient with respect to the critic's weights "
                    "is wrong", _CREATE_GRAPH)
        return None
    scores = "(B, 1)" if column else "(B,)"
    return Case(f"x {shape}, linear critic D(x) = <a, x> with |a| = {norm}, scores {scores}",
                check)


def _epsilon_per_sample_case() -> Case:
    g = torch.Generator().manual_seed(31)
    shape = (4, 1, 3, 3)
    a = torch.randn(shape[1:], generator=g)
    a = a / a.norm()
    c = 3.0
    x_real = _on_plane(torch.randn(shape, generator=g), a, c)
    x_fake = _on_plane(torch.randn(shape, generator=g), a, c)
    expected = (c - 1) ** 2

    def check(fn):
        _, value, problem = _run(fn, _QuadraticCritic(a), x_real, x_fake, 32)
        if problem:
            return problem
        if close(value, expected):
            return None
        return (f"expected {expected:.6g}, got {value:.6g}",
                "one epsilon per sample: eps has shape (B, 1, 1, 1) (torch.rand(B, 1, 1, 1)), "
                "so that x_hat lies on the segment between x_real[i] and x_fake[i]; one eps per "
                "pixel leaves it.")
    return Case(f"x {shape}, critic D(x) = <a, x>^2 / 2 with <a, x_real> = <a, x_fake>: epsilon "
                f"per sample", check)


def _epsilon_uniform_case() -> Case:
    n = 2000
    g = torch.Generator().manual_seed(41)
    a = torch.tensor([[[1.0, 0.0]]])
    x_real = torch.cat([torch.zeros(n, 1, 1, 1), torch.randn(n, 1, 1, 1, generator=g)], -1)
    x_fake = torch.cat([torch.full((n, 1, 1, 1), 2.0), torch.randn(n, 1, 1, 1, generator=g)], -1)
    expected = 1 / 3  # E[(1 - 2 eps)^2], eps ~ U[0, 1]
    # the same with eps ~ N(0, 1), by quadrature: E[(|2 (1 - eps)| - 1)^2]
    e = np.linspace(-10, 10, 20001)
    with_randn = float(np.sum((np.abs(2 * (1 - e)) - 1) ** 2 * np.exp(-e * e / 2))
                       / np.sum(np.exp(-e * e / 2)))

    def check(fn):
        _, value, problem = _run(fn, _QuadraticCritic(a), x_real, x_fake, 42)
        if problem:
            return problem
        if abs(value - expected) < 0.04:
            return None
        message = f"expected about {expected:.3f} (+- 0.04), got {value:.4g}"
        if abs(value - with_randn) < 0.4:
            return message, "eps ~ U[0, 1]: torch.rand, not torch.randn."
        if abs(value - 1) < 0.02:
            return message, ("x_hat must lie between x_real and x_fake: eps*x_real + "
                             "(1 - eps)*x_fake with eps ~ U[0, 1].")
        return message, _FORMULA + "."
    return Case(f"{n} samples, critic D(x) = <a, x>^2 / 2 whose penalty depends on epsilon: "
                f"eps ~ U[0, 1]", check)


def _error_hint(exc: Exception) -> str | None:
    text = str(exc)
    if "does not require grad" in text:
        return ("x_hat must require grad before the critic sees it: "
                "x_hat.requires_grad_(True).")
    if "only for scalar outputs" in text:
        return ("the critic returns one score per sample: pass grad_outputs=torch.ones_like("
                "scores) to torch.autograd.grad (or differentiate scores.sum()).")
    if "Mismatch in shape" in text:
        return ("grad_outputs must have the shape of the critic's scores, (B,) or (B, 1): use "
                "torch.ones_like(scores).")
    return None


def gradient_penalty(fn: Callable) -> CheckResult:
    """Check ``fn(critic, x_real, x_fake) -> 0-dim tensor``, the WGAN-GP penalty without its
    weight (:func:`gan_lessons.losses.gradient_penalty`): its value for critics whose penalty is
    known exactly, that it is differentiable w.r.t. the critic's parameters, one epsilon per
    sample, and epsilon ~ U[0, 1]."""
    check_callable(fn)
    cases = [
        _linear_case((1, 1, 2, 2), 3.0, False, 1),
        _linear_case((4, 1, 3, 3), 0.5, False, 2),
        _linear_case((3, 2, 3, 3), 2.5, False, 3),
        _linear_case((4, 3, 2, 2), 1.5, True, 4),
        _linear_case((5, 6), 2.0, False, 5),
        _epsilon_per_sample_case(),
        _epsilon_uniform_case(),
    ]
    return run_cases("gradient_penalty", fn, cases, _error_hint)
