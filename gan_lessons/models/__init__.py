"""Model families of the book and a registry that rebuilds a model from its name and config.

Each family is one module with a frozen config dataclass and one ``nn.Module`` per *role*
(``"generator"``, ``"discriminator"``, later ``"encoder"``, ``"decoder"`` ...). A checkpoint
stores ``describe_model(model)`` (family, role and ``asdict(config)``) beside the weights, and
:func:`build_model` turns that description back into a fresh model:

>>> g = build_model("mlp", "generator", {"latent_dim": 8, "data_shape": (2,), "output": "linear"})
>>> describe_model(g)["config"]["latent_dim"]
8

A new family registers itself here with :func:`register_family`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any

from torch import nn

from .autoencoder import (
    ConvAutoencoder,
    ConvAutoencoderConfig,
    ConvVAE,
    MLPAutoencoder,
    MLPAutoencoderConfig,
)
from .conditional import (
    ConcatDiscriminator,
    ConditionalDiscriminator,
    ConditionalGANConfig,
    ConditionalGenerator,
    ProjectionDiscriminator,
)
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGANConfig, MLPGenerator
from .pix2pix import PatchDiscriminator, Pix2PixConfig, UNetGenerator
from .srnet import PixelatedSR, SRNet, SRNetConfig
from .stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator

__all__ = [
    "MODEL_FAMILIES",
    "ConcatDiscriminator",
    "ConditionalDiscriminator",
    "ConditionalGANConfig",
    "ConditionalGenerator",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "ConvVAE",
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
    "MLPDiscriminator",
    "MLPGANConfig",
    "MLPGenerator",
    "ModelFamily",
    "PatchDiscriminator",
    "Pix2PixConfig",
    "PixelatedSR",
    "ProjectionDiscriminator",
    "SRNet",
    "SRNetConfig",
    "StyleGANConfig",
    "StyleGANDiscriminator",
    "StyleGANGenerator",
    "UNetGenerator",
    "build_gan",
    "build_model",
    "describe_model",
    "register_family",
]


@dataclass(frozen=True)
class ModelFamily:
    """A registered family: its config dataclass and the module class of each role."""

    name: str
    config_class: type
    roles: Mapping[str, type[nn.Module]]


MODEL_FAMILIES: dict[str, ModelFamily] = {}
"""Registered families by name, e.g. ``MODEL_FAMILIES["mlp"].roles["generator"]``."""

_ROLE_OF: dict[type, tuple[str, str]] = {}  # model class -> (family, role)


def register_family(name: str, config_class: type, **roles: type[nn.Module]) -> ModelFamily:
    """Register family ``name``: ``config_class`` (a frozen dataclass) and its role classes.

    Each role class must take an instance of ``config_class`` as its only constructor argument
    and keep it as ``self.config``, e.g.
    ``register_family("mlp", MLPGANConfig, generator=MLPGenerator, discriminator=MLPDiscriminator)``.
    Registering a name again replaces the family.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not (isinstance(config_class, type) and is_dataclass(config_class)):
        raise TypeError(f"config_class must be a dataclass, got {config_class!r}")
    if not roles:
        raise ValueError("register_family needs at least one role, e.g. generator=MyGenerator")
    for role, cls in roles.items():
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise TypeError(f"role {role!r} must be an nn.Module subclass, got {cls!r}")
    old = MODEL_FAMILIES.get(name)
    if old is not None:
        for cls in old.roles.values():
            _ROLE_OF.pop(cls, None)
    family = ModelFamily(name, config_class, dict(roles))
    MODEL_FAMILIES[name] = family
    _ROLE_OF.update({cls: (name, role) for role, cls in roles.items()})
    return family


register_family("mlp", MLPGANConfig, generator=MLPGenerator, discriminator=MLPDiscriminator)
register_family("dcgan", DCGANConfig, generator=DCGANGenerator, discriminator=DCGANDiscriminator)
register_family("mlp_ae", MLPAutoencoderConfig, autoencoder=MLPAutoencoder)
register_family("conv_ae", ConvAutoencoderConfig, autoencoder=ConvAutoencoder)
register_family("conv_vae", ConvAutoencoderConfig, autoencoder=ConvVAE)
register_family("conditional", ConditionalGANConfig, generator=ConditionalGenerator,
                discriminator=ConditionalDiscriminator)
# ConditionalDiscriminator(config) builds the kind config.discriminator names; the classes it
# builds describe themselves as the family's discriminator (their config records the kind)
_ROLE_OF.update(dict.fromkeys((ConcatDiscriminator, ProjectionDiscriminator),
                              ("conditional", "discriminator")))
register_family("stylegan", StyleGANConfig, generator=StyleGANGenerator,
                discriminator=StyleGANDiscriminator)
register_family("pix2pix", Pix2PixConfig, generator=UNetGenerator,
                discriminator=PatchDiscriminator)
register_family("srnet", SRNetConfig, generator=SRNet, pixelated=PixelatedSR)


def _family(name: str) -> ModelFamily:
    if not isinstance(name, str):
        raise TypeError(f"family must be a str, got {type(name).__name__}")
    if name not in MODEL_FAMILIES:
        raise ValueError(f"family must be one of {tuple(MODEL_FAMILIES)}, got {name!r}")
    return MODEL_FAMILIES[name]


def _config(family: ModelFamily, config: Any):
    cls = family.config_class
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a {cls.__name__} or a dict of its fields, "
                        f"got {type(config).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"config has fields {unknown} that {cls.__name__} does not know; "
                         f"its fields are {sorted(known)}")
    return cls(**config)


def build_model(family: str, role: str, config: Any = None) -> nn.Module:
    """A new model of ``family`` (e.g. ``"mlp"``) and ``role`` (e.g. ``"generator"``).

    Args:
        family: a key of :data:`MODEL_FAMILIES`.
        role: one of that family's roles.
        config: the family's config dataclass, a dict of its fields (as stored in a checkpoint
            by ``asdict``), or ``None`` for the defaults.
    """
    fam = _family(family)
    if not isinstance(role, str):
        raise TypeError(f"role must be a str, got {type(role).__name__}")
    if role not in fam.roles:
        raise ValueError(f"role must be one of {tuple(fam.roles)} for family {family!r}, "
                         f"got {role!r}")
    return fam.roles[role](_config(fam, config))


def build_gan(family: str = "mlp", config: Any = None) -> tuple[nn.Module, nn.Module]:
    """``(generator, discriminator)`` of ``family`` sharing one ``config`` (see :func:`build_model`)."""
    fam = _family(family)
    cfg = _config(fam, config)
    return build_model(family, "generator", cfg), build_model(family, "discriminator", cfg)


def describe_model(model: nn.Module) -> dict[str, Any] | None:
    """``{"family", "role", "config"}`` (config as a plain dict) for a registered model class,
    or ``None`` for any other module (e.g. a student's own ``nn.Module``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    found = _ROLE_OF.get(type(model))  # exact class: a subclass may differ from its parent
    if found is None:
        return None
    family, role = found
    config = getattr(model, "config", None)
    if not isinstance(config, MODEL_FAMILIES[family].config_class):
        return None
    return {"family": family, "role": role, "config": asdict(config)}
