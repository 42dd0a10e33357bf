"""The Wasserstein, hinge and least-squares losses and the gradient penalties (issue 12),
against hand-computed values."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn
from torch.func import functional_call

from gan_lessons.losses import (
    ADVERSARIAL_LOSSES,
    GENERATOR_LOSSES,
    AdversarialLoss,
    critic_gradient_norms,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    get_adversarial_loss,
    gradient_penalty,
    hinge_critic_loss,
    hinge_generator_loss,
    least_squares_critic_loss,
    least_squares_generator_loss,
    r1_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

# real scores 2, -1/2, 1/2 and fake scores -2, 1/4 (the batches may differ in size)
D_REAL = [2.0, -0.5, 0.5]
D_FAKE = [-2.0, 0.25]
# by hand: mean(d_real) = 2/3, mean(d_fake) = -7/8
HAND = {
    # -7/8 - 2/3
    "wasserstein_critic": -7 / 8 - 2 / 3,
    "wasserstein_generator": 7 / 8,
    # relu(1 - d_real) = 0, 3/2, 1/2 -> 2/3; relu(1 + d_fake) = 0, 5/4 -> 5/8
    "hinge_critic": 2 / 3 + 5 / 8,
    "hinge_generator": 7 / 8,
    # (d_real - 1)^2 = 1, 9/4, 1/4 -> 7/6; d_fake^2 = 4, 1/16 -> 65/32
    "least_squares_critic": 0.5 * 7 / 6 + 0.5 * 65 / 32,
    # (d_fake - 1)^2 = 9, 9/16 -> 153/32
    "least_squares_generator": 0.5 * 153 / 32,
}


def _scores(values, column: bool, dtype=torch.float32) -> torch.Tensor:
    t = torch.tensor(values, dtype=dtype)
    return t[:, None] if column else t


@pytest.mark.parametrize("column", [False, True], ids=["B", "B1"])
def test_losses_match_hand_computation(column):
    real, fake = _scores(D_REAL, column), _scores(D_FAKE, column)
    got = {
        "wasserstein_critic": wasserstein_critic_loss(real, fake),
        "wasserstein_generator": wasserstein_generator_loss(fake),
        "hinge_critic": hinge_critic_loss(real, fake),
        "hinge_generator": hinge_generator_loss(fake),
        "least_squares_critic": least_squares_critic_loss(real, fake),
        "least_squares_generator": least_squares_generator_loss(fake),
    }
    for name, loss in got.items():
        assert loss.shape == (), name
        assert loss.dtype == torch.float32, name
        assert loss.item() == pytest.approx(HAND[name], rel=1e-6), name


def test_values_at_zero_and_at_the_targets():
    zeros, ones = torch.zeros(4), torch.ones(4)
    assert hinge_critic_loss(zeros, zeros).item() == 2.0
    assert wasserstein_critic_loss(zeros, zeros).item() == 0.0
    # least squares: real regressed onto 1, fake onto 0; the generator wants 1 on the fakes
    assert least_squares_critic_loss(ones, zeros).item() == 0.0
    assert least_squares_critic_loss(zeros, ones).item() == 1.0
    assert least_squares_generator_loss(ones).item() == 0.0
    # hinge: real above 1 and fake below -1 cost nothing
    assert hinge_critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, -5.0])).item() == 0.0


def test_hinge_gradient_vanishes_beyond_the_margin():
    real = torch.tensor([2.0, -0.5, 0.5], requires_grad=True)
    fake = torch.tensor([-2.0, 0.25], requires_grad=True)
    g_real, g_fake = torch.autograd.grad(hinge_critic_loss(real, fake), (real, fake))
    assert torch.equal(g_real, torch.tensor([0.0, -1 / 3, -1 / 3]))
    assert torch.equal(g_fake, torch.tensor([0.0, 0.5]))


def test_half_precision_scores_are_computed_in_float32():
    real = torch.tensor([300.0, -300.0], dtype=torch.float16)  # 300^2 overflows float16
    for loss in (least_squares_critic_loss(real, real), least_squares_generator_loss(real),
                 hinge_critic_loss(real, real), wasserstein_critic_loss(real, real)):
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss)
    assert least_squares_generator_loss(real).item() == pytest.approx(0.5 * (299**2 + 301**2) / 2)


def test_registry_by_name():
    assert set(ADVERSARIAL_LOSSES) == {"non_saturating", "minimax", "wgan", "hinge",
                                       "least_squares"}
    critic_loss, generator_loss = get_adversarial_loss("wgan")
    assert (critic_loss, generator_loss) == (wasserstein_critic_loss, wasserstein_generator_loss)
    assert get_adversarial_loss("hinge") == AdversarialLoss(hinge_critic_loss,
                                                            hinge_generator_loss)
    pair = get_adversarial_loss("least_squares")
    assert pair.critic_loss is least_squares_critic_loss
    assert pair.generator_loss is least_squares_generator_loss
    assert get_adversarial_loss("non_saturating") == (discriminator_loss,
                                                      generator_loss_nonsaturating)
    assert get_adversarial_loss("minimax") == (discriminator_loss, generator_loss_minimax)
    # the generator-only registry is unchanged
    generator_only = dict(GENERATOR_LOSSES)
    assert generator_only == {"non_saturating": generator_loss_nonsaturating,
                              "minimax": generator_loss_minimax}
    with pytest.raises(ValueError, match="loss must be one of"):
        get_adversarial_loss("wgan-gp")
    with pytest.raises(TypeError, match="loss must be a str"):
        get_adversarial_loss(None)


# ----------------------------------------------------------------------- gradient penalties


def _linear_critic(w: torch.Tensor, column: bool = False):
    """D(x) = w^T flatten(x): its gradient is w for every x, of norm ||w||."""
    def critic(x):
        scores = x.flatten(1) @ w.flatten()
        return scores[:, None] if column else scores
    return critic


@pytest.mark.parametrize("shape", [(5, 6), (3, 2, 3, 4)], ids=["vectors", "images"])
@pytest.mark.parametrize("column", [False, True], ids=["B", "B1"])
def test_linear_critic_penalties(shape, column):
    gen = torch.Generator().manual_seed(0)
    x_real, x_fake = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)
    w = torch.randn(shape[1:], generator=gen)  # spread over every non-batch dimension
    unit = w / w.norm()
    assert gradient_penalty(_linear_critic(unit, column), x_real, x_fake).item() \
        == pytest.approx(0.0, abs=1e-10)
    # ||w|| = 2: (2 - 1)^2 = 1, and R1 = ||w||^2 = 4
    assert gradient_penalty(_linear_critic(2 * unit, column), x_real, x_fake).item() \
        == pytest.approx(1.0, rel=1e-5)
    assert r1_penalty(_linear_critic(2 * unit, column), x_real).item() \
        == pytest.approx(4.0, rel=1e-5)
    if len(shape) == 4:
        # a norm over the channels only would see per-pixel pieces of w, all shorter than 2
        assert (2 * unit).norm(dim=0).max() < 1.9


@pytest.mark.parametrize("shape", [(5, 6), (3, 2, 3, 4)], ids=["vectors", "images"])
def test_critic_gradient_norms_of_a_linear_critic(shape):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(shape, generator=gen)
    w = torch.randn(shape[1:], generator=gen)
    norms = critic_gradient_norms(_linear_critic(3 * w / w.norm(), column=True), x)
    assert norms.shape == (shape[0],)
    assert not norms.requires_grad
    torch.testing.assert_close(norms, torch.full((shape[0],), 3.0))


def test_critic_gradient_norms_per_sample_against_a_loop():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1))
    x = torch.randn(4, 3, 2, 2)
    expected = []
    for xi in x:
        xi = xi[None].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xi).sum(), xi)
        expected.append(g.norm())
    torch.testing.assert_close(critic_gradient_norms(critic, x), torch.stack(expected))
    # a critic that ignores x has slope 0; labels reach a conditional critic
    assert critic_gradient_norms(lambda x: torch.ones(len(x)), x).eq(0).all()
    seen = {}
    critic_gradient_norms(lambda x, labels: seen.setdefault("y", labels) + x.sum((1, 2, 3)),
                          x, labels=torch.arange(4.0))
    assert torch.equal(seen["y"], torch.arange(4.0))
    with torch.no_grad():  # works where a notebook measures without gradients
        assert critic_gradient_norms(critic, x).shape == (4,)


def test_epsilon_is_uniform_and_drawn_per_sample():
    seen = []

    def critic(x):  # D(x) = ||x||^2 / 2, so grad = x_hat
        seen.append(x.detach().clone())
        return 0.5 * x.flatten(1).pow(2).sum(1)

    batch, shape = 4000, (2, 3, 3)  # 18 values per sample
    x_real, x_fake = torch.ones(batch, *shape), torch.zeros(batch, *shape)
    gp = gradient_penalty(critic, x_real, x_fake, generator=torch.Generator().manual_seed(1))
    (x_hat,) = seen
    assert x_hat.shape == (batch, *shape)
    eps = x_hat[:, 0, 0, 0]
    # one epsilon per sample, broadcast over the sample: x_hat = eps * 1 + (1 - eps) * 0
    assert torch.equal(x_hat, eps[:, None, None, None].expand_as(x_hat))
    assert ((eps >= 0) & (eps <= 1)).all()
    # not one per batch: B distinct values (checked on 64 of them: float32 rand takes 2^24
    # values, so among 4000 draws a repeat is a coin flip)
    assert eps[:64].unique().numel() == 64
    # U(0, 1): mean 1/2, variance 1/12 (the std of the mean is 0.0046 here)
    assert eps.mean().item() == pytest.approx(0.5, abs=0.03)
    assert eps.var().item() == pytest.approx(1 / 12, abs=0.01)
    # ||grad|| = ||x_hat|| = eps * sqrt(18)
    expected = (eps * 18**0.5 - 1).pow(2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-5)


def test_generator_makes_epsilon_reproducible():
    def critic(x):
        return 0.5 * x.flatten(1).pow(2).sum(1)

    x_real, x_fake = torch.ones(8, 3), torch.zeros(8, 3)

    def gp(seed):
        gen = torch.Generator().manual_seed(seed)
        return gradient_penalty(critic, x_real, x_fake, generator=gen)

    assert torch.equal(gp(3), gp(3))
    assert not torch.equal(gp(3), gp(4))


def _mlp(dtype=torch.float64) -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(dtype)


def test_penalty_is_differentiable_wrt_the_critic_parameters():
    critic = _mlp()
    gen = torch.Generator().manual_seed(0)
    x_real = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    x_fake = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    names = [name for name, _ in critic.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in critic.parameters())

    def gp(*values):
        def call(x):
            return functional_call(critic, dict(zip(names, values, strict=True)), (x,))
        return gradient_penalty(call, x_real, x_fake, generator=torch.Generator().manual_seed(7))

    def r1(*values):
        return r1_penalty(lambda x: functional_call(critic, dict(zip(names, values, strict=True)),
                                                    (x,)), x_real)

    # second-order gradients against finite differences, in float64
    assert torch.autograd.gradcheck(gp, params)
    assert torch.autograd.gradcheck(r1, params)
    # and loss.backward() fills p.grad with something nonzero
    for penalty in (gradient_penalty(critic, x_real, x_fake), r1_penalty(critic, x_real)):
        critic.zero_grad(set_to_none=True)
        penalty.backward()
        # the output bias does not change grad_x D, so it gets no gradient
        assert critic[2].bias.grad is None
        grads = [critic[0].weight.grad, critic[0].bias.grad, critic[2].weight.grad]
        assert all(g is not None and torch.isfinite(g).all() and g.abs().max() > 0
                   for g in grads)


def test_inputs_are_detached():
    critic = _mlp(torch.float32)
    lift = nn.Parameter(torch.ones(()))  # a stand-in for the generator's weights
    x_real = torch.ones(4, 3, requires_grad=True)
    x_fake = lift * torch.linspace(-1, 1, 12).reshape(4, 3)
    (gradient_penalty(critic, x_real, x_fake) + r1_penalty(critic, x_real)).backward()
    assert lift.grad is None
    assert x_real.grad is None
    assert critic[0].weight.grad is not None


def test_zero_gradient_gives_finite_values_and_gradients():
    # a critic whose input gradient is 0: zero weights, and x_real == x_fake
    flat = nn.Linear(4, 1)
    nn.init.zeros_(flat.weight)
    x = torch.linspace(-1, 1, 12).reshape(3, 4)
    gp = gradient_penalty(flat, x, x.clone())
    assert gp.item() == pytest.approx(1.0, abs=1e-5)  # (0 - 1)^2
    gp.backward()
    assert torch.isfinite(flat.weight.grad).all()
    # D(x) = a ||x||^2 / 2 at x_real = x_fake = 0: grad = a x = 0
    a = nn.Parameter(torch.tensor(1.5))
    zeros = torch.zeros(2, 1, 2, 2)
    gp = gradient_penalty(lambda x: a * 0.5 * x.flatten(1).pow(2).sum(1), zeros, zeros)
    assert torch.isfinite(gp)
    gp.backward()
    assert torch.isfinite(a.grad)
    # a critic that ignores its input altogether
    c = nn.Parameter(torch.tensor(0.3))
    gp = gradient_penalty(lambda x: c.expand(x.shape[0]), zeros, zeros)
    assert gp.item() == pytest.approx(1.0, abs=1e-5)
    assert r1_penalty(lambda x: c.expand(x.shape[0]), zeros).item() == 0.0


def test_critic_kwargs_are_forwarded():
    w = torch.stack([torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 2.0])])  # norms 1, 2

    def critic(x, *, labels):
        return (x * w[labels]).sum(1)

    x_real, x_fake = torch.ones(2, 3), -torch.ones(2, 3)
    labels = torch.tensor([0, 1])
    # class 0: (1 - 1)^2 = 0, class 1: (2 - 1)^2 = 1; R1: 1 and 4
    assert gradient_penalty(critic, x_real, x_fake, labels=labels).item() \
        == pytest.approx(0.5, rel=1e-6)
    assert r1_penalty(critic, x_real, labels=labels).item() == pytest.approx(2.5, rel=1e-6)
    with pytest.raises(TypeError, match="labels"):
        gradient_penalty(critic, x_real, x_fake)


def test_penalty_runs_in_float32_under_autocast():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        critic = nn.Linear(6, 1)
    seen = []

    def watched(x):
        scores = critic(x)
        seen.append((x.dtype, scores.dtype))
        return scores

    gen = torch.Generator().manual_seed(2)
    x_real, x_fake = torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)
    plain = gradient_penalty(watched, x_real, x_fake, generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(x_real).dtype == torch.bfloat16  # autocast is on out here
        mixed = gradient_penalty(watched, x_real, x_fake,
                                 generator=torch.Generator().manual_seed(0))
        r1 = r1_penalty(watched, x_real.bfloat16())
    assert seen == [(torch.float32, torch.float32)] * 3
    assert mixed.dtype == r1.dtype == torch.float32
    assert torch.equal(plain, mixed)
    # half-precision inputs are cast up
    half = gradient_penalty(critic, x_real.half(), x_fake.half())
    assert half.dtype == torch.float32


def test_works_inside_no_grad():
    w = torch.tensor([0.0, 2.0])
    with torch.no_grad():
        assert gradient_penalty(_linear_critic(w), torch.zeros(3, 2), torch.ones(3, 2)).item() \
            == pytest.approx(1.0, rel=1e-6)
        assert r1_penalty(_linear_critic(w), torch.zeros(3, 2)).item() == pytest.approx(4.0)


@pytest.mark.parametrize(("call", "error", "fragment"), [
    (lambda: gradient_penalty("critic", torch.zeros(2, 3), torch.zeros(2, 3)), TypeError,
     "critic must be callable"),
    (lambda: gradient_penalty(abs, torch.zeros(2, 3), torch.zeros(2, 4)), ValueError,
     "x_fake must have the same shape as x_real"),
    (lambda: gradient_penalty(abs, torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3)),
     TypeError, "x_real must be a floating-point tensor"),
    (lambda: gradient_penalty(abs, torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.int32)),
     TypeError, "x_fake must be a floating-point tensor"),
    (lambda: gradient_penalty(abs, [[0.0]], torch.zeros(1, 1)), TypeError,
     "x_real must be a torch.Tensor"),
    (lambda: gradient_penalty(abs, torch.zeros(3), torch.zeros(3)), ValueError,
     "x_real must have shape (B, ...)"),
    (lambda: gradient_penalty(abs, torch.zeros(0, 3), torch.zeros(0, 3)), ValueError,
     "B >= 1"),
    (lambda: gradient_penalty(abs, torch.zeros(2, 3), torch.zeros(2, 3), generator=0),
     TypeError, "generator must be a torch.Generator"),
    (lambda: gradient_penalty(lambda x: x, torch.zeros(2, 3), torch.zeros(2, 3)), ValueError,
     "critic must return floating scores of shape (2,) or (2, 1)"),
    (lambda: gradient_penalty(lambda x: 1.0, torch.zeros(2, 3), torch.zeros(2, 3)), TypeError,
     "critic must return a torch.Tensor"),
    (lambda: r1_penalty(None, torch.zeros(2, 3)), TypeError, "critic must be callable"),
    (lambda: critic_gradient_norms(3, torch.zeros(2, 3)), TypeError, "critic must be callable"),
    (lambda: critic_gradient_norms(abs, torch.zeros(3)), ValueError, "x must have shape (B, ...)"),
    (lambda: critic_gradient_norms(lambda x: x, torch.zeros(2, 3)), ValueError,
     "critic must return floating scores of shape (2,) or (2, 1)"),
    (lambda: r1_penalty(abs, torch.zeros(2, 3, dtype=torch.uint8)), TypeError,
     "x_real must be a floating-point tensor"),
    (lambda: r1_penalty(lambda x: x.sum(), torch.zeros(2, 3)), ValueError,
     "critic must return floating scores"),
    (lambda: wasserstein_critic_loss(torch.zeros(2, 2), torch.zeros(2)), ValueError,
     "d_real must have shape (B,) or (B, 1)"),
    (lambda: hinge_critic_loss(torch.zeros(2), torch.zeros(0)), ValueError,
     "d_fake must hold at least one score"),
    (lambda: least_squares_generator_loss(torch.zeros(2, dtype=torch.long)), TypeError,
     "d_fake must be a floating-point tensor"),
    (lambda: wasserstein_generator_loss([0.0]), TypeError,
     "d_fake must be a torch.Tensor of scores"),
])
def test_bad_input_names_the_argument(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()
