"""Small datasets shared by the tests (imported as a plain module: pytest puts tests/ on the path)."""

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
