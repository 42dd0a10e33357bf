"""The MLP GAN: shapes, the source article's sizes, logits, config validation, the registry."""

import itertools
from dataclasses import FrozenInstanceError, asdict

import pytest
import torch
from torch import nn

from gan_lessons.models import (
    MODEL_FAMILIES,
    MLPDiscriminator,
    MLPGANConfig,
    MLPGenerator,
    build_gan,
    build_model,
    describe_model,
)


def linear_params(widths):
    """Weights and biases of Linear layers widths[0] -> widths[1] -> ... ."""
    return sum(a * b + b for a, b in itertools.pairwise(widths))


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def test_defaults_are_the_articles_mnist_model():
    g, d = MLPGenerator(), MLPDiscriminator()
    # G: 100 -> 256 -> 512 -> 1024 -> 784 (tanh); D: 784 -> 1024 -> 512 -> 256 -> 1
    assert num_params(g) == linear_params([100, 256, 512, 1024, 784]) == 1_486_352
    assert num_params(d) == linear_params([784, 1024, 512, 256, 1]) == 1_460_225
    assert [type(m) for m in g.net] == [nn.Linear, nn.ReLU] * 3 + [nn.Linear, nn.Tanh]
    assert [type(m) for m in d.net][1:4] == [nn.Linear, nn.LeakyReLU, nn.Dropout]
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    assert d.net[2].negative_slope == 0.2
    assert d.net[3].p == 0.3
    assert g.latent_dim == 100
    assert g.config == MLPGANConfig()


def test_shapes_and_tanh_range():
    torch.manual_seed(0)
    g, d = MLPGenerator(), MLPDiscriminator()
    x = g(torch.randn(5, 100))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1
    assert x.max() <= 1
    assert d(x).shape == (5, 1)
    assert d(x.flatten(1)).shape == (5, 1)  # flattened images are accepted too


def test_discriminator_returns_unbounded_logits():
    torch.manual_seed(0)
    d = MLPDiscriminator(MLPGANConfig(dropout=0.0)).eval()
    x = torch.randn(16, 1, 28, 28) * 50
    logits = d(x)
    assert (logits < 0).any() or (logits > 1).any()  # not probabilities
    assert logits.abs().max() > 1


def test_toy_config():
    cfg = MLPGANConfig.toy(latent_dim=8)
    assert cfg.data_shape == (2,)
    assert cfg.output == "linear"
    assert cfg.hidden_g == (128, 128)
    g, d = build_gan("mlp", cfg)
    points = g(torch.randn(7, 8))
    assert points.shape == (7, 2)
    assert d(points).shape == (7, 1)
    assert num_params(g) == linear_params([8, 128, 128, 2])
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())


def test_init_is_deterministic_and_biases_zero():
    torch.manual_seed(3)
    a = MLPGenerator(MLPGANConfig.toy())
    torch.manual_seed(3)
    b = MLPGenerator(MLPGANConfig.toy())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert all((m.bias == 0).all() for m in a.modules() if isinstance(m, nn.Linear))


def test_gradients_flow_to_every_parameter():
    g, d = build_gan("mlp", MLPGANConfig.toy(hidden=(16, 16)))
    d(g(torch.randn(4, 2))).sum().backward()
    for model in (g, d):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_config_is_frozen_and_normalised():
    cfg = MLPGANConfig(hidden_g=[64, 32], data_shape=[3, 8, 8])
    assert cfg.hidden_g == (64, 32)
    assert cfg.data_shape == (3, 8, 8)
    assert cfg.data_dim == 192
    with pytest.raises(FrozenInstanceError):
        cfg.latent_dim = 3
    assert MLPGANConfig(**asdict(cfg)) == cfg


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"latent_dim": 0}, ValueError, "latent_dim"),
    ({"latent_dim": 2.5}, TypeError, "latent_dim"),
    ({"hidden_g": (64, 0)}, ValueError, "hidden_g"),
    ({"hidden_d": "64"}, TypeError, "hidden_d"),
    ({"data_shape": ()}, ValueError, "data_shape"),
    ({"dropout": 1.0}, ValueError, "dropout"),
    ({"dropout": -0.1}, ValueError, "dropout"),
    ({"leaky_slope": 2.0}, ValueError, "leaky_slope"),
    ({"output": "sigmoid"}, ValueError, "output"),
])
def test_config_validation(kwargs, error, name):
    with pytest.raises(error, match=name):
        MLPGANConfig(**kwargs)


def test_bad_inputs_name_the_argument():
    g, d = MLPGenerator(), MLPDiscriminator()
    with pytest.raises(ValueError, match=r"z must have shape \(B, 100\)"):
        g(torch.randn(2, 10))
    with pytest.raises(ValueError, match="x must have shape"):
        d(torch.randn(2, 3, 28, 28))
    with pytest.raises(TypeError, match="config"):
        MLPGenerator({"latent_dim": 3})


def test_registry_rebuilds_from_a_description():
    assert {"generator", "discriminator"} <= set(MODEL_FAMILIES["mlp"].roles)
    g = MLPGenerator(MLPGANConfig.toy(latent_dim=4))
    desc = describe_model(g)
    assert desc == {"family": "mlp", "role": "generator", "config": asdict(g.config)}
    clone = build_model(desc["family"], desc["role"], desc["config"])
    assert isinstance(clone, MLPGenerator)
    assert clone.config == g.config
    assert describe_model(nn.Linear(2, 2)) is None
    with pytest.raises(ValueError, match="family"):
        build_model("stylegan9", "generator")
    with pytest.raises(ValueError, match="role"):
        build_model("mlp", "critic")
    with pytest.raises(ValueError, match="bogus"):
        build_model("mlp", "generator", {"bogus": 1})


def test_a_new_family_registers_without_touching_its_classes(monkeypatch):
    import dataclasses

    from gan_lessons import models

    monkeypatch.setattr(models, "MODEL_FAMILIES", dict(models.MODEL_FAMILIES))
    monkeypatch.setattr(models, "_ROLE_OF", dict(models._ROLE_OF))

    @dataclasses.dataclass(frozen=True)
    class TinyConfig:
        width: int = 3

    class TinyEncoder(nn.Module):
        def __init__(self, config=None):
            super().__init__()
            self.config = config or TinyConfig()
            self.net = nn.Linear(2, self.config.width)

    models.register_family("tiny", TinyConfig, encoder=TinyEncoder)
    enc = build_model("tiny", "encoder", {"width": 5})
    assert enc.net.out_features == 5
    assert describe_model(enc) == {"family": "tiny", "role": "encoder", "config": {"width": 5}}
    with pytest.raises(TypeError, match="config_class"):
        models.register_family("bad", dict, encoder=TinyEncoder)
    with pytest.raises(TypeError, match="role 'encoder'"):
        models.register_family("bad", TinyConfig, encoder=object)
