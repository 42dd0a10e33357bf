"""The GAN step's other games (issue 12): WGAN with clipping, WGAN-GP, hinge, least squares, R1,
the EMA of the generator, conditional GANs, and exact resume for each."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lessons.checkpoints import load_checkpoint, load_models
from gan_lessons.data import TensorImageDataset
from gan_lessons.gan_training import GANStep, GANTrainConfig, make_adam, train_gan, update_ema
from gan_lessons.losses import gradient_penalty, wasserstein_critic_loss
from gan_lessons.models import ConditionalGANConfig, MLPGANConfig, build_gan
from gan_lessons.train import BatchStream

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOY = MLPGANConfig.toy(latent_dim=4, hidden=(16, 16))
COND = ConditionalGANConfig(num_classes=3, image_size=16, channels=1, latent_dim=8, width=4,
                            max_width=8)


def points(n=256):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(0)) * 2


def digits(n=48):
    """Images whose mean brightness encodes their label (0, 1, 2), in [-1, 1]."""
    labels = torch.arange(n) % 3
    images = (labels.float() - 1).view(n, 1, 1, 1).expand(n, 1, 16, 16) * 0.5
    noise = torch.randn(n, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 0.1
    return TensorImageDataset((images + noise).clamp(-1, 1).contiguous(), labels,
                              ["a", "b", "c"])


def toy_models(seed=0):
    torch.manual_seed(seed)
    return build_gan("mlp", TOY)


def run(num_steps, data=None, *, gd=None, family="mlp", **options):
    options = {"batch_size": 32, "snapshot_every": 0, **options}
    if gd is None:
        torch.manual_seed(0)
        gd = build_gan("conditional", COND) if family == "conditional" else toy_models()
    kwargs = {k: options.pop(k) for k in ("checkpoint_path", "resume") if k in options}
    config = GANTrainConfig(num_steps=num_steps, **options)
    return train_gan(*gd, points() if data is None else data, config, device="cpu",
                     progress=False, **kwargs)


GAMES = {
    "wgan-gp": {"generator_loss": "wgan", "gp_weight": 10.0, "d_steps": 5,
                "betas": (0.0, 0.9), "lr_g": 1e-4, "lr_d": 1e-4},
    "wgan-clip": {"generator_loss": "wgan", "clip_value": 0.01, "d_steps": 5},
    "hinge": {"generator_loss": "hinge"},
    "least_squares": {"generator_loss": "least_squares"},
    "ns+r1": {"generator_loss": "non_saturating", "r1_gamma": 1.0},
}


@pytest.mark.parametrize("game", GAMES)
def test_every_game_trains_with_finite_metrics(game):
    result = run(6, **GAMES[game])
    history = result.history
    assert len(history["loss_d"]) == 6
    for key, values in history.items():
        assert all(torch.isfinite(torch.tensor(values))), key
    options = GAMES[game]
    assert ("loss_gp" in history) == (options.get("gp_weight", 0) > 0)
    assert ("loss_r1" in history) == (options.get("r1_gamma", 0) > 0)
    assert ("w_estimate" in history) == (options["generator_loss"] == "wgan")
    if "w_estimate" in history:
        assert history["w_estimate"] == pytest.approx(
            [r - f for r, f in zip(history["d_real"], history["d_fake"], strict=True)])


def test_the_critic_takes_d_steps_batches_per_generator_update():
    g, d = toy_models()
    opt_g, opt_d = make_adam(g.parameters(), 1e-4, (0.0, 0.9)), make_adam(
        d.parameters(), 1e-4, (0.0, 0.9))
    step = GANStep(g, d, opt_g, opt_d, generator_loss="wgan", gp_weight=10.0, d_steps=5)
    assert step.reuse_fakes is False  # one batch of fakes per critic update
    batches = BatchStream(points(), 32, device="cpu")
    step(batches, 1)
    assert batches.consumed == 5


def test_weight_clipping_keeps_every_critic_weight_in_range():
    result = run(3, generator_loss="wgan", clip_value=0.01, d_steps=2, lr_d=0.1)
    weights = torch.cat([p.flatten() for p in result.discriminator.parameters()])
    assert weights.abs().max() <= 0.01
    assert (weights.abs() == 0.01).any()  # lr 0.1 pushed some to the bound


def test_the_first_critic_loss_is_the_wasserstein_loss_plus_lambda_times_the_penalty():
    """Recompute step 1's critic objective by hand from the same random draws."""
    g, d = toy_models()
    x_real = next(BatchStream(points(), 32, device="cpu"))
    torch.manual_seed(5)
    z = torch.randn(32, TOY.latent_dim)
    with torch.no_grad():
        x_fake = g(z)
    expected_loss = wasserstein_critic_loss(d(x_real), d(x_fake))
    expected_gp = gradient_penalty(d, x_real, x_fake)  # the next draw after z: its epsilon
    step = GANStep(g, d, make_adam(g.parameters(), 1e-4, (0.0, 0.9)),
                   make_adam(d.parameters(), 1e-4, (0.0, 0.9)), generator_loss="wgan",
                   gp_weight=10.0, d_steps=1, reuse_fakes=False)
    torch.manual_seed(5)
    metrics = step(BatchStream(points(), 32, device="cpu"), 1)
    assert float(metrics["loss_gp"]) == pytest.approx(expected_gp.item(), rel=1e-5)
    assert float(metrics["loss_d"]) == pytest.approx(
        (expected_loss + 10.0 * expected_gp).item(), rel=1e-5)


def test_update_ema_is_the_moving_average_and_copies_buffers():
    model, ema = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        model.weight.fill_(2.0)
        ema.weight.fill_(1.0)
        model.running_mean.fill_(7.0)
    update_ema(ema, model, 0.9)
    assert torch.allclose(ema.weight, torch.full((3,), 0.9 * 1.0 + 0.1 * 2.0))
    assert torch.equal(ema.running_mean, model.running_mean)
    update_ema(ema, model, 0.999, step=0)  # warm-up: min(0.999, 1 / 10)
    assert torch.allclose(ema.weight, torch.full((3,), 0.1 * 1.1 + 0.9 * 2.0))
    with pytest.raises(ValueError, match="decay"):
        update_ema(ema, model, 1.5)
    with pytest.raises(ValueError, match="copy of model"):
        update_ema(nn.Linear(3, 3), model, 0.9)


def test_the_ema_generator_is_trained_saved_and_differs_from_the_generator(tmp_path):
    path = tmp_path / "ema.pt"
    result = run(8, ema_decay=0.9, checkpoint_path=path)
    ema, g = result.models["generator_ema"], result.generator
    assert not any(p.requires_grad for p in ema.parameters())
    diffs = [float((a - b).detach().abs().max()) for a, b in zip(ema.parameters(), g.parameters(),
                                                          strict=True)]
    assert max(diffs) > 0  # an average of past weights, not the last ones
    loaded = load_models(path)
    assert set(loaded) == {"generator", "discriminator", "generator_ema"}
    z = torch.randn(5, TOY.latent_dim)
    with torch.no_grad():
        assert torch.allclose(loaded["generator_ema"](z), ema.eval()(z), atol=1e-6)


def test_a_conditional_gan_trains_on_labelled_images_and_its_snapshots_cycle_labels():
    result = run(3, digits(), family="conditional", snapshot_every=3, num_snapshot_samples=6,
                 conditional=True, generator_loss="hinge", batch_size=12)
    step, samples = result.snapshots[-1]
    assert step == 3
    assert samples.shape == (6, 1, 16, 16)
    g = result.generator.eval()
    z = torch.randn(6, COND.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # the snapshots used the labels 0, 1, 2, 0, 1, 2
        assert torch.allclose(g(z, labels=torch.arange(6) % 3), samples, atol=1e-5)


def test_conditional_training_needs_labelled_data():
    torch.manual_seed(0)
    g, d = build_gan("conditional", COND)
    images = digits().images
    with pytest.raises(ValueError, match="labels"):
        train_gan(g, d, images, GANTrainConfig(num_steps=1, batch_size=8, conditional=True),
                  device="cpu", progress=False)


@pytest.mark.parametrize("game", ["wgan-gp", "wgan-clip", "hinge+ema", "conditional"])
def test_resuming_is_exact_for_the_new_games(game, tmp_path):
    options = {**GAMES.get(game, {}), "checkpoint_every": 2}
    data, family = points(), "mlp"
    if game == "hinge+ema":
        options.update(generator_loss="hinge", ema_decay=0.8)
    if game == "conditional":
        data, family = digits(), "conditional"
        options.update(conditional=True, generator_loss="least_squares", batch_size=12,
                       r1_gamma=0.5)
    whole = run(4, data, family=family, checkpoint_path=tmp_path / "whole.pt", **options)
    run(2, data, family=family, checkpoint_path=tmp_path / "split.pt", **options)
    split = run(4, data, family=family, checkpoint_path=tmp_path / "split.pt", resume=True,
                **options)
    assert split.history == whole.history
    for name, model in whole.models.items():
        other = split.models[name].state_dict()
        for key, value in model.state_dict().items():
            assert torch.equal(value, other[key]), (name, key)
    assert load_checkpoint(tmp_path / "split.pt")["train_config"] == load_checkpoint(
        tmp_path / "whole.pt")["train_config"]


def test_evaluate_checkpoint_scores_the_ema_generator_and_conditional_ones(tmp_path):
    from gan_lessons import metrics

    path = tmp_path / "ema.pt"
    run(4, ema_decay=0.5, checkpoint_path=path)
    plain = metrics.evaluate_checkpoint(path, "ring", num_samples=200, metrics=["prdc"],
                                        device="cpu", progress=False)
    ema = metrics.evaluate_checkpoint(path, "ring", num_samples=200, metrics=["prdc"],
                                      device="cpu", progress=False, model="generator_ema")
    assert plain.scores != ema.scores  # two different generators were sampled
    with pytest.raises(ValueError, match="model must be one of the checkpoint's models"):
        metrics.evaluate_checkpoint(path, "ring", model="critic", device="cpu")


def test_a_conditional_generator_is_sampled_with_every_class_in_turn():
    from gan_lessons.metrics import _sampler

    torch.manual_seed(0)
    g, _ = build_gan("conditional", COND)
    seen = []
    original = g.forward

    def spy(z, labels):
        seen.append(labels.clone())
        return original(z, labels)

    g.forward = spy
    shape, batches = _sampler(g, 7, None, "cpu")
    assert shape == (1, 16, 16)
    seen.clear()
    assert sum(len(x) for x in batches(3, 0)) == 7
    assert torch.cat(seen).tolist() == [0, 1, 2, 0, 1, 2, 0]
