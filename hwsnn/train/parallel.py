"""Data parallelism over a ``jax.sharding`` mesh: the same code on 1 device and on N.

Parameters and optimizer state are replicated; each batch is split along its leading axis
over the mesh's "data" axis. ``jax.jit`` then inserts the gradient all-reduce, so the loss
and the update equal the single-device ones (up to float summation order).
Multi-host: call ``jax.distributed.initialize()`` first; ``jax.devices()`` then spans hosts.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_mesh(devices=None) -> Mesh:
    """A 1-D mesh named "data" over ``devices`` (all devices by default)."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), ("data",))


def replicate(tree, mesh: Mesh):
    """Place every leaf of ``tree`` on every device of ``mesh``."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batch(tree, mesh: Mesh):
    """Split every leaf of ``tree`` along its leading (batch) axis over the "data" axis."""
    size = mesh.devices.size
    for leaf in jax.tree.leaves(tree):
        if leaf.shape[0] % size:
            raise ValueError(
                f"batch_size: {leaf.shape[0]} is not divisible by the {size} devices; allowed: a multiple of {size}."
            )
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec("data")))
