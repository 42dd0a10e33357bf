"""The training engine: updates, d_steps, history, snapshots, callbacks, resume, NaN guard."""

import dataclasses
import hashlib
import warnings

import pytest
import torch
from datasets_for_tests import PairDataset
from torch.optim.optimizer import register_optimizer_step_post_hook

from gan_lessons import precision as precision_module
from gan_lessons.checkpoints import load_checkpoint
from gan_lessons.models import MLPDiscriminator, MLPGANConfig, build_gan
from gan_lessons.train import (
    BatchStream,
    GANTrainConfig,
    MixedPrecision,
    TrainingDivergedError,
    train_gan,
)

# small networks with dropout on, so that the random generators' states matter
CONFIG = MLPGANConfig.toy(latent_dim=4, hidden=(16, 16), dropout=0.3)


def points(n=256, seed=0):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) * 2


def models(seed=0, config=CONFIG):
    torch.manual_seed(seed)
    return build_gan("mlp", config)


CONFIG_FIELDS = {f.name for f in dataclasses.fields(GANTrainConfig)}


def train(num_steps, data=None, *, gd=None, **kwargs):
    """train_gan on CPU without a progress bar; config fields may be given as keywords."""
    options = {"batch_size": 32, "snapshot_every": 0}
    options.update({k: kwargs.pop(k) for k in list(kwargs) if k in CONFIG_FIELDS})
    g, d = gd or models()
    config = GANTrainConfig(num_steps=num_steps, **options)
    data = points() if data is None else data
    return train_gan(g, d, data, config, device="cpu", progress=False, **kwargs)


def params(model):
    return [p.detach().clone() for p in model.parameters()]


def file_hash(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_few_steps_move_both_models_with_finite_losses():
    g, d = models()
    before_g, before_d = params(g), params(d)
    result = train(5, gd=(g, d))
    assert result.generator is g
    assert result.discriminator is d
    assert result.step == 5
    for before, model in ((before_g, g), (before_d, d)):
        assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(),
                                                         strict=True))
    h = result.history
    assert list(h) == ["step", "loss_d", "loss_g", "d_real", "d_fake"]
    assert h["step"] == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 for v in h.values())
    assert all(isinstance(v, float) and abs(v) < 100 for k in list(h)[1:] for v in h[k])
    assert all(0 <= v <= 1 for v in h["d_real"] + h["d_fake"])
    assert g.training
    assert d.training


@pytest.mark.parametrize("d_steps", [1, 3])
def test_d_steps_discriminator_updates_per_generator_update(d_steps):
    g, d = models()
    counts = {"g": 0, "d": 0}
    g_params = {id(p) for p in g.parameters()}

    def count(optimizer, args, kwargs):
        first = optimizer.param_groups[0]["params"][0]
        counts["g" if id(first) in g_params else "d"] += 1

    handle = register_optimizer_step_post_hook(count)
    try:
        result = train(4, gd=(g, d), d_steps=d_steps, checkpoint_every=0)
    finally:
        handle.remove()
    assert counts == {"g": 4, "d": 4 * d_steps}
    assert len(result.history["loss_d"]) == 4


def test_snapshots_at_the_expected_steps():
    result = train(10, snapshot_every=4, num_snapshot_samples=5)
    assert [s for s, _ in result.snapshots] == [0, 4, 8, 10]
    assert all(x.shape == (5, 2) and x.device.type == "cpu" for _, x in result.snapshots)
    assert not torch.equal(result.snapshots[0][1], result.snapshots[-1][1])
    # the same fixed z every time: the last snapshot is generator(z_fixed) now
    z_fixed = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(result.generator.eval()(z_fixed), result.snapshots[-1][1])
    assert [s for s, _ in train(20, snapshot_every=None).snapshots] == list(range(0, 21, 2))
    assert train(3, snapshot_every=0).snapshots == []


def test_callback_sees_live_state_and_can_stop(tmp_path):
    seen = []

    def callback(state):
        seen.append((state.step, len(state.history["loss_d"]), state.generator is not None))
        return state.step >= 6

    path = tmp_path / "run.pt"
    result = train(20, callback=callback, callback_every=3, checkpoint_path=path)
    assert seen == [(3, 3, True), (6, 6, True)]
    assert result.stopped_early
    assert result.step == 6
    assert len(result.history["step"]) == 6
    assert load_checkpoint(path)["step"] == 6


@pytest.mark.parametrize("wrap", [lambda x: x, PairDataset], ids=["tensor", "dataset"])
def test_resume_continues_exactly(tmp_path, wrap):
    n = 8
    data = wrap(points(100))  # 100 // 32 = 3 batches per epoch: resuming crosses epochs
    straight = train(n, data, snapshot_every=2)

    path = tmp_path / "half.pt"
    first = train(n // 2, data, snapshot_every=2, checkpoint_path=path)
    assert first.step == n // 2
    assert load_checkpoint(path)["rng"]["batches_consumed"] == n // 2
    g, d = models(seed=123)  # fresh, differently initialised models
    resumed = train(n, data, snapshot_every=2, checkpoint_path=path, resume=True, gd=(g, d))

    for a, b in ((straight.generator, g), (straight.discriminator, d)):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)
    assert resumed.history == straight.history
    assert [s for s, _ in resumed.snapshots] == [s for s, _ in straight.snapshots]
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(resumed.snapshots,
                                                           straight.snapshots, strict=True))
    for name in ("generator", "discriminator"):
        sa = straight.optimizers[name].state_dict()["state"]
        sb = resumed.optimizers[name].state_dict()["state"]
        assert all(torch.equal(sa[k]["exp_avg"], sb[k]["exp_avg"]) for k in sa)


def test_resume_of_a_finished_run_returns_without_training(tmp_path):
    path = tmp_path / "done.pt"
    train(3, checkpoint_path=path)
    digest = file_hash(path)
    g, d = models(seed=5)
    result = train(3, checkpoint_path=path, resume=True, gd=(g, d))
    assert result.step == 3
    assert len(result.history["step"]) == 3
    assert file_hash(path) == digest
    with pytest.raises(ValueError, match="past num_steps"):
        train(2, checkpoint_path=path, resume=True)


def test_resume_refuses_a_different_config(tmp_path):
    path = tmp_path / "run.pt"
    train(2, checkpoint_path=path)
    with pytest.raises(ValueError, match="lr_d"):
        train(4, checkpoint_path=path, resume=True, lr_d=1e-3)
    other = build_gan("mlp", MLPGANConfig.toy(latent_dim=4, hidden=(8,), dropout=0.3))
    with pytest.raises(ValueError, match="config"):
        train(4, checkpoint_path=path, resume=True, gd=other)
    with pytest.raises(ValueError, match="checkpoint_path"):
        train(4, resume=True)


class NaNDiscriminator(MLPDiscriminator):
    """Returns NaN logits from the D update of step ``bad_step`` on (3 calls per step)."""

    bad_step = 13

    def forward(self, x):
        self.calls = getattr(self, "calls", 0) + 1
        out = super().forward(x)
        return out * float("nan") if self.calls > 3 * (self.bad_step - 1) else out


def test_nan_guard_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    torch.manual_seed(0)
    g, d = build_gan("mlp", CONFIG)[0], NaNDiscriminator(CONFIG)
    digests = {}

    def callback(state):
        digests[state.step] = file_hash(path)  # runs right after the save at this step

    with pytest.raises(TrainingDivergedError, match="step 13") as info:
        train(20, checkpoint_path=path, checkpoint_every=5, callback=callback,
              callback_every=10, gd=(g, d))
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.step == 13
    assert err.loss == "loss_d"
    assert err.value != err.value
    assert "loss_d" in str(err)
    assert str(path) in str(err)
    assert err.history["step"][-1] == 13
    assert file_hash(path) == digests[10]  # untouched since step 10
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 10
    assert all(torch.isfinite(t).all() for t in ckpt["models"]["discriminator"]["state_dict"]
               .values())


def test_huge_learning_rate_diverges_cleanly(tmp_path):
    """Issue 10, item 5: a blow-up (weights past max_weight) stops training, nothing saved."""
    with pytest.raises(TrainingDivergedError, match="blew up") as info:
        train(40, lr_d=1e6, lr_g=1e6, checkpoint_path=tmp_path / "x.pt")
    assert "no checkpoint was written" in str(info.value)
    assert info.value.checkpoint_step is None
    assert not (tmp_path / "x.pt").exists()
    assert list(tmp_path.iterdir()) == []  # nor a lock file nor a temporary file


def test_a_learning_rate_that_would_overflow_adam_is_refused():
    """Issue 10, item 14: lr 3e38 passed the finite check, then Adam overflowed (traceback)."""
    for name in ("lr_g", "lr_d"):
        with pytest.raises(ValueError, match=name):
            GANTrainConfig(num_steps=1, **{name: 3e38})


def test_data_forms():
    from gan_lessons.data import TensorImageDataset

    images = torch.rand(40, 1, 4, 4) * 2 - 1
    cfg = MLPGANConfig(latent_dim=3, hidden_g=(8,), hidden_d=(8,), data_shape=(1, 4, 4))
    for data in (images, TensorImageDataset(images), PairDataset(images)):
        result = train(2, data, gd=build_gan("mlp", cfg), batch_size=8)
        assert len(result.history["loss_g"]) == 2
    assert BatchStream(TensorImageDataset(images), 8, device="cpu")._tensor is not None
    assert BatchStream(PairDataset(images), 8, device="cpu")._tensor is None


def test_batch_stream_epochs_and_restart():
    data = torch.arange(20.0)[:, None]
    stream = BatchStream(data, 6, device="cpu", seed=1)
    epoch = torch.cat([next(stream) for _ in range(3)]).flatten()
    assert len(set(epoch.tolist())) == 18  # without replacement, last partial batch dropped
    later = [next(stream) for _ in range(4)]
    again = BatchStream(data, 6, device="cpu", seed=1, start=3)
    assert all(torch.equal(a, next(again)) for a in later)
    assert stream.consumed == 7


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"num_steps": -1}, ValueError, "num_steps"),
    ({"num_steps": 10, "batch_size": 0}, ValueError, "batch_size"),
    ({"num_steps": 10, "lr_g": 0.0}, ValueError, "lr_g"),
    ({"num_steps": 10, "lr_d": "fast"}, TypeError, "lr_d"),
    ({"num_steps": 10, "betas": (0.5,)}, ValueError, "betas"),
    ({"num_steps": 10, "betas": (0.5, 1.0)}, ValueError, "betas"),
    ({"num_steps": 10, "d_steps": 0}, ValueError, "d_steps"),
    ({"num_steps": 10, "generator_loss": "wgan-gp"}, ValueError, "generator_loss"),
    ({"num_steps": 10, "gp_weight": -1.0}, ValueError, "gp_weight"),
    ({"num_steps": 10, "r1_gamma": "big"}, TypeError, "r1_gamma"),
    ({"num_steps": 10, "clip_value": 0.0}, ValueError, "clip_value"),
    ({"num_steps": 10, "ema_decay": 1.0}, ValueError, "ema_decay"),
    ({"num_steps": 10, "ema_decay": 0.0}, ValueError, "ema_decay"),
    ({"num_steps": 10, "conditional": 1}, TypeError, "conditional"),
    ({"num_steps": 10, "fused_adam": "no"}, TypeError, "fused_adam"),
    ({"num_steps": 10, "seed": -1}, ValueError, "seed"),
    ({"num_steps": 10, "snapshot_every": -5}, ValueError, "snapshot_every"),
    ({"num_steps": 10, "checkpoint_every": 1.5}, TypeError, "checkpoint_every"),
    ({"num_steps": 10, "amp": 1}, TypeError, "amp"),
    ({"num_steps": 10, "reuse_fakes": "yes"}, TypeError, "reuse_fakes"),
    ({"num_steps": 10, "reuse_fakes": True, "d_steps": 2}, ValueError, "reuse_fakes"),
])
def test_config_validation(kwargs, error, name):
    with pytest.raises(error, match=name):
        GANTrainConfig(**kwargs)


@pytest.mark.parametrize(("reuse_fakes", "forwards_per_step"), [(False, 2), (True, 1)])
def test_reuse_fakes_saves_one_generator_forward(reuse_fakes, forwards_per_step):
    g, d = models()
    calls = []
    g.register_forward_hook(lambda module, args, out: calls.append(out.requires_grad))
    before_g, before_d = params(g), params(d)
    result = train(3, gd=(g, d), reuse_fakes=reuse_fakes)
    assert len(calls) == 3 * forwards_per_step
    assert all(calls) if reuse_fakes else calls == [False, True] * 3  # D's fakes: no graph
    for before, model in ((before_g, g), (before_d, d)):
        assert any(not torch.equal(a, b) for a, b in zip(before, params(model), strict=True))
    assert all(torch.isfinite(torch.tensor(v)).all() for v in result.history.values())


def test_bad_arguments():
    g, d = models()
    config = GANTrainConfig(num_steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        train_gan(g, d, points(10), config, device="cpu", progress=False)
    with pytest.raises(ValueError, match="data has samples of shape"):
        train_gan(g, d, torch.randn(100, 3), config, device="cpu", progress=False)
    with pytest.raises(TypeError, match="data"):
        train_gan(g, d, [[0.0, 1.0]] * 100, config, device="cpu", progress=False)
    with pytest.raises(TypeError, match="data"):
        train_gan(g, d, torch.zeros(100, 2, dtype=torch.long), config, device="cpu",
                  progress=False)
    with pytest.raises(TypeError, match="config"):
        train_gan(g, d, points(), {"num_steps": 1}, device="cpu", progress=False)
    with pytest.raises(TypeError, match="latent_dim"):
        train_gan(torch.nn.Linear(4, 2), d, points(), config, device="cpu", progress=False)


def test_amp_without_support_warns_and_runs_in_float32(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_has_native_bfloat16", lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        precision = MixedPrecision("cpu", enabled=True)
    assert not precision.enabled
    assert any("bfloat16" in str(w.message) for w in caught)
    with precision.autocast():
        assert not torch.is_autocast_enabled("cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not MixedPrecision("meta", enabled=True).enabled
    assert caught


@pytest.mark.skipif(not precision_module.cpu_has_native_bfloat16(),
                    reason="needs a CPU with native bfloat16 (AVX-512 BF16 or AMX)")
def test_amp_on_a_bfloat16_cpu_trains_in_bfloat16():
    precision = MixedPrecision("cpu", enabled=True)
    assert precision.enabled
    assert precision.dtype == torch.bfloat16
    with precision.autocast():
        assert torch.nn.Linear(3, 2)(torch.randn(4, 3)).dtype == torch.bfloat16
    g, d = models()
    before = params(g)
    result = train(4, gd=(g, d), amp=True)
    assert all(p.dtype == torch.float32 for p in g.parameters())  # weights stay float32
    assert any(not torch.equal(a, b) for a, b in zip(before, params(g), strict=True))
    assert all(torch.isfinite(torch.tensor(v)).all() for v in result.history.values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_amp_on_cuda():
    g, d = models()
    result = train_gan(g, d, points(), GANTrainConfig(num_steps=5, batch_size=32, amp=True),
                       device="cuda", progress=False)
    assert all(torch.isfinite(torch.tensor(result.history["loss_d"])))
    assert next(g.parameters()).device.type == "cuda"


def test_channels_last_is_automatic_for_convolutional_models():
    """channels_last=None turns the format on for conv nets only; numbers match the default."""
    from gan_lessons.models import DCGANConfig, build_gan

    images = torch.rand(32, 1, 16, 16) * 2 - 1
    results = {}
    for channels_last in (None, False):
        torch.manual_seed(0)
        generator, discriminator = build_gan("dcgan", DCGANConfig(image_size=16, channels=1,
                                                                  latent_dim=4, width=4))
        config = GANTrainConfig(num_steps=2, batch_size=8, channels_last=channels_last,
                                snapshot_every=0)
        results[channels_last] = train_gan(generator, discriminator, images, config,
                                           device="cpu", progress=False)
    weight = next(results[None].generator.parameters())
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not next(results[False].generator.parameters()).is_contiguous(
        memory_format=torch.channels_last)
    for key in ("loss_d", "loss_g"):
        assert results[None].history[key] == pytest.approx(results[False].history[key], rel=1e-4)
    with pytest.raises(TypeError, match="channels_last"):
        GANTrainConfig(num_steps=1, channels_last=1)
