"""Autoencoder and VAE losses against independent formulas: torch's own losses and the
closed-form KL divergence of torch.distributions."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from gan_lessons.losses import (
    RECONSTRUCTION_LOSSES,
    ELBOLoss,
    bce_reconstruction,
    elbo_loss,
    kl_standard_normal,
    mse_reconstruction,
)


def batch(b=4, shape=(1, 5, 5), scale=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, *shape, generator=g) * scale
    x = torch.rand(b, *shape, generator=g) * 2 - 1
    return logits, x


def test_mse_is_summed_over_pixels_of_the_image_and_averaged_over_the_batch():
    logits, x = batch()
    x_hat = torch.tanh(logits / 2)
    expected = ((x_hat - x) ** 2).sum(dim=(1, 2, 3)).mean()
    assert mse_reconstruction(logits, x).item() == pytest.approx(expected.item(), rel=1e-6)
    # the source article's per-pixel mean, times the number of pixels
    n = x[0].numel()
    assert mse_reconstruction(logits, x).item() == pytest.approx(
        n * F.mse_loss(x_hat, x).item(), rel=1e-6)
    # a perfect reconstruction costs nothing (up to tanh's saturation)
    target = torch.tanh(logits / 2)
    assert mse_reconstruction(logits, target).item() == pytest.approx(0.0, abs=1e-10)


def test_bce_matches_binary_cross_entropy_on_probabilities():
    logits, x = batch(scale=2.0)  # moderate logits: sigmoid then log is still accurate
    target = (x + 1) / 2
    expected = F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="sum") / len(x)
    assert bce_reconstruction(logits, x).item() == pytest.approx(expected.item(), rel=1e-5)


def test_bce_is_minimised_at_the_target_and_equals_its_entropy_there():
    _, x = batch()
    t = ((x + 1) / 2).clamp(1e-4, 1 - 1e-4)
    x = 2 * t - 1
    best = torch.logit(t).requires_grad_()
    loss = bce_reconstruction(best, x)
    (grad,) = torch.autograd.grad(loss, best)
    assert grad.abs().max() < 1e-5
    entropy = -(t * t.log() + (1 - t) * (1 - t).log()).sum(dim=(1, 2, 3)).mean()
    assert loss.item() == pytest.approx(entropy.item(), rel=1e-4)


def test_bce_stays_finite_at_huge_logits_with_useful_gradients():
    x = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    logits = torch.tensor([[1e4, -1e4, -1e4, 1e4]], requires_grad=True)  # right, right, wrong, wrong
    loss = bce_reconstruction(logits, x)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(2e4)  # softplus(1e4) = 1e4 for each wrong pixel
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad.tolist() == [[0.0, 0.0, -1.0, 1.0]]
    # sigmoid, then log, loses it: BCELoss clamps log(0) to -100
    naive = F.binary_cross_entropy(torch.sigmoid(logits.detach()), (x + 1) / 2)
    assert naive.item() == pytest.approx(50.0)  # (100 + 100) / 4, not 2e4 / 4


@pytest.mark.parametrize("latent_dim", [1, 2, 16])
def test_kl_matches_torch_distributions(latent_dim):
    g = torch.Generator().manual_seed(latent_dim)
    mu = torch.randn(8, latent_dim, generator=g) * 2
    logvar = torch.randn(8, latent_dim, generator=g)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = kl_divergence(q, p).sum(1).mean()
    assert kl_standard_normal(mu, logvar).item() == pytest.approx(expected.item(), rel=1e-5)


def test_kl_by_hand_and_zero_at_the_prior():
    # one dimension: mu = 1, sigma^2 = e: -1/2 (1 + 1 - 1 - e) = (e - 1) / 2
    assert kl_standard_normal(torch.tensor([[1.0]]), torch.tensor([[1.0]])).item() == \
        pytest.approx((math.e - 1) / 2)
    zeros = torch.zeros(3, 5)
    assert kl_standard_normal(zeros, zeros).item() == 0.0
    mu, logvar = torch.randn(100, 2), torch.randn(100, 2)
    assert kl_standard_normal(mu, logvar).item() > 0


def test_kl_by_monte_carlo():
    # E_q[log q(z) - log p(z)] estimated with many samples agrees with the closed form
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[-0.5, 0.3]])
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample(torch.Size([200_000]))  # (S, 1, 2)
    p = Normal(0.0, 1.0)
    estimate = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert kl_standard_normal(mu, logvar).item() == pytest.approx(estimate.item(), abs=0.01)


@pytest.mark.parametrize("reconstruction", ["bce", "mse"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_elbo_is_reconstruction_plus_beta_kl(reconstruction, beta):
    logits, x = batch()
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    out = elbo_loss(logits, x, mu, logvar, beta=beta, reconstruction=reconstruction)
    assert isinstance(out, ELBOLoss)
    recon = RECONSTRUCTION_LOSSES[reconstruction](logits, x)
    kl = kl_standard_normal(mu, logvar)
    assert torch.equal(out.reconstruction, recon)
    assert torch.equal(out.kl, kl)
    assert out.total.item() == pytest.approx((recon + beta * kl).item())
    total, _, _ = out  # unpacks like a tuple
    assert total.ndim == 0


def test_gradients_flow_to_every_input():
    logits, x = batch()
    logits.requires_grad_()
    mu = torch.randn(4, 2, requires_grad=True)
    logvar = torch.randn(4, 2, requires_grad=True)
    elbo_loss(logits, x, mu, logvar).total.backward()
    for t in (logits, mu, logvar):
        assert t.grad is not None
        assert torch.isfinite(t.grad).all()
        assert t.grad.abs().sum() > 0


def test_half_precision_inputs_give_float32_losses():
    logits, x = batch()
    mu, logvar = torch.randn(4, 2), torch.randn(4, 2)
    out = elbo_loss(logits.half(), x.half(), mu.half(), logvar.half())
    assert all(t.dtype == torch.float32 for t in out)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: mse_reconstruction(torch.zeros(2, 4), torch.zeros(2, 5)), ValueError, "same shape"),
    (lambda: bce_reconstruction([0.0], torch.zeros(1, 1)), TypeError, "logits"),
    (lambda: bce_reconstruction(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)),
     TypeError, "x must be a floating"),
    (lambda: mse_reconstruction(torch.zeros(3), torch.zeros(3)), ValueError, "(B, ...)"),
    (lambda: kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError, "same shape"),
    (lambda: kl_standard_normal(torch.zeros(3), torch.zeros(3)), ValueError, "latent_dim"),
    (lambda: elbo_loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(2, 1),
                       torch.zeros(2, 1), beta=-1), ValueError, "beta"),
    (lambda: elbo_loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(2, 1),
                       torch.zeros(2, 1), reconstruction="l1"), ValueError, "reconstruction"),
    (lambda: elbo_loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(3, 1),
                       torch.zeros(3, 1)), ValueError, "one row per image"),
])
def test_bad_inputs_name_the_argument(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.parametrize(("scale", "shown"), [
    (lambda x: (x + 1) * 127.5, r"\[0, 255\]"),  # images never scaled
    (lambda x: (x + 1) / 2 * 1.5, r"\[0, 1\.5\]"),  # a wrong scale
    (lambda x: torch.full_like(x, float("nan")), "nan"),
])
def test_bce_reconstruction_refuses_targets_outside_the_image_range(scale, shown):
    # issue 10, item 8: the target was silently clamped, so [0, 255] images trained on
    # an all-white target with a finite, plausible loss
    x = torch.linspace(-1, 1, 2 * 16).reshape(2, 1, 4, 4)
    logits = torch.zeros_like(x)
    with pytest.raises(ValueError, match=rf"x must hold images in \[-1, 1\].*{shown}"):
        bce_reconstruction(logits, scale(x))
    with pytest.raises(ValueError, match=r"x must hold images in \[-1, 1\]"):
        elbo_loss(logits, scale(x), torch.zeros(2, 2), torch.zeros(2, 2))
    assert torch.isfinite(bce_reconstruction(logits, x))
    assert torch.isfinite(bce_reconstruction(logits, x * (1 + 1e-6)))  # rounding is fine
