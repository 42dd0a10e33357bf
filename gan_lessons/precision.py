"""Mixed precision (autocast + loss scaling) that is a no-op off CUDA."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from ._validate import check_bool

__all__ = ["MixedPrecision"]




class MixedPrecision:
    """Autocast and loss scaling for one device; a no-op unless ``enabled`` on CUDA.

    Uses bfloat16 where the GPU supports it (no loss scaling needed), else float16 with one
    ``GradScaler`` per optimizer name. A step function writes::

        with precision.autocast():
            loss = ...
        optimizer.zero_grad(set_to_none=True)
        precision.backward_step(loss, optimizer, "discriminator")
    """

    def __init__(self, device: str | torch.device, enabled: bool = False) -> None:
        device = torch.device(device)
        self.enabled = check_bool(enabled, "enabled") and device.type == "cuda"
        if enabled and not self.enabled:
            warnings.warn(f"amp=True needs a CUDA device; training on {device} in float32",
                          stacklevel=3)
        self.dtype = (torch.bfloat16 if self.enabled and torch.cuda.is_bf16_supported()
                      else torch.float16)
        self._scalers: dict[str, torch.amp.GradScaler] = {}

    def autocast(self) -> contextlib.AbstractContextManager:
        """A context in which forward passes run in reduced precision (if enabled)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)

    def _scaler(self, name: str) -> torch.amp.GradScaler | None:
        if not (self.enabled and self.dtype == torch.float16):
            return None
        if name not in self._scalers:
            self._scalers[name] = torch.amp.GradScaler("cuda")
        return self._scalers[name]

    def backward_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                      name: str) -> None:
        """``loss.backward()`` then ``optimizer.step()``, with loss scaling under float16."""
        scaler = self._scaler(name)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return {name: s.state_dict() for name, s in self._scalers.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, s in state.items():
            scaler = self._scaler(name)
            if scaler is not None:
                scaler.load_state_dict(s)
