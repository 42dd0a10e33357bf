"""DCGANConfig.d_norm: discriminators (critics) without BatchNorm, and old configs unchanged."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from gan_lessons.checkpoints import load_models, save_checkpoint
from gan_lessons.models import (
    ConditionalGANConfig,
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    build_gan,
    build_model,
)
from gan_lessons.models.dcgan import D_NORMS, dcgan_discriminator_trunk, spectral_normalize
from gan_lessons.pretrained import load_pretrained, pretrained_checkpoint

SMALL = {"image_size": 16, "channels": 1, "latent_dim": 4, "width": 8, "max_width": 16}
LABELS = torch.tensor([0, 2, 1, 2])


def _discriminators(d_norm: str) -> list[tuple[str, nn.Module]]:
    """The DCGAN discriminator and both conditional ones with this ``d_norm``."""
    torch.manual_seed(0)
    found = [("dcgan", DCGANDiscriminator(DCGANConfig(**SMALL, d_norm=d_norm)))]
    for kind in ("concat", "projection"):
        config = ConditionalGANConfig(**SMALL, num_classes=3, discriminator=kind, d_norm=d_norm)
        found.append((kind, build_model("conditional", "discriminator", config)))
    return found


def _first_output(name: str, d: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """D's output for sample 0 in train mode, leaving D's buffers (running statistics, power
    iteration vectors) as they were, so that two calls differ only by the batch."""
    state = {k: v.clone() for k, v in d.state_dict().items()}
    d.train()
    with torch.no_grad():
        out = d(x) if name == "dcgan" else d(x, LABELS)
    d.load_state_dict(state)
    return out[0]


@pytest.mark.parametrize("d_norm", D_NORMS)
def test_only_batch_norm_mixes_the_samples_of_a_batch(d_norm):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 16, 16, generator=g)
    x_other = x.clone()
    x_other[1:] = 3 * torch.randn(3, 1, 16, 16, generator=g) + 1  # only sample 0 is kept
    for name, d in _discriminators(d_norm):
        same = torch.allclose(_first_output(name, d, x), _first_output(name, d, x_other),
                              rtol=1e-5, atol=1e-6)
        assert same == (d_norm != "batch"), name


@pytest.mark.parametrize("d_norm", D_NORMS)
def test_normalisation_layers_of_each_choice(d_norm):
    for name, d in _discriminators(d_norm):
        kinds = {type(m) for m in d.modules()}
        assert (nn.BatchNorm2d in kinds) == (d_norm == "batch"), name
        groups = [m for m in d.modules() if isinstance(m, nn.GroupNorm)]
        assert bool(groups) == (d_norm == "layer"), name
        # "layer": one group = all of (C, H, W) per sample, a scale and a shift per channel
        assert all(m.num_groups == 1 and m.weight.shape == (m.num_channels,) for m in groups)
        # the input layer is never normalised: conv, LeakyReLU, conv, norm, ...
        trunk = d.trunk if name == "projection" else (d.body if name == "concat" else d).net
        assert isinstance(trunk[1], nn.LeakyReLU)
        spectral = [m for m in d.modules()
                    if isinstance(m, nn.Conv2d | nn.Linear | nn.Embedding)
                    and hasattr(m, "parametrizations")]
        weighted = [m for m in d.modules() if isinstance(m, nn.Conv2d | nn.Linear | nn.Embedding)]
        assert len(spectral) == (len(weighted) if d_norm == "spectral" else 0), name


def test_layer_norm_normalises_each_sample_over_channels_and_positions():
    d = DCGANDiscriminator(DCGANConfig(**SMALL, d_norm="layer")).train()
    norm = next(m for m in d.modules() if isinstance(m, nn.GroupNorm))
    with torch.no_grad():
        norm.weight.copy_(torch.linspace(0.5, 2.0, norm.num_channels))
        norm.bias.copy_(torch.linspace(-1.0, 1.0, norm.num_channels))
        h = torch.randn(3, norm.num_channels, 4, 4) * 5 + 2
        mean = h.mean(dim=(1, 2, 3), keepdim=True)
        var = h.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        expected = (h - mean) / torch.sqrt(var + norm.eps)
        expected = expected * norm.weight[:, None, None] + norm.bias[:, None, None]
        torch.testing.assert_close(norm(h), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["dcgan", "concat", "projection"])
def test_spectral_norm_makes_the_largest_singular_value_one(name):
    d = dict(_discriminators("spectral"))[name]
    layers = [m for m in d.modules() if hasattr(m, "parametrizations")]
    raw = [torch.linalg.matrix_norm(m.parametrizations.weight.original.flatten(1), 2)
           for m in layers]
    assert all(abs(s.item() - 1) > 0.05 for s in raw)  # the raw weights are not normalised
    x = torch.randn(4, 1, 16, 16)

    def sigmas() -> list[float]:
        d.eval()  # reading the weights in eval mode runs no power iteration
        with torch.no_grad():
            return [torch.linalg.matrix_norm(m.weight.flatten(1), 2).item() for m in layers]

    before = sigmas()  # after the 15 iterations that spectral_norm runs when it is applied
    d.train()
    with torch.no_grad():
        for _ in range(5):  # each train-mode forward runs one power iteration per weight
            d(x) if name == "dcgan" else d(x, LABELS)
    after = sigmas()
    # power iteration converges slowly when the top two singular values are close, so the
    # estimate is ~1, not 1: within 3 %, and no worse than before the forwards
    assert after == pytest.approx([1.0] * len(layers), abs=0.03)
    assert all(abs(a - 1) <= abs(b - 1) + 1e-6 for a, b in zip(after, before, strict=True))
    for m in layers:  # eq. 8 with the estimate sigma = u^T W v of the stored vectors
        norm = m.parametrizations.weight[0]
        w = m.parametrizations.weight.original
        sigma = norm._u @ w.flatten(1) @ norm._v
        torch.testing.assert_close(m.weight, w / sigma)


def test_spectral_normalize_wraps_each_weight_once():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Linear(2, 3), nn.Embedding(4, 2))
    assert spectral_normalize(net) is net
    spectral_normalize(net)  # a second call changes nothing
    for i in (0, 2, 3):
        assert len(net[i].parametrizations.weight) == 1
    with pytest.raises(TypeError, match=r"module must be an nn\.Module"):
        spectral_normalize("net")


def test_bad_d_norm_is_refused_naming_it():
    with pytest.raises(ValueError, match=re.escape("d_norm must be one of ('batch', 'none'")):
        DCGANConfig(d_norm="group")
    with pytest.raises(TypeError, match="d_norm must be a str"):
        DCGANConfig(d_norm=None)
    with pytest.raises(ValueError, match="d_norm must be one of"):
        ConditionalGANConfig(d_norm="instance")


def test_trunk_takes_extra_input_channels():
    trunk = dcgan_discriminator_trunk(DCGANConfig(**SMALL), in_channels=4)
    assert trunk(torch.randn(2, 4, 16, 16)).shape == (2, 16, 4, 4)
    with pytest.raises(ValueError, match="in_channels must be >= 1"):
        dcgan_discriminator_trunk(DCGANConfig(**SMALL), in_channels=0)
    with pytest.raises(TypeError, match="config must be a DCGANConfig"):
        dcgan_discriminator_trunk(SMALL)


def test_generator_does_not_depend_on_d_norm():
    states = []
    for d_norm in D_NORMS:
        torch.manual_seed(0)
        states.append(DCGANGenerator(DCGANConfig(**SMALL, d_norm=d_norm)).state_dict())
    for state in states[1:]:
        assert list(state) == list(states[0])
        assert all(torch.equal(state[k], states[0][k]) for k in state)


def test_batch_keeps_the_state_dict_keys():
    d = DCGANDiscriminator(DCGANConfig(image_size=32, channels=3, width=8))
    batch_norm = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    expected = ["net.0.weight", "net.2.weight", *(f"net.3.{k}" for k in batch_norm),
                "net.5.weight", *(f"net.6.{k}" for k in batch_norm), "net.8.weight"]
    assert list(d.state_dict()) == expected


def _old_dcgan_discriminator(state: dict[str, torch.Tensor], x: torch.Tensor,
                             slope: float) -> torch.Tensor:
    """The discriminator as it was before d_norm, written out with functional calls (eval
    mode): stride-2 conv + LeakyReLU, then (stride-2 conv, BatchNorm, LeakyReLU)*, last conv."""
    convs = sorted({int(k.split(".")[1]) for k in state if k.endswith("weight")
                    and state[k].ndim == 4})
    h = x
    for index in convs[:-1]:
        h = F.conv2d(h, state[f"net.{index}.weight"], stride=2, padding=1)
        if f"net.{index + 1}.running_mean" in state:
            bn = f"net.{index + 1}"
            h = F.batch_norm(h, state[f"{bn}.running_mean"], state[f"{bn}.running_var"],
                             state[f"{bn}.weight"], state[f"{bn}.bias"], eps=1e-5)
        h = F.leaky_relu(h, slope)
    return F.conv2d(h, state[f"net.{convs[-1]}.weight"]).flatten(1)


def test_bundled_checkpoint_without_d_norm_loads_the_old_model():
    payload = pretrained_checkpoint("dcgan_mnist")
    stored = payload["models"]["discriminator"]
    assert "d_norm" not in stored["config"]  # saved before the field existed
    d = load_pretrained("dcgan_mnist")["discriminator"]
    assert d.config.d_norm == "batch"
    assert list(d.state_dict()) == list(stored["state_dict"])
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        expected = _old_dcgan_discriminator(
            {k: v.float() for k, v in d.state_dict().items()}, x, d.config.leaky_slope)
        torch.testing.assert_close(d(x), expected, rtol=1e-4, atol=1e-4)


def test_old_config_dict_builds_the_same_model():
    config = DCGANConfig(**SMALL)
    old = asdict(config)
    del old["d_norm"]  # as checkpoints stored it before the field existed
    torch.manual_seed(3)
    g_old, d_old = build_gan("dcgan", old)
    torch.manual_seed(3)
    g_new, d_new = build_gan("dcgan", config)
    for a, b in ((g_old, g_new), (d_old, d_new)):
        assert a.config == b.config
        assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


@pytest.mark.parametrize("d_norm", ["layer", "spectral"])
def test_checkpoint_round_trip_of_a_critic(tmp_path, d_norm):
    d = DCGANDiscriminator(DCGANConfig(**SMALL, d_norm=d_norm)).train()
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        d(x)  # one power iteration: the stored vectors are not the initial ones
    path = save_checkpoint(tmp_path / "critic.pt", {"discriminator": d})
    loaded = load_models(path)["discriminator"]
    assert loaded.config.d_norm == d_norm
    with torch.no_grad():
        assert torch.equal(loaded(x), d.eval()(x))
