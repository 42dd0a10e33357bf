"""Check your own implementations against the package's reference, with readable feedback.

Each checker takes YOUR function (or generator module) and runs it on a fixed list of cases,
simplest first, comparing every answer with the reference in ``gan_lessons``::

    from gan_lessons import check

    def my_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
        ...

    check.conv2d(my_conv2d)                   # shows PASSED/FAILED with a hint in Jupyter
    check.conv2d(my_conv2d).raise_if_failed() # for autograded cells: AssertionError if wrong

A failed check names the first (simplest) case that went wrong, shows the expected and your
answer (the shape first, then the largest error and where), and gives a hint aimed at the usual
mistake (a flipped kernel, a missing bias, an unstable log-sigmoid, ...). A function that raises,
e.g. the ``NotImplementedError`` of a template, gives a FAILED result, not an exception.

Checkers (first argument: your callable):

* ``conv2d(fn)``, ``conv_transpose2d(fn)``: numpy convolutions, signatures as in
  :mod:`gan_lessons.conv`; ``conv2d_output_size(fn)``, ``conv_transpose2d_output_size(fn)``.
* ``discriminator_loss(fn)``, ``generator_loss_nonsaturating(fn)``,
  ``generator_loss_minimax(fn)``: GAN losses of logits (torch tensors -> 0-dim tensor).
* ``kl_standard_normal(fn)``, ``reparameterize(fn)``: the VAE's KL term and sampling trick.
* ``gradient_penalty(fn)``: WGAN-GP's penalty ``fn(critic, x_real, x_fake)`` (without lambda).
* ``frechet_distance(fn)``: the Fréchet (FID) distance of two feature arrays ``(N, D)``.
* ``dcgan_generator(generator_or_class, z_dim=None, image_size=None, channels=None)``:
  shapes, output range and batch independence of a DCGAN generator module.

Each returns a :class:`CheckResult`: truthy when passed; ``str(result)`` starts with
``PASSED <name>`` or ``FAILED <name>``; ``result.hint`` is the hint and ``result.failures``
lists every failed case.
"""

from ._report import CheckResult
from .conv import conv2d, conv2d_output_size, conv_transpose2d, conv_transpose2d_output_size
from .losses import discriminator_loss, generator_loss_minimax, generator_loss_nonsaturating
from .metrics import frechet_distance
from .models import dcgan_generator
from .penalty import gradient_penalty
from .vae import kl_standard_normal, reparameterize

__all__ = [
    "CheckResult",
    "conv2d",
    "conv2d_output_size",
    "conv_transpose2d",
    "conv_transpose2d_output_size",
    "dcgan_generator",
    "discriminator_loss",
    "frechet_distance",
    "generator_loss_minimax",
    "generator_loss_nonsaturating",
    "gradient_penalty",
    "kl_standard_normal",
    "reparameterize",
]
