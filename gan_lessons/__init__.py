"""GAN Lessons: the package behind the book.

Import the submodule you need, e.g. ``from gan_lessons import conv`` (numpy only) or
``from gan_lessons.models import MLPGenerator``. Importing ``gan_lessons`` itself is cheap:
it imports neither torch nor matplotlib, seeds nothing and writes nothing.
"""

__version__ = "0.1.0"
