"""A layer-by-layer table of output shapes and parameter counts for any ``nn.Module``."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["layer_shapes", "layer_table"]


def layer_shapes(model: nn.Module, example: torch.Tensor) -> list[tuple[str, str, tuple, int]]:
    """Run ``example`` through ``model`` and record every leaf layer it passes.

    Returns rows ``(name, layer type, output shape, parameter count)`` in call order. The model
    runs in eval mode without gradients; its mode is restored afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(example, torch.Tensor):
        raise TypeError(f"example must be a torch.Tensor, got {type(example).__name__}")
    rows: list[tuple[str, str, tuple, int]] = []
    hooks = []
    for name, layer in model.named_modules():
        if next(layer.children(), None) is None:  # leaf layers only
            def record(module, inputs, output, name=name):
                params = sum(p.numel() for p in module.parameters(recurse=False))
                rows.append((name, type(module).__name__, tuple(output.shape), params))
            hooks.append(layer.register_forward_hook(record))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return rows


def layer_table(model: nn.Module, example: torch.Tensor) -> str:
    """The rows of :func:`layer_shapes` as an aligned text table, with the input and a total."""
    rows = layer_shapes(model, example)  # checks both arguments
    rows = [("input", "", tuple(example.shape), 0), *rows]
    cells = [(n, t, "(" + ", ".join(map(str, s)) + ")", f"{p:,}") for n, t, s, p in rows]
    header = ("layer", "type", "output shape", "params")
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))) for row in cells]
    total = sum(p.numel() for p in model.parameters())
    lines.append(f"total parameters: {total:,}")
    return "\n".join(lines)
