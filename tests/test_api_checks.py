"""Bad input to the public API: one table of (callable, kwargs, exception, message fragment).

Every invalid argument must raise ``TypeError`` or ``ValueError`` whose message names the
argument (DESIGN.md). Issue 10 found functions that errored deep inside torch, numpy or PIL
instead; each row here is one such try. ``test_every_public_callable_has_a_row`` fails when a
name is added to a module's ``__all__`` without rows here, so adding a function means adding
rows to ``BAD_INPUTS``.
"""

from __future__ import annotations

import importlib
import inspect
import re

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from gan_lessons import (
    augmentation,
    conv,
    data,
    divergences,
    gan_training,
    image_metrics,
    latent,
    losses,
    metrics,
    neighbours,
    path_length,
    plotting,
    progressive,
    stylegan_training,
    train,
    wasserstein,
    widgets,
)
from gan_lessons.models import (
    ConcatDiscriminator,
    ConditionalDiscriminator,
    ConditionalGANConfig,
    ConditionalGenerator,
    ConvAutoencoder,
    ConvAutoencoderConfig,
    ConvVAE,
    DCGANConfig,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPAutoencoder,
    MLPAutoencoderConfig,
    MLPDiscriminator,
    MLPGANConfig,
    MLPGenerator,
    ProjectionDiscriminator,
    StyleGANConfig,
    StyleGANDiscriminator,
    StyleGANGenerator,
    build_gan,
    build_model,
    describe_model,
    register_family,
)
from gan_lessons.models.conditional import check_labels, each_class_in_turn
from gan_lessons.models.dcgan import dcgan_discriminator_trunk, dcgan_start_size, spectral_normalize
from gan_lessons.models.stylegan import (
    EqualizedConv2d,
    EqualizedLinear,
    ModulatedConv2d,
    adain,
    edit_styles,
    minibatch_std,
    modulated_conv2d,
    style_mix,
)
from gan_lessons.models.summary import layer_shapes, layer_table

# modules audited, and the public names that are not callables taking user input
MODULES = ["gan_lessons.data", "gan_lessons.latent", "gan_lessons.conv", "gan_lessons.plotting",
           "gan_lessons.losses", "gan_lessons.neighbours", "gan_lessons.metrics",
           "gan_lessons.divergences", "gan_lessons.widgets", "gan_lessons.models",
           "gan_lessons.models.mlp", "gan_lessons.models.dcgan", "gan_lessons.models.autoencoder",
           "gan_lessons.models.summary", "gan_lessons.models.conditional",
           "gan_lessons.models.stylegan",
           "gan_lessons.wasserstein", "gan_lessons.gan_training", "gan_lessons.train",
           "gan_lessons.stylegan_training", "gan_lessons.progressive",
           "gan_lessons.path_length", "gan_lessons.image_metrics",
           "gan_lessons.augmentation"]
NOT_INPUT_CHECKED = {
    "BadImageError", "DatasetNotFoundError",  # exceptions
    "ELBOLoss", "ModeCoverage", "AutoencoderOutput", "ModelFamily",  # results the API returns
    "AdversarialLoss",
    "PRDC", "Score", "Evaluation", "clear_cache",  # metrics' results, and a call without input
    "PathLength",
    "TrainState", "TrainResult",  # what training hands to callbacks and returns
    "CheckpointLockedError", "DataError", "TrainingDivergedError",
}

# small models, so that the table builds in a moment
MLP = MLPGANConfig.toy(latent_dim=3)
G_MLP, D_MLP = MLPGenerator(MLP), MLPDiscriminator(MLP)
DC = DCGANConfig(image_size=16, channels=1, latent_dim=4, width=4, max_width=8)
G_DC, D_DC = DCGANGenerator(DC), DCGANDiscriminator(DC)
AE_MLP = MLPAutoencoder(MLPAutoencoderConfig(data_shape=(1, 4, 4), hidden=(8,), latent_dim=2))
AE_CONV = ConvAutoencoder(ConvAutoencoderConfig(image_size=8, width=2))
VAE = ConvVAE(ConvAutoencoderConfig(image_size=8, width=2))
CGAN = ConditionalGANConfig(num_classes=3, image_size=16, channels=1, latent_dim=4, width=4,
                            max_width=8)
G_C, D_CONCAT = ConditionalGenerator(CGAN), ConcatDiscriminator(CGAN)
D_PROJ = ProjectionDiscriminator(CGAN)
SG = StyleGANConfig(image_size=16, channels=1, z_dim=4, w_dim=4, width=2, max_width=4)
G_SG, D_SG = StyleGANGenerator(SG), StyleGANDiscriminator(SG)


class _Flatten(nn.Module):
    """A stand-in feature net: ``.features(images)`` is the flattened images."""

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


FEATURES_4 = _Flatten()
G_SG_C = StyleGANGenerator(StyleGANConfig(image_size=16, channels=1, z_dim=4, w_dim=4, width=2,
                                          max_width=4, num_classes=3))
WS = torch.zeros(2, SG.num_ws, 4)
Y2 = torch.tensor([0, 2])


def _decoder():
    return nn.Sequential(nn.Linear(3, 16), nn.Unflatten(1, (1, 4, 4))).eval()


def _figure():
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")  # no window, whatever the default backend
    fig = plt.figure(figsize=(1, 1))
    plt.close(fig)
    return fig


Z3 = torch.zeros(3)
IMAGES = torch.zeros(2, 1, 4, 4)
TENSOR_DS = data.TensorImageDataset(torch.zeros(3, 1, 4, 4))
POINTS = torch.zeros(5, 2)
HALF = [0.5, 0.5]
NAN = float("nan")

GAN_CONFIG = gan_training.GANTrainConfig(num_steps=1)
SG_TRAIN = stylegan_training.StyleGANTrainConfig(num_steps=1)
OPT_MLP = torch.optim.SGD(G_MLP.parameters(), lr=0.1)

BAD_INPUTS = [
    # ----------------------------------------------------------------- training
    (train.TrainConfig, {"num_steps": -1}, ValueError, "num_steps must be >= 0"),
    (train.TrainConfig, {"num_steps": 1, "batch_size": 0}, ValueError, "batch_size must be"),
    (train.BatchStream, {"data": "x", "batch_size": 4}, TypeError, "data must be a tensor"),
    (train.MixedPrecision, {"device": "gpu0"}, ValueError, "device must name a torch device"),
    (train.MixedPrecision, {"device": 0}, TypeError, "device must be a str or torch.device"),
    (train.MixedPrecision, {"device": "cpu", "enabled": "yes"}, TypeError, "enabled must be"),
    (train.fit, {"step_fn": "step", "models": {}, "optimizers": {}, "data": POINTS,
                 "config": train.TrainConfig(num_steps=1)}, TypeError, "step_fn must be callable"),
    (gan_training.GANTrainConfig, {"num_steps": 1, "lr_g": -1.0}, ValueError, "lr_g must be"),
    (gan_training.GANTrainConfig, {"num_steps": 1, "generator_loss": "wasserstein"}, ValueError,
     "generator_loss must be one of"),
    (gan_training.GANTrainConfig, {"num_steps": 1, "betas": (0.5, 1.0)}, ValueError,
     "betas must lie in [0, 1)"),
    (gan_training.GANTrainConfig, {"num_steps": 1, "d_steps": 5, "reuse_fakes": True},
     ValueError, "reuse_fakes needs d_steps == 1"),
    (gan_training.GANStep, {"generator": G_MLP, "discriminator": "D", "opt_g": OPT_MLP,
                            "opt_d": OPT_MLP}, TypeError, "discriminator must be callable"),
    (gan_training.GANStep, {"generator": G_MLP, "discriminator": D_MLP, "opt_g": OPT_MLP,
                            "opt_d": None}, TypeError, "opt_d must be a torch.optim.Optimizer"),
    (gan_training.GANStep, {"generator": nn.Linear(2, 2), "discriminator": D_MLP,
                            "opt_g": OPT_MLP, "opt_d": OPT_MLP}, TypeError,
     "generator must have an int attribute latent_dim"),
    (gan_training.make_adam, {"params": G_MLP, "lr": 1e-3, "betas": (0.5, 0.9)}, TypeError,
     "params must be an iterable of tensors"),
    (gan_training.make_adam, {"params": [], "lr": 1e-3, "betas": (0.5, 0.9)}, ValueError,
     "params must hold at least one tensor"),
    (gan_training.make_adam, {"params": G_MLP.parameters(), "lr": 0, "betas": (0.5, 0.9)},
     ValueError, "lr must be > 0"),
    (gan_training.make_adam, {"params": G_MLP.parameters(), "lr": 1e-3, "betas": 0.5},
     ValueError, "betas must be a pair"),
    (gan_training.update_ema, {"ema": "g", "model": G_MLP, "decay": 0.9}, TypeError,
     "ema must be an nn.Module"),
    (gan_training.update_ema, {"ema": G_MLP, "model": D_MLP, "decay": 0.9}, ValueError,
     "ema must be a copy of model"),
    (gan_training.update_ema, {"ema": G_MLP, "model": G_MLP, "decay": 1.5}, ValueError,
     "decay must be <= 1.0"),
    (gan_training.update_ema, {"ema": G_MLP, "model": G_MLP, "decay": 0.9, "step": -1},
     ValueError, "step must be >= 0"),
    (gan_training.train_gan, {"generator": G_MLP, "discriminator": D_MLP, "data": POINTS,
                              "config": 3}, TypeError, "config must be a GANTrainConfig"),
    (gan_training.train_gan, {"generator": G_MLP, "discriminator": D_MLP, "data": "ring",
                              "config": GAN_CONFIG}, TypeError, "data must be a tensor"),
    # ----------------------------------------------------------------- stylegan training
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "r1_interval": 0}, ValueError,
     "r1_interval must be >= 1"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "style_mixing_prob": "0.9"},
     TypeError, "style_mixing_prob must be a number"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "pl_weight": -2.0}, ValueError,
     "pl_weight must be >= 0"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "pl_decay": 1.5}, ValueError,
     "pl_decay must be <= 1"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "pl_batch_shrink": 0},
     ValueError, "pl_batch_shrink must be >= 1"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "generator_loss": "wgan"},
     ValueError, "generator_loss must be 'non_saturating'"),
    (stylegan_training.StyleGANTrainConfig, {"num_steps": 1, "d_steps": 5}, ValueError,
     "d_steps must be 1"),
    (stylegan_training.StyleGANStep, {"generator": G_DC, "discriminator": D_SG,
                                      "opt_g": OPT_MLP, "opt_d": OPT_MLP}, TypeError,
     "generator must be a StyleGANGenerator"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": "D", "opt_g": OPT_MLP,
                                      "opt_d": OPT_MLP}, TypeError,
     "discriminator must be callable"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": D_SG, "opt_g": None,
                                      "opt_d": OPT_MLP}, TypeError,
     "opt_g must be a torch.optim.Optimizer"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": D_SG,
                                      "opt_g": OPT_MLP, "opt_d": OPT_MLP, "pl_interval": 0},
     ValueError, "pl_interval must be >= 1"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": D_SG,
                                      "opt_g": OPT_MLP, "opt_d": OPT_MLP, "r1_gamma": -1.0},
     ValueError, "r1_gamma must be >= 0"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": D_SG,
                                      "opt_g": OPT_MLP, "opt_d": OPT_MLP, "ema": "copy"},
     TypeError, "ema must be an nn.Module"),
    (stylegan_training.StyleGANStep, {"generator": G_SG, "discriminator": D_SG,
                                      "opt_g": OPT_MLP, "opt_d": OPT_MLP, "precision": "cpu"},
     TypeError, "precision must be a MixedPrecision"),
    (stylegan_training.train_stylegan, {"generator": G_SG, "discriminator": D_SG,
                                        "data": torch.zeros(4, 1, 16, 16),
                                        "config": GAN_CONFIG}, TypeError,
     "config must be a StyleGANTrainConfig"),
    (stylegan_training.train_stylegan, {"generator": G_DC, "discriminator": D_SG,
                                        "data": torch.zeros(4, 1, 16, 16),
                                        "config": SG_TRAIN}, TypeError,
     "generator must be a StyleGANGenerator"),
    (stylegan_training.train_stylegan, {"generator": G_SG, "discriminator": lambda x: x,
                                        "data": torch.zeros(4, 1, 16, 16),
                                        "config": SG_TRAIN}, TypeError,
     "discriminator must be an nn.Module"),
    (stylegan_training.train_stylegan, {"generator": G_SG_C, "discriminator": D_SG,
                                        "data": torch.zeros(4, 1, 16, 16),
                                        "config": SG_TRAIN}, ValueError,
     "config.conditional is False, but the generator has num_classes=3"),
    (stylegan_training.train_stylegan, {"generator": G_SG, "discriminator": D_SG,
                                        "data": torch.zeros(4, 3, 16, 16),
                                        "config": SG_TRAIN}, ValueError,
     "but the generator expects (1, 16, 16)"),
    (stylegan_training.train_stylegan, {"generator": G_SG, "discriminator": D_SG,
                                        "data": "cifar10", "config": SG_TRAIN}, TypeError,
     "data must be a tensor"),
    # ----------------------------------------------------------------- wasserstein
    (wasserstein.wasserstein_1d, {"p": HALF, "q": [1.0]}, ValueError,
     "p and q must have the same length"),
    (wasserstein.wasserstein_1d, {"p": HALF, "q": HALF, "cell_width": -1.0}, ValueError,
     "cell_width must be > 0"),
    (wasserstein.wasserstein_matching, {"a": POINTS, "b": POINTS[:3]}, ValueError,
     "a and b must have the same shape"),
    (wasserstein.wasserstein_matching, {"a": None, "b": POINTS}, TypeError, "a must be an array"),
    # ----------------------------------------------------------------- data
    (data.data_root, {"root": 3}, TypeError, "root must be a str"),
    (data.load_dataset, {"name": 3}, TypeError, "name must be one of"),
    (data.load_dataset, {"name": "imagenet"}, ValueError, "name must be one of"),
    (data.load_dataset, {"name": "mnist", "train": "yes"}, TypeError, "train must be a bool"),
    (data.load_dataset, {"name": "mnist", "image_size": 0}, ValueError, "image_size must be >= 1"),
    (data.load_dataset, {"name": "mnist", "download": 1}, TypeError, "download must be a bool"),
    (data.as_tensor_dataset, {"dataset": [1, 2]}, TypeError, "dataset must be a torch Dataset"),
    (data.as_tensor_dataset, {"dataset": TENSOR_DS, "limit": 0}, ValueError, "limit must be >= 1"),
    (data.as_tensor_dataset, {"dataset": TENSOR_DS, "progress": "no"}, TypeError,
     "progress must be a bool"),
    (data.as_tensor_dataset, {"dataset": TENSOR_DS, "seed": -1}, ValueError, "seed must be >= 0"),
    (data.check_images, {"dataset": "folder"}, TypeError, "dataset must be a torch Dataset"),
    (data.check_images, {"dataset": TENSOR_DS, "limit": 0}, ValueError, "limit must be >= 1"),
    (data.check_images, {"dataset": TENSOR_DS, "progress": 1}, TypeError, "progress must be"),
    (data.check_images, {"dataset": data.TensorImageDataset(torch.full((1, 1, 2, 2), 255.0))},
     ValueError, "dataset.images must be scaled to [-1, 1]"),
    (data.load_rgb, {"path": 3}, TypeError, "path must be a str"),
    (data.to_image, {"x": np.zeros((1, 4, 4))}, TypeError, "x must be a torch.Tensor"),
    (data.to_image, {"x": torch.zeros(4)}, ValueError, "x must have shape (C, H, W)"),
    (data.to_numpy_image, {"x": [[0.0]]}, TypeError, "x must be a torch.Tensor"),
    (data.toy_dataset, {"name": "blobs"}, ValueError, "name must be one of"),
    (data.toy_dataset, {"name": "ring", "n": 0}, ValueError, "n must be >= 1"),
    (data.toy_dataset, {"name": "ring", "std": -1.0}, ValueError, "std must be >= 0"),
    (data.toy_dataset, {"name": "ring", "seed": 1.5}, TypeError, "seed must be an int"),
    (data.toy_modes, {"name": "moons"}, ValueError, "name must be one of"),
    (data.TensorImageDataset, {"images": np.zeros((2, 1, 4, 4))}, TypeError,
     "images must be a torch.Tensor"),
    (data.TensorImageDataset, {"images": torch.zeros(2, 16)}, ValueError, "images must be a float"),
    (data.TensorImageDataset, {"images": IMAGES, "labels": torch.zeros(3)}, ValueError,
     "labels must have shape (2,)"),
    (data.TensorImageDataset, {"images": IMAGES, "classes": 3}, TypeError,
     "classes must be a list of str"),
    (data.ImageFileDataset, {"samples": "a.png", "transform": abs}, TypeError,
     "samples must be a list"),
    (data.ImageFileDataset, {"samples": [], "transform": 3}, TypeError, "transform must be"),
    # ----------------------------------------------------------------- latent (issue 10: 9, 19)
    (latent.lerp, {"z0": np.zeros(3), "z1": Z3, "steps": 3}, TypeError,
     "z0 must be a torch.Tensor"),
    (latent.lerp, {"z0": torch.zeros(100), "z1": torch.zeros(1), "steps": 3}, ValueError,
     "z0 and z1 must have the same shape"),
    (latent.lerp, {"z0": Z3, "z1": torch.zeros(3, dtype=torch.long), "steps": 3}, TypeError,
     "z1 must be a floating-point tensor"),
    (latent.lerp, {"z0": torch.full((3,), NAN), "z1": Z3, "steps": 3}, ValueError,
     "z0 must be finite"),
    (latent.lerp, {"z0": Z3, "z1": Z3, "steps": 1}, ValueError, "steps must be >= 2"),
    (latent.slerp, {"z0": torch.zeros(4, 3), "z1": torch.ones(4, 3), "steps": 3}, ValueError,
     "z0 must have shape (D,)"),
    (latent.slerp, {"z0": Z3, "z1": [1.0, 2.0, 3.0], "steps": 3}, TypeError,
     "z1 must be a torch.Tensor"),
    (latent.slerp, {"z0": Z3, "z1": Z3, "steps": 2.0}, TypeError, "steps must be an int"),
    (latent.walk, {"z0": Z3, "direction": [1.0, 0.0, 0.0], "offsets": [0.0]}, TypeError,
     "direction must be a torch.Tensor"),
    (latent.walk, {"z0": Z3, "direction": Z3, "offsets": 1.0}, TypeError, "offsets must be"),
    (latent.walk, {"z0": Z3, "direction": Z3, "offsets": torch.zeros(2, 2)}, ValueError,
     "offsets must be a 1-D tensor"),
    (latent.walk, {"z0": Z3, "direction": Z3, "offsets": ["a"]}, TypeError, "offsets must be"),
    (latent.walk, {"z0": Z3, "direction": Z3, "offsets": [NAN]}, ValueError,
     "offsets must be finite"),
    (latent.principal_directions, {"codes": np.zeros((5, 3)), "k": 1}, TypeError,
     "codes must be a torch.Tensor"),
    (latent.principal_directions, {"codes": torch.zeros(5), "k": 1}, ValueError,
     "codes must be a 2-D tensor"),
    (latent.principal_directions, {"codes": torch.zeros(5, 3), "k": 4}, ValueError,
     "k must be <= 3"),
    (latent.principal_directions, {"codes": torch.full((5, 3), NAN), "k": 1}, ValueError,
     "codes must be finite"),
    # ----------------------------------------------------------------- conv
    (conv.conv2d, {"x": "abc", "w": np.ones((3, 3))}, TypeError, "x must be a numeric array"),
    (conv.conv2d, {"x": np.ones((3, 5, 5)), "w": np.ones((1, 3, 3, 3))}, ValueError,
     "x must have 4 dimensions"),
    (conv.conv2d, {"x": np.ones((5, 5)), "w": np.ones((3, 3)), "stride": 0}, ValueError,
     "stride must be >= 1"),
    (conv.conv2d, {"x": np.ones((1, 2, 5, 5)), "w": np.ones((1, 3, 3, 3))}, ValueError,
     "channel mismatch"),
    (conv.conv2d, {"x": np.ones((5, 5)), "w": np.ones((7, 7))}, ValueError, "w is too large"),
    (conv.conv2d_naive, {"x": np.ones((5, 5)), "w": np.ones((3, 3)), "b": np.ones(2)},
     ValueError, "b must have shape (1,)"),
    (conv.conv_transpose2d, {"x": np.ones((3, 3)), "w": np.ones((2, 2)), "output_padding": 1},
     ValueError, "output_padding (1) must be smaller"),
    (conv.conv_transpose2d_naive, {"x": np.ones((3, 3)), "w": None}, TypeError,
     "w must be a numeric array"),
    (conv.conv2d_output_size, {"n": 0, "kernel_size": 3}, ValueError, "n must be >= 1"),
    (conv.conv2d_output_size, {"n": 3, "kernel_size": 5}, ValueError, "kernel_size 5"),
    (conv.conv_transpose2d_output_size, {"n": 4, "kernel_size": "4"}, TypeError,
     "kernel_size must be an int"),
    (conv.conv_transpose2d_output_size, {"n": 1, "kernel_size": 1, "padding": 1}, ValueError,
     "padding 1 is too large"),
    (conv.conv2d_matrix, {"input_shape": "3x3", "w": np.ones((2, 2))}, TypeError,
     "input_shape must be a tuple of ints"),
    (conv.overlap_counts, {"n": 0, "kernel_size": 3, "stride": 2}, ValueError, "n must be >= 1"),
    (conv.overlap_counts, {"n": 4, "kernel_size": 3, "stride": 0}, ValueError,
     "stride must be >= 1"),
    # ----------------------------------------------------------------- plotting (issue 10: 16)
    (plotting.image_grid, {"images": np.zeros((2, 3, 8, 8))}, TypeError,
     "images must be a torch.Tensor"),
    (plotting.image_grid, {"images": torch.zeros(0, 3, 8, 8)}, ValueError,
     "images must hold at least one image"),
    (plotting.image_grid, {"images": torch.zeros(2, 2, 8, 8)}, ValueError, "C = 1 or 3"),
    (plotting.image_grid, {"images": IMAGES, "nrow": 0}, ValueError, "nrow must be >= 1"),
    (plotting.image_grid, {"images": IMAGES, "padding": -1}, ValueError, "padding must be >= 0"),
    (plotting.image_grid, {"images": IMAGES, "title": 3}, TypeError, "title must be a str"),
    (plotting.image_grid, {"images": IMAGES, "ax": "left"}, TypeError, "ax must be a matplotlib"),
    (plotting.loss_curves, {"history": [1.0]}, TypeError, "history must be a dict"),
    (plotting.loss_curves, {"history": {"a": 3.0}}, TypeError, "history['a'] must be a list"),
    (plotting.loss_curves, {"history": {"a": [1.0]}, "keys": ["b"]}, ValueError,
     "keys ['b'] are not in history"),
    (plotting.loss_curves, {"history": {"a": [1.0]}, "smooth": 0}, ValueError, "smooth must be"),
    (plotting.loss_curves, {"history": {"a": [1.0]}, "x": 0}, TypeError, "x must be a str"),
    (plotting.scatter_2d, {"real": torch.zeros(5, 3)}, ValueError, "real must have shape (N, 2)"),
    (plotting.scatter_2d, {"real": "points"}, TypeError, "real must be an array of numbers"),
    (plotting.scatter_2d, {"real": POINTS, "fake": torch.zeros(5)}, ValueError,
     "fake must have shape (N, 2)"),
    (plotting.scatter_2d, {"real": POINTS, "alpha": 2.0}, ValueError, "alpha must be <= 1"),
    (plotting.scatter_2d, {"real": POINTS, "size": 0.0}, ValueError, "size must be > 0"),
    (plotting.scatter_2d, {"real": POINTS, "xlim": (1.0, 0.0)}, ValueError, "xlim must be"),
    (plotting.decision_surface, {"discriminator_fn": 3}, TypeError,
     "discriminator_fn must be callable"),
    (plotting.decision_surface, {"discriminator_fn": abs, "resolution": 1}, ValueError,
     "resolution must be >= 2"),
    (plotting.decision_surface, {"discriminator_fn": abs, "ylim": 5}, TypeError,
     "ylim must be a pair"),
    (plotting.decision_surface, {"discriminator_fn": abs, "xlim": (0, NAN)}, ValueError,
     "xlim must be finite"),
    (plotting.decision_surface, {"discriminator_fn": abs, "colorbar": "yes"}, TypeError,
     "colorbar must be a bool"),
    (plotting.decision_surface, {"discriminator_fn": lambda p: p[:3], "resolution": 2},
     ValueError, "discriminator_fn must return logits"),
    (plotting.snapshot_grid, {"batches": IMAGES}, TypeError, "batches must be a non-empty list"),
    (plotting.snapshot_grid, {"batches": [IMAGES], "steps": [1, 2]}, ValueError,
     "steps must have one entry per batch"),
    (plotting.snapshot_grid, {"batches": [IMAGES], "num_images": 0}, ValueError,
     "num_images must be >= 1"),
    (plotting.snapshot_grid, {"batches": [IMAGES], "label": 3}, TypeError, "label must be a str"),
    (plotting.save_figure, {"fig": "plot", "path": "x.png"}, TypeError,
     "fig must be a matplotlib Figure"),
    (plotting.save_figure, {"fig": _figure(), "path": 3}, TypeError, "path must be a str"),
    (plotting.save_figure, {"fig": _figure(), "path": "x.docx"}, ValueError,
     "path must end in an image suffix"),
    (plotting.save_figure, {"fig": _figure(), "path": "x.png", "dpi": -1}, ValueError,
     "dpi must be > 0"),
    # ----------------------------------------------------------------- losses (issue 10: 8)
    (losses.discriminator_loss, {"d_real": [0.0], "d_fake": torch.zeros(1)}, TypeError,
     "d_real must be a torch.Tensor"),
    (losses.discriminator_loss, {"d_real": torch.zeros(2, 2), "d_fake": torch.zeros(2)},
     ValueError, "d_real must have shape (B,) or (B, 1)"),
    (losses.discriminator_loss, {"d_real": torch.zeros(2), "d_fake": torch.zeros(0)},
     ValueError, "d_fake must hold at least one logit"),
    (losses.generator_loss_minimax, {"d_fake": torch.zeros(2, dtype=torch.long)}, TypeError,
     "d_fake must be a floating-point tensor"),
    (losses.generator_loss_nonsaturating, {"d_fake": np.zeros(2)}, TypeError,
     "d_fake must be a torch.Tensor"),
    (losses.get_generator_loss, {"name": 3}, TypeError, "generator_loss must be a str"),
    (losses.get_generator_loss, {"name": "wgan"}, ValueError, "generator_loss must be one of"),
    (losses.mse_reconstruction, {"logits": torch.zeros(2, 4), "x": torch.zeros(2, 5)},
     ValueError, "logits and x must have the same shape"),
    (losses.bce_reconstruction, {"logits": IMAGES, "x": IMAGES + 5}, ValueError,
     "x must hold images in [-1, 1]"),
    (losses.kl_standard_normal, {"mu": torch.zeros(3), "logvar": torch.zeros(3)}, ValueError,
     "mu must have shape (B, latent_dim)"),
    (losses.elbo_loss, {"logits": IMAGES, "x": IMAGES, "mu": torch.zeros(2, 1),
                        "logvar": torch.zeros(2, 1), "beta": -1.0}, ValueError, "beta must be"),
    (losses.elbo_loss, {"logits": IMAGES, "x": IMAGES, "mu": torch.zeros(2, 1),
                        "logvar": torch.zeros(2, 1), "reconstruction": "l1"}, ValueError,
     "reconstruction must be one of"),
    # losses of the other games and gradient penalties (issue 12)
    (losses.wasserstein_critic_loss, {"d_real": torch.zeros(2, 2), "d_fake": torch.zeros(2)},
     ValueError, "d_real must have shape (B,) or (B, 1)"),
    (losses.wasserstein_generator_loss, {"d_fake": [0.0]}, TypeError,
     "d_fake must be a torch.Tensor of scores"),
    (losses.hinge_critic_loss, {"d_real": torch.zeros(2), "d_fake": torch.zeros(0)}, ValueError,
     "d_fake must hold at least one score"),
    (losses.hinge_generator_loss, {"d_fake": torch.zeros(2, dtype=torch.long)}, TypeError,
     "d_fake must be a floating-point tensor"),
    (losses.least_squares_critic_loss, {"d_real": np.zeros(2), "d_fake": torch.zeros(2)},
     TypeError, "d_real must be a torch.Tensor"),
    (losses.least_squares_generator_loss, {"d_fake": torch.zeros(2, 3)}, ValueError,
     "d_fake must have shape (B,) or (B, 1)"),
    (losses.get_adversarial_loss, {"name": "wgan-gp"}, ValueError, "loss must be one of"),
    (losses.get_adversarial_loss, {"name": 3}, TypeError, "loss must be a str"),
    (losses.gradient_penalty, {"critic": 3, "x_real": IMAGES, "x_fake": IMAGES}, TypeError,
     "critic must be callable"),
    (losses.gradient_penalty, {"critic": D_DC, "x_real": IMAGES, "x_fake": IMAGES[:1]},
     ValueError, "x_fake must have the same shape as x_real"),
    (losses.gradient_penalty, {"critic": D_DC, "x_real": IMAGES.long(), "x_fake": IMAGES},
     TypeError, "x_real must be a floating-point tensor"),
    (losses.gradient_penalty, {"critic": D_DC, "x_real": Z3, "x_fake": Z3}, ValueError,
     "x_real must have shape (B, ...)"),
    (losses.gradient_penalty, {"critic": D_DC, "x_real": IMAGES, "x_fake": IMAGES,
                               "generator": 0}, TypeError, "generator must be a torch.Generator"),
    (losses.r1_penalty, {"critic": "D", "x_real": IMAGES}, TypeError, "critic must be callable"),
    (losses.critic_gradient_norms, {"critic": None, "x": IMAGES}, TypeError,
     "critic must be callable"),
    (losses.critic_gradient_norms, {"critic": D_DC, "x": IMAGES.int()}, TypeError,
     "x must be a floating-point tensor"),
    (losses.critic_gradient_norms, {"critic": D_DC, "x": Z3}, ValueError, "x must have shape"),
    (losses.r1_penalty, {"critic": D_DC, "x_real": torch.zeros(0, 1, 4, 4)}, ValueError,
     "x_real must have shape (B, ...) with at least 2 dimensions and B >= 1"),
    # ----------------------------------------------------------------- neighbours
    (neighbours.nearest_neighbours, {"queries": np.zeros((2, 4)), "reference": IMAGES},
     TypeError, "queries must be a tensor"),
    (neighbours.nearest_neighbours, {"queries": IMAGES, "reference": torch.zeros(3, 1, 5, 5)},
     ValueError, "queries and reference must have the same sample shape"),
    (neighbours.nearest_neighbours, {"queries": IMAGES, "reference": IMAGES, "k": 3},
     ValueError, "k must be <= 2"),
    (neighbours.nearest_neighbours, {"queries": IMAGES, "reference": IMAGES, "batch_size": 0},
     ValueError, "batch_size must be >= 1"),
    (neighbours.nearest_neighbours, {"queries": IMAGES, "reference": IMAGES, "features": 3},
     TypeError, "features must be callable"),
    (neighbours.nearest_neighbours, {"queries": IMAGES.long(), "reference": IMAGES},
     TypeError, "queries must hold floating-point images"),
    (neighbours.neighbour_figure, {"queries": IMAGES, "reference": IMAGES,
                                   "indices": torch.zeros(3, 1, dtype=torch.long)},
     ValueError, "indices must have shape (Q, k) with Q = 2"),
    (neighbours.neighbour_figure, {"queries": IMAGES, "reference": IMAGES,
                                   "indices": torch.zeros(2, 1, dtype=torch.long),
                                   "max_rows": 0}, ValueError, "max_rows must be >= 1"),
    (neighbours.nearest_neighbours, {"queries": IMAGES, "reference": IMAGES, "device": "gpu0"},
     ValueError, "device must be None"),
    (neighbours.neighbour_figure, {"queries": IMAGES, "reference": IMAGES,
                                   "indices": torch.zeros(2, 1)}, TypeError,
     "indices must hold integers"),
    (neighbours.neighbour_figure, {"queries": IMAGES, "reference": IMAGES,
                                   "indices": torch.zeros(2, 1, dtype=torch.long),
                                   "distances": [[0.0], [0.0]]}, TypeError,
     "distances must be a tensor"),
    (neighbours.neighbour_figure, {"queries": IMAGES, "reference": IMAGES,
                                   "indices": torch.zeros(2, 1, dtype=torch.long),
                                   "query_label": 3}, TypeError, "query_label must be a str"),
    # ----------------------------------------------------------------- metrics
    (metrics.mode_coverage, {"samples": "ring", "modes": POINTS, "std": 0.1}, TypeError,
     "samples must be an array"),
    (metrics.mode_coverage, {"samples": torch.zeros(5, 3), "modes": POINTS, "std": 0.1},
     ValueError, "samples and modes must have the same dimension"),
    (metrics.mode_coverage, {"samples": POINTS, "modes": POINTS, "std": 0.0}, ValueError,
     "std must be > 0"),
    (metrics.mode_coverage, {"samples": POINTS, "modes": POINTS, "std": 0.1, "min_count": 0},
     ValueError, "min_count must be >= 1"),
    (metrics.mode_coverage, {"samples": POINTS + NAN, "modes": POINTS, "std": 0.1}, ValueError,
     "samples must hold finite numbers"),
    # (the sample-based metrics' full table is in tests/test_metrics_distances.py and
    # tests/test_evaluate.py)
    (metrics.load_feature_net, {"name": "imagenet"}, ValueError, "name must be one of"),
    (metrics.load_feature_net, {"name": 3}, TypeError, "name must be a str"),
    (metrics.frechet_distance, {"real_features": POINTS[0], "fake_features": POINTS},
     ValueError, "real_features must be 2-D (N, D)"),
    (metrics.kernel_distance, {"real_features": POINTS, "fake_features": POINTS,
                               "subset_size": 6}, ValueError, "subset_size must be at most"),
    (metrics.inception_score, {"logits": POINTS, "splits": 6}, ValueError,
     "splits must be <= 5"),
    (metrics.prdc, {"real_features": POINTS, "fake_features": POINTS, "k": 5}, ValueError,
     "k must be below the number of samples"),
    (metrics.evaluate, {"generator": POINTS, "dataset": "ring", "num_samples": 1}, ValueError,
     "num_samples must be >= 2"),
    (metrics.evaluate_checkpoint, {"checkpoint": "x.pt", "data": "ring", "num_samples": 1.5},
     TypeError, "num_samples must be an int"),
    (metrics.evaluate_checkpoint, {"checkpoint": "x.pt", "data": "ring", "model": 3},
     TypeError, "model must be a str"),
    # ----------------------------------------------------------------- divergences
    (divergences.kl_divergence, {"p": [0.5, 0.6], "q": HALF}, ValueError, "p must sum to 1"),
    (divergences.kl_divergence, {"p": "pq", "q": HALF}, TypeError, "p must be a 1-D array"),
    (divergences.jensen_shannon, {"p": HALF, "q": [1.0]}, ValueError,
     "p and q must have the same length"),
    (divergences.optimal_discriminator, {"p_data": HALF, "p_g": HALF, "undefined": "x"},
     TypeError, "undefined must be a float"),
    (divergences.value_function, {"d": [2.0, 0.0], "p_data": HALF, "p_g": HALF}, ValueError,
     "d must hold probabilities"),
    (divergences.generator_criterion, {"p_data": [-0.5, 1.5], "p_g": HALF}, ValueError,
     "p_data must be non-negative"),
    # ----------------------------------------------------------------- widgets (issue 10: 12, 19)
    (widgets.figure_to_png, {"fig": 3}, TypeError, "fig must be a matplotlib Figure"),
    (widgets.figure_to_png, {"fig": _figure(), "dpi": 0}, ValueError, "dpi must be > 0"),
    (widgets.figure_to_png, {"fig": _figure(), "close": "yes"}, TypeError, "close must be a bool"),
    (widgets.static_conditional_explorer, {"generator": _decoder(), "z0": torch.zeros(3),
                                            "direction": torch.eye(3)[0]}, TypeError,
     "generator must be a conditional generator"),
    (widgets.frame_scrubber, {"frames": "abc"}, TypeError, "frames must be a list"),
    (widgets.frame_scrubber, {"frames": []}, ValueError, "frames must not be empty"),
    (widgets.frame_scrubber, {"frames": [b"x"], "labels": [1, 2]}, ValueError,
     "labels must have one entry per frame"),
    (widgets.frame_scrubber, {"frames": [b"x"], "value": 1}, ValueError, "value must be an int"),
    (widgets.frame_scrubber, {"frames": [b"x"], "description": 3}, TypeError,
     "description must be a str"),
    (widgets.images_to_png, {"images": np.zeros((1, 1, 4, 4))}, TypeError,
     "images must be a torch.Tensor"),
    (widgets.images_to_png, {"images": torch.zeros(2, 2, 4, 4)}, ValueError, "C = 1 or 3"),
    (widgets.images_to_png, {"images": IMAGES, "nrow": 0}, ValueError, "nrow must be >= 1"),
    (widgets.images_to_png, {"images": IMAGES, "scale": 0}, ValueError, "scale must be >= 1"),
    (widgets.latent_explorer, {"decoder": 3, "z0": Z3}, TypeError, "decoder must be callable"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": np.zeros(3)}, TypeError,
     "z0 must be a torch.Tensor"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": torch.zeros(3, dtype=torch.long)},
     ValueError, "z0 must be a finite floating-point tensor"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3,
                               "directions": [torch.eye(3)[0]]}, TypeError,
     "directions must be a (K, D) tensor"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3, "directions": torch.eye(2)},
     ValueError, "directions must be a (K, 3) tensor"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3, "names": "abc"}, TypeError,
     "names must be a list of str"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3, "span": NAN}, ValueError,
     "span must be finite"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3, "step": 0.0}, ValueError,
     "step must be > 0"),
    (widgets.latent_explorer, {"decoder": _decoder(), "z0": Z3, "scale": 0}, ValueError,
     "scale must be >= 1"),
    (widgets.static_latent_explorer, {"decoder": _decoder(), "z0": Z3,
                                      "directions": torch.eye(3)[:1], "span": NAN}, ValueError,
     "span must be finite"),
    (widgets.static_latent_explorer, {"decoder": _decoder(), "z0": Z3,
                                      "directions": torch.eye(3)[:1], "span": -1.0}, ValueError,
     "span must be > 0"),
    (widgets.static_latent_explorer, {"decoder": _decoder(), "z0": Z3,
                                      "directions": torch.eye(3)[:1], "positions": 1},
     ValueError, "positions must be >= 2"),
    (widgets.static_latent_explorer, {"decoder": _decoder(), "z0": Z3,
                                      "directions": torch.eye(3)}, ValueError,
     "directions must have 1 or 2 rows"),
    (path_length.perceptual_path_length, {"generator": G_DC, "feature_net": FEATURES_4,
                                          "space": "w"}, TypeError,
     "generator must be a StyleGANGenerator"),
    (path_length.perceptual_path_length, {"generator": G_SG, "feature_net": FEATURES_4,
                                          "space": "x"}, ValueError, "space must be one of"),
    (path_length.perceptual_path_length, {"generator": G_SG, "feature_net": FEATURES_4,
                                          "epsilon": 0.0}, ValueError, "epsilon must be > 0"),
    (path_length.perceptual_path_length, {"generator": G_SG, "feature_net": nn.Identity()},
     TypeError, "feature_net must"),
    (image_metrics.psnr, {"images": torch.zeros(1, 1, 4, 4), "targets": torch.zeros(1, 1, 4, 5)},
     ValueError, "images and targets must have the same shape"),
    (image_metrics.ssim, {"images": torch.zeros(1, 1, 8, 8), "targets": torch.zeros(1, 1, 8, 8)},
     ValueError, "at least 11 x 11"),
    (image_metrics.feature_distance, {"images": torch.zeros(1, 1, 4, 4),
                                      "targets": torch.zeros(1, 1, 4, 4), "feature_net": None},
     TypeError, "feature_net must have a features"),
    (augmentation.balanced_subset, {"labels": torch.tensor([0, 1]), "per_class": 2},
     ValueError, "per_class must be at most"),
    (augmentation.generated_examples, {"generator": G_DC, "per_class": 1}, TypeError,
     "generator must be a conditional generator"),
    (augmentation.train_small_classifier, {"images": torch.zeros(2, 1, 16, 16),
                                           "labels": torch.tensor([0, 1])}, TypeError,
     "images must be a uint8 tensor"),
    (augmentation.small_classifier_config, {"channels": 0}, ValueError, "channels"),
    (progressive.progressive_growing_figure, {"resolutions": (4,)}, ValueError,
     "resolutions must be 2 to 6"),
    (progressive.progressive_growing_figure, {"alpha": 2.0}, ValueError, "alpha must be <= 1"),
    (widgets.frame_grid_scrubber, {"frames": [], "row_labels": [], "col_labels": []},
     ValueError, "frames must not be empty"),
    (widgets.frame_grid_scrubber, {"frames": [[b"x"] * 2, [b"x"]], "row_labels": [0, 1],
                                   "col_labels": [0, 1]}, ValueError,
     "frames[1] has 1 frames, frames[0] has 2"),
    (widgets.frame_grid_scrubber, {"frames": [[b"x"]], "row_labels": [0, 1], "col_labels": [0]},
     ValueError, "row_labels must have one entry per row"),
    (widgets.frame_grid_scrubber, {"frames": [[b"x"]], "row_labels": [0], "col_labels": [0],
                                   "value": (0, 1)}, ValueError, "value must be (row, column)"),
    # ----------------------------------------------------------------- models (issue 10: 21)
    (build_model, {"family": 3, "role": "generator"}, TypeError, "family must be a str"),
    (build_model, {"family": "vqgan", "role": "generator"}, ValueError, "family must be one of"),
    (build_model, {"family": "mlp", "role": "critic"}, ValueError, "role must be one of"),
    (build_model, {"family": "mlp", "role": "generator", "config": 3}, TypeError,
     "config must be a MLPGANConfig"),
    (build_model, {"family": "mlp", "role": "generator", "config": {"depth": 3}}, ValueError,
     "config has fields ['depth']"),
    (build_gan, {"family": "vqgan"}, ValueError, "family must be one of"),
    (describe_model, {"model": "generator"}, TypeError, "model must be an nn.Module"),
    (register_family, {"name": "", "config_class": MLPGANConfig}, TypeError,
     "name must be a non-empty str"),
    (register_family, {"name": "mine", "config_class": dict}, TypeError,
     "config_class must be a dataclass"),
    (register_family, {"name": "mine", "config_class": MLPGANConfig}, ValueError,
     "needs at least one role"),
    (register_family, {"name": "mine", "config_class": MLPGANConfig, "generator": int},
     TypeError, "role 'generator' must be an nn.Module subclass"),
    (MLPGANConfig, {"latent_dim": 0}, ValueError, "latent_dim must be >= 1"),
    (MLPGANConfig, {"hidden_g": "wide"}, TypeError, "hidden_g must be a tuple of ints"),
    (MLPGANConfig, {"dropout": 1.0}, ValueError, "dropout must be < 1"),
    (MLPGANConfig, {"output": "relu"}, ValueError, "output must be one of"),
    (MLPGANConfig.toy, {"data_dim": 0}, ValueError, "data_dim must be >= 1"),
    (MLPGenerator, {"config": {"latent_dim": 2}}, TypeError, "config must be an MLPGANConfig"),
    (G_MLP, {"z": np.zeros((2, 3))}, TypeError, "z must be a torch.Tensor"),
    (G_MLP, {"z": torch.zeros(2, 3, dtype=torch.long)}, TypeError,
     "z must be a floating-point tensor (torch.float32)"),
    (G_MLP, {"z": torch.zeros(2, 4)}, ValueError, "z must have shape (B, 3)"),
    (MLPDiscriminator, {"config": 3}, TypeError, "config must be an MLPGANConfig"),
    (D_MLP, {"x": torch.zeros(2, 3)}, ValueError, "x must have shape (B, 2)"),
    (D_MLP, {"x": [[0.0, 0.0]]}, TypeError, "x must be a torch.Tensor"),
    (dcgan_start_size, {"image_size": 20}, ValueError, "image_size must be a power of two"),
    (dcgan_start_size, {"image_size": "64"}, TypeError, "image_size must be an int"),
    (DCGANConfig, {"image_size": 48}, ValueError, "image_size must be a power of two"),
    (DCGANConfig, {"channels": 0}, ValueError, "channels must be >= 1"),
    (DCGANConfig, {"width": 64, "max_width": 32}, ValueError, "max_width must be >= 64"),
    (DCGANGenerator, {"config": {"image_size": 32}}, TypeError, "config must be a DCGANConfig"),
    (G_DC, {"z": np.zeros((2, 4))}, TypeError, "z must be a torch.Tensor"),
    (G_DC, {"z": torch.zeros(2, 4, dtype=torch.int32)}, TypeError,
     "z must be a floating-point tensor"),
    (G_DC, {"z": torch.zeros(2, 5)}, ValueError, "z must have shape (B, 4)"),
    (DCGANDiscriminator, {"config": MLP}, TypeError, "config must be a DCGANConfig"),
    (D_DC, {"x": torch.zeros(2, 3, 16, 16)}, ValueError, "x must have shape (B, 1, 16, 16)"),
    # discriminators for critics, conditional models (issue 12)
    (DCGANConfig, {"d_norm": "group"}, ValueError, "d_norm must be one of"),
    (dcgan_discriminator_trunk, {"config": CGAN}, TypeError, "config must be a DCGANConfig"),
    (dcgan_discriminator_trunk, {"config": DC, "in_channels": 0}, ValueError,
     "in_channels must be >= 1"),
    (spectral_normalize, {"module": "D"}, TypeError, "module must be an nn.Module"),
    (ConditionalGANConfig, {"num_classes": 0}, ValueError, "num_classes must be >= 1"),
    (ConditionalGANConfig, {"embed_dim": 1.5}, TypeError, "embed_dim must be an int"),
    (ConditionalGANConfig, {"discriminator": "auxiliary"}, ValueError,
     "discriminator must be one of ('concat', 'projection')"),
    (ConditionalGANConfig, {"d_norm": "instance"}, ValueError, "d_norm must be one of"),
    (each_class_in_turn, {"generator": G_DC, "num_classes": 0}, ValueError,
     "num_classes must be"),
    (each_class_in_turn, {"generator": G_DC, "num_classes": 2.5}, TypeError, "num_classes"),
    (check_labels, {"labels": torch.zeros(2), "batch_size": 2, "num_classes": 3}, TypeError,
     "labels must be an integer tensor"),
    (check_labels, {"labels": Y2, "batch_size": 3, "num_classes": 3}, ValueError,
     "labels must have shape (B,) = (3,)"),
    (check_labels, {"labels": Y2, "batch_size": 2, "num_classes": 2}, ValueError,
     "labels must be class indices in [0, 2)"),
    (ConditionalGenerator, {"config": DC}, TypeError, "config must be a ConditionalGANConfig"),
    (G_C, {"z": torch.zeros(2, 4), "labels": Y2.float()}, TypeError,
     "labels must be an integer tensor"),
    (G_C, {"z": torch.zeros(2, 5), "labels": Y2}, ValueError, "z must have shape (B, 4)"),
    (ConditionalDiscriminator, {"config": {"num_classes": 3}}, TypeError,
     "config must be a ConditionalGANConfig"),
    (ConcatDiscriminator, {"config": DC}, TypeError, "config must be a ConditionalGANConfig"),
    (D_CONCAT, {"x": torch.zeros(2, 1, 16, 16), "labels": torch.tensor([0, 3])}, ValueError,
     "labels must be class indices in [0, 3)"),
    (ProjectionDiscriminator, {"config": 3}, TypeError, "config must be a ConditionalGANConfig"),
    (D_PROJ, {"x": torch.zeros(2, 1, 16, 16), "labels": [0, 1]}, TypeError,
     "labels must be a torch.Tensor"),
    (D_PROJ, {"x": torch.zeros(2, 1, 8, 8), "labels": Y2}, ValueError,
     "x must have shape (B, 1, 16, 16)"),
    # StyleGAN (issue 13)
    (StyleGANConfig, {"image_size": 24}, ValueError, "image_size must be a power of two"),
    (StyleGANConfig, {"channels": 2}, ValueError, "channels must be 1 or 3"),
    (StyleGANConfig, {"z_dim": -1}, ValueError, "z_dim must be >= 1"),
    (StyleGANConfig, {"style_block": "demodulated"}, ValueError, "style_block must be one of"),
    (StyleGANConfig, {"architecture": "orig"}, ValueError, "architecture must be one of"),
    (StyleGANConfig, {"w_avg_beta": NAN}, ValueError, "w_avg_beta must be finite"),
    (StyleGANGenerator, {"config": DC}, TypeError, "config must be a StyleGANConfig"),
    (G_SG, {"z": torch.zeros(2, 5)}, ValueError, "z must have shape (B, 4)"),
    (G_SG, {"z": torch.zeros(2, 4), "truncation_psi": NAN}, ValueError,
     "truncation_psi must be finite"),
    (G_SG, {"z": torch.zeros(2, 4), "noise_mode": "fixed"}, ValueError,
     "noise_mode must be one of"),
    (G_SG_C, {"z": torch.zeros(2, 4), "labels": torch.tensor([0, 3])}, ValueError,
     "labels must be class indices in [0, 3)"),
    (G_SG.synthesis, {"ws": WS[:, 1:]}, ValueError, "ws must have shape (B, num_ws, w_dim)"),
    (G_SG.mapping, {"z": torch.zeros(2, 4), "labels": Y2}, ValueError, "labels must be None"),
    (StyleGANDiscriminator, {"config": CGAN}, TypeError, "config must be a StyleGANConfig"),
    (D_SG, {"x": torch.zeros(2, 3, 16, 16)}, ValueError, "x must have shape (B, 1, 16, 16)"),
    (style_mix, {"generator": G_DC, "z_a": torch.zeros(2, 4), "z_b": torch.zeros(2, 4),
                 "crossover": 1}, TypeError, "generator must be a StyleGANGenerator"),
    (style_mix, {"generator": G_SG, "z_a": torch.zeros(2, 4), "z_b": torch.zeros(2, 4),
                 "crossover": SG.num_ws + 1}, ValueError, f"crossover must be <= {SG.num_ws}"),
    (edit_styles, {"generator": G_SG, "ws": WS, "layers": 0, "direction": torch.zeros(5),
                   "amount": 1.0}, ValueError, "direction must have shape (4,)"),
    (edit_styles, {"generator": G_SG, "ws": WS, "layers": 0, "direction": torch.zeros(4),
                   "amount": "1"}, TypeError, "amount must be a number"),
    (minibatch_std, {"x": torch.zeros(2, 3), "group_size": 4}, ValueError,
     "x must have shape (B, C, H, W)"),
    (minibatch_std, {"x": IMAGES, "group_size": 0}, ValueError, "group_size must be >= 1"),
    (adain, {"x": IMAGES, "scale": torch.ones(2, 2), "shift": torch.zeros(2, 1)}, ValueError,
     "scale must have shape (B, C)"),
    (adain, {"x": IMAGES, "scale": torch.ones(2, 1), "shift": [0.0]}, TypeError, "shift"),
    (modulated_conv2d, {"x": IMAGES, "weight": torch.zeros(1, 1, 3, 3),
                        "styles": torch.ones(3, 1)}, ValueError, "styles must have shape (B, I)"),
    (modulated_conv2d, {"x": IMAGES.long(), "weight": torch.zeros(1, 1, 3, 3),
                        "styles": torch.ones(2, 1)}, TypeError,
     "x must be a floating-point tensor"),
    (EqualizedLinear, {"in_features": 0, "out_features": 2}, ValueError,
     "in_features must be >= 1"),
    (EqualizedLinear, {"in_features": 2, "out_features": 2, "lr_mul": -1.0}, ValueError,
     "lr_mul must be > 0"),
    (EqualizedConv2d, {"in_channels": 2, "out_channels": 2, "kernel_size": 1.5}, TypeError,
     "kernel_size must be an int"),
    (ModulatedConv2d, {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "w_dim": 4},
     ValueError, "kernel_size must be odd"),
    (MLPAutoencoderConfig, {"data_shape": (1, 28)}, ValueError, "data_shape must be a (C, H, W)"),
    (MLPAutoencoderConfig, {"hidden": 64}, TypeError, "hidden must be a tuple of ints"),
    (MLPAutoencoderConfig, {"latent_dim": 0}, ValueError, "latent_dim must be >= 1"),
    (ConvAutoencoderConfig, {"image_size": 30}, ValueError, "image_size must be divisible by 4"),
    (MLPAutoencoder, {"config": 3}, TypeError, "config must be a MLPAutoencoderConfig"),
    (AE_MLP.encode, {"x": torch.zeros(2, 1, 5, 5)}, ValueError, "x must have shape (B, 1, 4, 4)"),
    (AE_MLP.decode, {"z": np.zeros((1, 2))}, TypeError, "z must be a torch.Tensor"),
    (AE_MLP.decode_logits, {"z": torch.zeros(1, 3)}, ValueError, "z must have shape (B, 2)"),
    (ConvAutoencoder, {"config": MLPAutoencoderConfig()}, TypeError,
     "config must be a ConvAutoencoderConfig"),
    (AE_CONV, {"x": torch.zeros(1, 1, 8, 8, dtype=torch.uint8)}, TypeError,
     "x must be a floating-point tensor"),
    (ConvVAE, {"config": "small"}, TypeError, "config must be a ConvAutoencoderConfig"),
    (VAE.posterior, {"x": np.zeros((1, 1, 8, 8))}, TypeError, "x must be a torch.Tensor"),
    (layer_shapes, {"model": "net", "example": Z3}, TypeError, "model must be a torch.nn.Module"),
    (layer_shapes, {"model": G_MLP, "example": [0.0]}, TypeError,
     "example must be a torch.Tensor"),
    (layer_table, {"model": G_MLP, "example": np.zeros((1, 3))}, TypeError,
     "example must be a torch.Tensor"),
    (layer_table, {"model": G_MLP, "example": [[0.0, 0.0, 0.0]]}, TypeError,
     "example must be a torch.Tensor"),
]


def _row_id(row) -> str:
    fn, kwargs = row[0], row[1]
    return f"{_covers(fn)}-{'-'.join(kwargs)}"


def _covers(fn) -> str:
    """The public name a row tests: a function's or class's name, the class of a bound method
    or of a model instance (its ``forward``)."""
    if isinstance(fn, nn.Module):
        return type(fn).__name__
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        return owner.__name__ if isinstance(owner, type) else type(owner).__name__
    return fn.__name__


@pytest.mark.parametrize(("fn", "kwargs", "error", "fragment"), BAD_INPUTS,
                         ids=[_row_id(row) for row in BAD_INPUTS])
def test_bad_input_raises_a_clear_error(fn, kwargs, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        fn(**kwargs)


def test_every_public_callable_has_a_row():
    covered = {_covers(row[0]) for row in BAD_INPUTS}
    missing = []
    for name in MODULES:
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), f"{name} has no __all__"
        for public in module.__all__:
            obj = getattr(module, public)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and public not in covered \
                    and public not in NOT_INPUT_CHECKED:
                missing.append(f"{name}.{public}")
    assert not missing, f"add rows to BAD_INPUTS for {missing}"


@pytest.mark.parametrize("model", [G_MLP, G_DC, AE_MLP.decode, VAE.decode],
                         ids=["mlp", "dcgan", "mlp_ae", "conv_vae"])
def test_float64_z_is_cast_to_the_model_dtype(model):
    # issue 10, item 21: a float64 z gave torch's "mat1 and mat2 must have the same dtype"
    module = getattr(model, "__self__", model).eval()
    dim = module.latent_dim
    z = torch.randn(2, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(z)
        assert out.dtype == torch.float32
        assert torch.equal(out, model(z.float()))


def test_float64_images_are_cast_for_discriminators_and_encoders():
    with torch.no_grad():
        assert D_DC.eval()(torch.zeros(2, 1, 16, 16, dtype=torch.float64)).dtype == torch.float32
        assert AE_CONV.encode(torch.zeros(1, 1, 8, 8, dtype=torch.float64)).dtype == torch.float32
