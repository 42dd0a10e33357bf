"""gan_lessons.check: the reference passes every checker, and each common mistake, written as a
small wrong implementation below, fails with the hint aimed at it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lessons import check, conv, losses, metrics
from gan_lessons.models import autoencoder
from gan_lessons.models.dcgan import DCGANConfig, DCGANGenerator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DC = DCGANConfig(image_size=16, channels=1, latent_dim=4, width=4, max_width=8)


def _passes(result, name: str) -> None:
    assert result, str(result)
    assert str(result).startswith(f"PASSED {name}: ")
    assert result.cases_run == result.total > 0
    assert not result.failures


def _fails(result, name: str, fragment: str) -> None:
    assert not result, str(result)
    assert str(result).startswith(f"FAILED {name}, case ")
    assert fragment in result.hint, str(result)


REFERENCES = [
    (check.conv2d, conv.conv2d),
    (check.conv2d, conv.conv2d_naive),
    (check.conv_transpose2d, conv.conv_transpose2d),
    (check.conv_transpose2d, conv.conv_transpose2d_naive),
    (check.conv2d_output_size, conv.conv2d_output_size),
    (check.conv_transpose2d_output_size, conv.conv_transpose2d_output_size),
    (check.discriminator_loss, losses.discriminator_loss),
    (check.generator_loss_nonsaturating, losses.generator_loss_nonsaturating),
    (check.generator_loss_minimax, losses.generator_loss_minimax),
    (check.kl_standard_normal, losses.kl_standard_normal),
    (check.reparameterize, autoencoder.reparameterize),
    (check.gradient_penalty, losses.gradient_penalty),
    (check.frechet_distance, metrics.frechet_distance),
]


@pytest.mark.parametrize(("checker", "reference"), REFERENCES,
                         ids=[f"{c.__name__}-{r.__name__}" for c, r in REFERENCES])
def test_the_reference_passes(checker, reference):
    _passes(checker(reference), checker.__name__)


def test_the_reference_dcgan_generator_passes_as_instance_and_class():
    generator = DCGANGenerator(DC).train()
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    _passes(check.dcgan_generator(generator, image_size=16, channels=1), "dcgan_generator")
    assert generator.training  # the checks ran on a copy
    assert all(torch.equal(v, before[k]) for k, v in generator.state_dict().items())
    _passes(check.dcgan_generator(DCGANGenerator, z_dim=100, image_size=64, channels=3),
            "dcgan_generator")


# --------------------------------------------------------------------------- conv2d mistakes


def _loop_conv2d_axes_swapped(x, w, b=None, stride=1, padding=0, dilation=1):
    """A loop conv2d that reads w as (C_in, C_out, kH, kW)."""
    if x.ndim == 2:
        return _loop_conv2d_axes_swapped(x[None, None], w[None, None], b, stride, padding,
                                         dilation)[0, 0]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    c_out, (kh, kw) = w.shape[1], w.shape[2:]
    h = (xp.shape[2] - dilation * (kh - 1) - 1) // stride + 1
    wd = (xp.shape[3] - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((x.shape[0], c_out, h, wd))
    for n in range(x.shape[0]):
        for o in range(c_out):
            for i in range(h):
                for j in range(wd):
                    window = xp[n, :, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                                j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
                    y[n, o, i, j] = np.sum(window * w[:, o])
    return y


def _conv2d_with(**changes):
    """The reference conv2d with some arguments changed by ``changes[name](value)``."""
    def wrong(x, w, b=None, stride=1, padding=0, dilation=1):
        args = {"b": b, "stride": stride, "padding": padding, "dilation": dilation}
        for key, change in changes.items():
            args[key] = change(args[key])
        return conv.conv2d(x, w, **args)
    return wrong


def _conv2d_flipped(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv.conv2d(x, w[..., ::-1, ::-1], b, stride, padding, dilation)


def _conv2d_bias_inside(x, w, b=None, stride=1, padding=0, dilation=1):
    y = conv.conv2d(x, w, None, stride, padding, dilation)
    return y if b is None else y + b.reshape(-1, 1, 1) * w[0].size


CONV2D_MISTAKES = [
    (_conv2d_flipped, "flipped"),
    (_conv2d_with(padding=lambda p: 0), "padding ignored"),
    (_conv2d_with(padding=lambda p: p + 1 if p else 0), "padding off by one"),
    (_conv2d_with(stride=lambda s: 1), "stride ignored"),
    (_conv2d_with(dilation=lambda d: 1), "dilation ignored"),
    (_conv2d_with(b=lambda b: None), "bias missing"),
    (_conv2d_bias_inside, "inside the sum"),
    (_loop_conv2d_axes_swapped, "weight axes are swapped"),
]


def test_a_failure_reports_the_case_and_expected_against_got():
    text = str(check.conv2d(_conv2d_with(stride=lambda s: 1)))
    first = text.splitlines()[0]
    assert "stride=2" in first
    assert "expected shape (1, 1, 2, 2), got (1, 1, 3, 3)" in first
    text = str(check.conv2d(_conv2d_flipped))
    assert "FAILED conv2d, case 1 of" in text
    assert "max abs error" in text
    assert "expected[0, 0] =" in text
    assert "got[0, 0] =" in text


# --------------------------------------------------------------------------- conv_transpose2d


def _loop_conv_transpose2d_axes_swapped(x, w, b=None, stride=1, padding=0, output_padding=0,
                                        dilation=1):
    """A stamping loop that reads w as (C_out, C_in, kH, kW)."""
    if x.ndim == 2:
        return _loop_conv_transpose2d_axes_swapped(
            x[None, None], w[None, None], b, stride, padding, output_padding, dilation)[0, 0]
    c_out, (kh, kw) = w.shape[0], w.shape[2:]
    h = (x.shape[2] - 1) * stride + dilation * (kh - 1) + 1 + output_padding
    wd = (x.shape[3] - 1) * stride + dilation * (kw - 1) + 1 + output_padding
    y = np.zeros((x.shape[0], c_out, h, wd))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    for u in range(kh):
                        for v in range(kw):
                            y[n, :, i * stride + u * dilation, j * stride + v * dilation] += \
                                x[n, c, i, j] * w[:, c, u, v]
    return y[:, :, padding:h - padding, padding:wd - padding]


def _convt_with(flip=False, **changes):
    def wrong(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
        args = {"b": b, "stride": stride, "padding": padding, "output_padding": output_padding,
                "dilation": dilation}
        for key, change in changes.items():
            args[key] = change(args[key])
        return conv.conv_transpose2d(x, w[..., ::-1, ::-1] if flip else w, **args)
    return wrong


CONVT_MISTAKES = [
    (_convt_with(flip=True), "kernel is flipped"),
    (_convt_with(padding=lambda p: 0), "padding not cropped"),
    (_convt_with(output_padding=lambda p: 0), "output_padding ignored"),
    (_convt_with(stride=lambda s: 1, output_padding=lambda p: 0), "stride ignored"),
    (_convt_with(b=lambda b: None), "bias missing"),
    (_loop_conv_transpose2d_axes_swapped, "(C_in, C_out, kH, kW)"),
]


# --------------------------------------------------------------------------- output sizes

SIZE_MISTAKES = [
    (lambda n, kernel_size, stride=1, padding=0, dilation=1:
     -(-(n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride) + 1, "floor, not ceil"),
    (lambda n, kernel_size, stride=1, padding=0, dilation=1:
     (n + padding - dilation * (kernel_size - 1) - 1) // stride + 1, "both sides"),
    (lambda n, kernel_size, stride=1, padding=0, dilation=1:
     (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride, "off by one"),
    (lambda n, kernel_size, stride=1, padding=0, dilation=1:
     (n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1, "//"),
    (lambda n, kernel_size, stride=1, padding=0, dilation=1:
     (n + 2 * padding - kernel_size) // stride + 1, "dilation ignored"),
]


TSIZE_MISTAKES = [
    (lambda n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1:
     (n - 1) * stride - padding + dilation * (kernel_size - 1) + output_padding + 1,
     "subtract 2*padding"),
    (lambda n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1:
     n * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1, "n - 1 gaps"),
    (lambda n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1:
     (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding,
     "off by one"),
    (lambda n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1:
     (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1,
     "output_padding ignored"),
]


# --------------------------------------------------------------------------- GAN losses


def _d_naive(d_real, d_fake):
    return -(torch.log(torch.sigmoid(d_real)).mean()
             + torch.log(1 - torch.sigmoid(d_fake)).mean())


def _d_clamped(d_real, d_fake):
    eps = 1e-7
    p_real, p_fake = torch.sigmoid(d_real).clamp(eps, 1 - eps), torch.sigmoid(d_fake).clamp(
        eps, 1 - eps)
    return -(torch.log(p_real).mean() + torch.log(1 - p_fake).mean())


D_MISTAKES = [
    (lambda r, f: -losses.discriminator_loss(r, f), "sign flipped"),
    (_d_naive, "unstably"),
    (_d_clamped, "large ones"),
    (lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), "summed"),
    (lambda r, f: F.binary_cross_entropy_with_logits(torch.sigmoid(r), torch.ones_like(r))
     + F.binary_cross_entropy_with_logits(torch.sigmoid(f), torch.zeros_like(f)),
     "sigmoid(logits)"),
    (lambda r, f: F.binary_cross_entropy(r, torch.ones_like(r))
     + F.binary_cross_entropy(f, torch.zeros_like(f)), "expects probabilities"),
    (lambda r, f: losses.discriminator_loss(r, f).item(), "not a number"),
    (lambda r, f: F.softplus(-r) + F.softplus(f), "average over the batch"),
    (lambda r, f: losses.discriminator_loss(r.detach(), f), ".detach()"),
]


G_MISTAKES = [
    (check.generator_loss_nonsaturating, losses.generator_loss_minimax, "minimax"),
    (check.generator_loss_nonsaturating, lambda f: -torch.log(torch.sigmoid(f)).mean(),
     "unstably"),
    (check.generator_loss_nonsaturating, lambda f: -losses.generator_loss_nonsaturating(f),
     "sign flipped"),
    (check.generator_loss_nonsaturating, lambda f: F.softplus(-f).sum(), "summed"),
    (check.generator_loss_minimax, losses.generator_loss_nonsaturating, "non-saturating"),
    (check.generator_loss_minimax, lambda f: torch.log(1 - torch.sigmoid(f)).mean(),
     "unstably"),
    (check.generator_loss_minimax, lambda f: -losses.generator_loss_minimax(f), "sign flipped"),
    (check.generator_loss_minimax, lambda f: losses.generator_loss_minimax(torch.sigmoid(f)),
     "sigmoid(logits)"),
]


# --------------------------------------------------------------------------- VAE


def _kl_terms(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


KL_MISTAKES = [
    (lambda mu, lv: _kl_terms(mu, lv).mean(), "averaged over"),
    (lambda mu, lv: _kl_terms(mu, lv).mean(1).mean(), "averaged over the latent dimensions"),
    (lambda mu, lv: (-0.5 * (1 + lv - mu.pow(2) - (0.5 * lv).exp())).sum(1).mean(), "sigma"),
    (lambda mu, lv: (-0.5 * (1 + 2 * lv - mu.pow(2) - (2 * lv).exp())).sum(1).mean(),
     "log sigma"),
    (lambda mu, lv: 2 * _kl_terms(mu, lv).sum(1).mean(), "0.5 is missing"),
]


def _seeded(mu, logvar):
    torch.manual_seed(0)
    return autoencoder.reparameterize(mu, logvar)


REPARAM_MISTAKES = [
    (lambda mu, lv: mu + torch.exp(lv) * torch.randn_like(mu), "exp(logvar) is the variance"),
    (lambda mu, lv: mu + 0 * lv, "no noise"),
    (lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv)), "torch.normal"),
    (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach(), ".detach()"),
    (_seeded, "same z"),
    (lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape[1]), "not (latent_dim,)"),
    (lambda mu, lv: torch.exp(0.5 * lv) * torch.randn_like(mu), "mu is not added"),
]


# --------------------------------------------------------------------------- gradient penalty


def _gp(critic, x_real, x_fake, *, per_pixel=False, randn=False, create_graph=True,
        norm="sample", minus_one=True, square=True):
    """A gradient penalty with switchable mistakes."""
    shape = x_real.shape if per_pixel else (x_real.shape[0],) + (1,) * (x_real.ndim - 1)
    eps = torch.randn(shape) if randn else torch.rand(shape)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores, x_hat, torch.ones_like(scores),
                                  create_graph=create_graph)
    if norm == "batch":
        g = grad.norm()
    elif norm == "dim1":
        g = grad.norm(dim=1)
    else:
        g = grad.flatten(1).norm(dim=1)
    g = g - 1 if minus_one else g
    return (g.pow(2) if square else g.abs()).mean()


GP_MISTAKES = [
    ({"norm": "batch"}, "whole batch"),
    ({"norm": "dim1"}, "dim=1"),
    ({"create_graph": False}, "create_graph=True"),
    ({"minus_one": False}, "-1 is missing"),
    ({"square": False}, "square is missing"),
    ({"per_pixel": True}, "one epsilon per sample"),
    ({"randn": True}, "torch.rand"),
]


def test_a_correct_gradient_penalty_written_differently_passes():
    _passes(check.gradient_penalty(_gp), "gradient_penalty")


# --------------------------------------------------------------------------- FID


def _fid(x, y, *, trace=True, elementwise=False, squared=True, rowvar=False):
    from scipy import linalg

    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=rowvar), np.cov(y, rowvar=rowvar)
    cross = np.sqrt(s1 * s2) if elementwise else linalg.sqrtm(s1 @ s2).real
    mean = ((m1 - m2) ** 2).sum()
    mean = mean if squared else np.sqrt(mean)
    return float(mean + (np.trace(s1 + s2 - 2 * cross) if trace else 0.0))


def test_a_scipy_sqrtm_fid_passes():
    _passes(check.frechet_distance(_fid), "frechet_distance")


FID_MISTAKES = [
    ({"trace": False}, "trace term"),
    ({"elementwise": True}, "elementwise"),
    ({"squared": False}, "squared norm"),
    ({"rowvar": True}, "rowvar=False"),
]


def test_np_cov_rows_fails_with_its_hint_when_n_differs_from_m():
    def wrong(x, y):
        if len(x) == len(y):
            return metrics.frechet_distance(x, y)
        return _fid(x, y, rowvar=True)
    result = check.frechet_distance(wrong)
    _fails(result, "frechet_distance", "rowvar=False")
    assert "raised ValueError" in str(result)


# --------------------------------------------------------------------------- DCGAN generator


class _Generator(nn.Module):
    """A tiny DCGAN-like generator, with switchable mistakes."""

    def __init__(self, final=nn.Tanh, last_kernel=4, flat_z=True, mix=False, norm=None,
                 linear=False):
        super().__init__()
        self.latent_dim, self.flat_z, self.mix = 4, flat_z, mix
        first = [nn.Flatten(), nn.Linear(4, 128), nn.BatchNorm1d(128, track_running_stats=False),
                 nn.Unflatten(1, (8, 4, 4))] if linear else [nn.ConvTranspose2d(4, 8, 4, 1, 0),
                                                             norm or nn.BatchNorm2d(8)]
        self.net = nn.Sequential(
            *first, nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.ConvTranspose2d(4, 1, last_kernel, 2, 1), final())

    def forward(self, z):
        if self.flat_z:
            z = z[:, :, None, None]
        elif z.ndim != 4:
            raise ValueError("z must be (B, 4, 1, 1)")
        if self.mix:
            z = z.roll(1, dims=0) + z
        return self.net(z)


DCGAN_MISTAKES = [
    ({"last_kernel": 3}, "kernel 4"),
    ({"final": nn.Identity}, "tanh"),
    ({"final": nn.Sigmoid}, "not sigmoid"),
    ({"flat_z": False}, "(B, 4, 1, 1)"),
    ({"mix": True}, "depend on z[i] only"),
    ({"norm": nn.BatchNorm2d(8, track_running_stats=False)}, "track_running_stats=False"),
    ({"linear": True}, "one sample must work"),
]


def test_the_tiny_generator_passes():
    _passes(_dcgan_16(_Generator()), "dcgan_generator")


def _gp_with(**mistake):
    return lambda critic, x_real, x_fake: _gp(critic, x_real, x_fake, **mistake)


def _fid_with(**mistake):
    return lambda x, y: _fid(x, y, **mistake)


def _dcgan_16(generator):
    return check.dcgan_generator(generator, image_size=16, channels=1)


MISTAKES = (
    [(check.conv2d, wrong, hint) for wrong, hint in CONV2D_MISTAKES]
    + [(check.conv_transpose2d, wrong, hint) for wrong, hint in CONVT_MISTAKES]
    + [(check.conv2d_output_size, wrong, hint) for wrong, hint in SIZE_MISTAKES]
    + [(check.conv_transpose2d_output_size, wrong, hint) for wrong, hint in TSIZE_MISTAKES]
    + [(check.discriminator_loss, wrong, hint) for wrong, hint in D_MISTAKES]
    + G_MISTAKES
    + [(check.kl_standard_normal, wrong, hint) for wrong, hint in KL_MISTAKES]
    + [(check.reparameterize, wrong, hint) for wrong, hint in REPARAM_MISTAKES]
    + [(check.gradient_penalty, _gp_with(**m), hint) for m, hint in GP_MISTAKES]
    + [(check.frechet_distance, _fid_with(**m), hint) for m, hint in FID_MISTAKES]
    + [(_dcgan_16, _Generator(**m), hint) for m, hint in DCGAN_MISTAKES]
)


def _name(checker) -> str:
    return "dcgan_generator" if checker is _dcgan_16 else checker.__name__


@pytest.mark.parametrize(("checker", "wrong", "fragment"), MISTAKES,
                         ids=[f"{_name(c)}-{hint}" for c, _, hint in MISTAKES])
def test_each_mistake_fails_with_its_hint(checker, wrong, fragment):
    _fails(checker(wrong), _name(checker), fragment)


# --------------------------------------------------------------------------- the API

CHECKERS = [check.conv2d, check.conv_transpose2d, check.conv2d_output_size,
            check.conv_transpose2d_output_size, check.discriminator_loss,
            check.generator_loss_nonsaturating, check.generator_loss_minimax,
            check.kl_standard_normal, check.reparameterize, check.gradient_penalty,
            check.frechet_distance]


def _not_implemented(*args, **kwargs):
    raise NotImplementedError("write your code here")


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_a_template_fails_as_not_implemented_without_raising(checker):
    result = checker(_not_implemented)
    _fails(result, checker.__name__, "not implemented yet")
    assert result.cases_run == 1
    assert "raised NotImplementedError: write your code here" in str(result)
    with pytest.raises(TypeError, match="fn must be callable"):
        checker(3)


class _Template(nn.Module):
    def forward(self, z):
        raise NotImplementedError


def test_dcgan_generator_template_and_misuse():
    _fails(check.dcgan_generator(_Template(), z_dim=4), "dcgan_generator", "not implemented")
    with pytest.raises(TypeError, match=r"generator_or_class must be an nn\.Module"):
        check.dcgan_generator(lambda z: z)
    with pytest.raises(ValueError, match="image_size must be >= 1"):
        check.dcgan_generator(_Generator(), image_size=0)
    with pytest.raises(ValueError, match="z_dim must be given"):
        check.dcgan_generator(nn.Sequential(nn.Tanh()))


def test_raise_if_failed():
    good = check.conv2d(conv.conv2d)
    assert good.raise_if_failed() is good
    bad = check.conv2d(_conv2d_flipped)
    with pytest.raises(AssertionError, match="FAILED conv2d") as info:
        bad.raise_if_failed()
    assert str(info.value) == str(bad)


def test_the_result_renders_as_escaped_html():
    def wrong(d_real, d_fake):
        raise ValueError("<b>oops</b>")
    html = check.discriminator_loss(wrong)._repr_html_()
    assert "FAILED discriminator_loss" in html
    assert "&lt;b&gt;oops&lt;/b&gt;" in html
    assert "<b>oops</b>" not in html
    assert "PASSED conv2d" in check.conv2d(conv.conv2d)._repr_html_()


def test_a_generator_class_whose_constructor_is_a_todo_gets_the_not_implemented_hint():
    class Todo(torch.nn.Module):
        def __init__(self):
            super().__init__()
            raise NotImplementedError

    result = check.dcgan_generator(Todo)
    assert not result
    assert "not implemented yet" in str(result)
