"""GAN Lessons: the package behind the book.

Import the submodule you need, e.g. ``from gan_lessons import conv`` (numpy only) or
``from gan_lessons.models import MLPGenerator``. Importing ``gan_lessons`` itself is cheap:
it imports neither torch nor matplotlib, seeds nothing and writes nothing. A submodule is
also loaded on first use as an attribute: ``import gan_lessons; gan_lessons.data`` works.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)

SUBMODULES = (
    "augmentation", "batches", "browser_widget", "check", "checkpoints", "conv", "data", "degradations", "device",
    "diagrams", "distributed", "divergences", "export", "feature_nets", "gan_training", "image_metrics", "inversion",
    "latent", "losses", "metrics", "models", "neighbours", "path_length", "pix2pix_tasks",
    "pix2pix_training", "plotting", "precision", "pretrained", "progressive", "restoration",
    "source", "stylegan_training", "super_resolution", "train", "train_autoencoder",
    "wasserstein", "widgets",
)
"""The public submodules, loaded lazily by attribute access."""


def __getattr__(name: str):
    """``gan_lessons.<submodule>``: import it on first use (PEP 562)."""
    if name in SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module  # later lookups skip this function
        return module
    raise AttributeError(f"module 'gan_lessons' has no attribute {name!r}; its submodules are "
                         f"{', '.join(SUBMODULES)}")


def __dir__() -> list[str]:
    return sorted({*globals(), *SUBMODULES})
