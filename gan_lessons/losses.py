"""GAN losses as small pure functions of the discriminator's logits.

The discriminator returns a logit ``l`` and ``D(x) = sigmoid(l)`` is its probability that ``x``
is real. Every loss below is written with ``softplus`` so that it stays finite for any logit:

    -log(sigmoid(l))     = softplus(-l)
    -log(1 - sigmoid(l)) = softplus(l)

(computing ``sigmoid`` first and then ``log`` gives ``log(0) = -inf`` once ``|l|`` passes about
17 in float32 and 9 in float16). Logits may have shape ``(B,)`` or ``(B, 1)``; every loss is a
mean over the batch and returns a 0-dim tensor. Under mixed precision the logits are cast to
float32 first.

Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, eq. (1) and sec. 3.

A second section holds the losses of the other adversarial games: Wasserstein (WGAN), hinge and
least squares. Their discriminator ("critic") returns an unbounded score that is used raw, with
no sigmoid, in the same shapes ``(B,)`` or ``(B, 1)``. :data:`ADVERSARIAL_LOSSES` names each
(critic loss, generator loss) pair; :func:`gradient_penalty` (WGAN-GP) and :func:`r1_penalty`
are the critic's gradient penalties.

The last section holds the autoencoder and VAE losses (Kingma & Welling, "Auto-Encoding
Variational Bayes", ICLR 2014): reconstruction errors computed from a decoder's pixel logits,
the KL term of a diagonal Gaussian posterior against N(0, I), and the (negative) ELBO. Those
*sum* over pixels and latent dimensions and average over the batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ._validate import check_choice, check_float

__all__ = [
    "ADVERSARIAL_LOSSES",
    "GENERATOR_LOSSES",
    "RECONSTRUCTION_LOSSES",
    "AdversarialLoss",
    "ELBOLoss",
    "bce_reconstruction",
    "critic_gradient_norms",
    "discriminator_loss",
    "elbo_loss",
    "generator_loss_minimax",
    "generator_loss_nonsaturating",
    "get_adversarial_loss",
    "get_generator_loss",
    "gradient_penalty",
    "hinge_critic_loss",
    "hinge_generator_loss",
    "kl_standard_normal",
    "least_squares_critic_loss",
    "least_squares_generator_loss",
    "mse_reconstruction",
    "r1_penalty",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]


def _check_float_tensor(value, name: str, of: str = "") -> None:
    """Raise TypeError unless ``value`` is a floating-point torch.Tensor (``of``: what it holds,
    for the message, e.g. ``" of logits"``)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{of}, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")


def _logits(value, name: str, what: str = "logit") -> torch.Tensor:
    """Check that ``value`` is a floating tensor of logits (or ``what``: e.g. critic scores)
    shaped ``(B,)`` or ``(B, 1)``; return it as float32."""
    _check_float_tensor(value, name, f" of {what}s")
    if not (value.ndim == 1 or (value.ndim == 2 and value.shape[1] == 1)):
        raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(value.shape)}")
    if value.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one {what}, got an empty batch")
    return value.float()


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's loss: binary cross-entropy with real = 1 and fake = 0.

    .. math::
        L_D = -\mathbb{E}_{x \sim p_{data}}[\log D(x)]
              - \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]

    which is ``-V(D, G)`` of Goodfellow et al. (2014), eq. (1): minimising it maximises ``V``.
    Computed as ``mean(softplus(-d_real)) + mean(softplus(d_fake))``.

    Args:
        d_real: logits of the discriminator on real data, ``(B,)`` or ``(B, 1)``.
        d_fake: logits on generated data, ``(B',)`` or ``(B', 1)`` (``B'`` may differ from ``B``).

    Returns:
        A 0-dim float32 tensor. Both logits at 0 (``D = 1/2``) give ``2 log 2``.
    """
    d_real = _logits(d_real, "d_real")
    d_fake = _logits(d_fake, "d_fake")
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_loss_minimax(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The generator's loss in the minimax game, exactly as eq. (1) states it ("saturating").

    .. math::
        L_G^{\text{minimax}} = \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]

    Computed as ``-mean(softplus(d_fake))``. Its gradient with respect to the logit is
    ``-sigmoid(l) = -D(G(z))``, which vanishes when the discriminator confidently rejects the
    fakes (``D(G(z)) -> 0``), i.e. early in training: the generator "saturates".

    Args:
        d_fake: logits of the discriminator on generated data, ``(B,)`` or ``(B, 1)``.

    Returns:
        A 0-dim float32 tensor, always ``<= 0``; ``-log 2`` at logit 0.
    """
    return -F.softplus(_logits(d_fake, "d_fake")).mean()


def generator_loss_nonsaturating(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The non-saturating generator loss that Goodfellow et al. (2014, sec. 3) train with.

    .. math::
        L_G^{\text{NS}} = -\mathbb{E}_{z \sim p_z}[\log D(G(z))]

    Computed as ``mean(softplus(-d_fake))``. It has the same fixed point as the minimax loss but
    its gradient with respect to the logit, ``sigmoid(l) - 1 = -(1 - D(G(z)))``, is largest
    exactly when the discriminator rejects the fakes. This is the loss the source articles get by
    training ``G`` with ``BCELoss(D(G(z)), ones)``.

    Args:
        d_fake: logits of the discriminator on generated data, ``(B,)`` or ``(B, 1)``.

    Returns:
        A 0-dim float32 tensor, always ``>= 0``; ``log 2`` at logit 0.
    """
    return F.softplus(-_logits(d_fake, "d_fake")).mean()


GENERATOR_LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "non_saturating": generator_loss_nonsaturating,
    "minimax": generator_loss_minimax,
}
"""Generator losses by the name that ``GANTrainConfig.generator_loss`` takes."""


def get_generator_loss(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The generator loss called ``name``: one of the keys of :data:`GENERATOR_LOSSES`."""
    if not isinstance(name, str):
        raise TypeError(f"generator_loss must be a str, one of {tuple(GENERATOR_LOSSES)}, "
                        f"got {type(name).__name__}")
    if name not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss must be one of {tuple(GENERATOR_LOSSES)}, got {name!r}")
    return GENERATOR_LOSSES[name]


# --------------------------------------------------------------------------- other games


def _scores(value, name: str) -> torch.Tensor:
    """Check that ``value`` holds critic scores ``(B,)`` or ``(B, 1)``; return them as float32."""
    return _logits(value, name, "score")


def wasserstein_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The WGAN critic's loss (Arjovsky et al., "Wasserstein GAN", ICML 2017).

    .. math::
        L_D = \mathbb{E}_{z \sim p_z}[D(G(z))] - \mathbb{E}_{x \sim p_{data}}[D(x)]

    computed as ``mean(d_fake) - mean(d_real)``. The critic minimises it; for a 1-Lipschitz
    critic (weight clipping, or :func:`gradient_penalty`) its negative is the critic's estimate
    of the Wasserstein-1 distance between the data and the generator's distribution.

    Args:
        d_real: critic scores on real data, ``(B,)`` or ``(B, 1)``, used raw (no sigmoid).
        d_fake: critic scores on generated data, ``(B',)`` or ``(B', 1)``.

    Returns:
        A 0-dim float32 tensor, of any sign.
    """
    return _scores(d_fake, "d_fake").mean() - _scores(d_real, "d_real").mean()


def wasserstein_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The WGAN generator's loss (Arjovsky et al. 2017): raise the critic's score of the fakes.

    .. math::
        L_G = -\mathbb{E}_{z \sim p_z}[D(G(z))]

    computed as ``-mean(d_fake)``: the part of the Wasserstein estimate that depends on ``G``.

    Args:
        d_fake: critic scores on generated data, ``(B,)`` or ``(B, 1)``, used raw.

    Returns:
        A 0-dim float32 tensor.
    """
    return -_scores(d_fake, "d_fake").mean()


def hinge_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The hinge loss of the critic (Lim & Ye, "Geometric GAN", 2017; Miyato et al.,
    "Spectral Normalization for GANs", ICLR 2018).

    .. math::
        L_D = \mathbb{E}_{x \sim p_{data}}[\max(0, 1 - D(x))]
              + \mathbb{E}_{z \sim p_z}[\max(0, 1 + D(G(z)))]

    computed as ``mean(relu(1 - d_real)) + mean(relu(1 + d_fake))``: a real sample scored above
    1 and a fake scored below -1 cost nothing (and give no gradient).

    Args:
        d_real: critic scores on real data, ``(B,)`` or ``(B, 1)``, used raw (no sigmoid).
        d_fake: critic scores on generated data, ``(B',)`` or ``(B', 1)``.

    Returns:
        A 0-dim float32 tensor, ``>= 0``; 2 when every score is 0.
    """
    d_real = _scores(d_real, "d_real")
    d_fake = _scores(d_fake, "d_fake")
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def hinge_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The generator's loss of the hinge game (Miyato et al. 2018).

    .. math::
        L_G = -\mathbb{E}_{z \sim p_z}[D(G(z))]

    computed as ``-mean(d_fake)`` (no hinge on the generator's side; the same value as
    :func:`wasserstein_generator_loss`).

    Args:
        d_fake: critic scores on generated data, ``(B,)`` or ``(B, 1)``, used raw.

    Returns:
        A 0-dim float32 tensor.
    """
    return wasserstein_generator_loss(d_fake)


def least_squares_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's loss of the least-squares GAN (Mao et al., "Least Squares
    Generative Adversarial Networks", ICCV 2017, eq. (2) with ``a = 0, b = 1``).

    .. math::
        L_D = \tfrac12\,\mathbb{E}_{x \sim p_{data}}[(D(x) - 1)^2]
              + \tfrac12\,\mathbb{E}_{z \sim p_z}[D(G(z))^2]

    The discriminator's output is used raw (no sigmoid): it is regressed onto 1 for real and 0
    for fake samples. Computed as ``0.5 * mean((d_real - 1)^2) + 0.5 * mean(d_fake^2)``.

    Args:
        d_real: discriminator outputs on real data, ``(B,)`` or ``(B, 1)``.
        d_fake: outputs on generated data, ``(B',)`` or ``(B', 1)``.

    Returns:
        A 0-dim float32 tensor, ``>= 0``; 0 at ``d_real = 1, d_fake = 0``.
    """
    d_real = _scores(d_real, "d_real")
    d_fake = _scores(d_fake, "d_fake")
    return 0.5 * (d_real - 1).pow(2).mean() + 0.5 * d_fake.pow(2).mean()


def least_squares_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The generator's loss of the least-squares GAN (Mao et al. 2017, eq. (2) with
    ``c = 1``): make the discriminator output 1 (its target for real data) on the fakes.

    .. math::
        L_G = \tfrac12\,\mathbb{E}_{z \sim p_z}[(D(G(z)) - 1)^2]

    The discriminator's output is used raw (no sigmoid). Computed as
    ``0.5 * mean((d_fake - 1)^2)``.

    Args:
        d_fake: discriminator outputs on generated data, ``(B,)`` or ``(B, 1)``.

    Returns:
        A 0-dim float32 tensor, ``>= 0``; 0 at ``d_fake = 1``.
    """
    return 0.5 * (_scores(d_fake, "d_fake") - 1).pow(2).mean()


class AdversarialLoss(NamedTuple):
    """A pair of losses of one adversarial game, as :func:`get_adversarial_loss` returns it:
    ``critic_loss(d_real, d_fake)`` and ``generator_loss(d_fake)``, each a 0-dim tensor."""

    critic_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    generator_loss: Callable[[torch.Tensor], torch.Tensor]


ADVERSARIAL_LOSSES: dict[str, AdversarialLoss] = {
    "non_saturating": AdversarialLoss(discriminator_loss, generator_loss_nonsaturating),
    "minimax": AdversarialLoss(discriminator_loss, generator_loss_minimax),
    "wgan": AdversarialLoss(wasserstein_critic_loss, wasserstein_generator_loss),
    "hinge": AdversarialLoss(hinge_critic_loss, hinge_generator_loss),
    "least_squares": AdversarialLoss(least_squares_critic_loss, least_squares_generator_loss),
}
"""(critic loss, generator loss) of each game by name. The first two take logits (``D`` is
their sigmoid); the others take raw scores. Gradient penalties are separate terms."""


def get_adversarial_loss(name: str) -> AdversarialLoss:
    """The losses of the game called ``name``, one of the keys of :data:`ADVERSARIAL_LOSSES`:
    ``critic_loss, generator_loss = get_adversarial_loss("hinge")``."""
    return ADVERSARIAL_LOSSES[check_choice(name, "loss", ADVERSARIAL_LOSSES)]


_SQRT_GUARD = 1e-12
"""Added under the square root of the gradient penalty's norm: ``sqrt`` has an infinite
derivative at 0, which a zero gradient would turn into NaN. It shifts a norm of 1 by 5e-13."""


def _images(value, name: str) -> None:
    """Check that ``value`` is a floating tensor ``(B, ...)`` with at least 2 dims and B >= 1."""
    _check_float_tensor(value, name)
    if value.ndim < 2 or value.shape[0] == 0:
        raise ValueError(f"{name} must have shape (B, ...) with at least 2 dimensions and "
                         f"B >= 1, got {tuple(value.shape)}")


def _check_critic(critic) -> None:
    if not callable(critic):
        raise TypeError(f"critic must be callable (a model or function x -> scores), got "
                        f"{type(critic).__name__}")


def _autocast_off(device: torch.device):
    """A context that turns autocast off on ``device``'s type, where autocast exists for it."""
    try:
        return torch.autocast(device.type, enabled=False)
    except RuntimeError:  # a device type without autocast: there is nothing to turn off
        return contextlib.nullcontext()


def _check_scores(scores, batch: int) -> None:
    """Check that a critic returned floating scores ``(batch,)`` or ``(batch, 1)``."""
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"critic must return a torch.Tensor of scores, got "
                        f"{type(scores).__name__}")
    if not (scores.shape in ((batch,), (batch, 1)) and scores.is_floating_point()):
        raise ValueError(f"critic must return floating scores of shape ({batch},) or "
                         f"({batch}, 1), got {scores.dtype} {tuple(scores.shape)}")


def _gradient_of_scores(critic, x: torch.Tensor, critic_kwargs: dict) -> torch.Tensor:
    """``grad_x sum(critic(x))`` for a leaf ``x`` ``(B, ...)`` that requires grad, with
    ``create_graph=True`` so the result is differentiable w.r.t. the critic's parameters. The
    gradient of a score that does not depend on ``x`` is 0."""
    scores = critic(x, **critic_kwargs)
    _check_scores(scores, x.shape[0])
    if not scores.requires_grad:
        return torch.zeros_like(x)
    (grad,) = torch.autograd.grad(scores, x, grad_outputs=torch.ones_like(scores),
                                  create_graph=True, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad


def gradient_penalty(critic: Callable[..., torch.Tensor], x_real: torch.Tensor,
                     x_fake: torch.Tensor, *, generator: torch.Generator | None = None,
                     epsilon: torch.Tensor | None = None, **critic_kwargs) -> torch.Tensor:
    r"""The WGAN-GP gradient penalty (Gulrajani et al., "Improved Training of Wasserstein
    GANs", NeurIPS 2017, eq. (3)), without its weight ``lambda``.

    .. math::
        \mathrm{GP} = \mathbb{E}_{\hat x}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2
        \big], \qquad \hat x = \epsilon\, x + (1 - \epsilon)\, \tilde x,
        \quad \epsilon \sim U[0, 1]

    with one ``epsilon`` per sample (shape ``(B, 1, ..., 1)``), the norm taken per sample over
    all non-batch dimensions, and the mean over the batch. The critic loss is then
    ``wasserstein_critic_loss(...) + lambda_gp * gradient_penalty(...)`` (``lambda = 10`` in the
    paper). The gradient is computed with ``create_graph=True``, so the penalty is
    differentiable w.r.t. the critic's parameters. Both inputs are detached: the penalty trains
    the critic only. The norm is ``sqrt(sum(g^2) + 1e-12)``, so that a zero gradient (identical
    inputs, a flat critic) gives a finite value and finite gradients.

    Precision: the interpolation and the critic's forward and backward pass for the penalty run
    in float32 with autocast turned off (half-precision inputs are cast up; float64 stays
    float64): a float16 double backward overflows easily.

    Args:
        critic: the critic, called as ``critic(x_hat, **critic_kwargs)``, returning scores
            ``(B,)`` or ``(B, 1)``.
        x_real: real samples ``(B, ...)``, e.g. ``(B, C, H, W)`` or ``(B, D)``.
        x_fake: generated samples of the same shape.
        generator: a ``torch.Generator`` for ``epsilon`` (reproducible draws), or None.
        epsilon: the interpolation weights ``(B,)`` in [0, 1] to use instead of drawing them
            (data-parallel training passes each process its slice of the global batch's).
        **critic_kwargs: passed on to the critic, e.g. ``labels=...`` for a conditional critic.

    Returns:
        A 0-dim tensor (float32, or float64 for float64 inputs), ``>= 0``.
    """
    _check_critic(critic)
    _images(x_real, "x_real")
    _images(x_fake, "x_fake")
    if x_fake.shape != x_real.shape:
        raise ValueError(f"x_fake must have the same shape as x_real {tuple(x_real.shape)}, got "
                         f"{tuple(x_fake.shape)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got "
                        f"{type(generator).__name__}")
    dtype = torch.promote_types(torch.promote_types(x_real.dtype, x_fake.dtype), torch.float32)
    device = x_real.device
    draw_on = device if generator is None else generator.device
    # one epsilon per sample: shape (B, 1, ..., 1)
    shape = (x_real.shape[0],) + (1,) * (x_real.ndim - 1)
    if epsilon is None:
        eps = torch.rand(shape, generator=generator, dtype=dtype,
                         device=draw_on).to(device)
    else:
        eps = _given_epsilon(epsilon, x_real.shape[0], generator).to(device, dtype)
        eps = eps.reshape(shape)
    x_real, x_fake = x_real.detach().to(dtype), x_fake.detach().to(dtype)
    with torch.enable_grad(), _autocast_off(device):
        x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
        grad = _gradient_of_scores(critic, x_hat, critic_kwargs)
        # the norm over all but the batch dimension; the guard keeps the
        # gradient of sqrt finite where grad = 0
        norm = torch.sqrt(grad.flatten(1).pow(2).sum(1) + _SQRT_GUARD)  # (B,)
        return (norm - 1).pow(2).mean()


def _given_epsilon(epsilon, batch: int, generator) -> torch.Tensor:
    """``epsilon`` checked: a float tensor ``(batch,)``, without ``generator`` (its values
    are not checked, which would wait for the device)."""
    if not isinstance(epsilon, torch.Tensor):
        raise TypeError(f"epsilon must be a tensor (B,) or None, got {type(epsilon).__name__}")
    if generator is not None:
        raise ValueError("pass epsilon or generator (which draws epsilon), not both")
    if tuple(epsilon.shape) != (batch,) or not epsilon.is_floating_point():
        raise ValueError(f"epsilon must be a float tensor of shape ({batch},), one weight per "
                         f"sample, got {epsilon.dtype} {tuple(epsilon.shape)}")
    return epsilon.detach()


def r1_penalty(critic: Callable[..., torch.Tensor], x_real: torch.Tensor,
               **critic_kwargs) -> torch.Tensor:
    r"""The R1 penalty: the squared gradient norm of the critic at real data (Mescheder et al.,
    "Which Training Methods for GANs do actually Converge?", ICML 2018, eq. (9)), without its
    weight.

    .. math::
        R_1 = \mathbb{E}_{x \sim p_{data}}\big[\lVert \nabla_x D(x) \rVert_2^2\big]

    The norm is per sample over all non-batch dimensions, the mean over the batch; the caller
    adds ``gamma / 2 * r1_penalty(...)`` to the critic's loss. ``x_real`` is detached and made
    to require grad inside; the gradient is computed with ``create_graph=True``, so the penalty
    is differentiable w.r.t. the critic's parameters. Like :func:`gradient_penalty` it runs in
    float32 with autocast off (float64 stays float64).

    Args:
        critic: the critic, called as ``critic(x, **critic_kwargs)``, returning scores
            ``(B,)`` or ``(B, 1)``.
        x_real: real samples ``(B, ...)``, e.g. ``(B, C, H, W)``.
        **critic_kwargs: passed on to the critic, e.g. ``labels=...``.

    Returns:
        A 0-dim tensor (float32, or float64 for float64 input), ``>= 0``.
    """
    _check_critic(critic)
    _images(x_real, "x_real")
    dtype = torch.promote_types(x_real.dtype, torch.float32)
    with torch.enable_grad(), _autocast_off(x_real.device):
        x = x_real.detach().to(dtype).requires_grad_(True)
        grad = _gradient_of_scores(critic, x, critic_kwargs)
        return grad.flatten(1).pow(2).sum(1).mean()


def critic_gradient_norms(critic: Callable[..., torch.Tensor], x: torch.Tensor,
                          **critic_kwargs) -> torch.Tensor:
    r"""The critic's slope at each sample: :math:`\lVert \nabla_x D(x_i) \rVert_2` per sample.

    A measurement, not a loss: the result is detached (no graph is kept), so it can be called
    on a trained critic to check how close to 1-Lipschitz it is, at real, generated or
    interpolated points. The norm runs over all non-batch dimensions, as in
    :func:`gradient_penalty`; it runs in float32 with autocast off (float64 stays float64).

    Args:
        critic: called as ``critic(x, **critic_kwargs)``, returning scores ``(B,)`` or
            ``(B, 1)``.
        x: points ``(B, ...)``, e.g. ``(B, 2)`` or ``(B, C, H, W)``.
        **critic_kwargs: passed on to the critic, e.g. ``labels=...``.

    Returns:
        ``(B,)`` norms, ``>= 0``.
    """
    _check_critic(critic)
    _images(x, "x")
    dtype = torch.promote_types(x.dtype, torch.float32)
    with torch.enable_grad(), _autocast_off(x.device):
        x = x.detach().to(dtype).requires_grad_(True)
        scores = critic(x, **critic_kwargs)
        _check_scores(scores, x.shape[0])
        if not scores.requires_grad:
            return torch.zeros(x.shape[0], dtype=dtype, device=x.device)
        (grad,) = torch.autograd.grad(scores, x, grad_outputs=torch.ones_like(scores),
                                      allow_unused=True)
    if grad is None:
        return torch.zeros(x.shape[0], dtype=dtype, device=x.device)
    return grad.flatten(1).norm(dim=1).detach()


# --------------------------------------------------------------------------- autoencoders


def _batched_pair(a, b, names: tuple[str, str], shape: str,
                  ndim_ok: Callable[[int], bool]) -> tuple[torch.Tensor, torch.Tensor]:
    """Check that ``a`` and ``b`` are floating tensors of one shape, ``shape`` (e.g.
    ``"(B, ...)"``) with ``ndim_ok(ndim)`` and ``B >= 1``; return them as float32."""
    for name, value in zip(names, (a, b), strict=True):
        _check_float_tensor(value, name)
        if not ndim_ok(value.ndim) or value.shape[0] == 0:
            raise ValueError(f"{name} must have shape {shape} with B >= 1, got "
                             f"{tuple(value.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return a.float(), b.float()


def _pixel_pair(logits, x) -> tuple[torch.Tensor, torch.Tensor]:
    """Check that ``logits`` and ``x`` are floating tensors ``(B, ...)`` of one shape."""
    return _batched_pair(logits, x, ("logits", "x"), "(B, ...)", lambda ndim: ndim >= 2)


def _check_unit_range(x: torch.Tensor, name: str, slack: float = 1e-4) -> None:
    """Raise ValueError unless every value of ``x`` is in ``[-1, 1]`` (``slack`` for rounding)."""
    low, high = (float(v) for v in torch.aminmax(x.detach()))
    if not (low >= -1.0 - slack and high <= 1.0 + slack):  # false for NaN too
        raise ValueError(f"{name} must hold images in [-1, 1] (the range of gan_lessons.data), "
                         f"got values in [{low:g}, {high:g}]; scale [0, 255] with x / 127.5 - 1 "
                         f"and [0, 1] with 2 * x - 1")


def mse_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""Squared error between the reconstruction and the image, summed over pixels.

    .. math::
        L_\text{MSE} = \frac{1}{B}\sum_{b=1}^{B}\sum_{i=1}^{n}(x_{b,i} - \hat x_{b,i})^2,
        \qquad \hat x = \tanh(l / 2)

    with ``n`` the number of values per image (``C·H·W``). The source article's loss
    :math:`\frac1n\sum_i (x_i - \hat x_i)^2` *averages* over the pixels instead; this sum is
    ``n`` times that (``n * F.mse_loss(x_hat, x)``). For a plain autoencoder the factor only
    rescales the gradient; next to a KL term it sets the balance between the two. Up to a
    constant, it is ``-log p(x|z)`` of a Gaussian decoder ``N(x_hat, 1/2 I)``.

    Args:
        logits: the decoder's pixel logits ``l``, ``(B, C, H, W)`` (any ``(B, ...)``).
        x: the images, same shape, in [-1, 1].

    Returns:
        The mean over the batch of each image's summed squared error, a 0-dim float32 tensor.
    """
    logits, x = _pixel_pair(logits, x)
    x_hat = torch.tanh(logits / 2)  # (B, ...) in [-1, 1]
    return (x_hat - x).pow(2).flatten(1).sum(1).mean()


def bce_reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""Binary cross-entropy of the pixels, summed over pixels: ``-log p(x|z)`` of a decoder
    whose pixels are independent Bernoulli variables with means ``p = sigmoid(l)``.

    .. math::
        \begin{aligned}
        L_\text{BCE} &= -\frac{1}{B}\sum_{b=1}^{B}\sum_{i=1}^{n}
            \big[t_{b,i}\log p_{b,i} + (1 - t_{b,i})\log(1 - p_{b,i})\big], \\
        t &= \frac{x + 1}{2},\qquad p = \sigma(l) = \frac{\hat x + 1}{2}
        \end{aligned}

    computed from the logits, ``t·softplus(-l) + (1 - t)·softplus(l)``
    (``F.binary_cross_entropy_with_logits``), so it stays finite for any logit. MNIST's grey
    pixels make ``t`` fractional; the loss then cannot reach 0 but is still minimised at
    ``p = t`` (its minimum is the pixels' entropy).

    Args:
        logits: the decoder's pixel logits ``l``, ``(B, C, H, W)`` (any ``(B, ...)``).
        x: the images, same shape, in [-1, 1]. Anything outside (e.g. images still in
            ``[0, 255]`` or ``[0, 1]``, or NaN) raises ``ValueError``: the target
            ``(x + 1) / 2`` would not be a probability.

    Returns:
        The mean over the batch of each image's summed cross-entropy, a 0-dim float32 tensor.
    """
    logits, x = _pixel_pair(logits, x)
    _check_unit_range(x, "x")
    # [-1, 1] -> [0, 1]; the clamp only removes float rounding
    target = ((x + 1) / 2).clamp(0.0, 1.0)
    per_pixel = F.binary_cross_entropy_with_logits(logits, target,
                                                   reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


RECONSTRUCTION_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "bce": bce_reconstruction,
    "mse": mse_reconstruction,
}
"""Reconstruction losses by the name ``AETrainConfig.reconstruction`` takes."""


def _gaussian(mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    """Check that ``mu`` and ``logvar`` are floating tensors ``(B, latent_dim)`` of one shape."""
    return _batched_pair(mu, logvar, ("mu", "logvar"), "(B, latent_dim)", lambda ndim: ndim == 2)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL divergence of the posterior ``q(z|x) = N(mu, diag(exp(logvar)))`` from ``N(0, I)``.

    .. math::
        D_\text{KL}\big(q(z|x)\,\|\,N(0, I)\big)
        = -\frac12\sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big)

    (Kingma & Welling 2014, appendix B), summed over the ``d`` latent dimensions and averaged
    over the batch. It is 0 exactly when ``mu = 0`` and ``logvar = 0``, and positive otherwise.

    Args:
        mu: posterior means ``(B, latent_dim)``.
        logvar: posterior log-variances ``log sigma^2``, ``(B, latent_dim)``.

    Returns:
        A 0-dim float32 tensor (nats per example).
    """
    mu, logvar = _gaussian(mu, logvar)
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()


class ELBOLoss(NamedTuple):
    """What :func:`elbo_loss` returns: 0-dim tensors, ``total = reconstruction + beta * kl``."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def elbo_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
              beta: float = 1.0, reconstruction: str = "bce") -> ELBOLoss:
    r"""The VAE's loss: the negative evidence lower bound, with a weight ``beta`` on the KL term.

    .. math::
        \begin{aligned}
        \log p(x) \ \ge\ \text{ELBO}(x)
            &= \mathbb{E}_{q(z|x)}[\log p(x|z)] - D_\text{KL}\big(q(z|x)\,\|\,p(z)\big), \\
        L &= -\mathbb{E}_{q(z|x)}[\log p(x|z)]
            + \beta\, D_\text{KL}\big(q(z|x)\,\|\,N(0, I)\big)
        \end{aligned}

    The expectation is estimated with the one sample ``z`` that produced ``logits`` (the
    reparameterisation trick), so ``-log p(x|z)`` is :func:`bce_reconstruction` (a Bernoulli
    decoder) or :func:`mse_reconstruction` (a Gaussian one, up to constants). With
    ``beta = 1`` this is the negative ELBO of Kingma & Welling (2014), eq. (3) and (10); other
    values give the beta-VAE of Higgins et al. (2017). Both terms sum over pixels and latent
    dimensions and average over the batch.

    Args:
        logits: decoder logits for ``z ~ q(z|x)``, ``(B, C, H, W)``.
        x: the images, same shape, in [-1, 1].
        mu, logvar: the posterior's parameters, ``(B, latent_dim)`` each, same ``B``.
        beta: weight of the KL term, ``>= 0``.
        reconstruction: ``"bce"`` (default) or ``"mse"``.

    Returns:
        ``ELBOLoss(total, reconstruction, kl)``, 0-dim float32 tensors.
    """
    beta = check_float(beta, "beta", 0.0)
    check_choice(reconstruction, "reconstruction", RECONSTRUCTION_LOSSES)
    recon = RECONSTRUCTION_LOSSES[reconstruction](logits, x)
    kl = kl_standard_normal(mu, logvar)
    if mu.shape[0] != logits.shape[0]:
        raise ValueError(f"mu must have one row per image ({logits.shape[0]}), got "
                         f"{mu.shape[0]}")
    return ELBOLoss(recon + beta * kl, recon, kl)
