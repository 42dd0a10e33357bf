"""Training pix2pix (Isola et al., 2017): :class:`Pix2PixTrainConfig`, the step
:class:`Pix2PixStep`, :func:`train_pix2pix`, and two makers of paired data.

pix2pix learns a map from an input image ``x`` (an edge map, a greyscale photo) to an output
image ``y`` from *pairs* ``(x, y)``. The generator ``G`` (a U-Net, no noise input) minimises

    ``L_G = BCE(D(x, G(x)), 1) + lambda * |G(x) - y|_1``

and the conditional patch discriminator ``D`` tells real pairs from generated ones, patch by
patch, with the cross-entropy ``L_D = (BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)) / 2`` (the paper
halves it to slow ``D`` down relative to ``G``). The L1 term alone (``adversarial=False``, the
paper's baseline) already gets the colours and shapes roughly right but averages over the
plausible answers, which looks blurry and greyish; the adversarial term pushes each patch
towards something that looks real. ``lambda = 100`` as in the paper.

Every run goes through :func:`gan_lessons.train.fit` (progress bar, atomic checkpoints, exact
resume, NaN guard). The pairs travel as one tensor ``(N, in_channels + out_channels, S, S)``
(the input's channels first), which the step splits again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from ._validate import check_bool, check_float, check_int, check_shard
from .device import get_device
from .gan_training import _frozen, check_adam_settings, make_adam
from .models.pix2pix import LUMA_WEIGHTS, PatchDiscriminator, UNetGenerator
from .precision import MixedPrecision
from .train import TrainConfig, TrainResult, TrainState, fit

__all__ = [
    "LUMA_WEIGHTS",
    "Pix2PixStep",
    "Pix2PixTrainConfig",
    "edges_to_digits_pairs",
    "greyscale_to_colour_pairs",
    "train_pix2pix",
]



# --------------------------------------------------------------------------- paired data


def _check_image_batch(images, name: str, channels: int | None) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(f"{name} must be a floating-point torch.Tensor, got "
                        f"{type(images).__name__ if not isinstance(images, torch.Tensor) else images.dtype}")
    if images.ndim != 4 or (channels is not None and images.shape[1] != channels):
        want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(images.shape)}")
    return images


def greyscale_to_colour_pairs(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Colourisation pairs: ``images (N, 3, H, W)`` -> ``(grey (N, 1, H, W), images)``.

    ``grey`` is the ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``
    (:data:`~gan_lessons.models.pix2pix.LUMA_WEIGHTS`). The weights add up to 1, so the luma of
    images in [-1, 1] is again in [-1, 1] (and equals the luma computed in [0, 1] and mapped to
    [-1, 1]). ``images`` is returned as is.
    """
    images = _check_image_batch(images, "images", 3)
    weights = torch.tensor(LUMA_WEIGHTS, dtype=images.dtype, device=images.device)
    grey = torch.einsum("nchw,c->nhw", images, weights)[:, None]
    return grey.contiguous(), images


_SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def edges_to_digits_pairs(images: torch.Tensor, threshold: float = 1.0
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge-to-image pairs: ``images (N, 1, H, W)`` in [-1, 1] -> ``(edges (N, 1, H, W),
    images)``, ``edges`` 1 on an edge and -1 elsewhere.

    The edge strength is the Sobel magnitude ``sqrt(g_x^2 + g_y^2)`` of the image mapped to
    [0, 1] (kernels ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and its transpose; the border is
    replicated, so the frame of the image is not an edge). A straight black-to-white step gives
    4; a pixel is an edge where the magnitude exceeds ``threshold``, by default 1: a quarter of
    a full step, which keeps the soft rims of MNIST strokes and drops faint noise. A 3 x 3
    Sobel responds on both sides of a step, so the edge of a white square on black is two
    pixels thick: its outermost pixels and the black pixels around them (the square dilated
    minus the square eroded, 3 x 3).
    """
    images = _check_image_batch(images, "images", 1)
    threshold = check_float(threshold, "threshold", 0.0, exclusive_minimum=True)
    kx = torch.tensor(_SOBEL_X, dtype=images.dtype, device=images.device)
    kernels = torch.stack([kx, kx.T])[:, None]  # (2, 1, 3, 3): d/dx, d/dy
    padded = F.pad((images + 1) / 2, (1, 1, 1, 1), mode="replicate")
    grads = F.conv2d(padded, kernels)  # (N, 2, H, W)
    magnitude = grads.square().sum(dim=1, keepdim=True).sqrt()
    edges = torch.where(magnitude > threshold, 1.0, -1.0).to(images.dtype)
    return edges, images


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, kw_only=True)
class Pix2PixTrainConfig(TrainConfig):
    """How to train pix2pix with :func:`train_pix2pix` (keyword-only; see
    :class:`~gan_lessons.train.TrainConfig` for ``num_steps``, ``batch_size``, ``seed``,
    snapshots and checkpoints).

    Its own config rather than a :class:`~gan_lessons.gan_training.GANTrainConfig`: the game
    is fixed (cross-entropy on the patch logits), and most of GANTrainConfig's fields (the
    loss, ``d_steps``, penalties, clipping, EMA, labels) do not apply.

    Attributes:
        lr_g, lr_d: Adam learning rates (2e-4, the paper).
        betas: Adam's ``(beta1, beta2)``, ``(0.5, 0.999)`` as in the paper.
        l1_weight: ``lambda``, the weight of the L1 term in the generator's loss (100).
        adversarial: train against the patch discriminator; ``False``: the L1-only baseline
            (the same generator, trained by the same code on ``lambda * L1`` alone, with no
            discriminator).
        fused_adam: use torch's fused Adam kernel where available (see
            :func:`~gan_lessons.gan_training.make_adam`).

    >>> Pix2PixTrainConfig(num_steps=10).l1_weight
    100.0
    """

    batch_size: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    l1_weight: float = 100.0
    adversarial: bool = True
    fused_adam: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_adam_settings(self)
        object.__setattr__(self, "l1_weight", check_float(self.l1_weight, "l1_weight", 0.0))
        check_bool(self.adversarial, "adversarial")
        check_bool(self.fused_adam, "fused_adam")
        if not self.adversarial and self.l1_weight == 0:
            raise ValueError("l1_weight must be > 0 when adversarial is False (there would be "
                             "nothing to train on)")


# --------------------------------------------------------------------------- the step


class Pix2PixStep:
    """One pix2pix step on a batch of pairs: a discriminator update, then a generator update.

    The batch is one tensor ``(B, in_channels + out_channels, S, S)``, split into the inputs
    ``x`` and targets ``y``. The generator runs once; the discriminator is updated on
    ``(x, y)`` (label 1) and ``(x, G(x).detach())`` (label 0) with
    ``L_D = (BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)) / 2``, averaged over every patch logit; then
    the generator, through the *updated* discriminator (frozen), on
    ``L_G = BCE(D(x, G(x)), 1) + l1_weight * mean |G(x) - y|``. Without a discriminator
    (``opt_d`` None too) only ``l1_weight * L1`` trains the generator.

    Args:
        generator: ``x -> G(x)``, e.g. a :class:`~gan_lessons.models.pix2pix.UNetGenerator`.
        discriminator: ``(x, images) -> logits`` of any shape, e.g. a
            :class:`~gan_lessons.models.pix2pix.PatchDiscriminator`; or ``None``.
        opt_g, opt_d: their optimizers (``opt_d`` None without a discriminator).
        in_channels: channels of ``x`` at the front of each batch.
        l1_weight: ``lambda``.
        precision: a :class:`~gan_lessons.precision.MixedPrecision` (default: none).

    A call returns 0-dim tensors: ``"loss_l1"`` (the unweighted mean absolute error of
    ``G(x)`` before the update, in [-1, 1] units) and, with a discriminator, ``"loss_d"``,
    ``"loss_g"`` (the adversarial term of ``L_G`` alone, unweighted), ``"d_real"`` and
    ``"d_fake"`` (mean ``sigmoid`` of the patch logits on real and generated pairs, before
    the update).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module | None,
                 opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None, *,
                 in_channels: int, l1_weight: float = 100.0,
                 precision: MixedPrecision | None = None) -> None:
        if not callable(generator):
            raise TypeError(f"generator must be callable (a model), got "
                            f"{type(generator).__name__}")
        if discriminator is not None and not callable(discriminator):
            raise TypeError(f"discriminator must be callable (a model) or None, got "
                            f"{type(discriminator).__name__}")
        if not isinstance(opt_g, torch.optim.Optimizer):
            raise TypeError(f"opt_g must be a torch.optim.Optimizer, got {type(opt_g).__name__}")
        if (discriminator is None) != (opt_d is None):
            raise ValueError("opt_d must be given exactly when there is a discriminator")
        if opt_d is not None and not isinstance(opt_d, torch.optim.Optimizer):
            raise TypeError(f"opt_d must be a torch.optim.Optimizer or None, got "
                            f"{type(opt_d).__name__}")
        if precision is not None and not isinstance(precision, MixedPrecision):
            raise TypeError(f"precision must be a MixedPrecision or None, got "
                            f"{type(precision).__name__}")
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.l1_weight = check_float(l1_weight, "l1_weight", 0.0)
        self.precision = precision or MixedPrecision("cpu")
        # what the step calls: the models, or their DDP wrappers in a data-parallel run
        self._g, self._d = generator, discriminator

    def data_parallel(self, wrap: Callable[[nn.Module, str], nn.Module],
                      shard: tuple[int, int]) -> None:
        """Train as process ``shard = (rank, world)`` of a data-parallel run, through
        ``wrap(self.generator, "generator")`` and ``wrap(self.discriminator, "discriminator")``
        (``DistributedDataParallel`` wrappers, which average the gradients over the
        processes)."""
        check_shard(shard)
        self._g = wrap(self.generator, "generator")
        if self.discriminator is not None:
            self._d = wrap(self.discriminator, "discriminator")

    def __call__(self, batches: Iterator, step: int) -> dict[str, torch.Tensor]:
        pairs = next(batches)  # (B, in + out, S, S)
        x, y = pairs[:, :self.in_channels], pairs[:, self.in_channels:]
        amp, metrics = self.precision, {}
        with amp.autocast():
            fake = self._g(x)  # graph kept for G's update
        if self.discriminator is not None:
            with amp.autocast():
                d_real = self._d(x, y)  # (B, 1, P, P) logits
                d_fake = self._d(x, fake.detach())  # D's loss must not reach G
                loss_d = 0.5 * (
                    F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
            self.opt_d.zero_grad(set_to_none=True)
            amp.backward_step(loss_d, self.opt_d, "discriminator")
            metrics = {"loss_d": loss_d.detach(),
                       "d_real": torch.sigmoid(d_real.detach().float()).mean(),
                       "d_fake": torch.sigmoid(d_fake.detach().float()).mean()}
        with (_frozen(self.discriminator) if self.discriminator is not None
              else contextlib.nullcontext()):
            with amp.autocast():
                loss_l1 = (fake.float() - y.float()).abs().mean()
                loss = self.l1_weight * loss_l1
                if self.discriminator is not None:
                    scores = self.discriminator(x, fake)
                    loss_g = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
                    loss = loss + loss_g
                    metrics["loss_g"] = loss_g.detach()
            self.opt_g.zero_grad(set_to_none=True)
            amp.backward_step(loss, self.opt_g, "generator")
        metrics["loss_l1"] = loss_l1.detach()
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"precision": self.precision.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.precision.load_state_dict(state.get("precision", {}))


# --------------------------------------------------------------------------- training


def _pairs(inputs, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets)`` from two tensors, or from a ``TensorDataset(inputs, targets)``
    passed as ``inputs`` (``targets`` None)."""
    if isinstance(inputs, TensorDataset):
        if targets is not None:
            raise ValueError("targets must be None when inputs is a TensorDataset of "
                             "(input, target) pairs")
        if len(inputs.tensors) != 2:
            raise ValueError(f"inputs must be a TensorDataset of two tensors (inputs, "
                             f"targets), got {len(inputs.tensors)}")
        inputs, targets = inputs.tensors
    for value, name in ((inputs, "inputs"), (targets, "targets")):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (N, C, S, S) (or inputs a "
                            f"TensorDataset(inputs, targets)), got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
        if value.ndim != 4:
            raise ValueError(f"{name} must have shape (N, C, S, S), got {tuple(value.shape)}")
    if inputs.shape[0] != targets.shape[0] or inputs.shape[2:] != targets.shape[2:]:
        raise ValueError(f"inputs and targets must be pairs: as many, of the same size, got "
                         f"{tuple(inputs.shape)} and {tuple(targets.shape)}")
    return inputs, targets


def train_pix2pix(generator: nn.Module, discriminator: nn.Module | None, inputs,
                  targets: torch.Tensor | None, config: Pix2PixTrainConfig, *,
                  device: str | torch.device | None = None,
                  checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
                  callback: Callable[[TrainState], Any] | None = None,
                  callback_every: int = 100, progress: bool = True, command: str | None = None,
                  overwrite: bool = False) -> TrainResult:
    """Train pix2pix on pairs ``(inputs, targets)`` in place, with a :class:`Pix2PixStep` in
    :func:`~gan_lessons.train.fit` (checkpoints, exact resume, NaN guard, progress bar).

    Adam optimizers with ``config.lr_g`` / ``lr_d`` and ``config.betas``. Snapshots hold
    ``generator(x_fixed)`` (eval mode: no dropout, BatchNorm's running statistics) for the
    first ``config.num_snapshot_samples`` inputs.

    Args:
        generator: ``(B, in_channels, S, S) -> (B, out_channels, S, S)``, e.g. a
            :class:`~gan_lessons.models.pix2pix.UNetGenerator`.
        discriminator: ``(inputs, images) -> patch logits``, e.g. a
            :class:`~gan_lessons.models.pix2pix.PatchDiscriminator`; needed with
            ``config.adversarial``; without it, may be ``None`` (one passed is left untouched
            and not saved).
        inputs: ``(N, in_channels, S, S)`` in [-1, 1], or a ``TensorDataset(inputs,
            targets)`` (then ``targets`` is None).
        targets: ``(N, out_channels, S, S)`` in [-1, 1].
        config: a :class:`Pix2PixTrainConfig`.
        device, checkpoint_path, resume, callback, callback_every, progress, command, overwrite:
            as in :func:`~gan_lessons.train.fit`.

    Returns:
        A :class:`~gan_lessons.train.TrainResult`; its history has ``loss_l1`` and, with the
        adversarial term, ``loss_d``, ``loss_g``, ``d_real``, ``d_fake`` (see
        :class:`Pix2PixStep`).
    """
    if not isinstance(config, Pix2PixTrainConfig):
        raise TypeError(f"config must be a Pix2PixTrainConfig, got {type(config).__name__}")
    if not isinstance(generator, nn.Module):
        raise TypeError(f"generator must be an nn.Module, got {type(generator).__name__}")
    if config.adversarial and discriminator is None:
        raise ValueError("discriminator must be given when config.adversarial is True (pass "
                         "adversarial=False for the L1-only baseline)")
    if discriminator is not None and not isinstance(discriminator, nn.Module):
        raise TypeError(f"discriminator must be an nn.Module or None, got "
                        f"{type(discriminator).__name__}")
    inputs, targets = _pairs(inputs, targets)
    g_config = getattr(generator, "config", None)
    for owner, model in (("the generator", generator), ("the discriminator", discriminator)):
        cfg = getattr(model, "config", None) if isinstance(
            model, UNetGenerator | PatchDiscriminator) else None
        if cfg is None:
            continue
        for value, name, shape in ((inputs, "inputs", cfg.input_shape),
                                   (targets, "targets", cfg.data_shape)):
            if tuple(value.shape[1:]) != shape:
                raise ValueError(f"{name} have samples of shape {tuple(value.shape[1:])}, but "
                                 f"{owner} expects {shape}")
    in_channels = g_config.in_channels if isinstance(generator, UNetGenerator) else (
        inputs.shape[1])
    device = get_device(device) if device is None else torch.device(device)
    models = {"generator": generator.to(device)}
    optimizers = {"generator": make_adam(generator.parameters(), config.lr_g, config.betas,
                                         config.fused_adam)}
    if config.adversarial:
        models["discriminator"] = discriminator.to(device)
        optimizers["discriminator"] = make_adam(discriminator.parameters(), config.lr_d,
                                                config.betas, config.fused_adam)
    step_fn = Pix2PixStep(generator, models.get("discriminator"), optimizers["generator"],
                          optimizers.get("discriminator"), in_channels=in_channels,
                          l1_weight=config.l1_weight,
                          precision=MixedPrecision(device, config.amp))
    data = torch.cat([inputs, targets.to(inputs.dtype)], dim=1)  # (N, in + out, S, S)
    x_fixed = inputs[:config.num_snapshot_samples].to(device)
    return fit(step_fn, models, optimizers, data, config, device=device,
               checkpoint_path=checkpoint_path, resume=resume,
               snapshot_fn=lambda: generator(x_fixed), callback=callback,
               callback_every=callback_every, progress=progress, desc="pix2pix",
               command=command, overwrite=overwrite, data_range=(-1.0, 1.0))
