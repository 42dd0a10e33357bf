"""StyleGAN training (issue 13): the config, lazy R1, style mixing, w_avg, path-length
regularisation, the moving average, exact resume and the NaN guard, on 16 x 16 models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lessons import stylegan_training
from gan_lessons.checkpoints import load_checkpoint
from gan_lessons.data import TensorImageDataset
from gan_lessons.gan_training import GANTrainConfig
from gan_lessons.losses import r1_penalty
from gan_lessons.models import StyleGANConfig, build_gan
from gan_lessons.stylegan_training import StyleGANStep, StyleGANTrainConfig, train_stylegan
from gan_lessons.train import BatchStream, TrainingDivergedError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"image_size": 16, "channels": 1, "z_dim": 8, "w_dim": 8, "width": 4, "max_width": 8}


def images(n=48, labelled=False):
    """Grey 16 x 16 images in [-1, 1] whose brightness encodes a label 0, 1, 2."""
    labels = torch.arange(n) % 3
    x = (labels.float() - 1).view(n, 1, 1, 1).expand(n, 1, 16, 16) * 0.5
    x = (x + 0.2 * torch.randn(n, 1, 16, 16, generator=torch.Generator().manual_seed(1)))
    x = x.clamp(-1, 1).contiguous()
    return TensorImageDataset(x, labels, ["a", "b", "c"]) if labelled else x


def models(seed=0, num_classes=0):
    torch.manual_seed(seed)
    return build_gan("stylegan", StyleGANConfig(**TINY, num_classes=num_classes))


def run(num_steps, *, gd=None, data=None, **options):
    options = {"batch_size": 8, "snapshot_every": 0, **options}
    kwargs = {k: options.pop(k) for k in ("checkpoint_path", "resume") if k in options}
    config = StyleGANTrainConfig(num_steps=num_steps, **options)
    gd = gd or models(num_classes=3 if config.conditional else 0)
    data = data if data is not None else images(labelled=config.conditional)
    return train_stylegan(*gd, data, config, device="cpu", progress=False, **kwargs)


def make_step(gd=None, *, opt=torch.optim.Adam, lr=1e-3, **options):
    g, d = gd or models()
    return StyleGANStep(g, d, opt(g.parameters(), lr=lr), opt(d.parameters(), lr=lr),
                        **options)


# --------------------------------------------------------------------------- config


def test_config_defaults_are_the_cpu_recipe():
    config = StyleGANTrainConfig(num_steps=10)
    assert isinstance(config, GANTrainConfig)
    assert (config.lr_g, config.lr_d, config.betas) == (2e-3, 2e-3, (0.0, 0.99))
    assert (config.r1_gamma, config.r1_interval, config.ema_decay) == (0.1, 16, 0.999)
    assert config.style_mixing_prob == 0.9
    assert (config.pl_weight, config.pl_interval, config.pl_decay, config.pl_batch_shrink) == (
        0.0, 4, 0.01, 2)
    assert (config.generator_loss, config.d_steps, config.reuse_fakes) == (
        "non_saturating", 1, True)
    assert config.channels_last is True  # fit() would not see the functional convolutions
    assert StyleGANTrainConfig(num_steps=1, channels_last=False).channels_last is False
    assert StyleGANTrainConfig(num_steps=1, pl_weight=2).pl_weight == 2.0  # stored as a float


@pytest.mark.parametrize(("field", "value", "error"), [
    ("style_mixing_prob", 1.5, ValueError), ("style_mixing_prob", "0.9", TypeError),
    ("r1_interval", 0, ValueError), ("r1_interval", 2.0, TypeError),
    ("pl_weight", -1.0, ValueError), ("pl_weight", float("nan"), ValueError),
    ("pl_interval", 0, ValueError), ("pl_decay", 2.0, ValueError),
    ("pl_batch_shrink", 0, ValueError), ("r1_gamma", -0.1, ValueError),
    ("generator_loss", "hinge", ValueError), ("d_steps", 5, ValueError),
    ("gp_weight", 10.0, ValueError), ("clip_value", 0.01, ValueError),
])
def test_bad_config_fields_are_named(field, value, error):
    with pytest.raises(error, match=field):
        StyleGANTrainConfig(num_steps=1, **{field: value})


def test_adam_is_corrected_for_the_lazy_regularisers():
    result = run(1, r1_interval=16, lr_d=1.7e-3, lr_g=1e-3)
    d_group = result.optimizers["discriminator"].param_groups[0]
    assert d_group["lr"] == pytest.approx(1.7e-3 * 16 / 17)
    assert d_group["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    g_group = result.optimizers["generator"].param_groups[0]
    assert (g_group["lr"], g_group["betas"]) == (1e-3, (0.0, 0.99))  # pl off: not regularised
    g_group = run(1, pl_weight=2.0, pl_interval=4, lr_g=1e-3).optimizers[
        "generator"].param_groups[0]
    assert g_group["lr"] == pytest.approx(1e-3 * 4 / 5)
    no_r1 = run(1, r1_gamma=0.0, lr_d=1e-3).optimizers["discriminator"].param_groups[0]
    assert no_r1["lr"] == 1e-3


# --------------------------------------------------------------------------- lazy R1


def test_lazy_r1_runs_on_steps_1_1_plus_k_and_is_carried_over(monkeypatch):
    calls = []

    def spy(critic, x_real, **kwargs):
        calls.append(current)
        return r1_penalty(critic, x_real, **kwargs)

    monkeypatch.setattr(stylegan_training, "r1_penalty", spy)
    step = make_step(r1_gamma=1.0, r1_interval=3)
    batches = BatchStream(images(), 8, device="cpu")
    values = []
    for current in range(1, 9):
        values.append(float(step(batches, current)["loss_r1"]))
    assert calls == [1, 4, 7]
    assert values[0] == values[1] == values[2] != values[3] == values[4] == values[5]
    assert values[6] == values[7] != values[5]
    assert "loss_r1" not in make_step()(BatchStream(images(), 8, device="cpu"), 1)  # gamma 0


def test_the_r1_update_is_one_step_on_gamma_times_interval_over_two_times_r1():
    """A linear discriminator D(x) = <a, x> + b has grad_x D = a, so R1 = |a|^2 and the R1
    update with SGD is a <- a - lr * gamma * k / 2 * 2a; the bias does not move."""
    g, _ = models()
    d = nn.Sequential(nn.Flatten(), nn.Linear(256, 1))
    gamma, k, lr = 0.5, 4, 0.1
    step = make_step((g, d), opt=torch.optim.SGD, lr=lr, r1_gamma=gamma, r1_interval=k)
    metrics = step(BatchStream(images(), 8, device="cpu"), 2)  # not due: (2 - 1) % 4 != 0
    assert float(metrics["loss_r1"]) == 0.0  # nothing measured yet in this fresh step
    a, b = d[1].weight.detach().clone(), d[1].bias.detach().clone()
    penalty = step.r1_update()
    assert float(penalty) == pytest.approx(float(a.square().sum()), rel=1e-5)
    torch.testing.assert_close(d[1].weight.detach(), a - lr * gamma * k * a)
    assert torch.equal(d[1].bias.detach(), b)


def test_the_discriminator_loss_does_not_include_r1():
    plain, lazy = run(3, r1_gamma=0.0), run(3, r1_gamma=5.0, r1_interval=2)
    assert plain.history["loss_d"][0] == lazy.history["loss_d"][0]  # R1 comes after D's update
    assert plain.history["loss_d"][1] != lazy.history["loss_d"][1]  # ... and changed D


# --------------------------------------------------------------------------- style mixing


@pytest.mark.parametrize("prob", [0.0, 1.0])
def test_style_mixing_feeds_the_synthesis_two_styles(prob):
    step = make_step(style_mixing_prob=prob, reuse_fakes=False)
    seen = []
    synthesis = step.network.synthesis

    def spy(ws, noise_mode="random", **kwargs):
        seen.append(ws.detach().clone())
        return synthesis(ws, noise_mode, **kwargs)

    step.network.synthesis = spy
    batches = BatchStream(images(), 8, device="cpu")
    for i in range(1, 4):
        step(batches, i)
    assert len(seen) == 6  # one draw for D, one for G per step
    for ws in seen:  # (B, num_ws, w_dim)
        changes = [not torch.equal(ws[:, i], ws[:, i + 1]) for i in range(ws.shape[1] - 1)]
        if prob == 0:
            assert not any(changes)
        else:  # one crossover in [1, num_ws): exactly one place where the style changes
            assert sum(changes) == 1
            assert (ws[:, 0] != ws[:, -1]).any(dim=1).all()


# --------------------------------------------------------------------------- w_avg, EMA


@pytest.mark.parametrize("reuse_fakes", [True, False])
def test_w_avg_moves_once_per_step_in_the_call_that_trains_g(reuse_fakes):
    step = make_step(style_mixing_prob=1.0, reuse_fakes=reuse_fakes, pl_weight=1.0,
                     pl_interval=1)
    g = step.network
    moved, mapping = [], g.mapping

    def spy(z, labels=None, *, update_w_avg=True):
        moved.append(g.training and update_w_avg)  # what moves w_avg
        return mapping(z, labels, update_w_avg=update_w_avg)

    g.mapping = spy
    batches = BatchStream(images(), 8, device="cpu")
    before = g.w_avg.clone()
    step(batches, 1)
    assert sum(moved) == 1  # of 2 (D and G) or 1 (shared) draws, times 2 styles, plus PL
    assert not torch.equal(g.w_avg, before)
    assert sum(not m for m in moved) >= 3  # the second styles and the path-length draws


def test_w_avg_moves_in_training_but_not_in_snapshots_or_sampling():
    quiet = run(4)
    watched = run(4, snapshot_every=1, num_snapshot_samples=5)
    assert len(watched.snapshots) == 5
    assert watched.history == quiet.history
    g, ema = watched.generator, watched.models["generator_ema"]
    assert torch.equal(g.w_avg, quiet.generator.w_avg)
    assert g.w_avg.abs().sum() > 0  # it moved away from its initial zeros
    assert torch.equal(ema.w_avg, g.w_avg)  # the average copies G's buffers
    before = g.w_avg.clone()
    with torch.no_grad():
        g.eval()(torch.randn(4, 8))
    assert torch.equal(g.w_avg, before)


def test_snapshots_use_the_stored_noise_and_the_ema_differs_from_g():
    result = run(3, snapshot_every=3, num_snapshot_samples=6, conditional=True)
    step, samples = result.snapshots[-1]
    assert (step, samples.shape) == (3, (6, 1, 16, 16))
    g = result.generator.eval()
    z = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = g(z, labels=torch.arange(6) % 3, noise_mode="const")
    torch.testing.assert_close(samples, expected)
    ema = result.models["generator_ema"]
    assert not any(p.requires_grad for p in ema.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(ema.parameters(), g.parameters(),
                                                     strict=True))


# --------------------------------------------------------------------------- path length


def test_path_length_penalty_is_finite_and_moves_pl_mean():
    result = run(5, pl_weight=2.0, pl_interval=2, r1_interval=2, checkpoint_path=None)
    losses = result.history["loss_pl"]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[0] == losses[1] != losses[2] == losses[3] != losses[4]
    assert "loss_pl" not in run(2).history

    step = make_step(pl_weight=2.0, pl_interval=1)
    batches = BatchStream(images(), 8, device="cpu")
    means = []
    for i in range(1, 4):
        step(batches, i)
        means.append(float(step.pl_mean))
    assert 0 < means[0] < means[1] < means[2]  # from 0 towards the lengths, 1 % per update
    state = step.state_dict()
    assert float(state["pl_mean"]) == means[-1]


# --------------------------------------------------------------------------- resume, faults


@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "conditional"])
def test_resuming_is_exact(conditional, tmp_path):
    options = {"style_mixing_prob": 0.5, "r1_gamma": 0.5, "r1_interval": 2,
               "pl_weight": 2.0, "pl_interval": 2, "ema_decay": 0.9,
               "conditional": conditional, "checkpoint_every": 3, "snapshot_every": 3,
               "num_snapshot_samples": 4}
    whole = run(6, checkpoint_path=tmp_path / "whole.pt", **options)
    run(3, checkpoint_path=tmp_path / "split.pt", **options)
    split = run(6, checkpoint_path=tmp_path / "split.pt", resume=True, **options)
    assert split.history == whole.history  # step 4 reports the R1 and PL carried from step 3
    assert set(whole.models) == {"generator", "discriminator", "generator_ema"}
    for name, model in whole.models.items():
        other = split.models[name].state_dict()
        for key, value in model.state_dict().items():  # w_avg, noise_const, EMA included
            assert torch.equal(value, other[key]), (name, key)
    assert [s for s, _ in split.snapshots] == [s for s, _ in whole.snapshots]
    for (_, a), (_, b) in zip(split.snapshots, whole.snapshots, strict=True):
        assert torch.equal(a, b)
    saved = {name: load_checkpoint(tmp_path / name) for name in ("whole.pt", "split.pt")}
    states = [payload["extra"]["step_fn"] for payload in saved.values()]
    assert float(states[0]["pl_mean"]) > 0
    assert torch.equal(states[0]["pl_mean"], states[1]["pl_mean"])
    assert saved["split.pt"]["train_config"] == saved["whole.pt"]["train_config"]
    assert saved["split.pt"]["train_config_class"] == "StyleGANTrainConfig"


def test_a_nan_penalty_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = []

    def poisoned(critic, x_real, **kwargs):  # the second R1 (step 3) is NaN
        calls.append(1)
        value = r1_penalty(critic, x_real, **kwargs)
        return value * float("nan") if len(calls) == 2 else value

    monkeypatch.setattr(stylegan_training, "r1_penalty", poisoned)
    path = tmp_path / "run.pt"
    with pytest.raises(TrainingDivergedError, match="step 3") as info:
        run(6, r1_interval=2, checkpoint_path=path, checkpoint_every=2)
    assert (info.value.step, info.value.loss) == (3, "loss_r1")
    assert info.value.checkpoint_step == 2
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 2
    for entry in ckpt["models"].values():
        assert all(torch.isfinite(t).all() for t in entry["state_dict"].values())


def test_bad_arguments_are_named():
    g, d = models()
    config = StyleGANTrainConfig(num_steps=1, batch_size=8)
    with pytest.raises(TypeError, match="config must be a StyleGANTrainConfig"):
        train_stylegan(g, d, images(), GANTrainConfig(num_steps=1))
    with pytest.raises(ValueError, match=r"config\.conditional is True"):
        train_stylegan(g, d, images(labelled=True), StyleGANTrainConfig(num_steps=1,
                                                                        conditional=True))
    with pytest.raises(ValueError, match="the generator expects"):
        train_stylegan(g, d, torch.zeros(8, 3, 16, 16), config)
    with pytest.raises(TypeError, match="generator must be a StyleGANGenerator"):
        make_step((nn.Linear(2, 2), d))
    with pytest.raises(ValueError, match="r1_interval must be >= 1"):
        make_step(r1_interval=0)
    with pytest.raises(TypeError, match="precision must be a MixedPrecision"):
        make_step(precision="cpu")
    with pytest.raises(TypeError, match=r"ema must be an nn\.Module"):
        make_step(ema="g")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("amp", [False, True])
def test_training_runs_on_cuda_with_every_regulariser(amp, tmp_path):
    path = tmp_path / "run.pt"
    result = train_stylegan(*models(), images(), StyleGANTrainConfig(
        num_steps=4, batch_size=8, r1_interval=2, pl_weight=2.0, pl_interval=2, amp=amp,
        snapshot_every=2, num_snapshot_samples=4), device="cuda", progress=False,
        checkpoint_path=path)
    assert next(result.generator.parameters()).is_cuda
    for key, values in result.history.items():
        assert all(torch.isfinite(torch.tensor(values))), key
    assert float(load_checkpoint(path)["extra"]["step_fn"]["pl_mean"]) > 0
