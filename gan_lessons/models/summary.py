"""A layer-by-layer table of output shapes and parameter counts for any ``nn.Module``."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["layer_shapes", "layer_table"]


def layer_shapes(model: nn.Module, example: torch.Tensor) -> list[tuple[str, str, tuple, int]]:
    """Run ``example`` through ``model`` and record every layer it passes that is a leaf or
    holds parameters of its own (e.g. StyleGAN's modulated convolution, whose weight lives
    beside its style layer), so that the rows' parameter counts add up to the model's.

    Returns rows ``(name, layer type, output shape, parameter count)`` in the order the layers
    finish (a container after the layers inside it). The model runs in eval mode without
    gradients; its mode is restored afterwards. A layer that returns something other than a
    tensor (e.g. a tuple) is listed with the shape of its first tensor output.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(example, torch.Tensor):
        raise TypeError(f"example must be a torch.Tensor, got {type(example).__name__}")
    rows: list[tuple[str, str, tuple, int]] = []
    hooks = []
    for name, layer in model.named_modules():
        own = sum(p.numel() for p in layer.parameters(recurse=False))
        if own or next(layer.children(), None) is None:  # leaves and owners of parameters
            def record(module, inputs, output, name=name or "(model)", own=own):
                rows.append((name, type(module).__name__, _shape(output), own))
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


def _shape(output) -> tuple:
    """The shape of a layer's output: of the tensor, or of the first tensor in a tuple/list."""
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, tuple | list):
        for item in output:
            if isinstance(item, torch.Tensor):
                return tuple(item.shape)
    return ()


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
