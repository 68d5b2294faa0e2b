"""Readers for the standard on-disk formats of larger datasets (no pickle, no network)."""

from __future__ import annotations

import os

import numpy as np

CIFAR10_RECORD_BYTES = 1 + 32 * 32 * 3
"""One CIFAR-10 binary record: a label byte, then 1024 R, 1024 G, 1024 B bytes (row-major 32x32).
Source: the format description on the CIFAR-10 page (Krizhevsky, 2009)."""


def read_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch -> ``(images [N, 32, 32, 3] uint8 NHWC, labels [N] int32)``.

    Raises:
      FileNotFoundError: ``path`` does not exist.
      ValueError: the file is empty, not a whole number of records, or has a label outside 0-9.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path: no CIFAR-10 batch file at {str(path)!r}.")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD_BYTES:
        raise ValueError(
            f"path: {str(path)!r} has {raw.size} bytes; allowed: a positive multiple of "
            f"{CIFAR10_RECORD_BYTES} (label byte + 3x32x32 pixels per record)."
        )
    records = raw.reshape(-1, CIFAR10_RECORD_BYTES)
    labels = records[:, 0].astype(np.int32)
    if labels.max() > 9:
        raise ValueError(f"path: {str(path)!r} has label {labels.max()}; allowed: 0-9 (corrupt file?).")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


def read_svhn_mat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an SVHN cropped-digits ``.mat`` -> ``(images [N, 32, 32, 3] uint8, labels [N] int32 in 0-9)``.

    The file stores ``X`` as ``[32, 32, 3, N]`` and ``y`` in 1-10 with 10 meaning digit 0
    (Netzer et al., 2011); labels are mapped to 0-9.

    Raises:
      FileNotFoundError: ``path`` does not exist.
      ValueError: the file is not a MATLAB file with ``X [32, 32, 3, N]`` and ``y`` in 1-10.
    """
    from scipy.io import loadmat

    if not os.path.isfile(path):
        raise FileNotFoundError(f"path: no SVHN .mat file at {str(path)!r}.")
    try:
        content = loadmat(path)
    except Exception as error:  # scipy raises several types for a corrupt file
        raise ValueError(f"path: {str(path)!r} is not a readable MATLAB v5 file ({error}).") from error
    if "X" not in content or "y" not in content:
        raise ValueError(f"path: {str(path)!r} lacks 'X' or 'y'; allowed: an SVHN cropped-digits file.")
    images, labels = content["X"], np.asarray(content["y"]).reshape(-1)
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.shape[3] != labels.size:
        raise ValueError(f"path: {str(path)!r} has X of shape {images.shape}; allowed: [32, 32, 3, N] with N labels.")
    if not _whole_numbers_in(labels, 1, 10):
        raise ValueError(f"path: {str(path)!r} has labels {_found(labels)}; allowed: whole numbers 1-10.")
    if not _whole_numbers_in(images, 0, 255):
        raise ValueError(
            f"path: {str(path)!r} has pixels {_found(images)} ({images.dtype}); allowed: whole numbers "
            "0-255 (the published files hold uint8)."
        )
    return images.transpose(3, 0, 1, 2).astype(np.uint8), (labels % 10).astype(np.int32)


def _whole_numbers_in(values: np.ndarray, low: int, high: int) -> bool:
    """Whether every value is a whole number in ``[low, high]`` (NaN and infinity are not)."""
    if values.dtype.kind not in "uif":
        return False
    return bool(np.all((values >= low) & (values <= high) & (np.round(values) == values)))


def _found(values: np.ndarray) -> str:
    """A short description of what an array holds, for an error message."""
    if values.dtype.kind not in "uif":
        return f"of type {values.dtype}"
    finite = values[np.isfinite(values)]
    bad = [] if finite.size == values.size else ["NaN or infinite values"]
    if finite.size and not np.all(np.round(finite) == finite):
        bad.append(f"fractions such as {finite[np.round(finite) != finite][0].item()!r}")
    range_text = f"in [{finite.min().item()!r}, {finite.max().item()!r}]" if finite.size else "none finite"
    return ", ".join([range_text] + bad)
