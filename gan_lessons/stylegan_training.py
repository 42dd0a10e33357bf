"""Training a StyleGAN: :class:`StyleGANTrainConfig`, the step :class:`StyleGANStep` and
:func:`train_stylegan`.

StyleGAN2 (Karras et al., 2020) trains with the non-saturating loss of the original GAN, so one
step is :class:`~gan_lessons.gan_training.GANStep`'s: one discriminator update on a real batch
and a batch of fakes, then one generator update. What StyleGAN adds lies around that step:

* **Lazy R1.** The discriminator is kept smooth at the real data by the R1 penalty
  ``gamma / 2 * E ||grad_x D(x)||^2`` (Mescheder et al., 2018). Its gradient needs a second
  backward pass through ``D``, about as costly as the update itself, and the penalty changes
  slowly, so StyleGAN2 applies it *lazily*: once every ``k = r1_interval`` steps (16), as an
  update of its own on that step's real batch, with the weight multiplied by ``k``. On
  average the penalty pulls as hard as ``gamma / 2`` every step would, at a sixteenth of the
  cost. Because the discriminator then takes ``k + 1`` optimizer steps per ``k`` batches, its
  Adam runs with ``lr * c`` and ``betas ** c``, ``c = k / (k + 1)`` (NVlabs' correction), so
  that its updates add up as without the extra step.
* **Style mixing.** With probability ``p`` (per batch) a second ``z`` is drawn and, from a
  random crossover index ``c`` in ``[1, num_ws)`` on, the synthesis network reads its ``w``
  instead: ``ws[:, :c]`` from ``z_1``, ``ws[:, c:]`` from ``z_2``. The generator cannot rely on
  neighbouring layers sharing one style, which keeps coarse and fine styles apart (what
  :func:`~gan_lessons.models.stylegan.style_mix` shows at sampling time).
* **The average style** ``w_avg``, the centre of the truncation trick, is a running mean of
  ``w`` that the mapping network updates in training mode. It moves once per step, in the
  generator call whose images train the generator (the call that builds a graph); never in
  the discriminator's no-grad draws, the path-length draws, snapshots (eval mode), sampling
  or the moving-average copy (whose buffers are copied from the generator).
* **Path-length regularisation** (optional, ``pl_weight > 0``). For ``w`` and a random image
  direction ``y ~ N(0, I) / sqrt(H W)``, the length ``||J_w^T y||`` of the gradient of
  ``<g(w), y>`` with respect to ``w`` measures how far the image moves per step in ``W``.
  The penalty ``(||J_w^T y|| - a)^2`` pulls every length towards ``a``, a running mean of the
  lengths (``pl_mean``, decay ``pl_decay``), so that equal steps in ``W`` give equal changes
  in the image. Also lazy: every ``pl_interval`` steps (4), on ``batch_size //
  pl_batch_shrink`` samples, weight times the interval. ``pl_mean`` is saved in checkpoints.
* **A moving average** of the generator's weights (``ema_decay``), the model that is
  evaluated, saved as ``"generator_ema"``.

One call of :class:`StyleGANStep` runs, in order: the discriminator update, the generator
update (both :class:`~gan_lessons.gan_training.GANStep`), the R1 update when due, the
path-length update when due, and the moving average. Snapshots draw the generator with
``noise_mode="const"``, so that they change only as the weights do.

The defaults are for a CPU and small data sets (see :class:`StyleGANTrainConfig`); NVlabs'
``stylegan2-ada-pytorch`` is the reference for everything else.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import distributed
from ._validate import check_float, check_int
from .batches import check_sample_shape
from .device import get_device
from .gan_training import GANStep, GANTrainConfig, _fixed_labels, make_adam, update_ema
from .losses import r1_penalty
from .models.stylegan import StyleGANGenerator
from .precision import MixedPrecision
from .train import TrainResult, TrainState, fit

__all__ = ["StyleGANStep", "StyleGANTrainConfig", "train_stylegan"]


@dataclass(frozen=True, kw_only=True)
class StyleGANTrainConfig(GANTrainConfig):
    """How to train a StyleGAN with :func:`train_stylegan` (keyword-only; see
    :class:`~gan_lessons.gan_training.GANTrainConfig` for the other fields).

    The game is StyleGAN2's: ``generator_loss`` must be ``"non_saturating"``, ``d_steps`` 1,
    and there is no gradient penalty or weight clipping (``gp_weight`` 0, ``clip_value``
    None); other values raise ``ValueError`` naming the field.

    Changed defaults, for CPU runs of a few thousand steps on 28 x 28 and 32 x 32 images:

    * ``lr_g = lr_d = 2e-3`` and ``betas = (0, 0.99)``: StyleGAN2's Adam (NVlabs use 0.0025 at
      batch 64 for CIFAR-10 and 0.002 for most other sets); ``beta1 = 0`` as every StyleGAN.
      Equalized learning rates make these large rates safe (see
      :mod:`gan_lessons.models.stylegan`).
    * ``r1_gamma = 0.1``: NVlabs' CIFAR-10 config uses 0.01 at batch 64, and their automatic
      rule ``0.0002 * resolution**2 / batch_size`` gives 0.003-0.006 here; the 1-10 of their
      256-1024 pixel configs would flatten the discriminator around small images. On MNIST
      (batch 64, 1,500 steps, one seed) 0.01 and 0.1 gave the same quality (FID 38.2 and 37.7,
      2,000 samples, classifier features); 0.1 keeps a margin of smoothing for the large
      learning rate at the same cost (R1 runs every 16 steps either way).
    * ``ema_decay = 0.999``: StyleGAN evaluates the moving average of the generator. With
      :func:`~gan_lessons.gan_training.update_ema`'s warm-up ``min(0.999, (1 + t) / (10 + t))``
      half of the average's weight comes from the last 7 % of the steps done, until about
      9,000 steps (then a half-life of 693 steps), close to NVlabs' ramp-up (a half-life of
      5 % of the images seen so far).
    * ``channels_last``: ``None`` becomes ``True``. :func:`~gan_lessons.train.fit` turns the
      channels-last memory format on only for models with ``nn.Conv2d`` layers, and the
      StyleGAN layers convolve with ``F.conv2d``; channels-last makes a step about 20 %
      faster on a CPU (0.31 instead of 0.39 s for CIFAR-10 at batch 32, one thread).

    Attributes:
        style_mixing_prob: probability that a batch of fakes is drawn with two styles (0.9,
            StyleGAN2's default; NVlabs' CIFAR-10 config uses 0 for a slightly better FID).
            Kept at 0.9: its cost on a CPU is one pass of the small mapping network, and it
            is what makes the coarse/fine style mixing demonstrated with these models
            meaningful.
        r1_interval: apply R1 every this many steps, with its weight multiplied by the
            interval (16, NVlabs); 1: every step (still as an update of its own).
        pl_weight: weight of the path-length penalty; 0 (default, as NVlabs' CIFAR-10
            config): off. StyleGAN2 uses 2 for FFHQ. It costs an extra generator pass with a
            double backward every ``pl_interval`` steps and helps the smoothness of the
            latent space more than the FID of small images.
        pl_interval: apply the path-length penalty every this many steps (4, NVlabs).
        pl_decay: decay of the running mean ``pl_mean`` of the path lengths, ``pl_mean <-
            pl_mean + pl_decay * (mean length - pl_mean)`` (0.01, NVlabs).
        pl_batch_shrink: the path-length batch is ``batch_size // pl_batch_shrink`` samples
            (at least 1) (2, NVlabs).

    >>> StyleGANTrainConfig(num_steps=100).betas
    (0.0, 0.99)
    """

    lr_g: float = 2e-3
    lr_d: float = 2e-3
    betas: tuple[float, float] = (0.0, 0.99)
    r1_gamma: float = 0.1
    ema_decay: float | None = 0.999
    style_mixing_prob: float = 0.9
    r1_interval: int = 16
    pl_weight: float = 0.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator_loss != "non_saturating":
            raise ValueError(f"generator_loss must be 'non_saturating' for StyleGAN training "
                             f"(StyleGAN2's game), got {self.generator_loss!r}")
        if self.d_steps != 1:
            raise ValueError(f"d_steps must be 1 for StyleGAN training (one discriminator "
                             f"update per step; lazy R1 counts steps), got {self.d_steps}")
        if self.gp_weight != 0:
            raise ValueError(f"gp_weight must be 0 for StyleGAN training (it uses R1: "
                             f"r1_gamma), got {self.gp_weight}")
        if self.clip_value is not None:
            raise ValueError(f"clip_value must be None for StyleGAN training, got "
                             f"{self.clip_value}")
        _check_regularisers(self)
        if self.channels_last is None:  # fit() looks for nn.Conv2d; these convolve with F.conv2d
            object.__setattr__(self, "channels_last", True)


_REGULARISERS = {"style_mixing_prob": (check_float, 0.0, 1.0), "r1_interval": (check_int, 1, None),
                 "pl_weight": (check_float, 0.0, None), "pl_interval": (check_int, 1, None),
                 "pl_decay": (check_float, 0.0, 1.0), "pl_batch_shrink": (check_int, 1, None)}


def _check_regularisers(owner) -> None:
    """Check the StyleGAN fields of ``owner`` (a config or a step) and store them checked
    (an int 1 as the float 1.0 where a float is meant)."""
    for name, (check, low, high) in _REGULARISERS.items():
        object.__setattr__(owner, name, check(getattr(owner, name), name, low, high))


class _StyleMixer(nn.Module):
    """The generator as :class:`~gan_lessons.gan_training.GANStep` calls it:
    ``z (B, z_dim) [, labels (B,)] -> images (B, C, S, S)``, drawn with style mixing (a module,
    so that data-parallel training can wrap it; its parameters are the network's)."""

    def __init__(self, network: StyleGANGenerator, prob: float) -> None:
        super().__init__()
        self.network, self.prob = network, prob
        self.latent_dim = network.latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, *,
                update_w_avg: bool | None = None, return_ws: bool = False):
        """The images ``(B, C, S, S)``, or ``(images, ws)`` with ``return_ws``.
        ``update_w_avg=None``: only a call that builds a graph (the one that trains G) moves
        ``w_avg``, once per step."""
        if update_w_avg is None:
            update_w_avg = torch.is_grad_enabled()
        images, ws = self.draw(z, labels, update_w_avg=update_w_avg)
        if update_w_avg and self.network.training and distributed.world_size() > 1:
            # w_avg moved towards this process's mean w; the mean of the processes' moves is
            # the move towards the global batch's mean (a lerp is linear)
            w_avg = self.network.w_avg
            w_avg.copy_(distributed.reduce_mean(w_avg))
        return (images, ws) if return_ws else images

    def draw(self, z: torch.Tensor, labels: torch.Tensor | None = None, *,
             update_w_avg: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """``(images, ws)``: ``ws`` ``(B, num_ws, w_dim)`` the styles the synthesis read."""
        net = self.network
        w = net.mapping(z, labels, update_w_avg=update_w_avg)  # (B, w_dim)
        ws = w[:, None, :].expand(-1, net.num_ws, -1)
        if self.prob > 0:  # NVlabs: one crossover per batch, drawn even when not mixing
            cutoff = int(torch.randint(1, net.num_ws, ()))
            if float(torch.rand(())) < self.prob:
                w2 = net.mapping(torch.randn_like(z), labels, update_w_avg=False)
                ws = torch.cat([ws[:, :cutoff],
                                w2[:, None, :].expand(-1, net.num_ws - cutoff, -1)], dim=1)
        return net.synthesis(ws, "random"), ws


class StyleGANStep(GANStep):
    """One StyleGAN2 training step: GANStep's non-saturating updates with style-mixed fakes,
    then lazy R1, lazy path-length regularisation and the moving average (module docstring).

    Args:
        generator: a :class:`~gan_lessons.models.stylegan.StyleGANGenerator` (on the data's
            device).
        discriminator: maps images (and ``labels=``) to logits ``(B, 1)``, e.g. a
            :class:`~gan_lessons.models.stylegan.StyleGANDiscriminator`.
        opt_g, opt_d: their optimizers (:func:`train_stylegan` makes Adam ones, with the lazy
            regularisation's correction).
        precision: a :class:`~gan_lessons.precision.MixedPrecision` (default: none).
        reuse_fakes: as in GANStep (default on: the generator update scores the
            discriminator update's fakes).
        style_mixing_prob, r1_gamma, r1_interval: see :class:`StyleGANTrainConfig` (here
            ``r1_gamma`` defaults to 0: off).
        pl_weight, pl_interval, pl_decay, pl_batch_shrink: see :class:`StyleGANTrainConfig`.
        ema: a copy of the generator for the moving average of its weights, updated after
            every step's last update (so after the path-length update) with ``ema_decay``.
        conditional: the batches are ``(x, labels)``; fakes get the real batch's labels.

    Attributes:
        network: the StyleGAN generator being trained.
        generator: what GANStep draws its fakes from: the network behind style mixing.
        generator_ema: ``ema`` (GANStep's own ``ema`` is None: its average would come before
            the path-length update).
        pl_mean: 0-dim tensor, the running mean of the path lengths (saved by
            ``state_dict()``, so a resumed run continues exactly).

    A call returns GANStep's 0-dim tensors ``loss_d``, ``loss_g``, ``d_real``, ``d_fake``
    (``loss_d`` without R1), plus ``loss_r1`` (with ``r1_gamma > 0``) and ``loss_pl`` (with
    ``pl_weight > 0``): the unweighted penalties, measured on the steps they are applied and
    carried over in between (so ``loss_r1`` changes at steps 1, 1 + k, 1 + 2k, ...).
    """

    def __init__(self, generator: StyleGANGenerator, discriminator: nn.Module,
                 opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, *,
                 precision: MixedPrecision | None = None, reuse_fakes: bool | None = None,
                 style_mixing_prob: float = 0.9, r1_gamma: float = 0.0, r1_interval: int = 16,
                 pl_weight: float = 0.0, pl_interval: int = 4, pl_decay: float = 0.01,
                 pl_batch_shrink: int = 2, ema: nn.Module | None = None,
                 ema_decay: float = 0.999, conditional: bool = False) -> None:
        if not isinstance(generator, StyleGANGenerator):
            raise TypeError(f"generator must be a StyleGANGenerator, got "
                            f"{type(generator).__name__}")
        if precision is not None and not isinstance(precision, MixedPrecision):
            raise TypeError(f"precision must be a MixedPrecision or None, got "
                            f"{type(precision).__name__}")
        self.style_mixing_prob, self.r1_interval = style_mixing_prob, r1_interval
        self.pl_weight, self.pl_interval = pl_weight, pl_interval
        self.pl_decay, self.pl_batch_shrink = pl_decay, pl_batch_shrink
        _check_regularisers(self)
        super().__init__(_StyleMixer(generator, self.style_mixing_prob), discriminator,
                         opt_g, opt_d, precision=precision, reuse_fakes=reuse_fakes,
                         conditional=conditional)
        self.network = generator
        self.r1_gamma = check_float(r1_gamma, "r1_gamma", 0.0)  # GANStep's own R1 stays off
        if not isinstance(ema, nn.Module | None):
            raise TypeError(f"ema must be an nn.Module (a copy of the generator) or None, got "
                            f"{type(ema).__name__}")
        self.generator_ema = ema
        self.ema_decay = check_float(ema_decay, "ema_decay", 0.0, 1.0)
        self.pl_mean = torch.zeros(())
        self._held = {"loss_r1": torch.zeros(()), "loss_pl": torch.zeros(())}
        self._last_real: tuple[torch.Tensor, dict[str, torch.Tensor]] | None = None

    def _next(self, batches: Iterator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self._last_real = super()._next(batches)  # the regularisers reuse this batch
        return self._last_real

    def _penalties(self, x_real: torch.Tensor, x_fake: torch.Tensor,
                   cond: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """None in the discriminator's main update: R1 is an update of its own (lazy)."""
        return {}

    def r1_update(self) -> torch.Tensor:
        """The lazy R1 update on the last real batch ``x`` (labels ``y``): one optimizer step
        of the discriminator on ``r1_gamma / 2 * r1_interval * E ||grad_x D(x, y)||^2``.
        Returns the unweighted penalty (0-dim)."""
        x_real, cond = self._last_batch()
        penalty = r1_penalty(self._d, x_real, **cond)  # float32, double backward
        self.opt_d.zero_grad(set_to_none=True)
        self.precision.backward_step(penalty * (self.r1_gamma / 2 * self.r1_interval)
                                     + self._reach_every_weight(self.discriminator),
                                     self.opt_d, "discriminator_r1")
        return penalty.detach()

    def pl_update(self) -> torch.Tensor:
        """The lazy path-length update: one optimizer step of the generator on
        ``pl_weight * pl_interval * mean_i (|J_i^T y_i| - pl_mean)^2`` for ``batch_size //
        pl_batch_shrink`` fresh, style-mixed samples (labels: the last real batch's), ``y_i``
        random images scaled by ``1 / sqrt(H W)``. ``pl_mean`` moves towards the batch's mean
        length first (the penalty differentiates through that move, as NVlabs'). Returns the
        unweighted penalty (0-dim)."""
        x_real, cond = self._last_batch()
        n = max(1, x_real.shape[0] // self.pl_batch_shrink)
        cond = {key: value[:n] for key, value in cond.items()}
        z = self._rank_slice(torch.randn, n, self.network.latent_dim, device=x_real.device)
        images, ws = self._g(z, **cond, update_w_avg=False, return_ws=True)  # (n, C, H, W)
        noise = self._rank_slice(torch.randn, n, *images.shape[1:], device=images.device,
                                 dtype=images.dtype) / math.sqrt(images.shape[2] * images.shape[3])
        (grads,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
        lengths = grads.square().sum(dim=2).mean(dim=1).sqrt()  # (n,): |J^T y| per sample
        pl_mean = self.pl_mean.to(lengths.device).lerp(lengths.mean(), self.pl_decay)
        self.pl_mean = pl_mean.detach()
        penalty = (lengths - pl_mean).square().mean()
        self.opt_g.zero_grad(set_to_none=True)
        self.precision.backward_step(penalty * (self.pl_weight * self.pl_interval)
                                     + self._reach_every_weight(self.network), self.opt_g,
                                     "generator_pl")
        return penalty.detach()

    def _reach_every_weight(self, module: nn.Module) -> torch.Tensor | float:
        """0 in a single process; in a data-parallel run, ``0 * sum(weights)``, a zero that
        the backward pass reaches every weight of ``module`` through. A lazy penalty leaves
        some weights without a gradient (the last bias for R1, the toRGB biases for path
        length), and DistributedDataParallel waits for every weight's gradient (NVlabs'
        StyleGAN2-ADA adds the same zero)."""
        if self.shard[1] == 1:
            return 0.0
        return sum(p.sum() for p in module.parameters() if p.requires_grad) * 0.0

    def _last_batch(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self._last_real is None:
            raise RuntimeError("the regularisers run after a step has drawn a real batch")
        return self._last_real

    def __call__(self, batches: Iterator, step: int) -> dict[str, torch.Tensor]:
        metrics = super().__call__(batches, step)  # D, then G, on style-mixed fakes
        device = metrics["loss_d"].device
        # a lazy regulariser runs on NVlabs' batches 0, k, 2k, ...:
        # our steps 1, 1 + k, 1 + 2k, ...
        for key, weight, interval, update in (
                ("loss_r1", self.r1_gamma, self.r1_interval, self.r1_update),
                ("loss_pl", self.pl_weight, self.pl_interval, self.pl_update)):
            if weight > 0:
                if (step - 1) % interval == 0:
                    self._held[key] = update()
                metrics[key] = self._held[key].to(device)
        if self.generator_ema is not None:
            update_ema(self.generator_ema, self.network, self.ema_decay, step)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "pl_mean": self.pl_mean.detach().cpu().clone(),
                "held": {key: value.detach().cpu().clone() for key, value in self._held.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        if "pl_mean" in state:
            self.pl_mean = state["pl_mean"].detach().clone().to(self.pl_mean.device)
        self._held.update({key: value.detach().clone()
                           for key, value in state.get("held", {}).items()})


def _lazy_adam(params, lr: float, config: StyleGANTrainConfig,
               interval: int | None) -> torch.optim.Adam:
    """Adam for a network regularised every ``interval`` steps by an update of its own (None:
    not regularised): ``lr * c``, ``betas ** c`` with ``c = interval / (interval + 1)``."""
    c = 1.0 if interval is None else interval / (interval + 1)
    return make_adam(params, lr * c, tuple(b ** c for b in config.betas), config.fused_adam)


def train_stylegan(generator: StyleGANGenerator, discriminator: nn.Module, data,
                   config: StyleGANTrainConfig, *, device: str | torch.device | None = None,
                   checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
                   callback: Callable[[TrainState], Any] | None = None, callback_every: int = 100,
                   progress: bool = True, command: str | None = None,
                   overwrite: bool = False) -> TrainResult:
    """Train a StyleGAN pair on ``data`` in place, with a :class:`StyleGANStep` in
    :func:`~gan_lessons.train.fit`; the StyleGAN counterpart of
    :func:`~gan_lessons.gan_training.train_gan`, with the same arguments and behaviour:
    checkpoints (models, optimizers, history, snapshots, random state and the step's
    ``pl_mean``), exact resume, the NaN/blow-up guard, the output path and the data checked
    before the first step.

    Adam uses ``config.lr_g`` / ``lr_d`` and ``config.betas``, corrected for the lazy
    regularisers (``lr * c``, ``betas ** c``, ``c = k / (k + 1)``) for each network that one
    regularises (the discriminator with ``r1_gamma > 0``, the generator with
    ``pl_weight > 0``). Snapshots hold ``generator(z_fixed, noise_mode="const")`` for a fixed
    ``z_fixed`` drawn from ``config.seed`` (a conditional generator gets the labels 0, 1, ...
    in turn). With ``config.ema_decay`` the result's models (and the checkpoint) also hold
    ``"generator_ema"``, the moving average.

    Args:
        generator: a :class:`~gan_lessons.models.stylegan.StyleGANGenerator`; its
            ``config.num_classes > 0`` exactly when ``config.conditional``.
        discriminator: images ``(B, C, S, S)`` [and ``labels``] -> logits ``(B, 1)``, e.g. a
            :class:`~gan_lessons.models.stylegan.StyleGANDiscriminator`.
        data: images in [-1, 1] ``(N, C, S, S)``, a ``TensorImageDataset`` or a ``Dataset`` of
            ``(image, label)`` pairs (with labels for a conditional GAN).
        config: a :class:`StyleGANTrainConfig`.
        device, checkpoint_path, resume, callback, callback_every, progress, command, overwrite:
            as in :func:`~gan_lessons.train.fit`.

    Returns:
        A :class:`~gan_lessons.train.TrainResult`; its history has ``loss_d``, ``loss_g``,
        ``d_real``, ``d_fake`` and, when on, ``loss_r1`` and ``loss_pl``.
    """
    if not isinstance(config, StyleGANTrainConfig):
        raise TypeError(f"config must be a StyleGANTrainConfig, got {type(config).__name__}")
    if not isinstance(generator, StyleGANGenerator):
        raise TypeError(f"generator must be a StyleGANGenerator, got "
                        f"{type(generator).__name__}")
    if not isinstance(discriminator, nn.Module):
        raise TypeError(f"discriminator must be an nn.Module, got "
                        f"{type(discriminator).__name__}")
    if bool(generator.config.num_classes) != config.conditional:
        raise ValueError(f"config.conditional is {config.conditional}, but the generator has "
                         f"num_classes={generator.config.num_classes}; a conditional StyleGAN "
                         "(num_classes > 0) trains with conditional=True, an unconditional "
                         "one with conditional=False")
    for owner, model in (("the generator", generator), ("the discriminator", discriminator)):
        check_sample_shape(data, getattr(getattr(model, "config", None), "data_shape", None),
                           owner)
    device = get_device(device) if device is None else torch.device(device)
    models = {"generator": generator.to(device), "discriminator": discriminator.to(device)}
    if config.ema_decay is not None:
        models["generator_ema"] = copy.deepcopy(generator).requires_grad_(False)
    optimizers = {
        "generator": _lazy_adam(generator.parameters(), config.lr_g, config,
                                config.pl_interval if config.pl_weight > 0 else None),
        "discriminator": _lazy_adam(discriminator.parameters(), config.lr_d, config,
                                    config.r1_interval if config.r1_gamma > 0 else None)}
    step_fn = StyleGANStep(
        generator, discriminator, optimizers["generator"], optimizers["discriminator"],
        precision=MixedPrecision(device, config.amp), reuse_fakes=config.reuse_fakes,
        style_mixing_prob=config.style_mixing_prob, r1_gamma=config.r1_gamma,
        r1_interval=config.r1_interval, pl_weight=config.pl_weight,
        pl_interval=config.pl_interval, pl_decay=config.pl_decay,
        pl_batch_shrink=config.pl_batch_shrink, ema=models.get("generator_ema"),
        ema_decay=config.ema_decay or 0.0, conditional=config.conditional)
    seed = torch.Generator().manual_seed(config.seed)
    z_fixed = torch.randn(config.num_snapshot_samples, generator.latent_dim,
                          generator=seed).to(device)
    labels = (_fixed_labels(config.num_snapshot_samples, generator, device)
              if config.conditional else {})

    def snapshot() -> torch.Tensor:  # eval mode, no grad (fit): w_avg stays
        return generator(z_fixed, **labels, noise_mode="const")

    return fit(step_fn, models, optimizers, data, config, device=device,
               checkpoint_path=checkpoint_path, resume=resume, snapshot_fn=snapshot,
               callback=callback, callback_every=callback_every, progress=progress,
               desc="StyleGAN", command=command, overwrite=overwrite, data_range=(-1.0, 1.0),
               labels=config.conditional)
