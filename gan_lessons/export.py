"""Export a generator or a decoder to ONNX, for ONNX Runtime (and onnxruntime-web in the book).

:func:`export_onnx` writes one self-contained ``.onnx`` file (no separate weights file) whose
graph has a dynamic batch dimension ``N``:

- input ``z``: float32 ``(N, latent_dim)``;
- input ``labels``: int64 ``(N,)``, for a conditional generator (class indices; the graph does
  not check their range, the caller must);
- StyleGAN only: ``psi`` float32 ``(1,)``, the truncation ``w_avg + psi (w - w_avg)``;
  ``z_mix`` float32 ``(N, z_dim)``, a second latent; ``crossover`` int64 ``(1,)``: the style
  inputs from ``crossover`` on read ``z_mix``'s (truncated) ``w`` (``crossover = num_ws``: no
  mixing). The noise inputs are the generator's stored ones (``noise_mode="const"``), so the
  output is a function of the inputs;
- output ``images``: float32 ``(N, C, H, W)`` in [-1, 1] (a decoder's ``decode``), or
  ``samples`` ``(N, *shape)`` for a generator of non-image data (the 2-D toys).

:func:`onnx_spec` describes the graph (kind, latent size, image shape, inputs); the same
description is stored in the file's metadata under ``"gan_lessons"``. The export is checked
before the file is written: ONNX Runtime must reproduce PyTorch's output within 1e-4.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._validate import check_bool, check_int
from .latent import check_latent_generator

__all__ = ["DEFAULT_OPSET", "MAX_ERROR", "export_onnx", "onnx_spec"]

#: the ONNX opset written by default (ONNX Runtime 1.2x and onnxruntime-web run it)
DEFAULT_OPSET = 18
#: the largest absolute difference between ONNX Runtime's and PyTorch's outputs that an export
#: may show on its check inputs
MAX_ERROR = 1e-4
_METADATA_KEY = "gan_lessons"


class _Decoder(nn.Module):
    """``z -> model.decode(z)``: an autoencoder's decoder, images in [-1, 1]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z)


class _Conditional(nn.Module):
    """``(z, labels) -> images`` without the label checks (they read the labels' values)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.model._generate(z, labels)


class _StyleGAN(nn.Module):
    """``(z, psi, z_mix, crossover[, labels]) -> images``: truncation and style mixing as
    inputs, constant noise."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def _w(self, z: torch.Tensor, psi: torch.Tensor, labels: torch.Tensor | None):
        w = self.model._map(z, labels)  # (N, w_dim)
        w_avg = self.model.w_avg.to(w.dtype)
        return w_avg + psi * (w - w_avg)

    def forward(self, z: torch.Tensor, psi: torch.Tensor, z_mix: torch.Tensor,
                crossover: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        g = self.model
        w, w_mix = self._w(z, psi, labels), self._w(z_mix, psi, labels)
        layer = torch.arange(g.num_ws, device=z.device)[None, :, None]  # (1, num_ws, 1)
        ws = torch.where(layer >= crossover.view(1, 1, 1), w_mix[:, None], w[:, None])
        return g.synthesis(ws, "const")  # (N, C, S, S)


class _Unconditional(nn.Module):
    """``z -> model(z)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z)


def _kind(model: nn.Module) -> str:
    from .models.conditional import ConditionalGenerator
    from .models.stylegan import StyleGANGenerator

    if isinstance(model, StyleGANGenerator):
        return "stylegan"
    if isinstance(model, ConditionalGenerator):
        return "conditional"
    if callable(getattr(model, "decode", None)):
        return "decoder"
    return "gan"


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module (a generator or an autoencoder), got "
                        f"{type(model).__name__}")
    check_latent_generator(model, name="model")
    return model


def _num_classes(model: nn.Module, kind: str) -> int | None:
    if kind == "conditional":
        return int(model.num_classes)
    if kind == "stylegan":
        return int(model.config.num_classes) or None
    return None


def _example_inputs(spec: dict[str, Any], batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs of every graph input, ``batch`` rows (float32 CPU tensors)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = {"z": torch.randn(batch, spec["latent_dim"], generator=gen)}
    if spec["kind"] == "stylegan":
        inputs["psi"] = torch.tensor([0.7])
        inputs["z_mix"] = torch.randn(batch, spec["latent_dim"], generator=gen)
        inputs["crossover"] = torch.tensor([spec["num_ws"] // 2], dtype=torch.int64)
    if spec["num_classes"]:
        inputs["labels"] = torch.arange(batch, dtype=torch.int64) % spec["num_classes"]
    return inputs


def _graph(model: nn.Module, kind: str) -> nn.Module:
    return {"stylegan": _StyleGAN, "conditional": _Conditional, "decoder": _Decoder,
            "gan": _Unconditional}[kind](model)


def onnx_spec(model: nn.Module) -> dict[str, Any]:
    """What :func:`export_onnx` makes of ``model``.

    Returns:
        dict: ``"kind"`` (``"gan"``, ``"conditional"``, ``"stylegan"`` or ``"decoder"``),
        ``"latent_dim"``, ``"image_shape"`` (``[C, H, W]``, or the sample shape),
        ``"num_classes"`` (or None), ``"num_ws"`` (StyleGAN's style inputs, or None),
        ``"inputs"`` (the input names) and ``"output"`` (``"images"`` or ``"samples"``).
    """
    model = _check_model(model)
    kind = _kind(model)
    spec: dict[str, Any] = {"kind": kind, "latent_dim": int(model.latent_dim),
                            "num_classes": _num_classes(model, kind),
                            "num_ws": int(model.num_ws) if kind == "stylegan" else None}
    inputs = ["z", "psi", "z_mix", "crossover"] if kind == "stylegan" else ["z"]
    spec["inputs"] = inputs + (["labels"] if spec["num_classes"] else [])
    graph = _graph(model, kind)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            example = {k: v.to(_device(model)) for k, v in _example_inputs(spec, 1).items()}
            shape = list(graph(**example).shape[1:])
    finally:
        model.train(was_training)
    spec["image_shape"] = shape
    spec["output"] = "images" if len(shape) == 3 else "samples"
    return spec


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _check_path(path, overwrite: bool) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    path = Path(os.fspath(path)).expanduser()
    if path.suffix != ".onnx":
        raise ValueError(f"path must end in .onnx, got {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"path must be a file path, got the folder {path}")
    if path.exists() and not overwrite:
        raise ValueError(f"path {path} already exists; pass overwrite=True to replace it")
    if not path.parent.is_dir():
        raise ValueError(f"path's folder {path.parent} does not exist")
    return path


def _needs(name: str):
    """The module ``name``, or an ImportError that says how to install the export's extras."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"export_onnx needs {name}: pip install 'gan_lessons[export]' (onnx, "
                          "onnxscript, onnxruntime)") from exc


def _largest_error(file: Path, graph: nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    """max |ONNX Runtime(file) - graph| on ``inputs``."""
    session = _needs("onnxruntime").InferenceSession(str(file), providers=["CPUExecutionProvider"])
    feeds = {i.name: inputs[i.name].numpy() for i in session.get_inputs()}
    (out,) = session.run(None, feeds)
    with torch.no_grad():
        expected = graph(**inputs)
    return float((torch.from_numpy(out) - expected).abs().max())


def _quiet_export(graph: nn.Module, file: Path, inputs: dict[str, torch.Tensor], opset: int,
                  dynamic: dict, output: str) -> None:
    """``torch.onnx.export`` (the dynamo exporter) without its progress lines and its
    warnings about its own internals."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.filterwarnings("ignore", message=r".*LeafSpec", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r"# The axis name", category=UserWarning)
        torch.onnx.export(graph, (), str(file), kwargs=inputs, dynamo=True,
                          external_data=False, opset_version=opset, dynamic_shapes=dynamic,
                          output_names=[output], verbose=False)


def export_onnx(model: nn.Module, path: str | os.PathLike, *, opset: int | None = None,
                overwrite: bool = False) -> Path:
    """Write ``model`` (a generator or an autoencoder's decoder) to ``path`` as ONNX.

    The graph's inputs and output are described in the module docstring; its batch dimension is
    dynamic. ``model`` itself is not changed: a float32 CPU copy in eval mode is exported. The
    file is written whole or not at all, and only after ONNX Runtime has reproduced PyTorch's
    output on random inputs of two batch sizes within :data:`MAX_ERROR`.

    Args:
        model: an ``MLPGenerator``, ``DCGANGenerator``, ``ConditionalGenerator``,
            ``StyleGANGenerator``, an autoencoder (its ``decode`` is exported), or any module
            with an int ``latent_dim`` mapping ``z (N, latent_dim)`` to samples.
        path: the ``.onnx`` file to write.
        opset: the ONNX opset (default :data:`DEFAULT_OPSET`; at least 18).
        overwrite: replace an existing file (without it an existing ``path`` is refused).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        RuntimeError: the exported graph does not reproduce PyTorch's output.
    """
    model = _check_model(model)
    onnx = _needs("onnx")
    opset = DEFAULT_OPSET if opset is None else check_int(opset, "opset", minimum=18)
    path = _check_path(path, check_bool(overwrite, "overwrite"))
    spec = onnx_spec(model)
    copy_ = copy.deepcopy(model).float().cpu().eval()
    graph = _graph(copy_, spec["kind"]).eval()
    inputs = _example_inputs(spec, 2)
    batch = torch.export.Dim("batch")
    dynamic = {name: ({0: batch} if name in ("z", "z_mix", "labels") else None)
               for name in spec["inputs"]}
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as folder:
        tmp = Path(folder) / path.name
        _quiet_export(graph, tmp, inputs, opset, dynamic, spec["output"])
        proto = onnx.load(str(tmp))
        onnx.helper.set_model_props(proto, {_METADATA_KEY: json.dumps(spec)})
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
        for n in (1, 5):  # not the traced size: the batch dimension must really be dynamic
            error = _largest_error(tmp, graph, _example_inputs(spec, n, seed=n))
            if not error <= MAX_ERROR:
                raise RuntimeError(f"the ONNX export of {type(model).__name__} differs from "
                                   f"PyTorch by {error:.3g} (batch {n}), more than "
                                   f"{MAX_ERROR:g}; the file was not written")
        os.replace(tmp, path)
    return path
