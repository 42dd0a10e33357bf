"""Save and load training checkpoints: weights-only, atomic, self-describing.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python containers, so it
loads with ``torch.load(weights_only=True)`` and cannot run code when opened. Besides the state
dicts it stores, for every model, its family and config (``asdict``) so that
:func:`load_models` can rebuild the models from the file alone; and, for resuming, the optimizer
states, the train config, the step, the history, the snapshots and the random number generator
states. ``meta`` records the command that produced the file, the package and torch versions and
the creation time.

Writes are atomic: the file is written to a temporary file in the same folder, flushed to disk,
and renamed over the target, so a crash mid-write leaves the previous checkpoint intact.

Layout of the dict that :func:`load_checkpoint` returns::

    {"format": "gan_lessons.checkpoint", "format_version": 1,
     "models": {name: {"family", "role", "config", "state_dict"}},
     "optimizers": {name: state_dict}, "train_config": dict | None,
     "train_config_class": str | None, "step": int, "history": {key: list},
     "snapshots": [(step, tensor), ...], "rng": dict, "extra": dict,
     "meta": {"command", "gan_lessons_version", "torch_version", "created"}}
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import re
import secrets
import shlex
import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from . import __version__
from ._validate import check_int
from .models import build_model, describe_model

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointLockedError",
    "atomic_write",
    "checkpoint_lock",
    "load_checkpoint",
    "load_gan",
    "load_models",
    "prepare_checkpoint_path",
    "remove_stale_temporaries",
    "save_checkpoint",
]

FORMAT = "gan_lessons.checkpoint"
FORMAT_VERSION = 1


def _as_path(path, name: str = "path") -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; on success rename it to ``path``.

    The data is flushed and ``fsync``-ed before ``os.replace``, so ``path`` holds either its old
    content or the complete new one, never a partial file. If the body raises, the temporary
    file is removed and ``path`` is left untouched. Missing parent folders are created.

    >>> with atomic_write("out/samples.png") as f:  # doctest: +SKIP
    ...     figure.savefig(f, format="png")
    """
    path = _as_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open honours the umask, unlike tempfile.mkstemp (which always creates mode 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX only)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class CheckpointLockedError(RuntimeError):
    """Another process (or another run in this one) is writing the same checkpoint."""


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on the open file ``fd``; False if another holds it.
    The kernel drops the lock when its holder dies, even by ``kill -9``: no stale locks."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def checkpoint_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on the checkpoint ``path`` while the body runs (training).

    The lock is ``flock`` on the file ``<path>.lock`` (which records the holder's pid and is
    removed on release). A second writer of the same path, in this process or another, gets
    :class:`CheckpointLockedError` at once, instead of two runs silently overwriting each
    other's file. A holder killed with ``kill -9`` leaves the ``.lock`` file behind but not the
    lock: the kernel releases it, and the next run takes it.

    Raises:
        CheckpointLockedError: another run holds the lock.
        ValueError: the lock file cannot be created (the folder is not writable).
    """
    path = _as_path(path)
    lock = _lock_path(path)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise ValueError(f"cannot write the checkpoint {path}: creating its lock file "
                             f"{lock} failed: {exc.strerror or exc}") from exc
        if not _try_lock(fd):
            holder = ""
            with contextlib.suppress(OSError):
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise CheckpointLockedError(
                f"another training run{who} is writing the checkpoint {path} (it holds "
                f"{lock}); wait for it to finish, or write to another path")
        try:  # the holder before us may have removed the file we opened: lock the current one
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still locked, so no other run is using this file
        os.close(fd)


def _temporaries(path: Path) -> list[Path]:
    """The temporary files that :func:`atomic_write` leaves beside ``path`` when killed."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    return []


def prepare_checkpoint_path(path: str | os.PathLike) -> None:
    """Make sure a checkpoint can be written at ``path`` *before* training for it.

    Creates missing parent folders, refuses a folder as ``path``, and really creates and removes
    a temporary file beside ``path`` (so a read-only folder or a full disk is found now, not
    after hours of training).

    Raises:
        ValueError: ``path`` is a folder, or no file can be written beside it (the message says
            why).
    """
    path = _as_path(path)
    if path.is_dir():
        raise ValueError(f"the checkpoint path {path} is a folder; give a file path such as "
                         f"{path / 'run.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"cannot write the checkpoint {path}: {exc.strerror or exc} "
                         f"({exc.filename or path.parent}); choose a writable path") from exc
    if path.exists() and not path.is_file():
        raise ValueError(f"the checkpoint path {path} exists and is not a regular file")


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files (``.<name>.<hex>.tmp``) that saves of the checkpoint ``path``
    killed mid-write (``kill -9``, power loss) left beside it, and return them. Call it while
    holding :func:`checkpoint_lock`, so that no live save's file is removed."""
    path = _as_path(path)
    stale = _temporaries(path)
    for tmp in stale:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return stale


def _non_finite(payload: Mapping[str, Any]) -> str | None:
    """Where the first NaN/Inf of the models' or optimizers' tensors is, or None."""
    sections = [("models", name, entry["state_dict"]) for name, entry in payload["models"].items()]
    sections += [("optimizers", name, state.get("state", {}))
                 for name, state in payload["optimizers"].items()]
    for section, name, tensors in sections:
        stack = list(tensors.items())
        while stack:
            key, value = stack.pop(0)
            if isinstance(value, Mapping):
                stack[:0] = [(f"{key}.{k}", v) for k, v in value.items()]
            elif (isinstance(value, torch.Tensor) and value.is_floating_point()
                  and not bool(torch.isfinite(value).all())):
                return f"{section}[{name!r}][{key!r}]"
    return None


def _describe(name: str, model) -> dict[str, Any]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"models[{name!r}] must be an nn.Module, got {type(model).__name__}")
    entry = describe_model(model) or {"family": None, "role": None, "config": None}
    return {**entry, "state_dict": model.state_dict()}


def save_checkpoint(
    path: str | os.PathLike,
    models: Mapping[str, nn.Module],
    *,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    train_config: Any = None,
    step: int = 0,
    history: Mapping[str, list] | None = None,
    snapshots: list[tuple[int, torch.Tensor]] | None = None,
    rng: Mapping[str, Any] | None = None,
    command: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint to ``path`` atomically and return the path.

    Only tensors, numbers, strings, ``None`` and lists/tuples/dicts of them may be stored, so
    the file loads with ``torch.load(weights_only=True)``.

    Args:
        path: file to write (``.pt`` by convention); parent folders are created.
        models: models by name, e.g. ``{"generator": g, "discriminator": d}``. Models of a
            registered family (see :mod:`gan_lessons.models`) are stored with their family and
            config, so :func:`load_models` can rebuild them; any other ``nn.Module`` is stored
            by its state dict only.
        optimizers: optimizers by name (usually the same names as ``models``).
        train_config: the training config dataclass (stored as ``asdict``) or a dict.
        step: number of completed training steps.
        history: per-step training history (dict of lists of numbers).
        snapshots: ``(step, samples)`` pairs; the tensors are stored on the CPU.
        rng: random number generator states (tensors and ints).
        command: the command line that produced the checkpoint; default ``shlex.join(sys.argv)``.
        extra: anything else made of tensors and plain containers.

    Raises:
        ValueError: a model's weights or an optimizer's state hold NaN or Inf: nothing is
            written, and a file already at ``path`` keeps what it held (a good checkpoint is
            never replaced by a broken one).
    """
    path = _as_path(path)
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty dict of name -> nn.Module, "
                        f"got {type(models).__name__}")
    optimizers = {} if optimizers is None else optimizers
    if not isinstance(optimizers, Mapping):
        raise TypeError(f"optimizers must be a dict of name -> Optimizer, got "
                        f"{type(optimizers).__name__}")
    if train_config is not None and not (is_dataclass(train_config) or isinstance(train_config,
                                                                                  Mapping)):
        raise TypeError(f"train_config must be a dataclass or a dict, got "
                        f"{type(train_config).__name__}")
    if command is not None and not isinstance(command, str):
        raise TypeError(f"command must be a str, got {type(command).__name__}")
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "models": {name: _describe(name, m) for name, m in models.items()},
        "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
        "train_config": (asdict(train_config) if is_dataclass(train_config)
                         else None if train_config is None else dict(train_config)),
        "train_config_class": (type(train_config).__name__ if is_dataclass(train_config)
                               else None),
        "step": check_int(step, "step", minimum=0),
        "history": {k: list(v) for k, v in (history or {}).items()},
        "snapshots": [(int(s), x.detach().cpu()) for s, x in (snapshots or [])],
        "rng": dict(rng or {}),
        "extra": dict(extra or {}),
        "meta": {
            "command": shlex.join(sys.argv) if command is None else command,
            "gan_lessons_version": __version__,
            "torch_version": str(torch.__version__),  # TorchVersion would need unpickling
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    }
    _check_plain(payload, "checkpoint")
    bad = _non_finite(payload)
    if bad is not None:
        kept = (f"{path} was left as it was" if path.exists() else f"no file was written at "
                f"{path}")
        raise ValueError(f"refusing to save a broken checkpoint: {bad} holds NaN or Inf values; "
                         f"{kept}")
    with atomic_write(path) as f:
        torch.save(payload, f)
    return path


_PLAIN = (str, int, float, bool, type(None), torch.Size, torch.dtype)


def _check_plain(obj, where: str) -> None:
    """Refuse anything ``torch.load(weights_only=True)`` would refuse, naming where it is."""
    if isinstance(obj, torch.Tensor) or type(obj) in _PLAIN:
        return
    if type(obj) in (dict, OrderedDict):
        for key, value in obj.items():
            if type(key) not in _PLAIN:
                raise TypeError(f"{where} has a key of type {type(key).__name__}; a checkpoint "
                                "may hold only tensors, numbers, strings and lists/dicts of them")
            _check_plain(value, f"{where}[{key!r}]")
        return
    if type(obj) in (list, tuple):
        for i, value in enumerate(obj):
            _check_plain(value, f"{where}[{i}]")
        return
    raise TypeError(f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}; a checkpoint "
                    "may hold only tensors, numbers, strings and lists/tuples/dicts of them "
                    "(so that it loads with torch.load(weights_only=True))")


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``, never pickle).

    Args:
        path: the checkpoint file.
        map_location: where to put the tensors, as for ``torch.load`` (default the CPU).

    Returns:
        The checkpoint dict (layout in the module docstring).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file holds pickled Python objects (refused: unpickling can run code),
            is not a readable torch file, or is not a ``gan_lessons`` checkpoint.
    """
    path = _as_path(path)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "no checkpoint file at this path", str(path))
    with open(path, "rb") as f:
        head = f.read(16)
    if not head.startswith((b"PK\x03\x04", b"\x80")):  # torch.save's zip, or a pickle
        kind = ("a text file (JSON?)" if head.lstrip()[:1] in (b"{", b"[")
                else "an empty file" if not head else "neither a zip archive nor a pickle")
        raise ValueError(f"{path} is not a checkpoint, nor any PyTorch file: it is {kind} "
                         f"(it starts with {head!r})")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f" (it references {found.group(1)})" if found else ""
        raise ValueError(
            f"refusing to load {path}: it contains pickled Python objects{what}, not just "
            "tensors and plain containers, and unpickling them could run arbitrary code. "
            "gan_lessons loads checkpoints with torch.load(weights_only=True) only. If you "
            "wrote this file and trust it, load it with torch.load(path, weights_only=False) "
            "yourself and re-save what you need with save_checkpoint") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is not a readable PyTorch file (truncated or corrupt?): "
                         f"{exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is a PyTorch file but not a gan_lessons checkpoint (no "
                         f"'format': {FORMAT!r} entry); load it with torch.load instead")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} has checkpoint format version {version!r}; this gan_lessons "
                         f"{__version__} reads versions up to {FORMAT_VERSION}: upgrade it")
    _check_layout(payload, path)
    return payload


_LAYOUT = {"models": dict, "optimizers": dict, "step": int, "history": dict,
           "snapshots": list, "rng": dict, "extra": dict, "meta": dict}


def _check_layout(payload: Mapping[str, Any], path: Path) -> None:
    """Refuse a file with the format marker whose entries are missing or of the wrong kind."""
    for key, kind in _LAYOUT.items():
        if not isinstance(payload.get(key), kind):
            found = "no" if key not in payload else f"a {type(payload[key]).__name__} as"
            raise ValueError(f"{path} is a damaged gan_lessons checkpoint: it has {found} "
                             f"{key!r} entry (expected a {kind.__name__})")
    for name, entry in payload["models"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("state_dict"), dict)):
            raise ValueError(f"{path} is a damaged gan_lessons checkpoint: its model {name!r} "
                             "has no 'state_dict'")


def _rebuild(payload: Mapping[str, Any], names, path, device) -> dict[str, nn.Module]:
    models = {}
    for name in names:
        entry = payload["models"][name]
        if entry.get("family") is None:
            raise ValueError(f"model {name!r} in {path} was saved from a class that is not a "
                             "registered model family, so it cannot be rebuilt from the file; "
                             "build it yourself and load load_checkpoint(path)['models']"
                             f"[{name!r}]['state_dict']")
        model = build_model(entry["family"], entry["role"], entry["config"])
        model.load_state_dict(entry["state_dict"])
        models[name] = model.to(device).eval()
    return models


def load_models(path: str | os.PathLike, *,
                device: str | torch.device = "cpu") -> dict[str, nn.Module]:
    """Rebuild every model stored in the checkpoint at ``path``, weights loaded, in eval mode.

    Returns:
        Models by the names they were saved under, e.g. ``{"generator": g, "discriminator": d}``
        (for a GAN, :func:`load_gan` returns the pair directly).

    Raises:
        ValueError: a model was saved from a class that is not a registered family, so the file
            has no recipe to rebuild it; build it yourself and load
            ``load_checkpoint(path)["models"][name]["state_dict"]``.
    """
    payload = load_checkpoint(path)
    return _rebuild(payload, list(payload["models"]), path, device)


def load_gan(path: str | os.PathLike, *,
             device: str | torch.device = "cpu") -> tuple[nn.Module, nn.Module]:
    """``(generator, discriminator)`` rebuilt from the checkpoint at ``path``, in eval mode.

    >>> generator, discriminator = load_gan("runs/mlp_mnist.pt")  # doctest: +SKIP
    """
    payload = load_checkpoint(path)
    if not {"generator", "discriminator"} <= set(payload["models"]):
        raise ValueError(f"{path} holds models {sorted(payload['models'])}, not a generator and "
                         "a discriminator; use load_models")
    models = _rebuild(payload, ("generator", "discriminator"), path, device)
    return models["generator"], models["discriminator"]
