"""Reference solutions of homework/02_gan_on_the_ring.ipynb, one per solution cell (``grade_id``).
"""

import torch.nn.functional as F


def discriminator_loss(d_real, d_fake):
    """-E[log D(x)] - E[log(1 - D(G(z)))] from logits (B,) -> 0-dim."""
    # log D = log sigmoid(l) = -softplus(-l); log(1 - D) = -softplus(l)
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_loss_nonsaturating(d_fake):
    """-E[log D(G(z))] from logits (B,) -> 0-dim."""
    return F.softplus(-d_fake).mean()


def generator_loss_minimax(d_fake):
    """E[log(1 - D(G(z)))] from logits (B,) -> 0-dim."""
    return -F.softplus(d_fake).mean()


SOLUTIONS = {
    "discriminator_loss": [discriminator_loss],
    "generator_loss_nonsaturating": [generator_loss_nonsaturating],
    "generator_loss_minimax": [generator_loss_minimax],
}
