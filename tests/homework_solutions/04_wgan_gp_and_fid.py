"""Reference solutions of homework/04_wgan_gp_and_fid.ipynb, one per solution cell (``grade_id``).
"""

import numpy as np
import torch


def gradient_penalty(critic, x_real, x_fake):
    """E[(||grad D(x_hat)||_2 - 1)^2] at x_hat = eps x_real + (1 - eps) x_fake,
    one eps ~ U[0, 1] per sample -> 0-dim."""
    shape = (x_real.shape[0],) + (1,) * (x_real.ndim - 1)  # (B, 1, ..., 1)
    eps = torch.rand(shape, dtype=x_real.dtype, device=x_real.device)
    x_hat = eps * x_real.detach() + (1 - eps) * x_fake.detach()
    x_hat.requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    # the norm per sample; the tiny guard keeps sqrt differentiable at 0
    norm = torch.sqrt(grad.flatten(1).pow(2).sum(dim=1) + 1e-12)  # (B,)
    return ((norm - 1) ** 2).mean()


def frechet_distance(real_features, fake_features):
    """||mu_r - mu_f||^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2)) of
    (N, D) and (M, D) feature arrays -> float."""
    x = np.asarray(real_features, dtype=np.float64)
    y = np.asarray(fake_features, dtype=np.float64)
    mu_x, mu_y = x.mean(axis=0), y.mean(axis=0)
    s_x, s_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    s_x, s_y = np.atleast_2d(s_x), np.atleast_2d(s_y)
    # tr (S_x S_y)^(1/2): S_x S_y has the eigenvalues of a PSD matrix
    eigenvalues = np.linalg.eigvals(s_x @ s_y).real.clip(min=0)
    trace_sqrt = np.sqrt(eigenvalues).sum()
    return float(((mu_x - mu_y) ** 2).sum() + np.trace(s_x) + np.trace(s_y)
                 - 2 * trace_sqrt)


def kl_standard_normal(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over d, mean over B."""
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp())  # (B, d)
    return kl.sum(dim=1).mean()


def reparameterize(mu, logvar):
    """A differentiable sample z = mu + sigma * eps, eps ~ N(0, I)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


SOLUTIONS = {
    "gradient_penalty": [gradient_penalty],
    "frechet_distance": [frechet_distance],
    "kl_standard_normal": [kl_standard_normal],
    "reparameterize": [reparameterize],
}
