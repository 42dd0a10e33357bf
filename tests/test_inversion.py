"""GAN inversion (gan_lessons.inversion): recovering known latents, the mask, the restarts,
determinism, the generator left as it was, and the argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gan_lessons.inversion import Inversion, image_loss, invert
from gan_lessons.models.conditional import ConditionalGANConfig, ConditionalGenerator
from gan_lessons.models.dcgan import DCGANConfig, DCGANGenerator
from gan_lessons.models.stylegan import StyleGANConfig, StyleGANGenerator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

D = 8  # latent size of the small generators


def tiny_dcgan() -> DCGANGenerator:
    """A 16 x 16 DCGAN in eval mode with weights N(0, 0.3^2): DCGAN's own N(0, 0.02^2) makes an
    untrained generator draw nearly the same grey image for every z (pairwise MSE ~1e-7), which
    would make recovery trivial; these weights give images that differ (pairwise MSE 0.2-0.4)."""
    torch.manual_seed(0)
    g = DCGANGenerator(DCGANConfig(image_size=16, channels=1, latent_dim=D, width=8)).eval()
    for m in g.modules():
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, std=0.3)
    return g


def tiny_stylegan() -> StyleGANGenerator:
    torch.manual_seed(0)
    return StyleGANGenerator(StyleGANConfig(image_size=16, channels=1, z_dim=D, w_dim=8,
                                            width=4, max_width=8)).eval()


class TinyFeatures(nn.Module):
    """A small convolutional feature net: ``.features(x) -> (B, F)``."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x)).flatten(1)


def z_star(n: int = 4) -> torch.Tensor:
    return torch.randn(n, D, generator=torch.Generator().manual_seed(123))


@pytest.fixture(scope="module")
def dcgan():
    return tiny_dcgan()


@pytest.fixture(scope="module")
def stylegan():
    return tiny_stylegan()


@pytest.fixture(scope="module")
def dcgan_targets(dcgan):
    with torch.no_grad():
        return dcgan(z_star())


# --------------------------------------------------------------------------- recovery


def test_a_known_z_is_recovered(dcgan, dcgan_targets):
    result = invert(dcgan, dcgan_targets, prior_weight=0.0, restarts=4, steps=200)
    assert isinstance(result, Inversion)
    assert result.latents.shape == (4, D)
    assert result.images.shape == dcgan_targets.shape
    assert not result.images.requires_grad
    assert not result.latents.requires_grad
    # measured: |z - z*| <= 0.002 and image MSE <= 3e-8 for all four (from MSE ~0.4 at step 0)
    assert (result.latents - z_star()).norm(dim=1).max() < 0.02
    mse = (result.images - dcgan_targets).square().flatten(1).mean(dim=1)
    assert mse.max() < 1e-6
    assert result.history[0] > 0.3
    np.testing.assert_allclose(result.losses.numpy(), mse.numpy(), rtol=1e-4, atol=1e-9)


def test_the_prior_pulls_z_to_the_typical_shell_and_the_norm_constraint_holds_it(dcgan,
                                                                                dcgan_targets):
    free = invert(dcgan, dcgan_targets, prior_weight=0.0, steps=30, seed=1)
    pulled = invert(dcgan, dcgan_targets, prior_weight=10.0, steps=30, seed=1)
    shell = lambda z: (z.square().mean(dim=1) - 1).abs().mean()  # noqa: E731
    assert shell(pulled.latents) < shell(free.latents)
    sphere = invert(dcgan, dcgan_targets, norm_constraint=True, steps=30, seed=1)
    np.testing.assert_allclose(sphere.latents.norm(dim=1).numpy(), math.sqrt(D), rtol=1e-5)


def test_losses_are_the_objective_of_the_returned_latents(dcgan, dcgan_targets):
    weight = 0.5
    result = invert(dcgan, dcgan_targets, prior_weight=weight, steps=20, restarts=2)
    with torch.no_grad():
        images = dcgan(result.latents)
    torch.testing.assert_close(images, result.images)
    prior = (result.latents.square().mean(dim=1) - 1).square()
    expected = image_loss(images, dcgan_targets) + weight * prior
    torch.testing.assert_close(result.losses, expected)


def test_stylegan_in_w_reduces_the_image_error_by_a_large_factor(stylegan):
    with torch.no_grad():
        targets = stylegan(z_star(), noise_mode="const")
    result = invert(stylegan, targets, space="w", prior_weight=0.0, restarts=4, steps=100)
    assert result.latents.shape == (4, stylegan.config.w_dim)
    with torch.no_grad():
        again = stylegan.synthesis(result.latents[:, None].expand(-1, stylegan.num_ws, -1),
                                   noise_mode="const")
    torch.testing.assert_close(again, result.images)
    mse = (result.images - targets).square().flatten(1).mean(dim=1)
    # measured: mean MSE 0.29 at the starts, at most 1.2e-5 after 100 steps (factor ~5e4)
    assert result.history[0] / mse.max() > 1000


def test_stylegan_in_w_plus_has_one_w_per_style_input(stylegan):
    with torch.no_grad():
        targets = stylegan(z_star(), noise_mode="const")
    result = invert(stylegan, targets, space="w+", prior_weight=0.0, restarts=4, steps=60)
    assert result.latents.shape == (4, stylegan.num_ws, stylegan.config.w_dim)
    mse = (result.images - targets).square().flatten(1).mean(dim=1)
    # measured: 0.29 at the starts, mean 0.0036 after 60 steps (factor ~80)
    assert result.history[0] / mse.mean() > 20


def test_stylegan_in_z_uses_the_constant_noise(stylegan):
    with torch.no_grad():
        targets = stylegan(z_star(2), noise_mode="const")
    result = invert(stylegan, targets, steps=5)
    with torch.no_grad():
        again = stylegan(result.latents, noise_mode="const")
    torch.testing.assert_close(again, result.images)


def test_perceptual_losses_reduce_the_feature_distance(dcgan, dcgan_targets):
    net = TinyFeatures()
    for loss in ("perceptual", "pixel+perceptual"):
        result = invert(dcgan, dcgan_targets, loss=loss, feature_net=net, prior_weight=0.0,
                        steps=40)
        assert result.history[-1] < 0.2 * result.history[0]
    assert all(p.requires_grad for p in net.parameters())


def test_a_conditional_generator_gets_the_labels():
    torch.manual_seed(0)
    g = ConditionalGenerator(ConditionalGANConfig(image_size=16, channels=1, latent_dim=D,
                                                  width=8, num_classes=3)).eval()
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        targets = g(z_star(2), labels)
    result = invert(g, targets, labels=labels, steps=10)
    with torch.no_grad():
        torch.testing.assert_close(g(result.latents, labels), result.images)
    with pytest.raises(ValueError, match="labels are required"):
        invert(g, targets, steps=1)


# --------------------------------------------------------------------------- the mask


def test_masked_out_pixels_have_no_influence_on_the_loss_or_its_gradient():
    rng = torch.Generator().manual_seed(0)
    images = (torch.rand(3, 1, 16, 16, generator=rng) * 2 - 1).requires_grad_(True)
    target = torch.rand(3, 1, 16, 16, generator=rng) * 2 - 1
    mask = (torch.rand(3, 1, 16, 16, generator=rng) > 0.4).float()
    other = torch.where(mask == 1, target, torch.rand(target.shape, generator=rng) * 2 - 1)
    net = TinyFeatures()
    for loss in ("pixel", "perceptual", "pixel+perceptual"):
        values, grads = [], []
        for t in (target, other):
            value = image_loss(images, t, loss=loss, feature_net=net, mask=mask)
            (grad,) = torch.autograd.grad(value.sum(), images)
            values.append(value)
            grads.append(grad)
        assert torch.equal(values[0], values[1]), loss
        assert torch.equal(grads[0], grads[1]), loss
        assert not torch.equal(values[0], image_loss(images, other, loss=loss,
                                                     feature_net=net)), loss
    # the pixel loss is the mean over the known pixels; a shared (1, 1, H, W) mask broadcasts
    value = image_loss(images, target, mask=mask[:1])
    expected = ((images - target).square() * mask[:1]).flatten(1).sum(1) / mask[0].sum()
    torch.testing.assert_close(value, expected)
    assert image_loss(images, target, mask=torch.zeros(1, 1, 16, 16)).eq(0).all()
    torch.testing.assert_close(image_loss(images, target),
                               (images - target).square().flatten(1).mean(1))


def test_inversion_with_a_mask_ignores_the_target_where_it_is_unknown(dcgan, dcgan_targets):
    mask = torch.ones(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 0
    other = torch.where(mask == 1, dcgan_targets, -dcgan_targets)
    a = invert(dcgan, dcgan_targets, mask=mask, steps=20)
    b = invert(dcgan, other, mask=mask, steps=20)
    assert torch.equal(a.latents, b.latents)
    assert torch.equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.history, b.history)
    c = invert(dcgan, other, steps=20)
    assert not torch.equal(a.latents, c.latents)


# --------------------------------------------------------------------------- restarts, seeds


def test_restarts_keep_the_best_run(dcgan, dcgan_targets):
    # restarts=R draws randn(B, R, D): for B = 1 the same numbers as R copies of the target with
    # one start each, and every run is optimised on its own loss, so the runs are the same
    restarts = 5
    target = dcgan_targets[1:2]
    best = invert(dcgan, target, restarts=restarts, steps=8)
    each = invert(dcgan, target.expand(restarts, -1, -1, -1), restarts=1, steps=8)
    assert each.losses.unique().numel() == restarts  # the runs end in different places
    k = int(each.losses.argmin())
    torch.testing.assert_close(best.losses, each.losses[k:k + 1])
    torch.testing.assert_close(best.latents, each.latents[k:k + 1])
    torch.testing.assert_close(best.images, each.images[k:k + 1])
    assert best.history.shape == (8,)
    np.testing.assert_allclose(best.history, each.history, rtol=1e-6)


def test_the_same_seed_gives_the_same_result_and_another_seed_another(dcgan, dcgan_targets):
    a = invert(dcgan, dcgan_targets, steps=10, restarts=2, seed=3)
    b = invert(dcgan, dcgan_targets, steps=10, restarts=2, seed=3)
    c = invert(dcgan, dcgan_targets, steps=10, restarts=2, seed=4)
    assert torch.equal(a.latents, b.latents)
    assert torch.equal(a.images, b.images)
    assert torch.equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.history, b.history)
    assert not torch.equal(a.latents, c.latents)


def test_the_result_is_frozen_and_its_history_read_only(dcgan, dcgan_targets):
    result = invert(dcgan, dcgan_targets, steps=3, progress=True)
    with pytest.raises(AttributeError):
        result.losses = None
    with pytest.raises(ValueError, match="read-only"):
        result.history[0] = 0.0
    assert result.history.dtype == np.float64
    assert "4 images" in str(result)


# --------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("space", ["z", "w", "w+"])
def test_flags_requires_grad_and_w_avg_are_left_as_they_were(space):
    g = tiny_stylegan()
    g.train()
    g.layers[0].eval()
    g.const.requires_grad_(False)
    g.w_avg.add_(0.25)
    flags = [m.training for m in g.modules()]
    grads = [p.requires_grad for p in g.parameters()]
    w_avg = g.w_avg.clone()
    state = {k: v.clone() for k, v in g.state_dict().items()}
    with torch.no_grad():
        targets = g(z_star(2), noise_mode="const").clamp(-1, 1)
    g.w_avg.copy_(w_avg)  # the call above, in training mode, moved it
    result = invert(g, targets, space=space, steps=3, restarts=2)
    assert [m.training for m in g.modules()] == flags
    assert [p.requires_grad for p in g.parameters()] == grads
    assert all(p.grad is None for p in g.parameters())
    assert torch.equal(g.w_avg, w_avg)
    for k, v in g.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert result.images.shape == targets.shape


def test_batch_norm_runs_in_eval_mode_and_its_statistics_stay(dcgan_targets):
    g = tiny_dcgan().train()
    state = {k: v.clone() for k, v in g.state_dict().items()}
    result = invert(g, dcgan_targets, steps=3)
    assert g.training
    for k, v in g.state_dict().items():
        assert torch.equal(v, state[k]), k
    g.eval()
    with torch.no_grad():
        torch.testing.assert_close(g(result.latents), result.images)


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"space": "x"}, ValueError, "space"),
    ({"loss": "l1"}, ValueError, "loss"),
    ({"loss": "perceptual"}, ValueError, "feature_net"),
    ({"loss": "perceptual", "feature_net": object()}, TypeError, "feature_net"),
    ({"steps": 0}, ValueError, "steps"),
    ({"steps": 2.0}, TypeError, "steps"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"restarts": 0}, ValueError, "restarts"),
    ({"prior_weight": -1.0}, ValueError, "prior_weight"),
    ({"prior_weight": float("nan")}, ValueError, "prior_weight"),
    ({"space": "w"}, TypeError, "generator"),
    ({"space": "w+"}, TypeError, "generator"),
    ({"norm_constraint": 1}, TypeError, "norm_constraint"),
    ({"seed": -1}, ValueError, "seed"),
    ({"progress": "yes"}, TypeError, "progress"),
    ({"labels": torch.zeros(4, dtype=torch.long)}, ValueError, "labels"),
    ({"device": "nowhere"}, ValueError, "device"),
    ({"mask": torch.ones(4, 1, 8, 8)}, ValueError, "mask must"),
    ({"mask": torch.ones(4, 3, 16, 16)}, ValueError, "mask must"),
    ({"mask": torch.full((1, 1, 16, 16), 0.5)}, ValueError, "mask must"),
    ({"mask": np.ones((1, 1, 16, 16))}, TypeError, "mask must"),
])
def test_bad_arguments_are_refused(dcgan, dcgan_targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        invert(dcgan, dcgan_targets, **kwargs)


def test_norm_constraint_needs_space_z(stylegan):
    targets = torch.zeros(1, 1, 16, 16)
    with pytest.raises(ValueError, match="norm_constraint"):
        invert(stylegan, targets, space="w", norm_constraint=True)


@pytest.mark.parametrize(("target", "error", "match"), [
    (np.zeros((2, 1, 16, 16)), TypeError, "target"),
    (torch.zeros(2, 16, 16), ValueError, "target"),
    (torch.zeros(2, 1, 16, 16, dtype=torch.long), ValueError, "target"),
    (torch.zeros(2, 1, 28, 28), ValueError, r"target must have shape \(B, 1, 16, 16\)"),
    (torch.zeros(2, 3, 16, 16), ValueError, "target must have shape"),
    (torch.zeros(0, 1, 16, 16), ValueError, "target"),
    (torch.full((2, 1, 16, 16), float("nan")), ValueError, "target must be finite"),
    (torch.full((2, 1, 16, 16), 255.0), ValueError, r"target must be images in \[-1, 1\]"),
])
def test_bad_targets_are_refused(dcgan, target, error, match):
    with pytest.raises(error, match=match):
        invert(dcgan, target)


def test_a_generator_without_latent_dim_or_a_config_is_checked():
    with pytest.raises(TypeError, match="generator"):
        invert(nn.Identity(), torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError, match="generator"):
        invert("not a model", torch.zeros(1, 1, 4, 4))

    class Flat(nn.Module):  # no config: the shape comes from one forward pass
        latent_dim = 16

        def forward(self, z):
            return torch.tanh(z).reshape(len(z), 1, 4, 4)

    with pytest.raises(ValueError, match=r"target must have shape \(B, 1, 4, 4\)"):
        invert(Flat(), torch.zeros(1, 1, 4, 5))
    target = torch.tanh(z_star(1).repeat(1, 2)).reshape(1, 1, 4, 4)
    result = invert(Flat(), target, prior_weight=0.0, steps=300)
    assert (result.images - target).abs().max() < 1e-3


def test_image_loss_checks_its_arguments():
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError, match="target"):
        image_loss(x, torch.zeros(2, 1, 4, 5))
    with pytest.raises(ValueError, match="feature_net"):
        image_loss(x, x, loss="perceptual")
    with pytest.raises(ValueError, match="mask must"):
        image_loss(x, x, mask=torch.ones(2, 1, 4, 5))
    with pytest.raises(TypeError, match="images"):
        image_loss(x.numpy(), x)


# --------------------------------------------------------------------------- weights, operator,
# and the adversarial prior


def test_weights_make_a_weighted_mean_and_zero_weight_pixels_have_no_influence():
    rng = torch.Generator().manual_seed(0)
    images = (torch.rand(3, 1, 16, 16, generator=rng) * 2 - 1).requires_grad_(True)
    target = torch.rand(3, 1, 16, 16, generator=rng) * 2 - 1
    weights = torch.rand(3, 1, 16, 16, generator=rng) * (torch.rand(3, 1, 16, 16) > 0.4)
    other = torch.where(weights > 0, target, torch.full_like(target, float("nan")))
    net = TinyFeatures()
    for loss in ("pixel", "pixel_l1", "perceptual", "pixel+perceptual"):
        values, grads = [], []
        for t in (target, other):
            value = image_loss(images, t, loss=loss, feature_net=net, weights=weights)
            (grad,) = torch.autograd.grad(value.sum(), images)
            values.append(value)
            grads.append(grad)
        assert torch.equal(values[0], values[1]), loss
        assert torch.equal(grads[0], grads[1]), loss
    for loss, error in (("pixel", (images - target).square()),
                        ("pixel_l1", (images - target).abs())):
        expected = (error * weights).flatten(1).sum(1) / weights.flatten(1).sum(1)
        torch.testing.assert_close(image_loss(images, target, loss=loss, weights=weights),
                                   expected)
    # 0/1 weights are the mask; all-zero weights give 0
    mask = (weights > 0).float()
    assert torch.equal(image_loss(images, target, weights=mask),
                       image_loss(images, target, mask=mask))
    assert image_loss(images, target, weights=torch.zeros(1, 1, 16, 16)).eq(0).all()


def test_inversion_with_an_operator_fits_the_measurement(dcgan, dcgan_targets):
    def pool(x):
        return torch.nn.functional.avg_pool2d(x, 4)

    low = pool(dcgan_targets)
    result = invert(dcgan, low, operator=pool, prior_weight=0.0, steps=100, restarts=2)
    assert result.images.shape == dcgan_targets.shape
    with torch.no_grad():
        mse = (pool(result.images) - low).square().flatten(1).mean(1)
    torch.testing.assert_close(result.losses, mse)
    # measured: the mean objective falls from 0.028 to 0.0031
    assert result.history[-1] < 0.2 * result.history[0]
    with pytest.raises(ValueError, match=r"target must have shape \(B, 1, 4, 4\) like operator"):
        invert(dcgan, dcgan_targets, operator=pool, steps=1)
    with pytest.raises(TypeError, match="operator must return"):
        invert(dcgan, low, operator=lambda x: x.flatten(1), steps=1)


class _Critic(nn.Module):
    """Logits = 3 * mean pixel: bright images are 'real'."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(3.0))

    def forward(self, x):
        return self.scale * x.flatten(1).mean(1, keepdim=True)


def test_the_adversarial_prior_is_minus_softplus_of_the_logits(dcgan, dcgan_targets):
    critic = _Critic()
    weight = 0.7
    result = invert(dcgan, dcgan_targets, discriminator=critic, adversarial_weight=weight,
                    prior_weight=0.0, steps=10)
    with torch.no_grad():
        logits = critic(result.images)[:, 0]
    expected = image_loss(result.images, dcgan_targets) + weight * torch.log1p(
        -torch.sigmoid(logits))
    torch.testing.assert_close(result.losses, expected, rtol=1e-4, atol=1e-5)
    assert critic.training
    assert critic.scale.requires_grad
    assert critic.scale.grad is None
    # a huge logit stays finite (the softplus form)
    critic.scale.data.fill_(1e4)
    assert torch.isfinite(invert(dcgan, dcgan_targets, discriminator=critic,
                                 adversarial_weight=1.0, steps=2).losses).all()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"weights": torch.ones(4, 1, 8, 8)}, ValueError, "weights must have shape"),
    ({"weights": torch.full((1, 1, 16, 16), -1.0)}, ValueError, "weights must be finite and >= 0"),
    ({"weights": torch.full((1, 1, 16, 16), float("inf"))}, ValueError, "weights must be finite"),
    ({"weights": torch.ones(1, 1, 16, 16, dtype=torch.long)}, TypeError, "weights must be a float"),
    ({"weights": torch.ones(1, 1, 16, 16), "mask": torch.ones(1, 1, 16, 16)}, ValueError,
     "weights and mask"),
    ({"operator": "downsample"}, TypeError, "operator must be callable"),
    ({"adversarial_weight": 0.1}, ValueError, "discriminator is required"),
    ({"adversarial_weight": -0.1, "discriminator": _Critic()}, ValueError, "adversarial_weight"),
    ({"discriminator": "D", "adversarial_weight": 0.1}, TypeError, "discriminator must be"),
    ({"discriminator": lambda x: x, "adversarial_weight": 0.1}, TypeError,
     "discriminator must return one logit"),
])
def test_bad_new_options_are_refused(dcgan, dcgan_targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        invert(dcgan, dcgan_targets, steps=1, **kwargs)
