"""Input encoders: static features ``[B, ...]`` -> time-major ``[T, B, ...]``.

* :func:`rate`: Bernoulli spikes with probability ``clip(x * gain + offset, 0, 1)`` per step
  (snnTorch ``spikegen.rate``; the clip is the definition of a probability, not a repair).
* :func:`latency`: one spike per feature at time ``t = tau ln(x / (x - threshold))`` ("log") or
  ``t = tau (1 - x)`` ("linear"), rounded to the nearest step (snnTorch ``spikegen.latency``).
  With ``normalize=True`` tau is fixed from ``T`` alone (not from the batch, unlike snnTorch's
  batch-max normalisation): "linear" maps ``x = threshold`` to ``T - 1``; "log" maps
  ``x = 2 threshold`` to ``T - 1`` (weaker inputs saturate there). Features at or below
  ``threshold`` spike on the last step, or never with ``clip=True``.
* :func:`direct`: the analog input at every step (given once, ``[1, B, ...]``), for a non-spiking first layer.

Randomness takes an explicit key; the same key gives the same spikes.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.typing import Array, Key, Spikes


def _check_steps(num_steps: int) -> None:
    checks.int_at_least(num_steps, "num_steps", 1)


def rate(x: Array, num_steps: int, key: Key, *, gain: float = 1.0, offset: float = 0.0) -> Spikes:
    """Rate code: ``s[t] ~ Bernoulli(clip(x * gain + offset, 0, 1))`` independently per step."""
    _check_steps(num_steps)
    p = jnp.broadcast_to(jnp.clip(x * gain + offset, 0.0, 1.0)[None], (num_steps,) + x.shape)
    return jax.random.bernoulli(key, p).astype(x.dtype)


def latency_times(
    x: Array,
    num_steps: int,
    *,
    tau: float = 1.0,
    threshold: float = 0.01,
    method: str = "log",
    normalize: bool = True,
) -> Array:
    """Continuous first-spike times (before rounding) of :func:`latency`; ``inf`` = no spike.

    log:    t = tau ln(x / (x - threshold)) for x > threshold; with normalize,
            tau = (T - 1) / ln 2 (so x = 2 threshold maps to T - 1).
    linear: t = tau (1 - x) for x > threshold; with normalize, tau = (T - 1) / (1 - threshold).
    Inputs at or below ``threshold`` get ``inf``.
    """
    _check_steps(num_steps)
    if method not in ("log", "linear"):
        raise ValueError(f"method: got {method!r}; allowed: ['linear', 'log'].")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold: got {threshold!r}; allowed: 0 < threshold < 1.")
    above = x > threshold
    safe_x = jnp.where(above, x, 1.0)
    if method == "log":
        if normalize:
            tau = (num_steps - 1) / math.log(2.0)
        t = tau * jnp.log(safe_x / (safe_x - threshold))
    else:
        if normalize:
            tau = (num_steps - 1) / (1.0 - threshold)
        t = tau * (1.0 - safe_x)
    return jnp.where(above, t, jnp.inf)


def latency(
    x: Array,
    num_steps: int,
    *,
    tau: float = 1.0,
    threshold: float = 0.01,
    method: str = "log",
    normalize: bool = True,
    clip: bool = False,
) -> Spikes:
    """Latency code: one spike per feature at step ``min(round(t), T - 1)`` (see module doc)."""
    t = latency_times(x, num_steps, tau=tau, threshold=threshold, method=method, normalize=normalize)
    fires = jnp.isfinite(t) | (not clip)
    step = jnp.where(jnp.isfinite(t), jnp.minimum(jnp.round(t), num_steps - 1), num_steps - 1)
    steps = jnp.arange(num_steps, dtype=step.dtype).reshape((num_steps,) + (1,) * x.ndim)
    hit = (steps == step[None]) & fires[None]
    return hit.astype(x.dtype)


def direct(x: Array, num_steps: int) -> Array:
    """Direct code: ``x`` at each of ``num_steps`` steps, given once as ``[1, B, ...]``.

    :class:`~hwsnn.layers.SNN` repeats a time axis of 1 over its T steps; a time-invariant first
    synaptic layer (no crossbar, no batch norm) then computes its currents once instead of T times,
    the same values as for the repeated input. ``jnp.broadcast_to(direct(x, T), (T,) + x.shape)``
    is the repeated input itself."""
    _check_steps(num_steps)
    return x[None]


def events(x: Array, num_steps: int) -> Array:
    """Event frames ``x [B, T, ...]`` (a dataset's samples with their time axis, e.g. counts per bin
    and polarity from :func:`hwsnn.data.bin_events`) as the model's input ``[T, B, ...]`` float32."""
    _check_steps(num_steps)
    if x.ndim < 2 or x.shape[1] != num_steps:
        raise ValueError(
            f"x: shape {tuple(x.shape)}; allowed: [B, {num_steps}, ...] event frames with the model's "
            f"{num_steps} timesteps (bin the events into that many frames)."
        )
    return jnp.swapaxes(jnp.asarray(x, jnp.float32), 0, 1)


ENCODERS: dict[str, Callable[[Array, int, Key], Array]] = {
    "direct": lambda x, num_steps, key: direct(x, num_steps),
    "rate": rate,
    "latency": lambda x, num_steps, key: latency(x, num_steps),
    "events": lambda x, num_steps, key: events(x, num_steps),
}
"""The encoders a config names, each as ``encode(x, num_steps, key)`` (the key is drawn from only by
stochastic codes); add one by adding an entry (``--data.encoding NAME`` then reaches it)."""


def encoder_from_name(name: str) -> Callable[[Array, int, Key], Array]:
    """``encode(x, num_steps, key)`` for a config name in :data:`ENCODERS`."""
    if name not in ENCODERS:
        raise ValueError(f"encoding: got {name!r}; allowed: {list(ENCODERS)}.")
    return ENCODERS[name]
