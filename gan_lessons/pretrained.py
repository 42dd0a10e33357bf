"""Small pretrained checkpoints shipped with the package, verified by SHA-256 before loading.

The book's heavy results come from checkpoints that one documented command reproduces
(``scripts/make_pretrained.sh``). They live in ``gan_lessons/pretrained/`` beside
``registry.json``, which records for each name its file, SHA-256, size, training steps and the
command that trained it::

    >>> from gan_lessons.pretrained import load_pretrained, pretrained_checkpoint
    >>> models = load_pretrained("mlp_mnist")                # doctest: +SKIP
    >>> x_fake = models["generator"](torch.randn(16, 100))  # (16, 1, 28, 28) in [-1, 1]
    >>> history = pretrained_checkpoint("mlp_mnist")["history"]

Bundled files are *compact* copies of what ``python -m gan_lessons train`` writes
(:func:`compact_checkpoint`): weights and snapshots in float16 (upcast to float32 when loaded),
no optimizer or random-number states, so they cannot be resumed, only used.

Command line (what ``scripts/make_pretrained.sh`` calls)::

    python -m gan_lessons.pretrained register NAME TRAINED.pt [--train-seconds S]
    python -m gan_lessons.pretrained verify

Importing this module reads no file; the registry is read when a function needs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import atomic_write, load_checkpoint, load_models

__all__ = [
    "PRETRAINED_DIR",
    "REGISTRY_FILE",
    "compact_checkpoint",
    "load_pretrained",
    "pretrained_checkpoint",
    "pretrained_info",
    "pretrained_names",
    "pretrained_path",
    "register",
    "sha256_file",
]

PRETRAINED_DIR = Path(__file__).resolve().with_name("pretrained")
"""The folder of the bundled checkpoint files."""

REGISTRY_FILE = PRETRAINED_DIR / "registry.json"
"""``{name: {"file", "sha256", "bytes", "steps", "command", ...}}`` for every bundled file."""

def _rebuild_advice() -> str:
    """How to get the bundled files back: the script in a source checkout, else reinstall."""
    script = PRETRAINED_DIR.parent.parent / "scripts" / "make_pretrained.sh"
    if script.is_file():
        return (f"run {script} to rebuild the bundled files and their checksums (or restore "
                f"them with git checkout)")
    return ("reinstall the package to restore them: pip install --force-reinstall gan_lessons "
            "(or from its source folder, pip install --force-reinstall .)")


def _registry() -> dict[str, dict[str, Any]]:
    with open(REGISTRY_FILE, encoding="utf-8") as f:
        return json.load(f)


def pretrained_names() -> tuple[str, ...]:
    """Names of the bundled checkpoints, e.g. ``("mlp_mnist",)``."""
    return tuple(sorted(_registry()))


def pretrained_info(name: str) -> dict[str, Any]:
    """The registry entry of ``name``: ``file``, ``sha256``, ``bytes``, ``steps``, ``command``,
    ``description`` and, when recorded, ``train_seconds`` (a copy; changing it changes nothing).

    Raises:
        ValueError: ``name`` is not bundled (the message lists the names that are).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    registry = _registry()
    if name not in registry:
        raise ValueError(f"name must be one of the bundled checkpoints {tuple(sorted(registry))}, "
                         f"got {name!r}")
    return dict(registry[name])


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of the file at ``path`` as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pretrained_path(name: str, *, directory: str | os.PathLike | None = None) -> Path:
    """The path of the bundled checkpoint ``name``, after checking its SHA-256.

    Args:
        name: a name from :func:`pretrained_names`.
        directory: look for the file here instead of the package's ``pretrained/`` folder (a
            downloaded or copied set of files); the checksum still comes from the registry.

    Raises:
        ValueError: unknown ``name``, or the file's SHA-256 differs from the registry's (the
            message names the file and both hashes): a truncated, edited or mixed-up file is
            never loaded.
        FileNotFoundError: the file is missing.
    """
    info = pretrained_info(name)
    folder = PRETRAINED_DIR if directory is None else Path(os.fspath(directory))
    path = folder / info["file"]
    if not path.is_file():
        raise FileNotFoundError(f"the pretrained checkpoint {name!r} should be at {path}, but "
                                f"there is no such file; {_rebuild_advice()}")
    actual = sha256_file(path)
    if actual != info["sha256"]:
        raise ValueError(f"checksum mismatch for {path}: expected sha256 {info['sha256']} (from "
                         f"{REGISTRY_FILE.name}), got {actual}. The file is corrupt or not the "
                         f"one the registry describes; {_rebuild_advice()}")
    return path


def pretrained_checkpoint(name: str, *,
                          directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """The whole checkpoint dict of ``name`` (checksum verified, ``weights_only`` load):
    ``"history"``, ``"snapshots"`` (float32), ``"meta"["command"]``, ``"models"`` ...
    (layout in :mod:`gan_lessons.checkpoints`)."""
    payload = load_checkpoint(pretrained_path(name, directory=directory))
    payload["snapshots"] = [(step, x.float()) for step, x in payload["snapshots"]]
    return payload


def load_pretrained(name: str, *, device: str | torch.device = "cpu",
                    directory: str | os.PathLike | None = None) -> dict[str, nn.Module]:
    """The models of the bundled checkpoint ``name``, float32, in eval mode, on ``device``.

    Returns:
        Models by name, e.g. ``{"generator": g, "discriminator": d}`` for ``"mlp_mnist"``,
        ``{"classifier": net}`` for ``"feature_mnist"`` (the metrics' feature networks; see
        :func:`gan_lessons.feature_nets.load_feature_net`).
    """
    from . import feature_nets  # noqa: F401  (registers the feature classifiers' family)

    return load_models(pretrained_path(name, directory=directory), device=device)


# --------------------------------------------------------------------------- building the files


def _half(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().cpu().half()
    if isinstance(value, dict):
        return {k: _half(v) for k, v in value.items()}
    return value


def compact_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, *,
                       half: bool = True) -> Path:
    """Write a small, load-only copy of the checkpoint ``src`` to ``dst``.

    Keeps the models (family, config, weights), the history, the snapshots, the train config
    and ``meta`` (whose ``"command"`` still says how ``src`` was trained); drops the optimizer
    states, the random-number states and ``extra``, so the copy cannot resume training. With
    ``half`` the floating-point weights and snapshots are stored as float16 (half the bytes);
    ``load_state_dict`` casts them back to the float32 parameters on loading.
    """
    payload = load_checkpoint(src)
    for entry in payload["models"].values():
        entry["state_dict"] = _half(entry["state_dict"]) if half else entry["state_dict"]
    payload["snapshots"] = [(int(s), _half(x) if half else x) for s, x in payload["snapshots"]]
    payload["optimizers"], payload["rng"], payload["extra"] = {}, {}, {}
    payload["meta"] = {**payload["meta"], "compacted": "float16, no optimizer/rng state"
                       if half else "no optimizer/rng state"}
    dst = Path(os.fspath(dst))
    with atomic_write(dst) as f:
        torch.save(payload, f)
    load_checkpoint(dst)  # what was written must load weights-only
    return dst


def register(name: str, trained: str | os.PathLike, *, description: str | None = None,
             train_seconds: float | None = None, half: bool = True) -> dict[str, Any]:
    """Compact ``trained`` into ``pretrained/<name>.pt`` and record it in ``registry.json``.

    The entry's ``command`` is the training command stored in the checkpoint, ``steps`` its
    step; ``description`` and ``train_seconds`` are kept from the previous entry unless given.
    Returns the new entry.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a simple identifier such as 'mlp_mnist', got {name!r}")
    dst = compact_checkpoint(trained, PRETRAINED_DIR / f"{name}.pt", half=half)
    payload = load_checkpoint(dst)
    registry = _registry() if REGISTRY_FILE.is_file() else {}
    old = registry.get(name, {})
    entry = {
        "file": dst.name,
        "sha256": sha256_file(dst),
        "bytes": dst.stat().st_size,
        "steps": payload["step"],
        "command": payload["meta"]["command"],
        "description": description if description is not None else old.get("description", ""),
    }
    if train_seconds is not None or "train_seconds" in old:
        entry["train_seconds"] = (round(float(train_seconds)) if train_seconds is not None
                                  else old["train_seconds"])
    registry[name] = entry
    with atomic_write(REGISTRY_FILE) as f:
        f.write((json.dumps(dict(sorted(registry.items())), indent=2) + "\n").encode())
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_lessons.pretrained register|verify`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m gan_lessons.pretrained",
                                     description="Build and verify the bundled checkpoints.")
    sub = parser.add_subparsers(dest="action", required=True)
    reg = sub.add_parser("register", help="compact a trained checkpoint into the package")
    reg.add_argument("name")
    reg.add_argument("trained", help="checkpoint written by python -m gan_lessons train")
    reg.add_argument("--description")
    reg.add_argument("--train-seconds", type=float)
    reg.add_argument("--float32", action="store_true", help="keep float32 weights")
    sub.add_parser("verify", help="check every bundled file against its checksum")
    args = parser.parse_args(argv)
    if args.action == "register":
        entry = register(args.name, args.trained, description=args.description,
                         train_seconds=args.train_seconds, half=not args.float32)
        print(f"{args.name}: {entry['file']} {entry['bytes'] / 1e6:.1f} MB sha256 "
              f"{entry['sha256']}")
        return 0
    status = 0
    for name in pretrained_names():
        try:
            print(f"{name}: ok ({pretrained_path(name)})")
        except (ValueError, FileNotFoundError) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
