"""The GAN losses against hand-computed values, their stability and their gradients."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_lessons.losses import (
    GENERATOR_LOSSES,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    get_generator_loss,
)

LOG2 = math.log(2.0)


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_values_at_logit_zero(shape):
    zeros = torch.zeros(shape)
    # D = 1/2 everywhere: -log(1/2) - log(1/2) = 2 log 2 for D, log(1 - 1/2) = -log 2 for G.
    assert discriminator_loss(zeros, zeros).item() == pytest.approx(2 * LOG2)
    assert generator_loss_minimax(zeros).item() == pytest.approx(-LOG2)
    assert generator_loss_nonsaturating(zeros).item() == pytest.approx(LOG2)


def test_values_match_the_formulas():
    d_real = torch.tensor([[2.0], [-1.0], [0.5]])
    d_fake = torch.tensor([[-3.0], [0.0]])  # a different batch size is allowed
    p_real, p_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    expected_d = -torch.log(p_real).mean() - torch.log(1 - p_fake).mean()
    assert discriminator_loss(d_real, d_fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert generator_loss_minimax(d_fake).item() == pytest.approx(
        torch.log(1 - p_fake).mean().item(), rel=1e-6)
    assert generator_loss_nonsaturating(d_fake).item() == pytest.approx(
        -torch.log(p_fake).mean().item(), rel=1e-6)
    # the same as the BCE the source article computes with sigmoid + BCELoss
    bce = (F.binary_cross_entropy(p_real, torch.ones_like(p_real))
           + F.binary_cross_entropy(p_fake, torch.zeros_like(p_fake)))
    assert discriminator_loss(d_real, d_fake).item() == pytest.approx(bce.item(), rel=1e-6)


def test_large_logits_stay_finite():
    big = torch.tensor([100.0, -100.0, 1e4, -1e4], requires_grad=True)
    losses = [discriminator_loss(big, big), generator_loss_minimax(big),
              generator_loss_nonsaturating(big)]
    for loss in losses:
        assert torch.isfinite(loss)
        (grad,) = torch.autograd.grad(loss, big)
        assert torch.isfinite(grad).all()
    # where sigmoid + log overflows, softplus gives the exact large value
    assert generator_loss_nonsaturating(torch.tensor([-100.0])).item() == pytest.approx(100.0)
    naive = -torch.log(torch.sigmoid(torch.tensor([-200.0])))
    assert torch.isinf(naive).all()  # the bug the stable form avoids


def test_half_precision_logits_are_computed_in_float32():
    logits = torch.tensor([[-20.0], [20.0]], dtype=torch.float16)
    loss = generator_loss_nonsaturating(logits)
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss)


def test_gradients_minimax_saturates_nonsaturating_does_not():
    # The discriminator confidently rejects the fakes: D(G(z)) = sigmoid(-8) ~ 3e-4.
    logit = torch.full((8, 1), -8.0, requires_grad=True)
    (g_minimax,) = torch.autograd.grad(generator_loss_minimax(logit), logit)
    (g_ns,) = torch.autograd.grad(generator_loss_nonsaturating(logit), logit)
    d = torch.sigmoid(torch.tensor(-8.0))
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l); d/dl -log sigmoid(l) = sigmoid(l) - 1 (over B = 8)
    assert torch.allclose(g_minimax, torch.full_like(logit, -d / 8))
    assert torch.allclose(g_ns, torch.full_like(logit, (d - 1) / 8))
    assert g_ns.abs().min() > 1000 * g_minimax.abs().max()
    # both push the logit up (gradient descent on the loss raises D(G(z)))
    assert (g_minimax < 0).all()
    assert (g_ns < 0).all()


def test_registry_and_choice():
    assert set(GENERATOR_LOSSES) == {"minimax", "non_saturating"}
    assert get_generator_loss("minimax") is generator_loss_minimax
    assert get_generator_loss("non_saturating") is generator_loss_nonsaturating
    with pytest.raises(ValueError, match="generator_loss"):
        get_generator_loss("wasserstein")
    with pytest.raises(TypeError, match="generator_loss"):
        get_generator_loss(1)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="d_fake"):
        generator_loss_minimax(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="d_real"):
        discriminator_loss(torch.zeros(2, 1, 1), torch.zeros(2))
    with pytest.raises(TypeError, match="d_fake"):
        generator_loss_nonsaturating([0.0, 1.0])
    with pytest.raises(TypeError, match="d_real"):
        discriminator_loss(torch.zeros(2, dtype=torch.long), torch.zeros(2))
    with pytest.raises(ValueError, match="d_fake"):
        generator_loss_nonsaturating(torch.zeros(0, 1))
