"""The one training engine of the book: a generic loop, and the GAN step built on it.

:func:`fit` runs any *step function* for ``config.num_steps`` steps and takes care of everything
around it: device, seeding, endless random mini-batches, a progress bar with live losses, the
per-step history, snapshots, a callback for live plots, atomic checkpoints, exact resuming, and
a guard that stops with :class:`TrainingDivergedError` when a loss or a weight stops being
finite or blows up (beyond ``config.max_loss`` / ``config.max_weight``).

Work is not lost: before the first step :func:`fit` checks that the checkpoint can be written
(and refuses to replace an existing one unless asked to), takes an exclusive lock on it (a
second run writing the same file is refused), and checks the data (NaN/Inf, the value range,
the first batch of a ``Dataset`` decoded). A checkpoint is written only from finite, sane
weights, so a good file is never replaced by a broken one.

A step function has the signature ``step_fn(batches, step) -> dict[str, Tensor]``: it draws
the mini-batches it needs with ``next(batches)``, updates its models, and returns its metrics as
0-dim tensors (kept on the device; :func:`fit` converts them in chunks, so that a GPU is not
synchronised on every step). Keys starting with ``"loss"`` are checked for NaN/Inf. A step
function may also have ``state_dict()``/``load_state_dict()`` (e.g. loss scalers); that state
goes into checkpoints.

:class:`~gan_lessons.gan_training.GANStep` is the step of a GAN (``d_steps`` discriminator
updates, then one generator update), and :func:`~gan_lessons.gan_training.train_gan` wires it up
with Adam optimizers from a :class:`~gan_lessons.gan_training.GANTrainConfig`; both live in
:mod:`gan_lessons.gan_training` and are importable from here. Other chapters write their own
step (an autoencoder's) and call :func:`fit`.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from . import distributed
from ._validate import check_bool, check_float, check_int
from .batches import BatchStream, DataError
from .checkpoints import (
    CheckpointLockedError,
    checkpoint_lock,
    load_checkpoint,
    prepare_checkpoint_path,
    remove_stale_temporaries,
    save_checkpoint,
)
from .device import get_device
from .models import describe_model
from .precision import MixedPrecision

__all__ = [
    "MAX_LR",
    "BatchStream",
    "CheckpointLockedError",
    "DataError",
    "MixedPrecision",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "TrainingDivergedError",
    "fit",
]

StepFn = Callable[[Iterator[torch.Tensor], int], Mapping[str, torch.Tensor]]

MAX_LR = 1e6
"""The largest learning rate a config accepts. Adam divides it by ``1 - beta1**t``, and rates
much larger overflow float32 inside the optimizer (``--lr 3e38`` gave a traceback); anything
above about 1 already diverges, which the blow-up guard reports."""


# --------------------------------------------------------------------------- configs


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Settings of the training loop shared by every model family (keyword-only).

    Attributes:
        num_steps: train until this many steps are done (a resumed run continues to it).
        batch_size: samples per mini-batch.
        seed: seeds torch's global generators at the start of training and the order in which
            the data is visited.
        snapshot_every: take a snapshot at step 0, every ``snapshot_every`` steps and at the end;
            ``None`` (default): at most eleven, ``ceil(num_steps / 10)`` apart; ``0``: none.
        num_snapshot_samples: how many samples a snapshot holds.
        checkpoint_every: with a checkpoint path, also save every this many steps; ``0``: only
            at the end.
        amp: mixed precision: on CUDA bfloat16 where supported, else float16 with loss
            scaling; on a CPU with native bfloat16 (AVX-512 BF16 or AMX) bfloat16 autocast;
            ignored with a warning elsewhere (see :class:`~gan_lessons.precision.MixedPrecision`).
        channels_last: use the channels-last memory format for 4-D data and models (faster
            convolutions on CPUs and recent GPUs: about 1.1x for a DCGAN step on a 2-core CPU,
            see ``benchmarks/dcgan_step.py``); ``None`` (default): on when a model has
            convolutions.
        num_workers: ``DataLoader`` worker processes for data given as a general ``Dataset``
            (in-memory tensors need none).
        max_loss: the blow-up guard: stop with :class:`TrainingDivergedError` when a loss's
            absolute value exceeds this (default ``1e8``; healthy GAN losses are below about
            100, and a VAE's per-image sums stay below about 1e6 up to 256 x 256 RGB images).
            ``None``: only NaN/Inf stop training.
        max_weight: stop when any parameter's absolute value exceeds this (default ``1e4``;
            trained weights stay within about 10, a blown-up DCGAN reached 3.8e30). ``None``:
            only NaN/Inf weights stop training. Weights are checked whenever the losses are
            (every ``log_every`` steps) and before every save.
    """

    num_steps: int
    batch_size: int = 64
    seed: int = 0
    snapshot_every: int | None = None
    num_snapshot_samples: int = 64
    checkpoint_every: int = 0
    amp: bool = False
    channels_last: bool | None = None
    num_workers: int = 0
    max_loss: float | None = 1e8
    max_weight: float | None = 1e4

    #: Fields that may differ between a checkpoint and the config that resumes from it.
    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"num_steps", "snapshot_every", "checkpoint_every", "num_workers", "max_loss",
         "max_weight"})

    def __post_init__(self) -> None:
        check_int(self.num_steps, "num_steps", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.seed, "seed", minimum=0)
        if self.snapshot_every is not None:
            check_int(self.snapshot_every, "snapshot_every", minimum=0)
        check_int(self.num_snapshot_samples, "num_snapshot_samples", minimum=1)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=0)
        check_bool(self.amp, "amp")
        if self.channels_last is not None:
            check_bool(self.channels_last, "channels_last")
        check_int(self.num_workers, "num_workers", minimum=0)
        for name in ("max_loss", "max_weight"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_float(getattr(self, name), name, 0.0,
                                                           exclusive_minimum=True))

    @property
    def snapshot_interval(self) -> int:
        """``snapshot_every`` with ``None`` resolved (0 means no snapshots)."""
        if self.snapshot_every is None:
            return max(1, math.ceil(self.num_steps / 10))
        return self.snapshot_every


# --------------------------------------------------------------------------- results


class TrainingDivergedError(RuntimeError):
    """A loss or a weight became NaN or infinite, or blew up past ``config.max_loss`` /
    ``config.max_weight``. ``step``, ``loss`` (the name of the quantity: a loss, or
    ``"max |generator.net.0.weight|"``) and ``value`` say where; ``history`` holds every step up
    to and including the bad one; ``checkpoint_step`` is the step of the checkpoint on disk
    (``None``: this run wrote none). No checkpoint is ever written from bad weights."""

    def __init__(self, step: int, loss: str, value: float, history: dict[str, list],
                 checkpoint_path: Path | None = None, *, reason: str | None = None,
                 checkpoint_step: int | None = None) -> None:
        self.step, self.loss, self.value, self.history = step, loss, value, history
        self.checkpoint_step = checkpoint_step
        if checkpoint_path is None:
            kept = ""
        elif checkpoint_step is not None:
            kept = (f"; {checkpoint_path} still holds the last good checkpoint, of step "
                    f"{checkpoint_step}")
        elif checkpoint_path.exists():
            kept = f"; this run did not write {checkpoint_path}, which is as it was"
        else:
            kept = f"; no checkpoint was written at {checkpoint_path}"
        reason = reason or f"{loss} = {value} is not finite"
        super().__init__(f"training diverged at step {step}: {reason}{kept}. Try smaller "
                         "learning rates.")


@dataclass(eq=False)
class TrainState:
    """What a callback sees: a live view of the training run (do not modify it)."""

    step: int
    num_steps: int
    config: TrainConfig
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    history: dict[str, list]
    snapshots: list[tuple[int, torch.Tensor]]

    @property
    def generator(self) -> nn.Module | None:
        return self.models.get("generator")

    @property
    def discriminator(self) -> nn.Module | None:
        return self.models.get("discriminator")


@dataclass(eq=False)
class TrainResult:
    """What :func:`fit` and :func:`~gan_lessons.gan_training.train_gan` return.

    Attributes:
        history: per-step metrics, a dict of equally long lists: ``"step"`` and, for a GAN,
            ``"loss_d"``, ``"loss_g"``, ``"d_real"`` (mean ``sigmoid(D(x))``) and ``"d_fake"``
            (mean ``sigmoid(D(G(z)))``), as Python floats.
        snapshots: ``(step, samples)`` pairs; for a GAN ``samples = generator(z_fixed)`` of
            shape ``(num_snapshot_samples, *data_shape)`` on the CPU, for one fixed ``z``.
        models, optimizers: by name (``"generator"``, ``"discriminator"``).
        step: the last completed step.
        stopped_early: the callback asked to stop before ``num_steps``.
        checkpoint_path: where the final checkpoint was written, if anywhere.
    """

    history: dict[str, list] = field(repr=False)
    snapshots: list[tuple[int, torch.Tensor]] = field(repr=False)
    models: dict[str, nn.Module] = field(repr=False)
    optimizers: dict[str, torch.optim.Optimizer] = field(repr=False)
    step: int = 0
    stopped_early: bool = False
    checkpoint_path: Path | None = None

    @property
    def generator(self) -> nn.Module | None:
        return self.models.get("generator")

    @property
    def discriminator(self) -> nn.Module | None:
        return self.models.get("discriminator")


# --------------------------------------------------------------------------- the loop


def _restore_rng(rng: Mapping[str, Any], device: torch.device) -> None:
    torch.set_rng_state(rng["torch"])
    if device.type == "cuda" and rng.get("cuda"):
        torch.cuda.set_rng_state_all(rng["cuda"])
    if device.type == "mps" and rng.get("mps") is not None:
        torch.mps.set_rng_state(rng["mps"])


def _capture_rng(device: torch.device, batches: BatchStream) -> dict[str, Any]:
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "batches_consumed": batches.consumed}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state_all()
    if device.type == "mps":
        rng["mps"] = torch.mps.get_rng_state()
    return rng


def _check_resumable(stored: Mapping[str, Any] | None, stored_class: str | None,
                     config: TrainConfig, path: Path) -> None:
    if stored_class is not None and stored_class != type(config).__name__:
        raise ValueError(f"cannot resume from {path}: it was trained with a {stored_class}, "
                         f"not a {type(config).__name__}")
    if stored is None:
        return
    current = asdict(config)
    changed = sorted(k for k in current.keys() & stored.keys()
                     if k not in config.RESUMABLE_CHANGES
                     and _plain(current[k]) != _plain(stored[k]))
    if changed:
        details = ", ".join(f"{k}: {stored[k]!r} -> {current[k]!r}" for k in changed)
        raise ValueError(f"cannot resume from {path} exactly: the config differs in {details}. "
                         f"Only {sorted(config.RESUMABLE_CHANGES)} may change; start a new "
                         "checkpoint path to train with other settings")


def _plain(value):
    return list(value) if isinstance(value, tuple | list) else value


def _load_models(payload: Mapping[str, Any], models: Mapping[str, nn.Module], path: Path) -> None:
    for name, model in models.items():
        entry = payload["models"].get(name)
        if entry is None:
            raise ValueError(f"cannot resume from {path}: it has no model named {name!r} "
                             f"(it has {sorted(payload['models'])})")
        mine = describe_model(model)
        if mine is not None and entry.get("family") is not None and (
                mine["family"], mine["config"]) != (entry["family"], entry["config"]):
            raise ValueError(f"cannot resume from {path}: its {name} is a {entry['family']!r} "
                             f"model with config {entry['config']}, but the {name} passed is a "
                             f"{mine['family']!r} model with config {mine['config']}")
        try:
            model.load_state_dict(entry["state_dict"])
        except RuntimeError as exc:
            raise ValueError(f"cannot resume from {path}: the weights of {name!r} do not fit "
                             f"the model passed: {exc}") from None


def _history_append(history: dict[str, list], pending: list[tuple[int, Mapping]],
                    parallel: bool = False) -> None:
    """Move pending per-step metrics (device tensors) into ``history`` with one transfer;
    ``parallel``: averaged over the processes of a data-parallel run (one all-reduce)."""
    if not pending:
        return
    keys = list(pending[0][1])
    history.setdefault("step", []).extend(step for step, _ in pending)
    values = [[m[k] for k in keys] for _, m in pending]
    if all(isinstance(v, torch.Tensor) for row in values for v in row):
        table = torch.stack([torch.stack([v.detach().float().reshape(()) for v in row])
                             for row in values])  # (n, K)
        if parallel:
            table = distributed.reduce_mean(table)
        table = table.cpu().tolist()  # the one sync
    else:
        table = [[float(v) for v in row] for row in values]
        if parallel:
            table = distributed.reduce_mean(torch.tensor(table)).tolist()
    for j, key in enumerate(keys):
        history.setdefault(key, []).extend(row[j] for row in table)
    pending.clear()


def _first_bad_loss(history: dict[str, list], start: int,
                    max_loss: float | None) -> tuple[int, str, float, str] | None:
    """``(step, key, value, reason)`` of the first loss from index ``start`` on that is not
    finite or exceeds ``max_loss`` in absolute value."""
    loss_keys = [k for k in history if k.startswith("loss")]
    for i in range(start, len(history["step"])):
        for key in loss_keys:
            value = history[key][i]
            if not math.isfinite(value):
                return history["step"][i], key, value, f"{key} = {value} is not finite"
            if max_loss is not None and abs(value) > max_loss:
                return (history["step"][i], key, value, f"{key} = {value:.3g} blew up past "
                        f"max_loss = {max_loss:g} (a TrainConfig option)")
    return None


def _bad_weight(models: Mapping[str, nn.Module],
                max_weight: float | None) -> tuple[str, float, str] | None:
    """``(name, value, reason)`` for the first parameter that holds NaN/Inf or an absolute value
    above ``max_weight`` (buffers: NaN/Inf only), else ``None``; one device sync in all."""
    names, peaks, bounded = [], [], []
    for model_name, model in models.items():
        for kind, tensors in (("", model.named_parameters()), (" (buffer)", model.named_buffers())):
            for name, t in tensors:
                if t.is_floating_point() and t.numel():
                    names.append(f"{model_name}.{name}{kind}")
                    peaks.append(t.detach().abs().amax().float())
                    bounded.append(not kind)
    if not peaks:
        return None
    device = peaks[0].device
    values = torch.stack([p.to(device) for p in peaks]).cpu().tolist()  # the one sync
    for name, value, is_param in zip(names, values, bounded, strict=True):
        if not math.isfinite(value):
            return f"max |{name}|", value, f"the weights {name} hold NaN or Inf values"
        if is_param and max_weight is not None and value > max_weight:
            return (f"max |{name}|", value, f"the weights {name} blew up to |w| = {value:.3g}, "
                    f"past max_weight = {max_weight:g} (a TrainConfig option)")
    return None


def _data_parallel(step_fn, models: Mapping[str, nn.Module],
                   optimizers: Mapping[str, torch.optim.Optimizer],
                   ctx: distributed.DistContext, seed: int) -> None:
    """Give every process rank 0's weights, and let ``step_fn.data_parallel(wrap, shard)`` wrap
    the modules it trains through in ``DistributedDataParallel``; every parameter an optimizer
    trains must then lie in a wrapped module (else its gradients would not be averaged)."""
    if not callable(getattr(step_fn, "data_parallel", None)):
        raise TypeError(f"step_fn ({type(step_fn).__name__}) cannot train data-parallel: it has "
                        "no data_parallel(wrap, shard) method (the package's steps have one); "
                        "run it in one process, without torchrun")
    for model in models.values():
        distributed.broadcast_module(model)  # e.g. an EMA copy, which no wrapper syncs
    wrapped: list[nn.Module] = []

    def wrap(module: nn.Module, name: str) -> nn.Module:
        wrapped.append(module)
        return distributed.wrap(module, name=name, seed=seed)

    step_fn.data_parallel(wrap, (ctx.rank, ctx.world_size))
    covered = {id(p) for module in wrapped for p in module.parameters()}
    for name, opt in optimizers.items():
        if any(id(p) not in covered for group in opt.param_groups for p in group["params"]):
            raise TypeError(f"step_fn ({type(step_fn).__name__}) trains parameters of "
                            f"optimizers[{name!r}] outside the modules its data_parallel "
                            "wrapped: their gradients would not be averaged over the processes")


def _world_change(payload: Mapping[str, Any], config: TrainConfig, path: Path,
                  world: int) -> int:
    """The number of global batches to skip when resuming ``payload`` on ``world`` processes:
    its own count, or, when it was written by another number of processes, the count that
    skips the same number of samples (with a warning of what changes)."""
    consumed = int(payload["rng"].get("batches_consumed", 0))
    was = int(payload["extra"].get("distributed", {}).get("world_size", 1))
    if was == world:
        return consumed
    b = config.batch_size
    if distributed.is_main():
        warnings.warn(f"resuming {path}, trained by {was} process(es), on {world}: the batch "
                      f"per process stays {b}, so the global batch changes from {was * b} to "
                      f"{world * b} (each update averages over another number of samples); "
                      f"the data continues after the {consumed * was * b} samples seen, and the "
                      "run is not an exact continuation of the old one", stacklevel=3)
    return consumed * was // world


def fit(step_fn: StepFn, models: Mapping[str, nn.Module],
        optimizers: Mapping[str, torch.optim.Optimizer], data, config: TrainConfig, *,
        device: str | torch.device | None = None,
        checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
        snapshot_fn: Callable[[], torch.Tensor] | None = None,
        callback: Callable[[TrainState], Any] | None = None, callback_every: int = 100,
        progress: bool = True, desc: str = "training", command: str | None = None,
        log_every: int = 10, overwrite: bool = False,
        data_range: tuple[float, float] | None = None, labels: bool = False) -> TrainResult:
    """Run ``step_fn`` until ``config.num_steps`` steps are done; the loop of every chapter.

    Args:
        step_fn: ``step_fn(batches, step) -> {name: 0-dim tensor}``, see the module docstring.
        models: the models ``step_fn`` trains, by name; moved to ``device``, saved in
            checkpoints under these names.
        optimizers: their optimizers, by name (saved and restored with the checkpoint).
        data: the training data, see :class:`~gan_lessons.batches.BatchStream`.
        config: a :class:`TrainConfig` (or subclass) giving ``num_steps``, ``batch_size``,
            ``seed``, snapshot and checkpoint intervals.
        device: ``None``: :func:`~gan_lessons.device.get_device` (resolved now).
        checkpoint_path: if given, save a checkpoint there at the end (and every
            ``config.checkpoint_every`` steps). Before the first step the path is checked
            (a folder, or a place where no file can be created, raises ``ValueError``), and an
            exclusive lock ``<path>.lock`` is taken for the whole run (a second run writing the
            same path raises :class:`~gan_lessons.checkpoints.CheckpointLockedError`);
            temporary files a killed save left beside it are removed.
        resume: continue from ``checkpoint_path`` if that file exists: models, optimizers,
            history, snapshots, random generators and the data order are restored, so the run
            continues exactly as if it had never stopped. A checkpoint already at ``num_steps``
            just returns its state (re-running a notebook cell does not retrain).
        snapshot_fn: called without arguments in eval mode under ``torch.no_grad()``; its
            result is stored on the CPU with the step, at step 0, every
            ``config.snapshot_interval`` steps and at the end.
        callback: ``callback(state: TrainState)`` every ``callback_every`` steps (and after the
            last); it may draw a live plot. Returning ``True`` stops training (the checkpoint
            is still saved).
        progress: show a ``tqdm`` progress bar with the latest metrics.
        desc: the progress bar's label.
        command: the command line recorded in checkpoints (default ``sys.argv``).
        log_every: convert metrics to Python floats, check them (and the weights) for NaN/Inf
            and blow-up, and refresh the progress bar every this many steps (the only device
            syncs of the loop).
        overwrite: replace an existing file at ``checkpoint_path`` with this new run; without
            it (and without ``resume``) an existing checkpoint is never replaced.
        data_range: ``(low, high)``: refuse data outside it with a
            :class:`~gan_lessons.batches.DataError` (:func:`~gan_lessons.gan_training.train_gan`
            passes ``(-1, 1)`` for images). NaN/Inf in the data are refused always, before
            training where possible.
        labels: the batches are ``(x, labels)`` pairs (for conditional models; the data must
            carry labels, see :class:`~gan_lessons.batches.BatchStream`).

    Data-parallel training: started by ``torchrun`` (see :mod:`gan_lessons.distributed`), every
    process runs :func:`fit` with ``config.batch_size`` samples per step, its slice of the same
    global batch; ``step_fn.data_parallel(wrap, shard)`` wraps each module it trains through
    in its own ``DistributedDataParallel`` (steps without that method are refused, and so is a
    step that leaves a trained parameter unwrapped). The history holds the metrics averaged over the processes; rank 0 alone writes
    the checkpoint (the plain models' weights, the same file one process writes, with the
    world size and global batch in its ``extra["distributed"]``), the snapshots, the progress
    bar, and calls ``callback``. A divergence stops every process with the same error.

    Returns:
        A :class:`TrainResult`.

    Raises:
        TrainingDivergedError: a loss or weight became NaN/Inf or blew up; the checkpoint on
            disk is left as it was.
        ValueError: bad arguments; ``checkpoint_path`` is not writable, or exists and neither
            ``resume`` nor ``overwrite`` was given.
        DataError: the data holds NaN/Inf or values outside ``data_range``.
        CheckpointLockedError: another run is writing ``checkpoint_path``.
    """
    from tqdm.auto import tqdm

    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable, got {type(step_fn).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig (e.g. GANTrainConfig), got "
                        f"{type(config).__name__}")
    models, optimizers = dict(models), dict(optimizers)
    for name, m in models.items():
        if not isinstance(m, nn.Module):
            raise TypeError(f"models[{name!r}] must be an nn.Module, got {type(m).__name__}")
    for name, opt in optimizers.items():
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizers[{name!r}] must be a torch.optim.Optimizer, got "
                            f"{type(opt).__name__}")
    path = None if checkpoint_path is None else Path(os.fspath(checkpoint_path))
    if check_bool(resume, "resume") and path is None:
        raise ValueError("resume=True needs a checkpoint_path to resume from")
    if check_bool(overwrite, "overwrite") and resume:
        raise ValueError("resume=True and overwrite=True exclude each other: resume continues "
                         "the checkpoint at checkpoint_path, overwrite starts afresh over it")
    if data_range is not None:
        if not (isinstance(data_range, tuple | list) and len(data_range) == 2):
            raise TypeError(f"data_range must be a pair (low, high), got {data_range!r}")
        data_range = (check_float(data_range[0], "data_range[0]"),
                      check_float(data_range[1], "data_range[1]", data_range[0]))
    check_int(callback_every, "callback_every", minimum=1)
    check_int(log_every, "log_every", minimum=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    device = get_device(device) if device is None else torch.device(device)
    ctx = distributed.init()  # None: one process (no torchrun)
    if ctx is not None and ctx.backend == "nccl":
        if device.type != "cuda" or device.index not in (None, ctx.local_rank):
            raise ValueError(f"device must be this process's GPU cuda:{ctx.local_rank} "
                             f"(LOCAL_RANK) when torchrun runs on CUDA, got {device}")
        device = torch.device("cuda", ctx.local_rank)
    main = distributed.is_main()
    shard = (0, 1) if ctx is None else (ctx.rank, ctx.world_size)

    with contextlib.ExitStack() as stack:
        def check_path() -> None:  # found out now, not after hours of training
            prepare_checkpoint_path(path)  # not a folder, writable (a file really created)
            stack.enter_context(checkpoint_lock(path))  # one writer at a time
            remove_stale_temporaries(path)  # of saves killed mid-write
            if path.exists() and not resume and not overwrite:
                raise ValueError(f"checkpoint_path {path} already exists; pass resume=True to "
                                 "continue it or overwrite=True to replace it (command line: "
                                 "--resume or --overwrite), or choose another path")

        if path is not None:
            distributed.on_main(check_path)  # rank 0 writes; its errors stop every process
        was_training = {name: m.training for name, m in models.items()}
        channels_last = config.channels_last
        if channels_last is None:
            channels_last = any(isinstance(layer, nn.Conv2d | nn.ConvTranspose2d)
                                for m in models.values() for layer in m.modules())
        for m in models.values():
            m.to(device)
            if channels_last:
                m.to(memory_format=torch.channels_last)
        torch.manual_seed(config.seed)

        history: dict[str, list] = {}
        snapshots: list[tuple[int, torch.Tensor]] = []
        start = 0
        rng = None
        payload = None
        if resume:  # rank 0 reads the file, every process gets its content
            payload = distributed.broadcast_object(distributed.on_main(
                lambda: load_checkpoint(path) if path.exists() else None))
        if payload is not None:
            _check_resumable(payload.get("train_config"), payload.get("train_config_class"),
                             config, path)
            start = payload["step"]
            if start > config.num_steps:
                raise ValueError(f"cannot resume from {path}: it is at step {start}, past "
                                 f"num_steps={config.num_steps}")
            _load_models(payload, models, path)
            for name, opt in optimizers.items():
                if name not in payload["optimizers"]:
                    raise ValueError(f"cannot resume from {path}: no optimizer state for "
                                     f"{name!r}")
                opt.load_state_dict(payload["optimizers"][name])
            if hasattr(step_fn, "load_state_dict") and "step_fn" in payload["extra"]:
                step_fn.load_state_dict(payload["extra"]["step_fn"])
            history = {k: list(v) for k, v in payload["history"].items()}
            snapshots = list(payload["snapshots"])
            rng = payload["rng"]
        if ctx is not None:
            _data_parallel(step_fn, models, optimizers, ctx, config.seed)

        dtype = next((p.dtype for m in models.values() for p in m.parameters()
                      if p.is_floating_point()), torch.float32)
        batches = BatchStream(data, config.batch_size, device=device, seed=config.seed,
                              start=0 if rng is None else _world_change(payload, config, path,
                                                                        shard[1]),
                              num_workers=config.num_workers, dtype=dtype,
                              channels_last=channels_last, value_range=data_range,
                              labels=check_bool(labels, "labels"), shard=shard)
        batches.check_first_batch()  # decode errors and bad values now, not at step 1
        if rng is not None:
            _restore_rng(rng, device)  # last: nothing above draws from the restored state

        state = TrainState(start, config.num_steps, config, models, optimizers, history,
                           snapshots)
        every = config.snapshot_interval

        def take_snapshot(step: int) -> None:
            if not main:
                return
            modes = {name: m.training for name, m in models.items()}
            for m in models.values():
                m.eval()
            # data-parallel: rank 0's random draws here must not part it from the others
            fork = contextlib.nullcontext() if ctx is None else torch.random.fork_rng(
                devices=[device] if device.type == "cuda" else [])
            with fork, torch.no_grad():
                sample = snapshot_fn()
            for name, m in models.items():
                m.train(modes[name])
            snapshots.append((step, sample.detach().float().cpu()))

        saved_step = start if path is not None and path.exists() and rng is not None else None

        def save(step: int) -> None:
            nonlocal saved_step
            extra = {"step_fn": step_fn.state_dict()} if hasattr(step_fn, "state_dict") else {}
            if ctx is not None:
                extra["distributed"] = {"world_size": shard[1], "batch_size": config.batch_size,
                                        "global_batch_size": shard[1] * config.batch_size}
            distributed.on_main(lambda: save_checkpoint(
                path, models, optimizers=optimizers, train_config=config, step=step,
                history=history, snapshots=snapshots, rng=_capture_rng(device, batches),
                command=command, extra=extra))
            saved_step = step

        pending: list[tuple[int, Mapping]] = []
        checked = len(history.get("step", []))
        stopped = False

        def flush() -> None:
            """Move pending metrics into the history and check losses and weights: before
            every save, so that no checkpoint is written from a run that went bad."""
            nonlocal checked
            _history_append(history, pending, parallel=ctx is not None)
            bad = _first_bad_loss(history, checked, config.max_loss)  # (step, key, value, why)
            if bad is None:
                checked = len(history.get("step", []))
                bad_weight = _bad_weight(models, config.max_weight)
                if bad_weight is not None:  # e.g. a NaN gradient behind a finite loss
                    name, value, reason = bad_weight
                    bad = (state.step, name, value, f"{reason} after the update")
            if ctx is not None and distributed.any_rank(bad is not None):  # all stop together
                bad = next(b for b in distributed.gather_object(bad) if b is not None)
            if bad is not None:
                step, key, value, reason = bad
                steps = history.get("step", [])
                keep = steps.index(step) + 1 if step in steps else len(steps)
                raise TrainingDivergedError(step, key, value,
                                            {k: v[:keep] for k, v in history.items()}, path,
                                            reason=reason, checkpoint_step=saved_step)

        for m in models.values():
            m.train()
        if ctx is not None:
            desc = (f"{desc} ({shard[1]} processes x {config.batch_size}, global batch "
                    f"{shard[1] * config.batch_size})")
        bar = tqdm(total=config.num_steps, initial=start, desc=desc,
                   disable=not progress or not main, dynamic_ncols=True)
        try:
            if start == 0 and snapshot_fn is not None and every > 0:
                take_snapshot(0)
            shown = start
            for step in range(start + 1, config.num_steps + 1):
                distributed._begin_step(step)  # keys each process's own random stream
                metrics = step_fn(batches, step)
                pending.append((step, metrics))
                state.step = step
                last = step == config.num_steps
                want_callback = callback is not None and (step % callback_every == 0 or last)
                want_save = path is not None and config.checkpoint_every > 0 and (
                    step % config.checkpoint_every == 0)
                if step % log_every == 0 or last or want_callback or want_save:
                    flush()
                    bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in history.items()
                                     if k != "step"}, refresh=False)
                    bar.update(step - shown)
                    shown = step
                if snapshot_fn is not None and every > 0 and (step % every == 0 or last):
                    take_snapshot(step)
                if want_save:
                    save(step)
                if want_callback and distributed.broadcast_object(
                        distributed.on_main(lambda: callback(state) is True)):
                    stopped = not last
                    break
            flush()
            if (snapshot_fn is not None and every > 0 and snapshots
                    and snapshots[-1][0] != state.step):
                take_snapshot(state.step)
            if path is not None and saved_step != state.step:
                save(state.step)
        finally:
            bar.close()
            for name, m in models.items():
                m.train(was_training[name])
        return TrainResult(history=history, snapshots=snapshots, models=models,
                           optimizers=optimizers, step=state.step, stopped_early=stopped,
                           checkpoint_path=path if path is not None and path.exists() else None)


_GAN_NAMES = ("GANStep", "GANTrainConfig", "make_adam", "train_gan")


def __getattr__(name: str):
    """The GAN step and :func:`train_gan` live in :mod:`gan_lessons.gan_training`; they are
    importable from here as before (lazily: that module imports this one)."""
    if name in _GAN_NAMES:
        from . import gan_training

        return getattr(gan_training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
