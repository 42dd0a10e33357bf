"""Checkers for a student's VAE pieces: the KL term and the reparameterization trick."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from gan_lessons import losses as _ref_losses

from ._report import Case, CheckResult, call, check_callable, run_cases, short
from .losses import describe, value_case

__all__ = ["kl_standard_normal", "reparameterize"]

_KL = "-0.5 * sum over d of (1 + logvar - mu^2 - exp(logvar)), then the mean over the batch"


def _kl_terms(mu, logvar, var):  # (B, d): -0.5 (1 + log var - mu^2 - var)
    return -0.5 * (1 + torch.log(var) - mu.pow(2) - var)


def kl_standard_normal(fn: Callable) -> CheckResult:
    """Check ``fn(mu, logvar) -> 0-dim tensor`` (``(B, d)`` each) against
    :func:`gan_lessons.losses.kl_standard_normal`: KL summed over d, averaged over the batch."""
    check_callable(fn)

    def per(mu, lv):
        return -0.5 * (1 + lv - mu.pow(2) - lv.exp())
    variants = [
        ("averaged over the latent dimensions: sum over d (the KL of independent dimensions "
         "adds up), then average over the batch.", lambda mu, lv: per(mu, lv).mean(1).mean()),
        ("summed over the batch too: sum over d, then average over the batch.",
         lambda mu, lv: per(mu, lv).sum()),
        ("averaged over everything: sum over the latent dimensions d, average over the batch "
         "only.", lambda mu, lv: per(mu, lv).mean()),
        ("the factor 0.5 is missing: " + _KL + ".", lambda mu, lv: 2 * per(mu, lv).sum(1).mean()),
        ("sign flipped: the KL is >= 0; " + _KL + ".", lambda mu, lv: -per(mu, lv).sum(1).mean()),
        ("sigma = exp(0.5*logvar) was used where the formula has the variance "
         "sigma^2 = exp(logvar).",
         lambda mu, lv: (-0.5 * (1 + lv - mu.pow(2) - (0.5 * lv).exp())).sum(1).mean()),
        ("logvar was treated as log sigma: it is the log variance, log sigma^2.",
         lambda mu, lv: (-0.5 * (1 + 2 * lv - mu.pow(2) - (2 * lv).exp())).sum(1).mean()),
        ("logvar was used as sigma: it is the log variance, so sigma^2 = exp(logvar).",
         lambda mu, lv: _kl_terms(mu, lv, lv.pow(2)).sum(1).mean()),
        ("logvar was used as the variance: the variance is exp(logvar).",
         lambda mu, lv: _kl_terms(mu, lv, lv).sum(1).mean()),
        ("the 1 inside the sum is missing: " + _KL + ".",
         lambda mu, lv: (per(mu, lv) + 0.5).sum(1).mean()),
        ("mu is not squared: " + _KL + ".",
         lambda mu, lv: (-0.5 * (1 + lv - mu - lv.exp())).sum(1).mean()),
    ]
    g = torch.Generator().manual_seed(5)

    def normal(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale
    sets = [
        (torch.zeros(1, 1), torch.zeros(1, 1)),
        (torch.ones(1, 1), torch.zeros(1, 1)),
        (torch.zeros(1, 1), torch.full((1, 1), math.log(4.0))),
        (normal(1, 3), normal(1, 3)),
        (normal(2, 2), normal(2, 2)),
        (normal(4, 3), normal(4, 3)),
        (normal(3, 5, scale=2), normal(3, 5, scale=2)),
        (normal(2, 4, scale=3), torch.tensor([[-8.0, 8.0, -4.0, 6.0], [5.0, -6.0, 0.0, 1.0]])),
    ]
    cases = []
    for mu, lv in sets:
        inputs = {"mu": mu, "logvar": lv}
        label = ", ".join(describe(k, v) for k, v in inputs.items())
        cases.append(value_case(label, _ref_losses.kl_standard_normal, inputs, variants,
                                lambda value: f"the KL term is {_KL}.", what="the KL term"))
    return run_cases("kl_standard_normal", fn, cases)


# --------------------------------------------------------------------------- reparameterize

_TRICK = "z = mu + exp(0.5*logvar) * eps with eps = torch.randn_like(mu)"
_NO_NOISE = "no noise is added: sample " + _TRICK + "."


def _sample(fn, mu: torch.Tensor, logvar: torch.Tensor, seed: int):
    """``fn(mu, logvar)`` under a fixed, forked torch seed; a ``(message, hint)`` when the
    answer is not a tensor of mu's shape."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        z = call(fn, mu, logvar)
    if not isinstance(z, torch.Tensor):
        return None, (f"expected a torch.Tensor of shape {tuple(mu.shape)}, got "
                      f"{type(z).__name__}", "return z, a tensor shaped like mu.")
    if z.shape != mu.shape:
        return None, (f"expected shape {tuple(mu.shape)}, got {tuple(z.shape)}",
                      "z has the shape of mu: one sample per row. " + _TRICK + ".")
    if not torch.isfinite(z).all():
        return None, ("z holds NaN or inf", _TRICK + ".")
    return z, None


def _case_shape(fn):
    _, problem = _sample(fn, torch.zeros(3, 2), torch.zeros(3, 2), 0)
    return problem


def _case_fresh(fn):
    mu, lv = torch.zeros(2, 3), torch.zeros(2, 3)
    z1, problem = _sample(fn, mu, lv, 1)
    if problem:
        return problem
    z2, problem = _sample(fn, mu, lv, 2)
    if problem:
        return problem
    if torch.equal(z1, z2):
        if not z1.abs().any():
            return "z = mu: there is no noise", _NO_NOISE
        return ("two calls gave the same z", "draw fresh noise on every call (torch.randn_like"
                "(mu)); a fixed seed or a stored eps gives the same z each time.")
    return None


def _case_independent(fn):
    z, problem = _sample(fn, torch.zeros(16, 3), torch.zeros(16, 3), 3)
    if problem:
        return problem
    if (z == z[:1]).all():
        return ("every row of z is the same", "eps must have the shape of mu "
                "(torch.randn_like(mu)), not (latent_dim,): each sample gets its own noise.")
    if (z == z[:, :1]).all():
        return ("every latent dimension of a row got the same noise", "eps must have the "
                "shape of mu (torch.randn_like(mu)), not (B, 1).")
    return None


_MU = torch.tensor([0.0, 1.0, -2.0, 0.5])
_LOGVAR = torch.tensor([0.0, math.log(4.0), math.log(0.25), -1.0])
_STDS = [  # what the std comes out as, for the usual mistakes
    ("exp(logvar) is the variance; the standard deviation is exp(0.5*logvar).", _LOGVAR.exp()),
    ("logvar is not used: the standard deviation is exp(0.5*logvar).", torch.ones(4)),
    ("logvar was used as the standard deviation: it is the log variance, so the standard "
     "deviation is exp(0.5*logvar).", _LOGVAR.abs()),
    ("the standard deviation is exp(0.5*logvar), not 0.5*exp(logvar).", 0.5 * _LOGVAR.exp()),
    ("the standard deviation is exp(+0.5*logvar), not exp(-0.5*logvar).", (-0.5 * _LOGVAR).exp()),
]


def _case_statistics(fn):
    n = 4000
    z, problem = _sample(fn, _MU.expand(n, 4).clone(), _LOGVAR.expand(n, 4).clone(), 4)
    if problem:
        return problem
    want_std = (0.5 * _LOGVAR).exp()
    mean, std = z.double().mean(0).float(), z.double().std(0).float()
    if std.max() < 1e-6:
        return "z does not vary: there is no noise", _NO_NOISE
    if not torch.allclose(std, want_std, rtol=0.06):
        message = (f"the standard deviation of z per latent dimension is {short(std.numpy(), 3)}, "
                   f"expected exp(0.5*logvar) = {short(want_std.numpy(), 3)}")
        for hint, wrong in _STDS:
            if torch.allclose(std, wrong, rtol=0.06):
                return message, hint
        return message, _TRICK + "."
    if not torch.allclose(mean, _MU, atol=float(5 * want_std.max() / math.sqrt(n)) + 1e-3):
        message = (f"the mean of z per latent dimension is {short(mean.numpy(), 3)}, expected mu "
                   f"= {short(_MU.numpy(), 3)}")
        if mean.abs().max() < 0.1:
            return message, "mu is not added: " + _TRICK + "."
        return message, _TRICK + "."
    return None


_NO_PATH = ("the gradient must reach mu and logvar through z = mu + std * eps: torch.normal(mu, "
            "std), .detach() or torch.no_grad() cut it (that is what the trick is for).")


def _case_gradient(fn):
    g = torch.Generator().manual_seed(6)
    mu = torch.randn(3, 2, generator=g).requires_grad_(True)
    lv = torch.randn(3, 2, generator=g).requires_grad_(True)
    z, problem = _sample(fn, mu, lv, 7)
    if problem:
        return problem
    if not z.requires_grad:
        return "no gradient flows from z back to mu and logvar", _NO_PATH
    d_mu, d_lv = torch.autograd.grad(z.sum(), [mu, lv], allow_unused=True)
    if d_mu is None or not torch.allclose(d_mu, torch.ones_like(mu)):
        got = "none" if d_mu is None else short(d_mu.detach().numpy(), 3)
        return f"dz/dmu should be 1 everywhere, got {got}", _NO_PATH
    spread = (z - mu).detach()
    if d_lv is None or not torch.allclose(d_lv, 0.5 * spread, rtol=1e-4, atol=1e-6):
        got = "none" if d_lv is None else short(d_lv.detach().numpy(), 3)
        message = f"dz/dlogvar should be 0.5*(z - mu) = {short(0.5 * spread.numpy(), 3)}, got {got}"
        if d_lv is not None and torch.allclose(d_lv, spread, rtol=1e-4, atol=1e-6):
            return message, _STDS[0][0]
        return message, _NO_PATH
    return None


def reparameterize(fn: Callable) -> CheckResult:
    """Check ``fn(mu, logvar) -> z`` (``(B, d)`` each), a sample of N(mu, exp(logvar)) that
    gradients flow through (:func:`gan_lessons.models.autoencoder.reparameterize`): shape,
    fresh noise per call and per sample, the mean and standard deviation of 4000 samples, and
    the gradients dz/dmu = 1 and dz/dlogvar = 0.5*(z - mu)."""
    check_callable(fn)
    cases = [
        Case("mu, logvar zeros (3, 2): z's shape", _case_shape),
        Case("mu, logvar zeros (2, 3), called twice: fresh noise", _case_fresh),
        Case("mu, logvar zeros (16, 3): one noise per sample and dimension", _case_independent),
        Case(f"4000 samples, mu {_MU.tolist()}, logvar {[round(v, 2) for v in _LOGVAR.tolist()]}"
             f": mean and standard deviation", _case_statistics),
        Case("mu, logvar (3, 2) requiring grad: gradients", _case_gradient),
    ]
    return run_cases("reparameterize", fn, cases, noun="checks pass")
