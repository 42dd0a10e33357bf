"""Data-parallel training across processes started by ``torchrun`` (PyTorch's own engine).

``torchrun --nproc_per_node=N -m gan_lessons train ...`` starts ``N`` processes and tells each
its place in the environment variables ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``.
:func:`~gan_lessons.train.fit` reads them through :func:`init`: it joins the process group
(NCCL on CUDA, each process on ``cuda:LOCAL_RANK``; gloo on the CPU), wraps each trained model
in its own ``DistributedDataParallel`` (:func:`wrap`, ``broadcast_buffers=False``), and lets rank 0
alone write checkpoints, snapshots and the progress bar. Without ``torchrun`` (or with one
process) nothing here does anything: training is exactly the single-process loop.

Random numbers: the data-parallel steps draw the noise of the whole global batch in every
process (the same draws, since every process is seeded alike) and each takes its own slice, so
``N`` processes with batch ``B`` see what one process with batch ``N * B`` sees. The random
numbers drawn *inside* a wrapped model's forward pass (dropout, a VAE's sample, StyleGAN's
noise images and style mixing) come from a stream of each process's own, seeded by the run's
seed, the model's name, the rank, the step and the call (:func:`wrap`): the processes draw
independent samples, and a resumed run draws the same ones again.

BatchNorm statistics stay per process (``broadcast_buffers=False``), and rank 0's are saved.
``torch.nn.SyncBatchNorm`` would share them across processes, but it runs on CUDA only (its
forward pass refuses CPU tensors, so gloo runs cannot use it) and is not used here; on GPUs,
``nn.SyncBatchNorm.convert_sync_batchnorm(model)`` before training swaps it in.

A collective waits at most ``GAN_LESSONS_DIST_TIMEOUT`` seconds (default 600) for the other
processes, so a process that dies does not leave the others hanging for ever (``torchrun`` also
stops the rest when one fails).
"""

from __future__ import annotations

import atexit
import datetime
import hashlib
import inspect
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ._validate import check_bool

__all__ = ["DistContext", "any_rank", "barrier", "broadcast_module", "broadcast_object",
           "context", "gather_object", "init", "is_main", "on_main", "reduce_mean", "teardown",
           "world_size", "wrap"]

T = TypeVar("T")

_ENV = ("WORLD_SIZE", "RANK", "LOCAL_RANK")


@dataclass(frozen=True)
class DistContext:
    """This process's place in a data-parallel run: ``rank`` in ``0 .. world_size - 1``,
    ``local_rank`` on its machine, and the backend (``"nccl"`` or ``"gloo"``)."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        """The device of the collectives (``cuda:LOCAL_RANK`` with NCCL, else the CPU)."""
        if self.backend == "nccl":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")


_context: DistContext | None = None
_owned = False  # this module created the process group (and destroys it at exit)
# the training step under way and how many steps have begun (fit sets them): they key the
# per-process random streams of the wrapped models
_step = {"step": 0, "begun": 0}


def _env_int(name: str, minimum: int) -> int:
    raw = os.environ[name]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"the environment variable {name} must be an integer, got {raw!r}"
                         ) from None
    if value < minimum:
        raise ValueError(f"the environment variable {name} must be at least {minimum}, got "
                         f"{value}")
    return value


def _timeout() -> datetime.timedelta:
    raw = os.environ.get("GAN_LESSONS_DIST_TIMEOUT", "600")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"the environment variable GAN_LESSONS_DIST_TIMEOUT must be a positive "
                         f"number of seconds, got {raw!r}")
    return datetime.timedelta(seconds=seconds)


def init() -> DistContext | None:
    """Join the data-parallel run ``torchrun`` started, once per process; ``None`` without one.

    Reads ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; with ``WORLD_SIZE`` unset or 1 nothing
    happens. Otherwise the process group is initialised (unless the caller already did):
    NCCL when CUDA is available (and ``torch.cuda.set_device(LOCAL_RANK)``, so that
    ``torch.device("cuda")`` is this process's GPU), else gloo.
    """
    global _context, _owned
    if _context is not None:
        return _context
    if "WORLD_SIZE" not in os.environ or _env_int("WORLD_SIZE", 1) == 1:
        return None
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise ValueError(f"WORLD_SIZE is set but {missing} are not: start data-parallel "
                         "training with torchrun")
    size, rank, local = (_env_int("WORLD_SIZE", 1), _env_int("RANK", 0),
                         _env_int("LOCAL_RANK", 0))
    if rank >= size:
        raise ValueError(f"the environment variable RANK must be below WORLD_SIZE={size}, got "
                         f"{rank}")
    if dist.is_initialized():
        backend = str(dist.get_backend())
    else:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=_timeout())
        _owned = True
        atexit.register(teardown)
    _context = DistContext(rank, size, local, backend)
    return _context


def context() -> DistContext | None:
    """The run :func:`init` joined, or ``None`` (a single process)."""
    return _context


def is_main() -> bool:
    """Whether this process writes files: rank 0, or the only process."""
    return _context is None or _context.is_main


def world_size() -> int:
    """The number of processes training together (1 without ``torchrun``)."""
    return 1 if _context is None else _context.world_size


def barrier() -> None:
    """Wait until every process gets here (nothing in a single process)."""
    if _context is not None:
        dist.barrier()


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is true in any process (an all-reduce of a "stop" flag; every process
    must call it at the same point)."""
    flag = check_bool(flag, "flag")
    if _context is None:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_context.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_object(obj: T) -> T:
    """Rank 0's ``obj`` (any picklable object) in every process."""
    if _context is None:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0, device=_context.device)
    return box[0]


def gather_object(obj: T) -> list[T]:
    """Every process's ``obj`` (picklable), in rank order, in every process."""
    if _context is None:
        return [obj]
    out: list[Any] = [None] * _context.world_size
    dist.all_gather_object(out, obj)
    return out


def _shareable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling (to raise it in the other processes), else a
    ``RuntimeError`` with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def on_main(fn: Callable[[], T]) -> T | None:
    """Run ``fn()`` in rank 0 alone and return its result there (``None`` elsewhere); an
    exception it raises is raised in every process, so none is left waiting for the others.
    A single process just calls ``fn()``."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if _context is None:
        return fn()
    result, error = None, None
    if _context.is_main:
        try:
            result = fn()
        except Exception as exc:  # shared below, then raised everywhere
            error = exc
    shared = broadcast_object(None if error is None else _shareable(error))
    if error is not None:
        raise error
    if shared is not None:
        raise shared
    return result


def reduce_mean(t: torch.Tensor) -> torch.Tensor:
    """The mean of ``t`` over the processes (``t`` itself in a single process)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a tensor, got {type(t).__name__}")
    if _context is None:
        return t
    out = t.detach().to(_context.device, torch.float32).clone()
    dist.all_reduce(out)
    return (out / _context.world_size).to(t.device)


@torch.no_grad()
def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers into ``module`` in every process."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if _context is None:
        return
    for t in [*module.parameters(), *module.buffers()]:
        buf = t.detach().to(_context.device).contiguous()
        dist.broadcast(buf, src=0)
        t.copy_(buf)


def _begin_step(step: int) -> None:
    """Record that training step ``step`` starts (called by :func:`~gan_lessons.train.fit`)."""
    _step["step"] = step
    _step["begun"] += 1


def _stream_seed(*key: object) -> int:
    """A 63-bit seed that depends on every part of ``key`` (stable across runs and machines)."""
    digest = hashlib.blake2b("/".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class _ProcessRandomDDP(DistributedDataParallel):
    """``DistributedDataParallel`` whose forward pass draws its random numbers from this
    process's own stream, seeded by ``(seed, name, rank, step, call)`` and forked from torch's
    global generators (which stay as they were, equal in every process)."""

    def __init__(self, module: nn.Module, *, name: str, seed: int, **ddp_options) -> None:
        super().__init__(module, **ddp_options)
        self._stream_key = (seed, name, _context.rank)
        self._calls = (-1, 0)  # (steps begun, forward calls so far in this step)

    def forward(self, *args, **kwargs):
        begun, calls = self._calls
        calls = calls + 1 if begun == _step["begun"] else 0
        self._calls = (_step["begun"], calls)
        device = _context.device
        seed = _stream_seed(*self._stream_key, _step["step"], calls)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            # this process's CPU and GPU generators only (torch.manual_seed would also reseed
            # the other GPUs' generators, outside the fork)
            torch.default_generator.manual_seed(seed)
            if device.type == "cuda":
                index = torch.cuda.current_device() if device.index is None else device.index
                torch.cuda.default_generators[index].manual_seed(seed)
            return super().forward(*args, **kwargs)


def wrap(module: nn.Module, *, name: str = "model", seed: int = 0) -> nn.Module:
    """``module`` in a ``DistributedDataParallel`` wrapper, which averages its gradients over
    the processes in the backward pass; the module itself in a single process. The module must
    already be on this process's device.

    The wrapper does not copy rank 0's buffers at every forward pass
    (``broadcast_buffers=False``, named ``forward_sync_buffers=False`` in newer torch): each
    process keeps its own BatchNorm statistics, and two discriminator passes before one backward
    work. Its forward pass draws random numbers from a stream of this process's own, seeded by
    ``seed``, ``name``, the rank, the training step and the call (module docstring).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if _context is None:
        return module
    device_ids = [_context.local_rank] if _context.backend == "nccl" else None
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
        keep_buffers = {"forward_sync_buffers": False}  # newer torch's name (rank 0's at init)
    else:
        keep_buffers = {"broadcast_buffers": False}
    return _ProcessRandomDDP(module, name=name, seed=seed, device_ids=device_ids,
                             **keep_buffers)


def teardown() -> None:
    """Leave the process group (if :func:`init` created it); a later :func:`init` joins anew."""
    global _context, _owned
    if _owned and dist.is_initialized():
        dist.destroy_process_group()
    _context, _owned = None, False
