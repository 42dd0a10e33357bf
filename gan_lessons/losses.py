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
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss_minimax",
    "generator_loss_nonsaturating",
    "get_generator_loss",
]


def _logits(value, name: str) -> torch.Tensor:
    """Check that ``value`` is a floating tensor of logits shaped ``(B,)`` or ``(B, 1)``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of logits, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if not (value.ndim == 1 or (value.ndim == 2 and value.shape[1] == 1)):
        raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(value.shape)}")
    if value.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one logit, got an empty batch")
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
