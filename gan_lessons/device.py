"""Pick the compute device and seed every random number generator."""

from __future__ import annotations

import random

import numpy as np
import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Return ``prefer`` if given, else CUDA, then Apple MPS, then the CPU."""
    if prefer is not None:
        if not isinstance(prefer, str | torch.device):
            raise TypeError(f"prefer must be a str or torch.device, got {type(prefer).__name__}")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (all devices) with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (the legacy global generator is what users call)
    torch.manual_seed(seed)


def first_tensor(module) -> torch.Tensor | None:
    """The first parameter or buffer of ``module`` (an ``nn.Module``), else ``None``."""
    if isinstance(module, torch.nn.Module):
        for tensor in [*module.parameters(), *module.buffers()]:
            return tensor
    return None


def resolve_device(device, model, name: str = "generator") -> torch.device:
    """``device`` as a ``torch.device``, checked against where ``model``'s weights are;
    ``None``: the model's device (the CPU for a model without weights)."""
    first = first_tensor(model)
    if device is None:
        return first.device if first is not None else torch.device("cpu")
    try:
        device = torch.device(device)
    except (TypeError, RuntimeError) as error:
        raise ValueError(f"device must be a torch.device or a device string, got "
                         f"{device!r}") from error
    if first is not None and (first.device.type != device.type or (
            device.index is not None and first.device.index != device.index)):
        raise ValueError(f"device is {device}, but {name} is on {first.device}")
    return device
