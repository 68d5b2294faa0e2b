"""Per-layer timesteps: the count-preserving hand-off between layers, and learnable step counts.

Resampling rule (hwsnn's own; LD-SNN's is not public): input step ``i`` of
``T_in`` goes, whole, to output step ``floor(i T_out / T_in)`` of ``T_out``::

    out[k] = sum over i with floor(i T_out / T_in) = k of in[i]

Every input step lands in exactly one output step, so spike counts are preserved exactly. From more
steps to fewer this sums contiguous groups (as the public MTT code does, ICLR 2025); from fewer to
more it places each step's spikes at the first output step of its span (the rest of the span is
empty) instead of repeating them (MTT), which would multiply the counts by ``T_out / T_in``.
Compressed outputs can exceed 1 (several spikes in one step): synapses weigh them linearly, and
the activity counts such a step as one event (a graded spike, as for sum-pooled spikes), so the
synaptic-update counts of a compressed layer follow its nonzero inputs.

Learned step counts: a layer's count is a continuous parameter ``tau``; step ``t`` (0-based) is
active when ``t + 1/2 < tau``, so ``round(tau)`` steps run. The forward pass uses that hard mask;
the backward pass uses the gradient of ``sigmoid((tau - t - 1/2) / temperature)``
(straight-through), so accuracy and cost gradients move ``tau``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.typing import Array, Spikes


def resample_matrix(t_in, t_out, length_in: int | None = None, length_out: int | None = None) -> Array:
    """``R [length_out, length_in]`` with ``R[k, i] = 1`` iff ``i < t_in`` and ``k = floor(i t_out / t_in)``.

    ``t_in`` and ``t_out`` may be traced integers (stored in arrays of ``length_in`` /
    ``length_out`` steps, default ``t_in`` / ``t_out``): learned step counts use the same rule.
    """
    length_in = int(t_in) if length_in is None else length_in
    length_out = int(t_out) if length_out is None else length_out
    i = jnp.arange(length_in)
    target = jnp.floor(i * jnp.asarray(t_out, jnp.float32) / jnp.asarray(t_in, jnp.float32) + 1e-4).astype(jnp.int32)
    valid = i < t_in
    return ((jnp.arange(length_out)[:, None] == target[None, :]) & valid[None, :]).astype(jnp.float32)


def resample(spikes: Spikes, t_out: int) -> Spikes:
    """``[T_in, ...] -> [t_out, ...]`` by the count-preserving rule of the module doc.

    >>> resample(jnp.array([1., 0., 1., 1.]), 2)      # sum pairs
    Array([1., 2.], dtype=float32)
    >>> resample(jnp.array([1., 1.]), 4)              # each step at the start of its span
    Array([1., 0., 1., 0.], dtype=float32)
    """
    if not isinstance(t_out, (int, np.integer)) or isinstance(t_out, bool) or t_out < 1:
        raise ValueError(f"t_out: got {t_out!r}; allowed: an int >= 1.")
    if spikes.ndim < 1 or spikes.shape[0] < 1:
        raise ValueError(f"spikes: shape {tuple(spikes.shape)}; allowed: [T_in >= 1, ...] (time-major).")
    t_in = spikes.shape[0]
    if t_in == t_out:
        return spikes
    matrix = resample_matrix(t_in, int(t_out)).astype(spikes.dtype)
    return jnp.tensordot(matrix, spikes, axes=(1, 0))


def step_mask(tau: Array, length: int, *, temperature: float = 0.5, relaxed: bool = False) -> Array:
    """``[length]`` mask of the active steps of a learned count ``tau`` (module doc).

    Forward: ``1[t < clip(round(tau), 1, length)]`` (``t + 1/2 < tau`` inside the range); backward: the
    gradient of ``sigmoid((tau - t - 1/2) / temperature)``.
    ``relaxed=True`` returns the sigmoid itself (the smooth objective the gradient belongs to).
    """
    steps = jnp.arange(length, dtype=jnp.float32)
    soft = jax.nn.sigmoid((tau - steps - 0.5) / temperature)
    if relaxed:
        return soft
    hard = (steps < step_count(tau, length)).astype(soft.dtype)  # at least one step, at most length
    return soft + jax.lax.stop_gradient(hard - soft)


def step_count(tau: Array, length: int) -> Array:
    """The hard number of active steps of ``tau``: ``clip(round(tau), 1, length)`` (no gradient)."""
    return jax.lax.stop_gradient(jnp.clip(jnp.round(tau), 1, length))
