"""Event datasets from local folders (layouts as their publishers distribute them), binned into
``T`` time-major frames per sample at load time (:func:`hwsnn.data.events.bin_events`).

============  ==========================================================================================
``nmnist``    ``DIR/Train/<digit>/*.bin`` and ``DIR/Test/<digit>/*.bin`` (the N-MNIST archives); frames
              ``[T, 34, 34, 2]``, 10 classes
``shd``       ``DIR/shd_train.h5`` and ``DIR/shd_test.h5``; frames ``[T, 700]``, 20 classes
``dvsgesture``  ``DIR/trials_to_train.txt`` and ``DIR/trials_to_test.txt`` naming ``.aedat`` recordings in
              ``DIR``, each with its ``<name>_labels.csv``; one sample per labelled gesture (events with
              ``start <= t < end``), frames ``[T, 128, 128, 2]``, 11 classes (labels 1-11 read as 0-10)
============  ==========================================================================================

Frames are stored as ``uint16`` counts (or 0/1 for ``frames="binary"``); the ``events`` encoder
hands them to the model as float32 ``[T, B, ...]``.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from hwsnn.data.datasets import Dataset, require_dir
from hwsnn.data.events import (
    DVS128_SENSOR,
    NMNIST_SENSOR,
    SHD_CHANNELS,
    SHD_CLASSES,
    bin_events,
    read_aedat31,
    read_gesture_labels,
    read_nmnist,
    read_shd,
)

_COUNT_LIMIT = np.iinfo(np.uint16).max


def _stack(frames: list[np.ndarray], where: str) -> np.ndarray:
    stacked = np.stack(frames)
    if stacked.max() > _COUNT_LIMIT:
        raise ValueError(
            f"{where}: a bin holds {int(stacked.max())} events at one position; allowed: at most "
            f"{_COUNT_LIMIT} (use more timesteps or frames='binary')."
        )
    return stacked.astype(np.uint16)


def _nmnist_split(folder: str, timesteps: int, frames: str) -> tuple[np.ndarray, np.ndarray]:
    digits = [
        name for name in sorted(os.listdir(folder)) if name.isdigit() and os.path.isdir(os.path.join(folder, name))
    ]
    if not digits:
        raise FileNotFoundError(
            f"data_dir: no digit folders (0-9) in {folder!r}; allowed: the N-MNIST layout "
            "Train/<digit>/*.bin, Test/<digit>/*.bin."
        )
    samples, labels = [], []
    for digit in digits:
        files = sorted(f for f in os.listdir(os.path.join(folder, digit)) if f.endswith(".bin"))
        for name in files:
            samples.append(bin_events(read_nmnist(os.path.join(folder, digit, name)), timesteps, NMNIST_SENSOR, frames))
            labels.append(int(digit))
    if not samples:
        raise FileNotFoundError(f"data_dir: no .bin files under {folder!r}.")
    return _stack(samples, folder), np.asarray(labels, np.int32)


def nmnist(data_dir, timesteps: int, frames: str = "count") -> Dataset:
    """N-MNIST from ``data_dir`` (module doc), ``timesteps`` bins per sample."""
    folder = require_dir(data_dir, "nmnist")
    parts = {}
    for split in ("Train", "Test"):
        path = os.path.join(folder, split)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"data_dir: no {split} folder in {folder!r}; allowed: the N-MNIST layout.")
        parts[split] = _nmnist_split(path, timesteps, frames)
    return Dataset("nmnist", *parts["Train"], *parts["Test"], 10, timesteps=timesteps)


def _shd_split(path: str, timesteps: int, frames: str) -> tuple[np.ndarray, np.ndarray]:
    samples, labels = read_shd(path)
    return _stack([bin_events(s, timesteps, (SHD_CHANNELS,), frames) for s in samples], path), labels


def shd(data_dir, timesteps: int, frames: str = "count") -> Dataset:
    """The Spiking Heidelberg Digits from ``data_dir`` (module doc)."""
    folder = require_dir(data_dir, "shd")
    train = _shd_split(os.path.join(folder, "shd_train.h5"), timesteps, frames)
    test = _shd_split(os.path.join(folder, "shd_test.h5"), timesteps, frames)
    return Dataset("shd", *train, *test, SHD_CLASSES, timesteps=timesteps)


def _gesture_split(folder: str, listing: str, timesteps: int, frames: str) -> tuple[np.ndarray, np.ndarray]:
    path = os.path.join(folder, listing)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data_dir: no {listing} in {folder!r}; allowed: the DVS128-Gesture layout.")
    with open(path) as handle:
        names = [line.strip() for line in handle if line.strip()]
    if not names:
        raise ValueError(f"data_dir: {path!r} lists no recordings.")
    samples, labels = [], []
    for name in names:
        events = read_aedat31(os.path.join(folder, name))
        for label, start, end in read_gesture_labels(os.path.join(folder, name[: -len(".aedat")] + "_labels.csv")):
            if not 1 <= label <= 11:
                raise ValueError(f"data_dir: {name} has gesture class {label}; allowed: 1-11.")
            segment = events[(events["t"] >= start) & (events["t"] < end)]
            samples.append(bin_events(segment, timesteps, DVS128_SENSOR, frames))
            labels.append(label - 1)
    return _stack(samples, path), np.asarray(labels, np.int32)


def dvsgesture(data_dir, timesteps: int, frames: str = "count") -> Dataset:
    """DVS128 Gesture from ``data_dir`` (module doc)."""
    folder = require_dir(data_dir, "dvsgesture")
    train = _gesture_split(folder, "trials_to_train.txt", timesteps, frames)
    test = _gesture_split(folder, "trials_to_test.txt", timesteps, frames)
    return Dataset("dvsgesture", *train, *test, 11, timesteps=timesteps)


EVENT_DATASETS: dict[str, Callable[..., Dataset]] = {"nmnist": nmnist, "shd": shd, "dvsgesture": dvsgesture}
"""Event dataset loaders: each takes ``(data_dir, timesteps, frames)`` and returns samples with a
time axis; a config reads them with ``data.encoding events``."""
