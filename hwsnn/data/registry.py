""":func:`load_dataset`: any dataset by the name configs use."""

from __future__ import annotations

import os

from hwsnn.data.datasets import DATASETS, Dataset
from hwsnn.data.event_datasets import EVENT_DATASETS


def load_dataset(
    name: str, data_dir: str | os.PathLike | None = None, *, timesteps: int | None = None, frames: str = "count"
) -> Dataset:
    """Load a dataset by name (one of :data:`~hwsnn.data.DATASETS` or
    :data:`~hwsnn.data.EVENT_DATASETS`); ``data_dir`` is for the file-based ones; event datasets are
    binned into ``timesteps`` frames (``frames``: "count" or "binary", :func:`hwsnn.data.events.bin_events`)."""
    if name in EVENT_DATASETS:
        if timesteps is None:
            raise ValueError(
                f"timesteps: got None for event dataset {name!r}; allowed: the frames per sample, an int >= 1."
            )
        return EVENT_DATASETS[name](data_dir, timesteps, frames)
    if name not in DATASETS:
        raise ValueError(f"dataset: got {name!r}; allowed: {list(DATASETS) + list(EVENT_DATASETS)}.")
    return DATASETS[name](data_dir)
