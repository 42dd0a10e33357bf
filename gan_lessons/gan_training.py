"""Training GANs: :class:`GANTrainConfig`, the step :class:`GANStep`, and :func:`train_gan`.

One step covers the games of the book: the original GAN's (non-saturating or minimax), the
Wasserstein GAN's (Arjovsky et al. 2017: weight clipping; Gulrajani et al. 2017: gradient
penalty), the hinge loss and least squares, with an optional R1 penalty (Mescheder et al.
2018), an exponential moving average (EMA) of the generator's weights, and class labels for
conditional GANs. Each is a field of the config, stored in checkpoints, and every run goes
through :func:`gan_lessons.train.fit` (progress bar, checkpoints, exact resume, NaN guard).
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import distributed
from ._validate import check_bool, check_choice, check_float, check_int, check_shard
from .batches import check_sample_shape, sample_shape
from .device import get_device
from .losses import ADVERSARIAL_LOSSES, get_adversarial_loss, gradient_penalty, r1_penalty
from .precision import MixedPrecision
from .train import MAX_LR, TrainConfig, TrainResult, TrainState, fit

__all__ = ["GANStep", "GANTrainConfig", "make_adam", "train_gan", "update_ema"]

#: the games whose discriminator outputs a logit of ``P(real)`` (history: ``sigmoid`` means)
_LOGIT_GAMES = ("non_saturating", "minimax")


@dataclass(frozen=True, kw_only=True)
class GANTrainConfig(TrainConfig):
    """How to train a GAN with :func:`train_gan` (keyword-only; see
    :class:`~gan_lessons.train.TrainConfig` too).

    Attributes:
        lr_g: Adam learning rate of the generator.
        lr_d: Adam learning rate of the discriminator.
        betas: Adam's ``(beta1, beta2)``; ``beta1 = 0.5`` as in Radford et al. (2016); WGAN-GP
            used ``(0, 0.9)``.
        d_steps: discriminator (critic) updates per generator update (a "step" is one
            generator update); WGAN-GP used 5.
        generator_loss: the game, named by its generator loss as in the GANs chapter:
            ``"non_saturating"`` (default) and ``"minimax"`` with the discriminator's
            cross-entropy loss; ``"wgan"``, ``"hinge"`` and ``"least_squares"`` with their own
            critic loss (see :data:`gan_lessons.losses.ADVERSARIAL_LOSSES`).
        gp_weight: the weight ``lambda`` of the gradient penalty (WGAN-GP: ``"wgan"`` with
            ``gp_weight=10``); 0 (default): none.
        r1_gamma: the weight ``gamma`` of the R1 penalty, applied as ``gamma / 2`` times
            :func:`~gan_lessons.losses.r1_penalty`; 0 (default): none.
        clip_value: clip every discriminator weight to ``[-clip_value, clip_value]`` after each
            of its updates (the original WGAN: 0.01); ``None`` (default): no clipping.
        ema_decay: keep an exponential moving average of the generator's weights with this
            decay (e.g. 0.999), as the model ``"generator_ema"``; ``None`` (default): none.
        conditional: the batches carry class labels; the models take them
            (``generator(z, labels)``, ``discriminator(x, labels)``).
        reuse_fakes: the generator update scores the discriminator update's fakes instead of
            fresh ones: one generator forward pass less per step (see :class:`GANStep`).
            ``None`` (default): on when ``d_steps == 1`` (it needs one batch of fakes per
            generator update), so the stored config says ``True`` or ``False``.
        fused_adam: use torch's fused Adam kernel where torch supports it on the device (CPU,
            CUDA, MPS), else the default one; the same update rule, computed in one kernel
            (about 5 % of a DCGAN step on a 2-core CPU, ``benchmarks/dcgan_step.py``).

    >>> GANTrainConfig(num_steps=3000, generator_loss="minimax").lr_d
    0.0002
    >>> GANTrainConfig(num_steps=3000, generator_loss="wgan", gp_weight=10.0, d_steps=5,
    ...                betas=(0.0, 0.9)).reuse_fakes
    False
    """

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    generator_loss: str = "non_saturating"
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    clip_value: float | None = None
    ema_decay: float | None = None
    conditional: bool = False
    reuse_fakes: bool | None = None
    fused_adam: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_adam_settings(self)
        check_int(self.d_steps, "d_steps", minimum=1)
        check_choice(self.generator_loss, "generator_loss", ADVERSARIAL_LOSSES)
        for name in ("gp_weight", "r1_gamma"):
            object.__setattr__(self, name, check_float(getattr(self, name), name, 0.0))
        if self.clip_value is not None:
            object.__setattr__(self, "clip_value", check_float(
                self.clip_value, "clip_value", 0.0, exclusive_minimum=True))
        if self.ema_decay is not None:
            decay = check_float(self.ema_decay, "ema_decay", 0.0, 1.0, exclusive_minimum=True)
            if decay >= 1.0:
                raise ValueError(f"ema_decay must lie in (0, 1), got {decay}")
            object.__setattr__(self, "ema_decay", decay)
        check_bool(self.conditional, "conditional")
        if self.reuse_fakes is None:
            object.__setattr__(self, "reuse_fakes", self.d_steps == 1)
        check_bool(self.reuse_fakes, "reuse_fakes")
        if self.reuse_fakes and self.d_steps != 1:
            raise ValueError(f"reuse_fakes needs d_steps == 1, got d_steps={self.d_steps}; pass "
                             "reuse_fakes=False (or None, which chooses it from d_steps)")
        check_bool(self.fused_adam, "fused_adam")


def check_adam_settings(config) -> None:
    """Check a frozen training config's ``lr_g``, ``lr_d`` and ``betas`` (stored as a tuple)."""
    check_float(config.lr_g, "lr_g", 0.0, MAX_LR, exclusive_minimum=True)
    check_float(config.lr_d, "lr_d", 0.0, MAX_LR, exclusive_minimum=True)
    object.__setattr__(config, "betas", _check_betas(config.betas))


def _check_betas(betas) -> tuple[float, float]:
    """Adam's ``(beta1, beta2)`` as a tuple of floats in ``[0, 1)``."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    betas = tuple(check_float(b, f"betas[{i}]", 0.0) for i, b in enumerate(betas))
    if max(betas) >= 1.0:
        raise ValueError(f"betas must lie in [0, 1), got {betas}")
    return betas


def make_adam(params, lr: float, betas: tuple[float, float],
              fused: bool = True) -> torch.optim.Adam:
    """``torch.optim.Adam(params, lr, betas)``, with torch's fused kernel when ``fused`` and
    torch supports it for these parameters' device and dtype (else the default kernel: the
    same update rule)."""
    check_float(lr, "lr", 0.0, MAX_LR, exclusive_minimum=True)
    betas = _check_betas(betas)
    if isinstance(params, torch.Tensor | nn.Module | str) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be an iterable of tensors (e.g. model.parameters()), got "
                        f"{type(params).__name__}")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) for p in params):
        raise ValueError("params must hold at least one tensor and nothing else "
                         "(e.g. model.parameters())")
    if check_bool(fused, "fused"):
        try:
            return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
        except RuntimeError:  # e.g. a device without a fused kernel
            pass
    return torch.optim.Adam(params, lr=lr, betas=betas)


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, step: int | None = None) -> None:
    """Move ``ema``'s weights towards ``model``'s: ``ema = d * ema + (1 - d) * model``, and copy
    its buffers (BatchNorm statistics). With ``step`` the decay warms up as
    ``d = min(decay, (1 + step) / (10 + step))`` (TensorFlow's ``ExponentialMovingAverage``
    with ``num_updates``), so that the average is not dominated by the random initial weights
    in a short run."""
    for value, name in ((ema, "ema"), (model, "model")):
        if not isinstance(value, nn.Module):
            raise TypeError(f"{name} must be an nn.Module, got {type(value).__name__}")
    d = check_float(decay, "decay", 0.0, 1.0)
    if step is not None:
        d = min(d, (1 + check_int(step, "step", minimum=0)) / (10 + step))
    ema_params, params = list(ema.parameters()), list(model.parameters())
    ema_buffers, buffers = list(ema.buffers()), list(model.buffers())
    if [p.shape for p in ema_params + ema_buffers] != [p.shape for p in params + buffers]:
        raise ValueError("ema must be a copy of model (their parameters differ)")
    for e, p in zip(ema_params, params, strict=True):
        e.lerp_(p.detach(), 1.0 - d)
    for e, b in zip(ema_buffers, buffers, strict=True):
        e.copy_(b)


def _raw(scores: torch.Tensor) -> torch.Tensor:
    """The critic's scores as they are (the games without a probability)."""
    return scores


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Turn off gradients of ``module``'s parameters (restored afterwards): the generator's
    update back-propagates *through* the discriminator but must not compute its weight
    gradients."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


class GANStep:
    """One GAN training step: ``d_steps`` discriminator updates, then one generator update.

    Each discriminator update draws a fresh real batch and fresh noise. With ``reuse_fakes``
    (the default when ``d_steps == 1``) the generator update then scores the very fakes the
    discriminator just saw, through the updated discriminator, as the pytorch/examples DCGAN
    loop does: one generator forward pass less per step (about 10-20 % of a DCGAN step on a
    CPU; ``benchmarks/dcgan_step.py``). The generator has not changed in between, so these are
    exactly ``G(z)`` for a fresh ``z``; the only difference from drawing new noise
    (Goodfellow et al.'s Algorithm 1, ``reuse_fakes=False``, what the bundled checkpoints
    before issue 17 were trained with) is that the discriminator took one optimizer step on
    these same fakes. The generator needs a ``latent_dim`` attribute and takes ``z`` of shape
    ``(B, latent_dim)``; the discriminator returns one score per sample, ``(B, 1)``.

    Args:
        generator, discriminator: the two networks (already on the data's device).
        opt_g, opt_d: their optimizers.
        generator_loss: the game, a key of :data:`gan_lessons.losses.ADVERSARIAL_LOSSES`
            (``"non_saturating"``, ``"minimax"``, ``"wgan"``, ``"hinge"``, ``"least_squares"``).
        d_steps: discriminator updates per call.
        precision: a :class:`~gan_lessons.precision.MixedPrecision` (default: none).
        reuse_fakes: score the discriminator step's fakes in the generator step (needs
            ``d_steps == 1``); ``None`` (default): ``d_steps == 1``.
        gp_weight, r1_gamma, clip_value: the critic's regularisers, see
            :class:`GANTrainConfig`.
        ema: a copy of the generator to keep the moving average of its weights in (updated
            after every generator update with :func:`update_ema`); ``ema_decay`` its decay.
        conditional: the batches are ``(x, labels)``; both networks get ``labels=``, and the
            fakes of a batch get the real batch's labels.

    Calling it returns 0-dim tensors on the device: ``"loss_d"`` (the discriminator's whole
    objective, penalties included) and ``"d_real"``, ``"d_fake"`` (mean ``sigmoid(D(x))`` for
    the cross-entropy games, the mean raw score for the others), averaged over the ``d_steps``
    updates; ``"loss_g"``; ``"loss_gp"`` / ``"loss_r1"`` (the unweighted penalties) when on;
    and ``"w_estimate"``, the critic's estimate ``mean D(x_real) - mean D(x_fake)`` of the
    Wasserstein-1 distance, for ``"wgan"``.

    Data-parallel training: :func:`~gan_lessons.train.fit` calls :meth:`data_parallel`, which
    wraps both networks in ``DistributedDataParallel``; every process then draws the noise and
    the gradient penalty's interpolation weights of the whole global batch and uses its own
    slice, so ``N`` processes with batch ``B`` compute what one process with batch ``N * B``
    computes (random numbers drawn inside the networks, such as dropout, differ: each process
    has its own stream, see :mod:`gan_lessons.distributed`).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module,
                 opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, *,
                 generator_loss: str = "non_saturating", d_steps: int = 1,
                 precision: MixedPrecision | None = None,
                 reuse_fakes: bool | None = None, gp_weight: float = 0.0,
                 r1_gamma: float = 0.0, clip_value: float | None = None,
                 ema: nn.Module | None = None, ema_decay: float = 0.999,
                 conditional: bool = False) -> None:
        if not isinstance(getattr(generator, "latent_dim", None), int):
            raise TypeError("generator must have an int attribute latent_dim (the length of z)")
        if not callable(discriminator):
            raise TypeError(f"discriminator must be callable (a model), got "
                            f"{type(discriminator).__name__}")
        for value, name in ((opt_g, "opt_g"), (opt_d, "opt_d")):
            if not isinstance(value, torch.optim.Optimizer):
                raise TypeError(f"{name} must be a torch.optim.Optimizer, got "
                                f"{type(value).__name__}")
        self.generator, self.discriminator = generator, discriminator
        self.opt_g, self.opt_d = opt_g, opt_d
        self.game = check_choice(generator_loss, "generator_loss", ADVERSARIAL_LOSSES)
        self.critic_loss, self.generator_loss = get_adversarial_loss(generator_loss)
        self.d_steps = check_int(d_steps, "d_steps", minimum=1)
        self.precision = precision or MixedPrecision("cpu")
        self.reuse_fakes = check_bool(self.d_steps == 1 if reuse_fakes is None else reuse_fakes,
                                      "reuse_fakes")
        if self.reuse_fakes and self.d_steps != 1:
            raise ValueError(f"reuse_fakes needs d_steps == 1 (one batch of fakes per generator "
                             f"update), got d_steps={self.d_steps}")
        self.gp_weight = check_float(gp_weight, "gp_weight", 0.0)
        self.r1_gamma = check_float(r1_gamma, "r1_gamma", 0.0)
        self.clip_value = None if clip_value is None else check_float(
            clip_value, "clip_value", 0.0, exclusive_minimum=True)
        if ema is not None and not isinstance(ema, nn.Module):
            raise TypeError(f"ema must be an nn.Module (a copy of the generator), got "
                            f"{type(ema).__name__}")
        self.ema, self.ema_decay = ema, check_float(ema_decay, "ema_decay", 0.0, 1.0)
        self.conditional = check_bool(conditional, "conditional")
        self._score = torch.sigmoid if self.game in _LOGIT_GAMES else _raw
        self._g, self._d = generator, discriminator  # the calls whose backward updates them
        self.shard = (0, 1)  # (rank, world) of a data-parallel run

    def data_parallel(self, wrap: Callable[[nn.Module, str], nn.Module],
                      shard: tuple[int, int]) -> None:
        """Train as process ``shard = (rank, world)`` of a data-parallel run, through
        ``wrap(self.generator, "generator")`` and ``wrap(self.discriminator, "discriminator")``
        (their ``DistributedDataParallel`` wrappers, which average the gradients over the
        processes): the noise of each update is the rank's slice of the global batch's noise."""
        self.shard = check_shard(shard)
        self._g = wrap(self.generator, "generator")
        self._d = wrap(self.discriminator, "discriminator")

    def _rank_slice(self, draw: Callable[..., torch.Tensor], n: int, *shape: int,
                    **options) -> torch.Tensor:
        """``draw(n, *shape, **options)`` in a single process; in a data-parallel run, this
        process's ``n`` rows of ``draw(n * world, *shape, **options)``, which every process
        draws alike (so the processes together draw what one process draws for the global
        batch)."""
        rank, world = self.shard
        if world == 1:
            return draw(n, *shape, **options)
        return draw(n * world, *shape, **options)[rank * n:(rank + 1) * n]

    def _noise(self, x_real: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, latent_dim)`` for a batch like ``x_real``: this process's slice of the
        global batch's noise (all of it in a single process)."""
        return self._rank_slice(torch.randn, x_real.shape[0], self.generator.latent_dim,
                                device=x_real.device)

    def _next(self, batches: Iterator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The next real batch ``(B, *data_shape)`` and the models' extra inputs: ``{}``, or
        ``{"labels": (B,)}`` for a conditional GAN."""
        batch = next(batches)
        if not self.conditional:
            return batch, {}
        x_real, labels = batch
        return x_real, {"labels": labels}

    def _penalties(self, x_real: torch.Tensor, x_fake: torch.Tensor,
                   cond: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The critic's unweighted penalties that are switched on (in float32)."""
        penalties = {}
        if self.gp_weight > 0:
            epsilon = None if self.shard[1] == 1 else self._rank_slice(  # None: drawn inside
                torch.rand, x_real.shape[0], device=x_real.device)
            penalties["loss_gp"] = gradient_penalty(self._d, x_real, x_fake, epsilon=epsilon,
                                                    **cond)
        if self.r1_gamma > 0:
            penalties["loss_r1"] = r1_penalty(self._d, x_real, **cond)
        return penalties

    @torch.no_grad()
    def _clip(self) -> None:
        """Weight clipping of the original WGAN: every weight into ``[-c, c]``."""
        for p in self.discriminator.parameters():
            p.clamp_(-self.clip_value, self.clip_value)

    def __call__(self, batches: Iterator, step: int) -> dict[str, torch.Tensor]:
        # the models, or under torchrun their DDP wrappers (which average the gradients)
        generator, discriminator, amp = self._g, self._d, self.precision
        sums: dict[str, torch.Tensor] = {}
        for _ in range(self.d_steps):
            x_real, cond = self._next(batches)  # cond: {} or {"labels": (B,)}
            z = self._noise(x_real)
            with amp.autocast():
                if self.reuse_fakes:
                    x_fake_for_g = generator(z, **cond)  # graph kept for G's update
                    x_fake = x_fake_for_g.detach()  # D's loss must not reach G
                else:
                    with torch.no_grad():
                        x_fake = generator(z, **cond)  # (B, *data_shape), no graph into G
                d_real = discriminator(x_real, **cond)  # (B, 1) scores
                d_fake = discriminator(x_fake, **cond)  # (B, 1) scores
                loss_d = self.critic_loss(d_real, d_fake)
            penalties = self._penalties(x_real, x_fake, cond)  # {} when both are off
            if "loss_gp" in penalties:
                loss_d = loss_d + self.gp_weight * penalties["loss_gp"]
            if "loss_r1" in penalties:
                loss_d = loss_d + self.r1_gamma / 2 * penalties["loss_r1"]
            self.opt_d.zero_grad(set_to_none=True)
            amp.backward_step(loss_d, self.opt_d, "discriminator")
            if self.clip_value is not None:
                self._clip()
            metrics = {"loss_d": loss_d, **penalties,
                       "d_real": self._score(d_real.detach().float()).mean(),
                       "d_fake": self._score(d_fake.detach().float()).mean()}
            if self.game == "wgan":
                metrics["w_estimate"] = metrics["d_real"] - metrics["d_fake"]
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value.detach()

        if not self.reuse_fakes:
            z = self._noise(x_real)
        discriminator = self.discriminator  # the plain module: frozen, it needs no sync
        with _frozen(discriminator):
            with amp.autocast():
                if not self.reuse_fakes:
                    x_fake_for_g = generator(z, **cond)
                loss_g = self.generator_loss(discriminator(x_fake_for_g, **cond))
            self.opt_g.zero_grad(set_to_none=True)
            amp.backward_step(loss_g, self.opt_g, "generator")
        if self.ema is not None:
            update_ema(self.ema, self.generator, self.ema_decay, step)
        means = {key: value / self.d_steps for key, value in sums.items()}
        return {"loss_d": means.pop("loss_d"), "loss_g": loss_g.detach(), **means}

    def state_dict(self) -> dict[str, Any]:
        return {"precision": self.precision.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.precision.load_state_dict(state.get("precision", {}))


def _fixed_labels(n: int, generator: nn.Module, device: torch.device) -> dict[str, torch.Tensor]:
    """``{"labels": 0, 1, ..., num_classes - 1, 0, 1, ...}`` for the snapshots of a conditional
    generator (each class in turn)."""
    num_classes = getattr(generator, "num_classes", None)
    if not isinstance(num_classes, int):
        raise TypeError("a conditional generator must have an int attribute num_classes")
    return {"labels": torch.arange(n, device=device) % num_classes}


def train_gan(generator: nn.Module, discriminator: nn.Module, data, config: GANTrainConfig, *,
              device: str | torch.device | None = None,
              checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
              callback: Callable[[TrainState], Any] | None = None, callback_every: int = 100,
              progress: bool = True, command: str | None = None,
              overwrite: bool = False) -> TrainResult:
    """Train ``generator`` against ``discriminator`` on ``data``; the models are trained in place.

    Adam optimizers (``config.lr_g``/``lr_d``, ``config.betas``) and a :class:`GANStep` run in
    :func:`~gan_lessons.train.fit`. Snapshots hold ``generator(z_fixed)`` for one fixed noise
    batch ``z_fixed`` (``config.num_snapshot_samples`` rows, drawn from ``config.seed``; a
    conditional generator gets the labels 0, 1, ..., in turn). With ``config.ema_decay`` the
    result's models (and the checkpoint) also hold ``"generator_ema"``, the moving average.

    Images (samples of shape ``(C, H, W)``) must lie in [-1, 1], the range of the generators'
    ``tanh``: data in [0, 255] is refused with a :class:`~gan_lessons.batches.DataError`
    before training (in [0, 1] with a warning); 2-D points may have any finite values.

    Args:
        generator: maps ``z`` ``(B, latent_dim)`` to samples; needs a ``latent_dim`` attribute.
        discriminator: maps samples to scores ``(B, 1)``.
        data: a tensor ``(N, *data_shape)`` (e.g. 2-D points), a ``TensorImageDataset`` or any
            ``Dataset`` of ``(image, label)`` pairs, see :class:`~gan_lessons.batches.BatchStream`
            (with labels for ``config.conditional``).
        config: a :class:`GANTrainConfig`.
        device, checkpoint_path, resume, callback, callback_every, progress, command, overwrite:
            as in :func:`~gan_lessons.train.fit`; ``callback(state)`` sees
            ``state.generator``, ``state.history`` ...

    Returns:
        A :class:`~gan_lessons.train.TrainResult` (``.history``, ``.snapshots``,
        ``.generator``, ...).

    >>> from gan_lessons.models import MLPGANConfig, build_gan
    >>> points = torch.randn(512, 2)
    >>> g, d = build_gan("mlp", MLPGANConfig.toy())
    >>> result = train_gan(g, d, points, GANTrainConfig(num_steps=20), progress=False,
    ...                    device="cpu")
    >>> len(result.history["loss_d"])
    20
    """
    if not isinstance(config, GANTrainConfig):
        raise TypeError(f"config must be a GANTrainConfig, got {type(config).__name__}")
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(model, nn.Module):
            raise TypeError(f"{name} must be an nn.Module, got {type(model).__name__}")
    if not isinstance(getattr(generator, "latent_dim", None), int):
        raise TypeError("generator must have an int attribute latent_dim (the length of z)")
    check_sample_shape(data, getattr(getattr(discriminator, "config", None), "data_shape", None),
                       "the discriminator")
    distributed.init()  # under torchrun: first, so that "cuda" is this process's GPU
    device = get_device(device) if device is None else torch.device(device)
    generator.to(device)
    discriminator.to(device)
    models = {"generator": generator, "discriminator": discriminator}
    if config.ema_decay is not None:
        models["generator_ema"] = copy.deepcopy(generator).requires_grad_(False)
    opt_g = make_adam(generator.parameters(), config.lr_g, config.betas, config.fused_adam)
    opt_d = make_adam(discriminator.parameters(), config.lr_d, config.betas, config.fused_adam)
    step_fn = GANStep(generator, discriminator, opt_g, opt_d,
                      generator_loss=config.generator_loss, d_steps=config.d_steps,
                      precision=MixedPrecision(device, config.amp),
                      reuse_fakes=config.reuse_fakes, gp_weight=config.gp_weight,
                      r1_gamma=config.r1_gamma, clip_value=config.clip_value,
                      ema=models.get("generator_ema"), ema_decay=config.ema_decay or 0.0,
                      conditional=config.conditional)
    z_fixed = torch.randn(config.num_snapshot_samples, generator.latent_dim,
                          generator=torch.Generator().manual_seed(config.seed)).to(device)
    cond = (_fixed_labels(config.num_snapshot_samples, generator, device)
            if config.conditional else {})
    images = len(sample_shape(data) or ()) == 3  # (C, H, W): a tanh generator's [-1, 1]
    return fit(step_fn, models, {"generator": opt_g, "discriminator": opt_d}, data, config,
               device=device, checkpoint_path=checkpoint_path, resume=resume,
               snapshot_fn=lambda: generator(z_fixed, **cond), callback=callback,
               callback_every=callback_every, progress=progress, desc="GAN", command=command,
               overwrite=overwrite, data_range=(-1.0, 1.0) if images else None,
               labels=config.conditional)
