"""Input checks shared by the models' ``forward`` methods."""

from __future__ import annotations

import torch
from torch import nn


def model_input(value, name: str, module: nn.Module) -> torch.Tensor:
    """``value`` as a floating tensor in ``module``'s parameter dtype.

    A tensor of another floating dtype (e.g. a float64 ``z`` from numpy for a float32 model) is
    cast to the parameters' dtype, except under autocast, which picks the dtypes itself.
    Anything else raises ``TypeError`` naming ``name`` and the dtype expected.
    """
    param = next(module.parameters(), None)
    want = param.dtype if param is not None and param.is_floating_point() else None
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of {want or 'floats'}, got "
                        f"{type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor ({want or 'float32'}), got "
                        f"dtype {value.dtype}; convert it with .float()")
    if want is not None and value.dtype != want and not torch.is_autocast_enabled(
            value.device.type):
        value = value.to(want)
    return value


def check_config(config, config_class: type):
    """``config``, or a default ``config_class()`` when it is None; TypeError for anything else."""
    if config is None:
        return config_class()
    if not isinstance(config, config_class):
        raise TypeError(f"config must be a {config_class.__name__} or None, got "
                        f"{type(config).__name__} (build a dict with "
                        f"{config_class.__name__}(**fields))")
    return config
