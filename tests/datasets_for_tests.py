"""Small datasets shared by the tests (imported as a plain module: pytest puts tests/ on the path)."""

from pathlib import Path

from torch.utils.data import Dataset


class PairDataset(Dataset):
    """A generic Dataset of (tensor, label) pairs: no ``.images`` tensor, so it goes through a
    DataLoader."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], 0


def shapes_folder(folder: Path, n: int = 200, size: int = 32) -> None:
    """``n`` PNGs of coloured squares and discs, ``size`` x ``size``: someone's own images."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(n):
        image = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 80, 3)))
        x, y = (int(v) for v in rng.integers(2, size // 2, 2))
        r = int(rng.integers(size // 5, size // 2))
        colour = tuple(int(c) for c in rng.integers(120, 256, 3))
        draw = ImageDraw.Draw(image)
        (draw.ellipse if i % 2 else draw.rectangle)([x, y, x + r, y + r], fill=colour)
        image.save(folder / f"{i:03d}.png")
