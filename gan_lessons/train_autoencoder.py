"""Training autoencoders and VAEs with the book's one training engine.

An autoencoder needs no loop of its own: :class:`AutoencoderStep` is a *step function* for
:func:`gan_lessons.train.fit`, which brings the progress bar, the history, snapshots,
checkpoints, exact resuming and the NaN guard. :func:`train_autoencoder` wires it up with Adam::

    >>> from gan_lessons.models import ConvAutoencoderConfig, ConvVAE
    >>> vae = ConvVAE(ConvAutoencoderConfig(latent_dim=2))
    >>> result = train_autoencoder(vae, mnist, AETrainConfig(num_steps=3000))  # doctest: +SKIP
    >>> result.history["loss"], result.history["kl"]                          # doctest: +SKIP

One step draws a batch ``x``, runs the model, and minimises the reconstruction loss (a plain
autoencoder) or the negative ELBO ``reconstruction + beta * KL`` (a model whose output has
``mu`` and ``logvar``, e.g. :class:`~gan_lessons.models.autoencoder.ConvVAE`); the losses are
those of :mod:`gan_lessons.losses`, summed over pixels and averaged over the batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int, check_shard
from .batches import check_sample_shape
from .device import get_device
from .losses import RECONSTRUCTION_LOSSES, elbo_loss
from .train import MAX_LR, MixedPrecision, TrainConfig, TrainResult, TrainState, fit

__all__ = [
    "SNAPSHOT_KINDS",
    "AETrainConfig",
    "AutoencoderStep",
    "fixed_batch",
    "train_autoencoder",
]

SNAPSHOT_KINDS = ("reconstructions", "samples")
"""What :func:`train_autoencoder` can snapshot, reconstructions of a fixed batch of data or
decoded samples of a fixed ``z ~ N(0, I)``."""


@dataclass(frozen=True, kw_only=True)
class AETrainConfig(TrainConfig):
    """How to train an autoencoder with :func:`train_autoencoder` (keyword-only; see
    :class:`~gan_lessons.train.TrainConfig` for ``num_steps``, ``batch_size``, ``seed`` ...).

    Attributes:
        lr: Adam learning rate.
        reconstruction: ``"bce"`` (default; a Bernoulli decoder, see
            :func:`~gan_lessons.losses.bce_reconstruction`) or ``"mse"`` (the source article's
            squared error, summed over pixels).
        beta: weight of the KL term of a VAE (``1``: the ELBO; ignored by a plain autoencoder).

    >>> AETrainConfig(num_steps=2000, beta=0.5).reconstruction
    'bce'
    """

    lr: float = 1e-3
    reconstruction: str = "bce"
    beta: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float(self.lr, "lr", 0.0, MAX_LR, exclusive_minimum=True)
        check_choice(self.reconstruction, "reconstruction", RECONSTRUCTION_LOSSES)
        object.__setattr__(self, "beta", check_float(self.beta, "beta", 0.0))


def _unpack(out) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``(logits, mu, logvar)`` from a model's output: an ``AutoencoderOutput`` (or anything
    with ``.logits``) or a plain tensor of logits."""
    if isinstance(out, torch.Tensor):
        return out, None, None
    logits = getattr(out, "logits", None)
    if not isinstance(logits, torch.Tensor):
        raise TypeError("the model must return pixel logits: a tensor or an AutoencoderOutput, "
                        f"got {type(out).__name__}")
    return logits, getattr(out, "mu", None), getattr(out, "logvar", None)


class AutoencoderStep:
    """One autoencoder training step, a step function for :func:`gan_lessons.train.fit`.

    Draws one batch ``x`` ``(B, C, H, W)``, computes ``model(x)`` and takes one optimizer step
    on the loss: the reconstruction loss for a plain autoencoder, the negative ELBO
    ``reconstruction + beta * KL`` when the output has ``mu`` and ``logvar`` (a VAE, whose
    ``forward`` samples ``z`` with the reparameterisation trick in training mode).

    Args:
        model: maps ``x`` to an ``AutoencoderOutput`` (or a tensor of logits) of ``x``'s shape.
        optimizer: the model's optimizer.
        reconstruction: ``"bce"`` or ``"mse"``.
        beta: weight of the KL term.
        precision: a :class:`~gan_lessons.precision.MixedPrecision` (default: none).

    Calling it returns 0-dim tensors on the device: ``{"loss"}`` for a plain autoencoder,
    ``{"loss", "recon", "kl"}`` for a VAE (``loss = recon + beta * kl``).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, *,
                 reconstruction: str = "bce", beta: float = 1.0,
                 precision: MixedPrecision | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model, self.optimizer = model, optimizer
        self.reconstruction = check_choice(reconstruction, "reconstruction",
                                           RECONSTRUCTION_LOSSES)
        self.beta = check_float(beta, "beta", 0.0)
        self.precision = precision or MixedPrecision("cpu")
        self._model = model  # what the step calls: the model, or its DDP wrapper

    def data_parallel(self, wrap: Callable[[nn.Module, str], nn.Module],
                      shard: tuple[int, int]) -> None:
        """Train as process ``shard = (rank, world)`` of a data-parallel run, through
        ``wrap(self.model, "autoencoder")`` (its ``DistributedDataParallel`` wrapper, which
        averages the gradients over the processes; a VAE's samples are drawn per process)."""
        check_shard(shard)
        self._model = wrap(self.model, "autoencoder")

    def __call__(self, batches: Iterator[torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        model = self._model  # the model, or under torchrun its DDP wrapper
        x = next(batches)  # (B, C, H, W) in [-1, 1]
        with self.precision.autocast():
            logits, mu, logvar = _unpack(model(x))  # logits (B, C, H, W)
        if mu is not None and logvar is not None:
            loss, recon, kl = elbo_loss(logits, x, mu, logvar, beta=self.beta,
                                        reconstruction=self.reconstruction)
            metrics = {"loss": loss, "recon": recon, "kl": kl}
        else:
            loss = RECONSTRUCTION_LOSSES[self.reconstruction](logits, x)
            metrics = {"loss": loss}
        self.optimizer.zero_grad(set_to_none=True)
        self.precision.backward_step(loss, self.optimizer, "autoencoder")
        return {k: v.detach() for k, v in metrics.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"precision": self.precision.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.precision.load_state_dict(state.get("precision", {}))


def fixed_batch(data, num: int, seed: int = 0) -> torch.Tensor:
    """``num`` samples of ``data`` chosen at random by ``seed`` (in the data's order), on the
    CPU: the batch whose reconstructions :func:`train_autoencoder` snapshots.

    Args:
        data: a tensor ``(N, ...)``, a ``TensorImageDataset`` or a ``Dataset`` of
            ``(image, label)`` pairs.
        num: how many samples (at most ``N``).
        seed: picks them.

    Returns:
        A tensor ``(num, *sample_shape)``.
    """
    num = check_int(num, "num", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    n = len(data)
    if num > n:
        raise ValueError(f"num must be at most the number of samples ({n}), got {num}")
    index = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:num].sort().values
    if isinstance(data, torch.Tensor):
        return data[index].cpu()
    images = getattr(data, "images", None)  # TensorImageDataset
    if isinstance(images, torch.Tensor) and len(images) == n:
        return images[index.to(images.device)].cpu()
    items = [data[i] for i in index.tolist()]
    return torch.stack([item[0] if isinstance(item, list | tuple) else item for item in items])


def train_autoencoder(model: nn.Module, data, config: AETrainConfig, *,
                      device: str | torch.device | None = None,
                      checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
                      callback: Callable[[TrainState], Any] | None = None,
                      callback_every: int = 100, progress: bool = True,
                      command: str | None = None,
                      snapshot: str = "reconstructions", overwrite: bool = False) -> TrainResult:
    """Train ``model`` on ``data``, in place: Adam and an :class:`AutoencoderStep` in
    :func:`~gan_lessons.train.fit`.

    The images must lie in [-1, 1] (the losses' pixel range): other data, or NaN/Inf, is
    refused with a :class:`~gan_lessons.batches.DataError` before training.

    Args:
        model: an autoencoder of :mod:`gan_lessons.models.autoencoder` (``MLPAutoencoder``,
            ``ConvAutoencoder``, ``ConvVAE``) or any module returning logits of ``x``'s shape.
        data: images ``(N, C, H, W)`` in [-1, 1] as a tensor, a ``TensorImageDataset`` or any
            ``Dataset`` of ``(image, label)`` pairs (labels are ignored).
        config: an :class:`AETrainConfig`.
        device, checkpoint_path, resume, callback, callback_every, progress, command, overwrite:
            as in :func:`~gan_lessons.train.fit`; the checkpoint holds the model as
            ``"autoencoder"``, so :func:`~gan_lessons.checkpoints.load_models` returns
            ``{"autoencoder": model}``.
        snapshot: ``"reconstructions"`` (default): ``model(x_fixed).x_hat`` for
            ``x_fixed = fixed_batch(data, config.num_snapshot_samples, config.seed)``;
            ``"samples"``: ``model.decode(z_fixed)`` for one fixed ``z_fixed ~ N(0, I)``
            of ``config.num_snapshot_samples`` rows (meaningful for a VAE).

    Returns:
        A :class:`~gan_lessons.train.TrainResult`; ``history`` has ``"step"`` and ``"loss"``
        (and ``"recon"``, ``"kl"`` for a VAE), ``models["autoencoder"]`` is ``model``.

    >>> from gan_lessons.models import MLPAutoencoder, MLPAutoencoderConfig
    >>> images = torch.rand(64, 1, 8, 8) * 2 - 1
    >>> ae = MLPAutoencoder(MLPAutoencoderConfig(data_shape=(1, 8, 8), hidden=(32,)))
    >>> result = train_autoencoder(ae, images, AETrainConfig(num_steps=5, batch_size=16),
    ...                            device="cpu", progress=False)
    >>> result.history["step"]
    [1, 2, 3, 4, 5]
    """
    if not isinstance(config, AETrainConfig):
        raise TypeError(f"config must be an AETrainConfig, got {type(config).__name__}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_choice(snapshot, "snapshot", SNAPSHOT_KINDS)
    check_sample_shape(data, getattr(model, "data_shape", None), "the model")
    device = get_device(device) if device is None else torch.device(device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    step_fn = AutoencoderStep(model, optimizer, reconstruction=config.reconstruction,
                              beta=config.beta, precision=MixedPrecision(device, config.amp))

    if snapshot == "samples":
        if not (isinstance(getattr(model, "latent_dim", None), int)
                and callable(getattr(model, "decode", None))):
            raise TypeError("snapshot='samples' needs a model with an int latent_dim and a "
                            "decode(z) method")
        z_fixed = torch.randn(config.num_snapshot_samples, model.latent_dim,
                              generator=torch.Generator().manual_seed(config.seed)).to(device)

        def snapshot_fn() -> torch.Tensor:
            return model.decode(z_fixed)
    else:
        n = min(config.num_snapshot_samples, len(data))
        x_fixed = fixed_batch(data, n, config.seed).to(device)

        def snapshot_fn() -> torch.Tensor:
            logits, _, _ = _unpack(model(x_fixed))  # eval mode: a VAE decodes its mean
            return torch.tanh(logits.float() / 2)

    variational = bool(getattr(model, "variational", False))
    return fit(step_fn, {"autoencoder": model}, {"autoencoder": optimizer}, data, config,
               device=device, checkpoint_path=checkpoint_path, resume=resume,
               snapshot_fn=snapshot_fn, callback=callback, callback_every=callback_every,
               progress=progress, desc="VAE" if variational else "autoencoder",
               command=command, overwrite=overwrite, data_range=(-1.0, 1.0))
