"""Command line: ``python -m gan_lessons train|train-ae|sample|evaluate ...``.

    python -m gan_lessons train --model mlp --data mnist --steps 3000 --out runs/mlp_mnist.pt
    python -m gan_lessons train --data ring --steps 2000 --out runs/mlp_ring.pt
    python -m gan_lessons train --model stylegan --data cifar10 --steps 5000 --out runs/sg.pt
    python -m gan_lessons train-ae --model conv_vae --data mnist --latent-dim 2 --out runs/vae.pt
    python -m gan_lessons sample --checkpoint runs/mlp_mnist.pt --num 64 --out samples.png
    python -m gan_lessons evaluate runs/mlp_mnist.pt --data mnist --num 10000

Every checkpoint records the command that produced it (``load_checkpoint(p)["meta"]["command"]``),
so a figure in the book can say exactly how to reproduce its weights. Parsing is kept apart from
the work: :func:`train_command`, :func:`train_ae_command` and :func:`sample_command` are plain
functions. A bad argument, missing or bad data, an output that cannot be written or is already
taken (another run writing it, or an old checkpoint without ``--resume``/``--overwrite``) prints
one line and exits with status 2, before any training; a diverged run exits with status 1.
Requests that cannot fit in memory (``--num``, ``--limit``, ``--image-size``) are refused with
an estimate. ``--help`` works without torch installed; the commands then say to install it.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["AE_MODELS", "MODELS", "build_parser", "command_config", "main", "recorded_command",
           "sample_command", "train_ae_command", "train_command"]

_MAX_LR = 1e6  # gan_lessons.train.MAX_LR, repeated here so that --help needs no torch


# --------------------------------------------------------------------------- memory


def _available_memory() -> int | None:
    """Bytes of memory free for a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(nbytes: float, what: str, advice: str) -> None:
    """Refuse (ValueError) a request estimated at ``nbytes`` when it exceeds half of the free
    memory, instead of ending in an allocator traceback or an OOM kill."""
    free = _available_memory()
    if free is not None and nbytes > free / 2:
        raise ValueError(f"{what} would need about {nbytes / 2**30:.3g} GiB of memory, more than "
                         f"half of the {free / 2**30:.3g} GiB free here; {advice}")


def _check_model_memory(build, *args, **kwargs) -> None:
    """Build the models on the meta device (no memory) and check that their parameters, with
    gradients and Adam's two moments, fit."""
    import torch

    with torch.device("meta"):
        built = build(*args, **kwargs)
    models = built if isinstance(built, tuple) else (built,)
    params = sum(p.numel() for m in models for p in m.parameters())
    _check_memory(params * 4 * 4, f"the models' {params:,} parameters (with gradients and "
                  "Adam's state)", "use a smaller --image-size, --width or --latent-dim")


#: ``name -> (images, channels, size)`` of the data sets that are decoded into memory.
_IN_MEMORY_SETS = {"mnist": (60_000, 1, 28), "cifar10": (50_000, 3, 32)}


# --------------------------------------------------------------------------- models


def _build_mlp(data_shape: tuple[int, ...], latent_dim: int | None, width: int | None = None,
               *, d_norm: str | None = None, num_classes: int | None = None,
               cond_discriminator: str | None = None):
    """``(generator, discriminator)``: the article's MLP for images, the toy MLP for points."""
    from .models import MLPGANConfig, build_gan

    if width is not None:
        raise ValueError("--width applies to --model dcgan and stylegan only")
    if d_norm is not None:
        raise ValueError("--d-norm applies to --model dcgan only")
    if num_classes is not None:
        raise ValueError("--conditional needs --model dcgan or stylegan (the conditional "
                         "models are convolutional)")
    if data_shape == (2,):
        config = MLPGANConfig.toy(latent_dim=latent_dim or 2)
    else:
        config = MLPGANConfig(latent_dim=latent_dim or 100, data_shape=data_shape)
    return build_gan("mlp", config)


def _build_dcgan(data_shape: tuple[int, ...], latent_dim: int | None, width: int | None = None,
                 *, d_norm: str | None = None, num_classes: int | None = None,
                 cond_discriminator: str | None = None):
    """``(generator, discriminator)``: a DCGAN for square images of a supported size; with
    ``num_classes`` the conditional DCGAN (``cond_discriminator``: projection or concat)."""
    from .models import ConditionalGANConfig, DCGANConfig, build_gan

    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ValueError(f"--model dcgan needs square images (C, S, S), got samples of shape {data_shape}")
    options = {"image_size": data_shape[1], "channels": data_shape[0],
               "latent_dim": latent_dim or 100, "width": width or 64, "d_norm": d_norm or "batch"}
    if num_classes is None:
        return build_gan("dcgan", DCGANConfig(**options))
    return build_gan("conditional", ConditionalGANConfig(
        **options, num_classes=num_classes, discriminator=cond_discriminator or "projection"))


def _build_stylegan(data_shape: tuple[int, ...], latent_dim: int | None,
                    width: int | None = None, *, d_norm: str | None = None,
                    num_classes: int | None = None, cond_discriminator: str | None = None):
    """``(generator, discriminator)``: a StyleGAN2 for square images of a supported size
    (``--latent-dim`` is ``z_dim``, ``--width`` the channels at the image resolution); with
    ``num_classes`` the conditional one (label embedding in the mapping network, projection
    in the discriminator)."""
    from .models import StyleGANConfig, build_gan

    if d_norm is not None:
        raise ValueError("--d-norm applies to --model dcgan only (the StyleGAN discriminator "
                         "has no normalisation layers)")
    if cond_discriminator is not None:
        raise ValueError("--cond-discriminator applies to --model dcgan only (a conditional "
                         "StyleGAN discriminator always projects the label)")
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ValueError(f"--model stylegan needs square images (C, S, S), got samples of "
                         f"shape {data_shape}")
    options = {"z_dim": latent_dim, "width": width, "num_classes": num_classes}
    return build_gan("stylegan", StyleGANConfig(
        image_size=data_shape[1], channels=data_shape[0],
        **{key: value for key, value in options.items() if value is not None}))


MODELS: dict[str, Callable] = {"mlp": _build_mlp, "dcgan": _build_dcgan,
                               "stylegan": _build_stylegan}
"""``--model`` choices: ``name -> build(data_shape, latent_dim, width, **options) ->
(generator, discriminator)`` (options: ``d_norm``, ``num_classes``, ``cond_discriminator``)."""


def _build_autoencoder(family: str):
    def build(data_shape: tuple[int, ...], latent_dim: int | None, width: int | None = None):
        from .models import ConvAutoencoderConfig, MLPAutoencoderConfig, build_model

        if len(data_shape) != 3:
            raise ValueError(f"--data must be an image data set for train-ae, got samples of "
                             f"shape {data_shape}")
        if family == "mlp_ae":
            if width is not None:
                raise ValueError("--width applies to --model conv_ae and conv_vae only")
            config = MLPAutoencoderConfig(data_shape=data_shape, latent_dim=latent_dim or 2)
        else:
            if data_shape[1] != data_shape[2]:
                raise ValueError(f"--model {family} needs square images (C, S, S), got samples "
                                 f"of shape {data_shape}")
            config = ConvAutoencoderConfig(image_size=data_shape[1], channels=data_shape[0],
                                           width=width or 32, latent_dim=latent_dim or 2)
        return build_model(family, "autoencoder", config)

    return build


AE_MODELS: dict[str, Callable] = {name: _build_autoencoder(name)
                                  for name in ("mlp_ae", "conv_ae", "conv_vae")}
"""``train-ae --model`` choices: ``name -> build(data_shape, latent_dim, width) -> autoencoder``."""


# --------------------------------------------------------------------------- commands


def _load_data(data: str, *, data_root: str | None, limit: int | None, image_size: int | None,
               seed: int, batch_size: int = 64):
    """A toy set's points ``(N, 2)``, or an image data set (decoded into memory when limited).
    What would not fit in memory is refused before it is allocated."""
    from .data import (
        DATASETS,
        TOY_DATASETS,
        TensorImageDataset,
        as_tensor_dataset,
        load_dataset,
        named_set,
        toy_dataset,
    )

    name = named_set(data)
    if name in TOY_DATASETS:
        n = limit or 10_000
        _check_memory(n * 2 * 4 * 4, f"--limit {n} points", "use a smaller --limit")
        return toy_dataset(name, n=n, seed=seed)
    if name is None and not Path(data).expanduser().is_dir():
        raise ValueError(f"--data must be one of {', '.join(TOY_DATASETS + DATASETS)} or a "
                         f"folder of images, got {data!r} (no folder "
                         f"{Path(data).expanduser().absolute()})")
    known = _IN_MEMORY_SETS.get(name or "")
    if known is not None:  # decoded whole (float32), then the --limit subset copied
        n, channels, size = known
        size = image_size or size
        _check_memory(n * channels * size * size * 4 * (2 if limit else 1),
                      f"{n} {data} images of {size} x {size}", "use a smaller --image-size")
    elif image_size is not None:
        _check_memory(batch_size * 3 * image_size * image_size * 4 * 8,
                      f"batches of {batch_size} images of {image_size} x {image_size}",
                      "use a smaller --image-size or --batch-size")
    dataset = load_dataset(data, root=data_root, image_size=image_size)
    if limit is not None or isinstance(dataset, TensorImageDataset):
        if not isinstance(dataset, TensorImageDataset):  # a folder, decoded into memory
            n = min(limit or len(dataset), len(dataset))
            channels, *hw = dataset[0][0].shape
            _check_memory(n * channels * hw[0] * hw[1] * 4 * 2,
                          f"--limit {n} images of {hw[0]} x {hw[1]}",
                          "use a smaller --limit or --image-size")
        dataset = as_tensor_dataset(dataset, limit, progress=False, seed=seed)
    return dataset


def _check_out(out, resume: bool, overwrite: bool) -> None:
    """Before the data is loaded: the checkpoint path must be writable, and an existing file is
    replaced only with ``--overwrite`` (``train_gan`` checks again under its lock)."""
    from .checkpoints import prepare_checkpoint_path

    if resume and overwrite:
        raise ValueError("--resume and --overwrite exclude each other: --resume continues the "
                         "checkpoint at --out, --overwrite starts afresh over it")
    prepare_checkpoint_path(out)
    if Path(out).exists() and not resume and not overwrite:
        raise ValueError(f"--out {out} already exists; pass --resume to continue that run or "
                         "--overwrite to replace it, or choose another --out")


def recorded_command(subcommand: str, options: Sequence[tuple[str, object]]) -> str:
    """``python -m gan_lessons SUBCOMMAND --option value ...`` with every option spelled out,
    so that a checkpoint's command reproduces it even after a default changes. ``None`` values
    are left out; ``True``/``False`` become ``--flag``/``--no-flag``; a tuple, several words."""
    words = ["python", "-m", "gan_lessons", subcommand]
    for flag, value in options:
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag.removeprefix("--"))
        elif isinstance(value, tuple | list):
            words += [flag, *(_word(v) for v in value)]
        elif value is not None:
            words += [flag, _word(value)]
    return shlex.join(words)


def _word(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _resolved_model_options(model, dataset, data: str, limit: int | None,
                            has_width: bool) -> list[tuple[str, object]]:
    """``--latent-dim``, ``--width`` and ``--limit`` as this run resolved them."""
    from .data import TOY_DATASETS, named_set
    from .models import describe_model

    config = (describe_model(model) or {}).get("config", {})
    toy = named_set(data) in TOY_DATASETS
    return [("--latent-dim", model.latent_dim),
            ("--width", config.get("width") if has_width else None),
            ("--limit", len(dataset) if toy else limit)]


def _run_options(*, seed, data_root, image_size, device, checkpoint_every, resume, overwrite,
                 amp, workers, progress, channels_last) -> list[tuple[str, object]]:
    """The options of :func:`_add_run_options` as ``(flag, value)`` pairs (flags without a
    ``--no-`` form only when set). ``--channels-last`` is left out when not given: its default
    (on for convolutional models) is a memory layout, stored as ``None`` in the config."""
    return [("--seed", seed), ("--data-root", data_root), ("--image-size", image_size),
            ("--device", device), ("--checkpoint-every", checkpoint_every),
            ("--resume", True if resume else None), ("--overwrite", True if overwrite else None),
            ("--amp", amp), ("--channels-last", channels_last), ("--workers", workers),
            ("--quiet", None if progress else True)]


#: ``train`` options of --model stylegan only -> their StyleGANTrainConfig fields
_STYLEGAN_OPTIONS = {"--style-mixing": "style_mixing_prob", "--r1-interval": "r1_interval",
                     "--pl-weight": "pl_weight", "--pl-interval": "pl_interval"}


def _gan_config(*, steps, batch_size, d_steps, generator_loss, seed, checkpoint_every, amp,
                workers, channels_last, reuse_fakes, fused_adam, model="mlp", lr=None,
                betas=None, gp_weight=0.0, r1_gamma=None, clip_value=None, ema_decay=None,
                conditional=False, style_mixing=None, r1_interval=None, pl_weight=None,
                pl_interval=None):
    """The training config of ``train``'s options: a
    :class:`~gan_lessons.gan_training.GANTrainConfig`, or for ``model="stylegan"`` a
    :class:`~gan_lessons.stylegan_training.StyleGANTrainConfig`. ``None`` (``lr``, ``betas``,
    ``r1_gamma``, ``ema_decay`` and the stylegan options): that config's default."""
    from .gan_training import GANTrainConfig

    stylegan = dict(zip(_STYLEGAN_OPTIONS.values(),
                        (style_mixing, r1_interval, pl_weight, pl_interval), strict=True))
    if model == "stylegan":
        from .stylegan_training import StyleGANTrainConfig as config_class
    else:
        config_class = GANTrainConfig
        for flag, field in _STYLEGAN_OPTIONS.items():
            if stylegan.pop(field) is not None:
                raise ValueError(f"{flag} applies to --model stylegan only")
    optional = {"lr_g": lr, "lr_d": lr, "betas": None if betas is None else tuple(betas),
                "r1_gamma": r1_gamma, "ema_decay": ema_decay, **stylegan}
    return config_class(num_steps=steps, batch_size=batch_size, d_steps=d_steps,
                        generator_loss=generator_loss, seed=seed,
                        checkpoint_every=checkpoint_every, amp=amp, num_workers=workers,
                        channels_last=channels_last, reuse_fakes=reuse_fakes,
                        fused_adam=fused_adam, gp_weight=gp_weight, clip_value=clip_value,
                        conditional=conditional,
                        **{key: value for key, value in optional.items() if value is not None})


#: ``--loss`` presets: the paper's settings of each game (explicit options override them)
GAMES: dict[str, dict[str, object]] = {
    "non-saturating": {"generator_loss": "non_saturating"},
    "minimax": {"generator_loss": "minimax"},
    # Arjovsky et al. 2017: clip 0.01, 5 critic steps, lr 5e-5 (they used RMSProp; Adam here)
    "wgan": {"generator_loss": "wgan", "clip_value": 0.01, "d_steps": 5, "lr": 5e-5},
    # Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam(1e-4, (0, 0.9))
    "wgan-gp": {"generator_loss": "wgan", "gp_weight": 10.0, "d_steps": 5, "lr": 1e-4,
                "betas": (0.0, 0.9)},
    "hinge": {"generator_loss": "hinge"},
    "least-squares": {"generator_loss": "least_squares"},
}
#: ``None``: the config's default (GANTrainConfig's 2e-4 and (0.5, 0.999); StyleGAN's own)
_GAME_DEFAULTS = {"generator_loss": "non_saturating", "lr": None, "d_steps": 1, "betas": None,
                  "gp_weight": 0.0, "clip_value": None}


def _game_options(args: argparse.Namespace) -> dict[str, object]:
    """``generator_loss, lr, d_steps, betas, gp_weight, clip_value`` of parsed ``train``
    options: the defaults, then the ``--loss`` preset, then what was given explicitly.
    ``--model stylegan`` plays the non-saturating game only."""
    if args.model == "stylegan" and args.loss not in (None, "non-saturating"):
        raise ValueError(f"--loss {args.loss} does not apply to --model stylegan, which trains "
                         "StyleGAN2's non-saturating game (with lazy R1) only")
    options = {**_GAME_DEFAULTS, **GAMES.get(args.loss or "non-saturating", {})}
    for key in _GAME_DEFAULTS:
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if options["betas"] is not None:
        options["betas"] = tuple(options["betas"])
    return options


def _stylegan_options(args: argparse.Namespace) -> dict[str, object]:
    """``style_mixing, r1_interval, pl_weight, pl_interval`` of parsed ``train`` options."""
    return {"style_mixing": args.style_mixing, "r1_interval": args.r1_interval,
            "pl_weight": args.pl_weight, "pl_interval": args.pl_interval}


def _ae_config(*, steps, batch_size, lr, beta, reconstruction, seed, checkpoint_every, amp,
               workers, channels_last):
    """The :class:`~gan_lessons.train_autoencoder.AETrainConfig` of ``train-ae``'s options."""
    from .train_autoencoder import AETrainConfig

    return AETrainConfig(num_steps=steps, batch_size=batch_size, lr=lr, beta=beta,
                         reconstruction=reconstruction, seed=seed,
                         checkpoint_every=checkpoint_every, amp=amp, num_workers=workers,
                         channels_last=channels_last)


def command_config(command: str):
    """The training config that a recorded command line (a checkpoint's ``meta["command"]``,
    ``python -m gan_lessons train ...`` or ``train-ae ...``) trains with: a
    :class:`~gan_lessons.train.GANTrainConfig` (a
    :class:`~gan_lessons.stylegan_training.StyleGANTrainConfig` for ``--model stylegan``) or an
    :class:`~gan_lessons.train_autoencoder.AETrainConfig`, built as the command would build it.

    >>> command_config("python -m gan_lessons train --data ring --steps 5").num_steps
    5
    """
    if not isinstance(command, str):
        raise TypeError(f"command must be a str, got {type(command).__name__}")
    words = shlex.split(command)
    if words[:3] != ["python", "-m", "gan_lessons"] or words[3:4] not in (["train"],
                                                                          ["train-ae"]):
        raise ValueError("command must start with 'python -m gan_lessons train' or "
                         f"'python -m gan_lessons train-ae', got {command!r}")
    try:
        args = build_parser().parse_args(words[3:])
    except SystemExit:
        raise ValueError(f"command does not parse: {command!r}") from None
    common = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
              "seed": args.seed, "checkpoint_every": args.checkpoint_every, "amp": args.amp,
              "workers": args.workers, "channels_last": args.channels_last}
    if args.command == "train":
        game = _game_options(args)
        common["lr"] = game.pop("lr")
        return _gan_config(**common, **game, model=args.model, reuse_fakes=args.reuse_fakes,
                           fused_adam=args.fused_adam, r1_gamma=args.r1_gamma,
                           ema_decay=args.ema_decay, conditional=args.conditional,
                           **_stylegan_options(args))
    return _ae_config(**common, beta=args.beta, reconstruction=args.reconstruction)


def train_command(*, model: str = "mlp", data: str, out: str | os.PathLike, steps: int = 3000,
                  batch_size: int = 64, lr: float | None = None, d_steps: int = 1,
                  generator_loss: str = "non_saturating", seed: int = 0,
                  latent_dim: int | None = None, data_root: str | None = None,
                  limit: int | None = None, image_size: int | None = None,
                  device: str | None = None, checkpoint_every: int = 0, resume: bool = False,
                  amp: bool = False, workers: int = 0, progress: bool = True,
                  command: str | None = None, width: int | None = None,
                  channels_last: bool | None = None, reuse_fakes: bool | None = None,
                  fused_adam: bool = True, overwrite: bool = False,
                  betas: tuple[float, float] | None = None, gp_weight: float = 0.0,
                  r1_gamma: float | None = None, clip_value: float | None = None,
                  ema_decay: float | None = None, conditional: bool = False,
                  d_norm: str | None = None, cond_discriminator: str | None = None,
                  style_mixing: float | None = None, r1_interval: int | None = None,
                  pl_weight: float | None = None, pl_interval: int | None = None):
    """Train ``model`` on ``data`` and save the checkpoint at ``out``; returns the TrainResult.

    ``data`` is a toy set (``ring``, ``grid``, ``moons``, ``spiral``), ``mnist``, ``cifar10`` or a
    folder of images; ``limit`` keeps that many samples (toy sets: draws that many points, default
    10000). The models are built from the data's sample shape after seeding with ``seed``.
    ``out`` is checked first: writable, and not an existing file unless ``resume`` or
    ``overwrite``. The checkpoint records ``command``, by default the full command line of this
    run with every option spelled out (see :func:`recorded_command`). ``betas``, ``gp_weight``,
    ``r1_gamma``, ``clip_value``, ``ema_decay`` and ``conditional`` are the
    :class:`~gan_lessons.gan_training.GANTrainConfig` fields; ``conditional`` builds the
    conditional DCGAN for the data's classes (discriminator ``cond_discriminator``:
    ``projection`` or ``concat``), ``d_norm`` the DCGAN discriminator's normalisation.
    ``lr``, ``betas``, ``r1_gamma`` and ``ema_decay`` left at ``None`` take the config's
    default for the model (``lr`` 2e-4 and ``betas`` (0.5, 0.999) for mlp and dcgan).

    ``model="stylegan"`` trains a StyleGAN2 (image size from the data, ``latent_dim`` its
    ``z_dim``, ``width`` its channels at the image resolution) with
    :func:`~gan_lessons.stylegan_training.train_stylegan` and a
    :class:`~gan_lessons.stylegan_training.StyleGANTrainConfig`, whose own defaults fill
    ``None``: ``style_mixing`` (its ``style_mixing_prob``), ``r1_interval``, ``pl_weight``
    and ``pl_interval`` apply to it only.
    """
    from .batches import sample_shape
    from .device import seed_everything
    from .gan_training import train_gan

    if model not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}, got {model!r}")
    config = _gan_config(steps=steps, batch_size=batch_size, lr=lr, d_steps=d_steps,
                         generator_loss=generator_loss, seed=seed,
                         checkpoint_every=checkpoint_every, amp=amp, workers=workers,
                         channels_last=channels_last, reuse_fakes=reuse_fakes,
                         fused_adam=fused_adam, betas=betas, gp_weight=gp_weight,
                         r1_gamma=r1_gamma, clip_value=clip_value, ema_decay=ema_decay,
                         conditional=conditional, model=model, style_mixing=style_mixing,
                         r1_interval=r1_interval, pl_weight=pl_weight,
                         pl_interval=pl_interval)
    _check_out(out, resume, overwrite)
    dataset = _load_data(data, data_root=data_root, limit=limit, image_size=image_size,
                         seed=seed, batch_size=batch_size)
    model_options = {"d_norm": d_norm, "cond_discriminator": cond_discriminator,
                     "num_classes": _classes_of(dataset, data) if conditional else None}
    _check_model_memory(MODELS[model], sample_shape(dataset), latent_dim, width,
                        **model_options)
    seed_everything(seed)
    generator, discriminator = MODELS[model](sample_shape(dataset), latent_dim, width,
                                             **model_options)
    if command is None:
        command = recorded_command("train", [
            ("--model", model), ("--data", data), ("--out", os.fspath(out)), ("--steps", steps),
            ("--batch-size", batch_size), ("--lr", config.lr_g), ("--d-steps", d_steps),
            ("--generator-loss", generator_loss), ("--betas", config.betas),
            ("--gp-weight", config.gp_weight), ("--r1-gamma", config.r1_gamma),
            ("--clip-value", clip_value), ("--ema-decay", config.ema_decay),
            # stylegan only (None for the other configs: left out)
            *((flag, getattr(config, field, None)) for flag, field in _STYLEGAN_OPTIONS.items()),
            ("--conditional", conditional),
            *_resolved_model_options(generator, dataset, data, limit,
                                     model in ("dcgan", "stylegan")),
            ("--d-norm", discriminator.config.d_norm if model == "dcgan" else None),
            ("--cond-discriminator",
             discriminator.config.discriminator if conditional and model == "dcgan" else None),
            ("--reuse-fakes", config.reuse_fakes), ("--fused-adam", fused_adam),
            *_run_options(seed=seed, data_root=data_root, image_size=image_size, device=device,
                          checkpoint_every=checkpoint_every, resume=resume,
                          overwrite=overwrite, amp=amp, workers=workers, progress=progress,
                          channels_last=channels_last)])
    if model == "stylegan":
        from .stylegan_training import train_stylegan

        train = train_stylegan
    else:
        train = train_gan
    return train(generator, discriminator, dataset, config, device=device, checkpoint_path=out,
                 resume=resume, progress=progress, command=command, overwrite=overwrite)


def _classes_of(dataset, data: str) -> int:
    """The number of classes of a conditional GAN's data, or ValueError naming --conditional."""
    from .batches import num_classes

    count = num_classes(dataset)
    if count is None or count < 2:
        raise ValueError(f"--conditional needs data with at least two classes (labels); "
                         f"{data!r} has {count or 'no'} class labels")
    return count


def train_ae_command(*, model: str = "conv_vae", data: str, out: str | os.PathLike,
                     steps: int = 3000, batch_size: int = 128, lr: float = 1e-3,
                     beta: float = 1.0, reconstruction: str = "bce", seed: int = 0,
                     latent_dim: int | None = None, width: int | None = None,
                     data_root: str | None = None, limit: int | None = None,
                     image_size: int | None = None, device: str | None = None,
                     checkpoint_every: int = 0, resume: bool = False, amp: bool = False,
                     workers: int = 0, progress: bool = True, command: str | None = None,
                     channels_last: bool | None = None, overwrite: bool = False):
    """Train an autoencoder (``mlp_ae``, ``conv_ae``) or a VAE (``conv_vae``) on the images of
    ``data`` and save the checkpoint at ``out``; returns the TrainResult.

    ``data`` is ``mnist``, ``cifar10`` or a folder of images; the model is built for its sample
    shape (latent size ``latent_dim``, default 2) after seeding with ``seed``, and trained with
    :func:`gan_lessons.train_autoencoder.train_autoencoder`.
    """
    from .batches import sample_shape
    from .data import TOY_DATASETS, named_set
    from .device import seed_everything
    from .train_autoencoder import train_autoencoder

    if model not in AE_MODELS:
        raise ValueError(f"model must be one of {tuple(AE_MODELS)}, got {model!r}")
    config = _ae_config(steps=steps, batch_size=batch_size, lr=lr, beta=beta,
                        reconstruction=reconstruction, seed=seed,
                        checkpoint_every=checkpoint_every, amp=amp, workers=workers,
                        channels_last=channels_last)
    if named_set(data) in TOY_DATASETS:
        raise ValueError(f"--data must be an image data set for train-ae (mnist, cifar10 or a "
                         f"folder of images), got the 2-D toy set {data!r}")
    _check_out(out, resume, overwrite)
    dataset = _load_data(data, data_root=data_root, limit=limit, image_size=image_size,
                         seed=seed, batch_size=batch_size)
    _check_model_memory(AE_MODELS[model], sample_shape(dataset), latent_dim, width)
    seed_everything(seed)
    autoencoder = AE_MODELS[model](sample_shape(dataset), latent_dim, width)
    if command is None:
        command = recorded_command("train-ae", [
            ("--model", model), ("--data", data), ("--out", os.fspath(out)), ("--steps", steps),
            ("--batch-size", batch_size), ("--lr", lr), ("--beta", beta),
            ("--reconstruction", reconstruction),
            *_resolved_model_options(autoencoder, dataset, data, limit, model != "mlp_ae"),
            *_run_options(seed=seed, data_root=data_root, image_size=image_size, device=device,
                          checkpoint_every=checkpoint_every, resume=resume,
                          overwrite=overwrite, amp=amp, workers=workers, progress=progress,
                          channels_last=channels_last)])
    return train_autoencoder(autoencoder, dataset, config, device=device, checkpoint_path=out,
                             resume=resume, progress=progress, command=command,
                             overwrite=overwrite)


def _scatter_png(points, title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.5, color="tab:orange")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    return fig


def sample_command(*, checkpoint: str | os.PathLike, out: str | os.PathLike = "samples.png",
                   num: int = 64, seed: int = 0, nrow: int | None = None,
                   device: str | None = None) -> Path:
    """Draw ``num`` samples from the generator in ``checkpoint`` and save them as an image.

    Images ``(C, H, W)`` become one grid (``nrow`` per row, default about square); 2-D points
    become a scatter plot. ``z`` comes from its own generator seeded with ``seed``; a conditional
    generator draws the classes 0, 1, ... in turn (one class per column with ``nrow`` set to
    the number of classes). The image is written atomically in the format ``out``'s suffix
    names (``.png``, ``.jpg`` ...); returns its path.
    """
    import torch

    from ._validate import check_int
    from .checkpoints import atomic_write, load_models
    from .device import get_device
    from .models.conditional import each_class_in_turn
    from .plotting import figure_format

    num = check_int(num, "num", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    fmt = figure_format(out, "out")  # x.jpg gets JPEG bytes; checked before any sampling
    device = get_device(device)
    models = load_models(checkpoint, device=device)
    if "generator" not in models:
        raise ValueError(f"{checkpoint} holds no model named 'generator' (it has "
                         f"{sorted(models)})")
    generator = models["generator"]
    classes = getattr(generator, "num_classes", None)  # a conditional generator: 0, 1, ...

    def drawer():
        return generator if classes is None else each_class_in_turn(generator, classes)

    with torch.no_grad():  # one sample's size, to refuse what cannot fit before drawing it all
        per_sample = drawer()(torch.zeros(1, generator.latent_dim, device=device))[0].numel()
    _check_memory(num * (generator.latent_dim + 6 * per_sample) * 4 + num * 200,
                  f"--num {num} samples", "draw fewer samples")
    z = torch.randn(num, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # in chunks, so the generator's activations stay small
        draw = drawer()
        samples = torch.cat([draw(chunk.to(device)).float().cpu()
                             for chunk in z.split(512)])  # (num, *data_shape)
    if samples.ndim == 4:
        from .plotting import image_grid

        nrow = check_int(nrow, "nrow", minimum=1) if nrow is not None else math.ceil(
            math.sqrt(num))
        fig = image_grid(samples, nrow=nrow)
    elif samples.shape[1:] == (2,):
        fig = _scatter_png(samples.numpy(), f"{num} samples")
    else:
        raise ValueError(f"cannot draw samples of shape {tuple(samples.shape[1:])}: expected "
                         "images (C, H, W) or 2-D points")
    with atomic_write(out) as f:
        fig.savefig(f, format=fmt)
    return Path(out)


# --------------------------------------------------------------------------- parsing


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit with status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _nonnegative_int(text: str) -> int:
    return 0 if text.strip() == "0" else _positive_int(text)


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _learning_rate(text: str) -> float:
    value = _positive_float(text)
    if value > _MAX_LR:
        raise argparse.ArgumentTypeError(f"expected a learning rate <= {_MAX_LR:g} (larger ones "
                                         f"overflow the optimizer's float32 arithmetic), got "
                                         f"{text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options that ``train`` and ``train-ae`` share: seeding, data, device, checkpoints."""
    parser.add_argument("--seed", type=_nonnegative_int, default=0, metavar="N",
                        help="seeds the models, the data order and the noise (default 0)")
    parser.add_argument("--data-root", metavar="DIR", help="folder holding the data sets (default "
                                            "$GAN_LESSONS_DATA, then ~/.cache/gan_lessons/data)")
    parser.add_argument("--limit", type=_positive_int, metavar="N",
                        help="use only this many training samples (toy sets: draw this many)")
    parser.add_argument("--image-size", type=_positive_int, metavar="PX",
                        help="resize (and center-crop) images to PX x PX; default: the "
                        "data's own size (mnist 28, cifar10 32, a folder: its images' size "
                        "when they all share one; else 64, with a warning)")
    parser.add_argument("--device", metavar="DEV",
                        help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--checkpoint-every", type=_nonnegative_int, default=0, metavar="N",
                        help="also save every N steps (default: only at the end)")
    parser.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing checkpoint at --out with a new run (without "
                             "it, or --resume, an existing --out is refused)")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=False,
                        help="mixed precision: CUDA, or bfloat16 on a CPU that has it natively "
                             "(default off)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="channels-last memory format (default: on for convolutional models)")
    parser.add_argument("--workers", type=_nonnegative_int, default=0, metavar="N",
                        help="DataLoader workers for image folders (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _saved_message(out: str, result) -> str:
    """``saved OUT (step N, loss_a 0.123, ...)`` from a TrainResult's last history entries."""
    last = {k: v[-1] for k, v in result.history.items() if k != "step" and v}
    losses = ", ".join(f"{k} {v:.3f}" for k, v in last.items())
    return f"saved {out} (step {result.step}{', ' + losses if losses else ''})"


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m gan_lessons`` argument parser (subcommands ``train``, ``train-ae``,
    ``sample`` and ``evaluate``)."""
    try:
        from .losses import ADVERSARIAL_LOSSES, RECONSTRUCTION_LOSSES
        from .models.dcgan import D_NORMS
    except ImportError:  # no torch: --help still works, main() then says to install it
        ADVERSARIAL_LOSSES = ("non_saturating", "minimax", "wgan", "hinge", "least_squares")
        RECONSTRUCTION_LOSSES = ("bce", "mse")
        D_NORMS = ("batch", "none", "layer", "spectral")

    parser = _Parser(prog="python -m gan_lessons",
                     description="Train the book's GANs and draw samples from checkpoints.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,train-ae,sample,evaluate}")

    train = sub.add_parser("train", help="train a GAN and save a checkpoint",
                           description="Train a GAN; the checkpoint records this command.")
    train.add_argument("--model", choices=tuple(MODELS), default="mlp", help="model family")
    train.add_argument("--data", required=True, metavar="NAME|DIR",
                       help="ring, grid, moons, spiral (2-D toy sets), mnist, cifar10, "
                            "or a folder of images")
    train.add_argument("--out", metavar="PATH", help="checkpoint path (default runs/<model>_<data>.pt)")
    train.add_argument("--steps", type=_positive_int, default=3000, metavar="N",
                       help="generator updates (default 3000)")
    train.add_argument("--batch-size", type=_positive_int, default=64, metavar="N",
                       help="samples per mini-batch (default 64)")
    train.add_argument("--loss", choices=tuple(GAMES),
                       help="the game, with its paper's settings (wgan: clip 0.01, 5 critic "
                            "steps, lr 5e-5; wgan-gp: lambda 10, 5 critic steps, lr 1e-4, "
                            "betas 0 0.9); the options below override them (default "
                            "non-saturating)")
    train.add_argument("--lr", type=_learning_rate, metavar="LR",
                       help="Adam learning rate of both networks (default 2e-4; stylegan "
                            "2e-3)")
    train.add_argument("--betas", type=_unit_float, nargs=2, metavar=("B1", "B2"),
                       help="Adam's betas (default 0.5 0.999; stylegan 0 0.99)")
    train.add_argument("--d-steps", type=_positive_int, metavar="K",
                       help="discriminator (critic) updates per generator update (default 1)")
    train.add_argument("--generator-loss", choices=tuple(ADVERSARIAL_LOSSES),
                       help="the game by its generator loss (default non_saturating)")
    train.add_argument("--gp-weight", type=_nonnegative_float, metavar="LAMBDA",
                       help="weight of the WGAN-GP gradient penalty (default 0: none)")
    train.add_argument("--r1-gamma", type=_nonnegative_float, metavar="GAMMA",
                       help="weight gamma of the R1 penalty, applied as gamma/2 (default 0; "
                            "stylegan 0.1, applied lazily)")
    train.add_argument("--clip-value", type=_positive_float, metavar="C",
                       help="clip the critic's weights to [-C, C] (the original WGAN)")
    train.add_argument("--ema-decay", type=_unit_float, metavar="D",
                       help="keep a moving average of the generator's weights (e.g. 0.999; "
                            "default: none; stylegan 0.999)")
    train.add_argument("--style-mixing", type=_probability, metavar="P",
                       help="stylegan: probability that a batch of fakes mixes two styles "
                            "(default 0.9)")
    train.add_argument("--r1-interval", type=_positive_int, metavar="K",
                       help="stylegan: lazy R1, applied every K steps with its weight times K "
                            "(default 16)")
    train.add_argument("--pl-weight", type=_nonnegative_float, metavar="W",
                       help="stylegan: weight of the path-length penalty (default 0: off)")
    train.add_argument("--pl-interval", type=_positive_int, metavar="K",
                       help="stylegan: apply the path-length penalty every K steps (default 4)")
    train.add_argument("--conditional", action=argparse.BooleanOptionalAction, default=False,
                       help="a conditional DCGAN or StyleGAN on the data's class labels "
                            "(default off)")
    train.add_argument("--cond-discriminator", choices=("projection", "concat"),
                       help="conditional: how D sees the label (default projection)")
    train.add_argument("--d-norm", choices=tuple(D_NORMS),
                       help="dcgan: the discriminator's normalisation (default batch)")
    train.add_argument("--latent-dim", type=_positive_int, metavar="N",
                       help="length of z (default 100 for images, 2 for toy sets; stylegan "
                            "128)")
    train.add_argument("--reuse-fakes", action=argparse.BooleanOptionalAction, default=None,
                       help="the generator update reuses the discriminator update's fakes: "
                            "one generator forward less per step (default: on with --d-steps 1)")
    train.add_argument("--fused-adam", action=argparse.BooleanOptionalAction, default=True,
                       help="torch's fused Adam kernel where the device has one (default on)")
    train.add_argument("--width", type=_positive_int, metavar="N",
                       help="dcgan, stylegan: channels next to the image, doubling inwards "
                            "(default 64; stylegan 32)")
    _add_run_options(train)

    ae = sub.add_parser("train-ae", help="train an autoencoder or a VAE and save a checkpoint",
                        description="Train an autoencoder or a VAE on images; the checkpoint "
                                    "records this command.")
    ae.add_argument("--model", choices=tuple(AE_MODELS), default="conv_vae",
                    help="model family (default conv_vae)")
    ae.add_argument("--data", required=True, metavar="NAME|DIR",
                    help="mnist, cifar10, or a folder of images")
    ae.add_argument("--out", metavar="PATH", help="checkpoint path (default runs/<model>_<data>.pt)")
    ae.add_argument("--steps", type=_positive_int, default=3000, metavar="N",
                    help="optimizer steps (default 3000)")
    ae.add_argument("--batch-size", type=_positive_int, default=128, metavar="N",
                    help="images per mini-batch (default 128)")
    ae.add_argument("--lr", type=_learning_rate, default=1e-3, metavar="LR",
                    help="Adam learning rate (default 1e-3)")
    ae.add_argument("--latent-dim", type=_positive_int, metavar="N", help="length of z (default 2)")
    ae.add_argument("--width", type=_positive_int, metavar="N",
                    help="conv_ae, conv_vae: channels of the first convolution (default 32)")
    ae.add_argument("--beta", type=_nonnegative_float, default=1.0, metavar="B",
                    help="weight of the VAE's KL term (default 1)")
    ae.add_argument("--reconstruction", choices=tuple(RECONSTRUCTION_LOSSES), default="bce",
                    help="reconstruction loss (default bce)")
    _add_run_options(ae)

    sample = sub.add_parser("sample", help="draw samples from a checkpoint into a PNG",
                            description="Draw samples from a checkpoint's generator.")
    sample.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint written by train")
    sample.add_argument("--num", type=_positive_int, default=64, metavar="N",
                        help="number of samples (default 64)")
    sample.add_argument("--out", default="samples.png", metavar="PNG", help="PNG to write (default samples.png)")
    sample.add_argument("--seed", type=_nonnegative_int, default=0, metavar="N",
                        help="seed of z (default 0)")
    sample.add_argument("--nrow", type=_positive_int, metavar="N", help="images per row (default ~sqrt(num))")
    sample.add_argument("--device", metavar="DEV", help="cpu, cuda, mps (default: the best available)")

    # evaluate: the work is gan_lessons.metrics.evaluate_checkpoint
    ev = sub.add_parser("evaluate", help="score a checkpoint's generator (FID, KID, IS, PRDC)",
                        description="Score a checkpoint's generator against real data, each "
                                    "metric beside its real-vs-real reference at the same N.")
    ev.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint written by train or train-ae")
    real = ev.add_mutually_exclusive_group(required=True)
    real.add_argument("--data", metavar="NAME|DIR", help="mnist, cifar10, a 2-D toy set or a folder")
    real.add_argument("--real", metavar="DIR", help="a folder of real images")
    ev.add_argument("--num", type=_positive_int, default=10_000, metavar="N",
                    help="samples per set (default 10000)")
    ev.add_argument("--metrics", metavar="LIST", help="comma-separated fid,kid,is,prdc or "
                    "precision,recall,density,coverage (default: all the feature net supports)")
    ev.add_argument("--feature-net", metavar="NAME", help="mnist, cifar10, inception, identity "
                    "(default: the data set's classifier; identity for toy sets)")
    ev.add_argument("--model", metavar="NAME", help="the checkpoint's model to sample (default "
                    "generator; e.g. generator_ema, the moving average)")
    ev.add_argument("--batch-size", type=_positive_int, default=250, metavar="N")
    ev.add_argument("--seed", type=_nonnegative_int, default=0, metavar="N")
    ev.add_argument("--data-root", metavar="DIR", help="folder holding the data sets")
    ev.add_argument("--device", metavar="DEV", help="cpu, cuda, mps (default: the best available)")
    ev.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _device_problem(name: str) -> str | None:
    """Why ``--device name`` cannot be used here, or None."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        return f"--device must be cpu, cuda, cuda:N or mps, got {name!r}"
    if device.type == "cuda" and not torch.cuda.is_available():
        return f"--device {name}: no CUDA GPU is available on this machine"
    if device.type == "mps" and not torch.backends.mps.is_available():
        return f"--device {name}: Apple MPS is not available on this machine"
    if device.type not in ("cpu", "cuda", "mps"):
        return f"--device must be cpu, cuda, cuda:N or mps, got {name!r}"
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # never open a window from the command line
    prog = f"python -m gan_lessons {args.command}"
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        print(f"{prog}: error: PyTorch is not installed ({exc}); install it first, e.g. "
              "pip install torch torchvision", file=sys.stderr)
        return 2
    if args.device is not None:
        problem = _device_problem(args.device)
        if problem:
            print(f"{prog}: error: {problem}", file=sys.stderr)
            return 2
    from .checkpoints import CheckpointLockedError
    from .distributed import is_main
    from .train import TrainingDivergedError

    try:
        if args.command == "train":
            out = args.out or os.path.join("runs", f"{args.model}_{Path(args.data).name}.pt")
            result = train_command(
                model=args.model, data=args.data, out=out, steps=args.steps,
                batch_size=args.batch_size, **_game_options(args), r1_gamma=args.r1_gamma,
                ema_decay=args.ema_decay, conditional=args.conditional, d_norm=args.d_norm,
                cond_discriminator=args.cond_discriminator, seed=args.seed,
                latent_dim=args.latent_dim, **_stylegan_options(args),
                data_root=args.data_root, limit=args.limit, image_size=args.image_size,
                device=args.device, checkpoint_every=args.checkpoint_every, resume=args.resume,
                amp=args.amp, workers=args.workers, progress=not args.quiet,
                width=args.width, channels_last=args.channels_last, reuse_fakes=args.reuse_fakes,
                fused_adam=args.fused_adam, overwrite=args.overwrite)
            if is_main():  # under torchrun, one line from rank 0 only
                print(_saved_message(out, result))
        elif args.command == "train-ae":
            out = args.out or os.path.join("runs", f"{args.model}_{Path(args.data).name}.pt")
            result = train_ae_command(
                model=args.model, data=args.data, out=out, steps=args.steps,
                batch_size=args.batch_size, lr=args.lr, beta=args.beta,
                reconstruction=args.reconstruction, seed=args.seed, latent_dim=args.latent_dim,
                width=args.width, data_root=args.data_root, limit=args.limit,
                image_size=args.image_size, device=args.device,
                checkpoint_every=args.checkpoint_every, resume=args.resume, amp=args.amp,
                workers=args.workers, progress=not args.quiet,
                channels_last=args.channels_last, overwrite=args.overwrite)
            if is_main():  # under torchrun, one line from rank 0 only
                print(_saved_message(out, result))
        elif args.command == "evaluate":
            from .metrics import evaluate_checkpoint

            print(evaluate_checkpoint(
                args.checkpoint, args.data or args.real, device=args.device, model=args.model,
                num_samples=args.num,
                metrics=args.metrics.split(",") if args.metrics else None,
                feature_net=args.feature_net, batch_size=args.batch_size, seed=args.seed,
                data_root=args.data_root, progress=not args.quiet))
        else:
            out = sample_command(checkpoint=args.checkpoint, out=args.out, num=args.num,
                                 seed=args.seed, nrow=args.nrow, device=args.device)
            print(f"saved {out}")
    except TrainingDivergedError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError, CheckpointLockedError) as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
