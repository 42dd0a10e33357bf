"""Checkers for a student's GAN losses of discriminator logits (torch tensors -> 0-dim tensor),
and the helpers the other torch checkers share (a 0-dim result, a value-and-gradient case)."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from gan_lessons import losses as _ref

from ._report import Case, CheckResult, call, check_callable, diagnose, run_cases, same

__all__ = ["discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating"]

close = functools.partial(same, rtol=1e-5, atol=1e-5)
UNSTABLE = ("the log of a sigmoid is computed unstably: sigmoid(l) rounds to 0 or 1 for large "
            "|l| and its log becomes -inf. Use F.logsigmoid, F.softplus (-log sigmoid(l) = "
            "softplus(-l), -log(1 - sigmoid(l)) = softplus(l)) or "
            "F.binary_cross_entropy_with_logits.")
_EXTREME = ("right for moderate logits but wrong for large ones (|logit| up to 120): " + UNSTABLE
            + " Clamping the probability changes the value.")
_PROBABILITIES = ("your loss matches the right loss of sigmoid(logits): the inputs are already "
                  "logits; do not apply sigmoid before a *_with_logits loss or softplus.")
_BCE_ON_LOGITS = ("F.binary_cross_entropy (nn.BCELoss) expects probabilities, but the inputs "
                  "are logits: use F.binary_cross_entropy_with_logits.")
_NO_GRAD = ("keep the computation in torch: no .item(), .detach(), numpy or torch.no_grad() "
            "inside, so that loss.backward() works.")


def describe(name: str, t: torch.Tensor) -> str:
    """``name [0.5, -1.0]`` for a few values, else ``name (B, d) in [lo, hi]``."""
    if t.numel() <= 4:
        return f"{name} {np.round(t.detach().numpy().astype(float), 2).tolist()}"
    return f"{name} {tuple(t.shape)} in [{float(t.min()):.3g}, {float(t.max()):.3g}]"


def scalar(got, what: str = "the loss") -> tuple[float | None, tuple[str, str | None] | None]:
    """The value of a 0-dim tensor, or a ``(message, hint)`` saying why ``got`` is not one."""
    if got is None:
        return None, ("returned None", "a missing `return`?")
    if not isinstance(got, torch.Tensor):
        if isinstance(got, numbers.Real | np.ndarray):
            return None, (f"expected a 0-dim torch.Tensor, got {type(got).__name__} {got!r}",
                          f"return {what} as a tensor, not a number: " + _NO_GRAD)
        return None, (f"expected a 0-dim torch.Tensor, got {type(got).__name__}", None)
    if got.ndim != 0:
        hint = f"{what} is one number, a 0-dim tensor: average over the batch with .mean()."
        return None, (f"expected a 0-dim tensor, got shape {tuple(got.shape)}", hint)
    if not got.is_floating_point():
        return None, (f"expected a floating-point tensor, got {got.dtype}", None)
    return float(got.detach()), None


def value_case(label: str, reference: Callable, inputs: dict[str, torch.Tensor],
               variants: list[tuple[str, Callable]], fallback: Callable[[float], str],
               what: str = "the loss") -> Case:
    """A case comparing the value of ``fn(*inputs)`` with ``reference(*inputs)``, then its
    gradient with respect to every input. ``variants`` are ``(hint, wrong_fn)``."""
    leaves = [v.detach().clone().requires_grad_(True) for v in inputs.values()]
    out = reference(*leaves)
    expected = float(out.detach())
    expected_grads = torch.autograd.grad(out, leaves)

    def check(fn):
        args = [v.detach().clone().requires_grad_(True) for v in inputs.values()]
        got = call(fn, *args)
        value, problem = scalar(got, what)
        if problem:
            return problem
        if not close(value, expected):
            raw = [v.detach().clone() for v in inputs.values()]
            wrongs = ((hint, lambda f=f: float(f(*raw))) for hint, f in variants)
            return (f"expected {expected:.7g}, got {value:.7g}",
                    diagnose(value, expected, wrongs, close) or fallback(value))
        if not got.requires_grad:
            return "the value is right, but no gradient flows back to the inputs", _NO_GRAD
        grads = torch.autograd.grad(got, args, allow_unused=True)
        for name, g, want in zip(inputs, grads, expected_grads, strict=True):
            if g is None or not torch.allclose(g, want, rtol=1e-4, atol=1e-6):
                hint = diagnose(grads, expected_grads, _gradients_of(variants, inputs),
                                _same_gradients)
                return (f"the value is right, but the gradient with respect to {name} is "
                        f"{'missing' if g is None else g.detach().numpy().round(4).tolist()}, "
                        f"expected {want.numpy().round(4).tolist()}",
                        hint or "part of the computation is cut from the graph (a .detach(), a "
                        "clamp, a constant): " + _NO_GRAD)
        return None
    return Case(label, check)


def _gradients_of(variants: list[tuple[str, Callable]], inputs: dict[str, torch.Tensor]):
    """``(hint, make)`` pairs whose ``make()`` gives a wrong variant's gradients."""
    def make(f):
        leaves = [v.detach().clone().requires_grad_(True) for v in inputs.values()]
        return torch.autograd.grad(f(*leaves), leaves, allow_unused=True)
    return ((hint, lambda f=f: make(f)) for hint, f in variants)


def _same_gradients(a, b) -> bool:
    return all(x is not None and y is not None and torch.allclose(x, y, rtol=1e-4, atol=1e-6)
               for x, y in zip(a, b, strict=True))


def _naive_log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.sigmoid(x))


def _naive_log_one_minus_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.log(1 - torch.sigmoid(x))


def _loss_error_hint(exc: Exception) -> str | None:
    text = str(exc)
    if "between 0 and 1" in text:
        return _BCE_ON_LOGITS
    if isinstance(exc, TypeError) and "argument" in text:
        return "your function must take the logits as its arguments (torch tensors)."
    return None


def _logit_sets(two: bool) -> list[tuple[list[torch.Tensor], bool]]:
    """Logits for the loss cases, simplest first: (tensors, extreme)."""
    g = torch.Generator().manual_seed(11)

    def normal(n, scale):
        return torch.randn(n, generator=g) * scale

    sets = [
        [torch.zeros(1), torch.zeros(1)],
        [torch.tensor([2.0]), torch.tensor([-1.0])],
        [torch.tensor([1.0, -1.0]), torch.tensor([0.5, 2.0])],
        [normal(4, 2), normal(4, 2)],
        [normal(3, 1), normal(3, 1)],
        [normal(8, 2), normal(8, 2)],
        [normal(3, 2), normal(5, 2)],
        [torch.tensor([8.0, -8.0, 3.0]), torch.tensor([-8.0, 8.0, 0.0])],
        [torch.tensor([20.0, -30.0, 50.0, -120.0]), torch.tensor([-50.0, 30.0, -120.0, 120.0])],
        [torch.rand(6, generator=g) * 100 - 50, torch.rand(6, generator=g) * 100 - 50],
    ]
    # with one input: no zero logit (sign and minimax/non-saturating look alike there) and no
    # second batch size
    return [(pair if two else pair[1:], k >= 8) for k, pair in enumerate(sets)
            if two or k not in (0, 6)]


def _fallback(formula: str, extreme: bool) -> Callable[[float], str]:
    def fallback(value: float) -> str:
        if not math.isfinite(value):
            return UNSTABLE
        return _EXTREME if extreme else f"the loss is {formula}."
    return fallback


def _check_loss(name: str, fn: Callable, reference: Callable, formula: str,
                variants: list[tuple[str, Callable]], two: bool) -> CheckResult:
    cases = []
    names = ("d_real", "d_fake") if two else ("d_fake",)
    for tensors, extreme in _logit_sets(two):
        inputs = dict(zip(names, tensors, strict=True))
        label = ", ".join(describe(k, v) for k, v in inputs.items())
        cases.append(value_case(label, reference, inputs, variants, _fallback(formula, extreme)))
    return run_cases(name, fn, cases, _loss_error_hint)


def discriminator_loss(fn: Callable) -> CheckResult:
    """Check ``fn(d_real, d_fake) -> 0-dim tensor`` (logits ``(B,)``) against
    :func:`gan_lessons.losses.discriminator_loss`: ``-E[log D(x)] - E[log(1 - D(G(z)))]``."""
    check_callable(fn)
    sp = F.softplus
    variants = [
        ("sign flipped: the discriminator minimises -E[log D(x)] - E[log(1 - D(G(z)))].",
         lambda r, f: -_ref.discriminator_loss(r, f)),
        ("real and fake are swapped: real logits have target 1 (-log D(x)), fake logits "
         "target 0 (-log(1 - D(G(z)))).", lambda r, f: sp(r).mean() + sp(-f).mean()),
        ("summed over the batch: average each term (.mean()).",
         lambda r, f: sp(-r).sum() + sp(f).sum()),
        ("one mean over real and fake together: the loss is a mean over the real batch plus a "
         "mean over the fake batch (with equal batches, yours is half of it).",
         lambda r, f: torch.cat([sp(-r), sp(f)]).mean()),
        (_PROBABILITIES, lambda r, f: _ref.discriminator_loss(torch.sigmoid(r),
                                                              torch.sigmoid(f))),
        (_BCE_ON_LOGITS, lambda r, f: F.binary_cross_entropy(r, torch.ones_like(r))
         + F.binary_cross_entropy(f, torch.zeros_like(f))),
        ("the fake term -E[log(1 - D(G(z)))] is missing.", lambda r, f: sp(-r).mean()),
        ("the real term -E[log D(x)] is missing.", lambda r, f: sp(f).mean()),
        (UNSTABLE, lambda r, f: -(_naive_log_sigmoid(r).mean()
                                  + _naive_log_one_minus_sigmoid(f).mean())),
    ]
    return _check_loss("discriminator_loss", fn, _ref.discriminator_loss,
                       "-mean(log sigmoid(d_real)) - mean(log(1 - sigmoid(d_fake)))", variants,
                       two=True)


def generator_loss_nonsaturating(fn: Callable) -> CheckResult:
    """Check ``fn(d_fake) -> 0-dim tensor`` against the non-saturating generator loss
    ``-E[log D(G(z))]`` (:func:`gan_lessons.losses.generator_loss_nonsaturating`)."""
    check_callable(fn)
    sp = F.softplus
    variants = [
        ("that is the minimax (saturating) loss E[log(1 - D(G(z)))]; the non-saturating loss "
         "is -E[log D(G(z))].", lambda f: -sp(f).mean()),
        ("sign flipped: the generator minimises -E[log D(G(z))].", lambda f: -sp(-f).mean()),
        ("you push D(G(z)) towards 0, the discriminator's target for fakes: the generator "
         "wants D(G(z)) -> 1, i.e. -E[log D(G(z))].", lambda f: sp(f).mean()),
        ("summed over the batch: average it (.mean()).", lambda f: sp(-f).sum()),
        (_PROBABILITIES, lambda f: sp(-torch.sigmoid(f)).mean()),
        (UNSTABLE, lambda f: -_naive_log_sigmoid(f).mean()),
    ]
    return _check_loss("generator_loss_nonsaturating", fn, _ref.generator_loss_nonsaturating,
                       "-mean(log sigmoid(d_fake))", variants, two=False)


def generator_loss_minimax(fn: Callable) -> CheckResult:
    """Check ``fn(d_fake) -> 0-dim tensor`` against the minimax generator loss
    ``E[log(1 - D(G(z)))]`` (:func:`gan_lessons.losses.generator_loss_minimax`)."""
    check_callable(fn)
    sp = F.softplus
    variants = [
        ("that is the non-saturating loss -E[log D(G(z))]; the minimax loss is "
         "E[log(1 - D(G(z)))] (the generator's side of V(D, G)).", lambda f: sp(-f).mean()),
        ("sign flipped: the minimax generator minimises +E[log(1 - D(G(z)))], a value <= 0.",
         lambda f: sp(f).mean()),
        ("summed over the batch: average it (.mean()).", lambda f: -sp(f).sum()),
        (_PROBABILITIES, lambda f: -sp(torch.sigmoid(f)).mean()),
        (UNSTABLE, lambda f: _naive_log_one_minus_sigmoid(f).mean()),
    ]
    return _check_loss("generator_loss_minimax", fn, _ref.generator_loss_minimax,
                       "mean(log(1 - sigmoid(d_fake)))", variants, two=False)
