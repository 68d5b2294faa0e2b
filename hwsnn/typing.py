"""Shape-named array aliases used in signatures across hwsnn.

The names document the axis convention (DESIGN.md section 2): time-major ``[T, B, ...]``,
convolutional tensors NHWC ``[T, B, H, W, C]``. They are plain aliases of ``jax.Array``;
they exist for readers, not for a type checker.
"""

from __future__ import annotations

from typing import TypeAlias

import jax

Array: TypeAlias = jax.Array
Spikes: TypeAlias = jax.Array
"""``[T, B, ...]`` float 0/1 spikes; float so surrogate gradients can flow."""
Currents: TypeAlias = jax.Array
"""``[T, B, ...]`` synaptic input currents to a neuron population."""
Membrane: TypeAlias = jax.Array
"""``[T, B, ...]`` membrane potentials (before reset)."""
PerTimestep: TypeAlias = jax.Array
"""``[T]``: one number per timestep, e.g. the batch-mean number of spikes."""
Key: TypeAlias = jax.Array
"""A ``jax.random`` key."""
