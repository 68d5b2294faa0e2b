"""Leaky integrate-and-fire dynamics, matching snnTorch ``Leaky`` defaults exactly.

For inputs ``I[t]`` (any trailing shape) and ``v[-1] = v0`` (zeros by default)::

    r[t] = H(v[t-1] - theta)                      reset signal, no gradient (detached)
    v[t] = beta * v[t-1] + I[t] - r[t] * theta     reset="subtract" (snnTorch default)
    v[t] = beta * (1 - r[t]) * v[t-1] + I[t]       reset="zero" (the input at the reset step is kept)
    v[t] = beta * v[t-1] + I[t]                    reset="none"
    s[t] = H(v[t] - theta)                         strict >, surrogate gradient backward

``v`` is returned before the reset (the reset shows at the next step, snnTorch's
``reset_delay=True``); ``beta`` is clipped to ``[0, 1]``. Source: snnTorch
``snntorch/_neurons/leaky.py`` and ``neurons.py`` (REFERENCES.md section 6). The
integrate-and-fire neuron is ``beta = 1``.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

from hwsnn.neurons.surrogate import Surrogate, atan
from hwsnn.typing import Array, Currents, Membrane, Spikes

Reset = Literal["subtract", "zero", "none"]
RESETS: tuple[str, ...] = ("subtract", "zero", "none")


def check_reset(reset: str) -> None:
    """Raise ``ValueError`` unless ``reset`` is one of :data:`RESETS`."""
    if reset not in RESETS:
        raise ValueError(f"reset: got {reset!r}; allowed: {list(RESETS)}.")


def lif_step(
    v_prev: Array, current: Array, beta: Array, threshold: Array, reset: Reset, surrogate: Surrogate
) -> tuple[Array, Array]:
    """One LIF update; returns ``(spike, v)`` with ``v`` before its reset (equations above).

    ``beta`` and ``threshold`` must already broadcast to ``v_prev`` without rank promotion
    (scalars, or arrays of ``v_prev``'s shape); :func:`lif` prepares them.
    """
    r = jax.lax.stop_gradient((v_prev - threshold > 0).astype(v_prev.dtype))
    if reset == "subtract":
        v = beta * v_prev + current - r * threshold
    elif reset == "zero":
        v = beta * (1.0 - r) * v_prev + current
    else:
        v = beta * v_prev + current
    return surrogate(v - threshold), v


def neuron_parameters(beta, threshold, state_shape: tuple[int, ...], dtype) -> tuple[Array, Array]:
    """``(clip(beta, 0, 1), threshold)`` as arrays broadcast explicitly to ``state_shape``."""
    beta = jnp.clip(_neuron_parameter(beta, "beta", state_shape, dtype), 0.0, 1.0)
    return beta, _neuron_parameter(threshold, "threshold", state_shape, dtype)


def _neuron_parameter(value, name: str, state_shape: tuple[int, ...], dtype) -> Array:
    """Broadcast a scalar or per-neuron parameter to the state shape, explicitly."""
    arr = jnp.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return arr
    neuron_shape = state_shape[len(state_shape) - arr.ndim :]
    if arr.ndim > len(state_shape) or arr.shape != neuron_shape:
        raise ValueError(
            f"{name}: shape {arr.shape} does not match the neuron shape; allowed: a scalar or "
            f"an array of the trailing neuron shape of the state {state_shape}."
        )
    return jnp.broadcast_to(arr, state_shape)


def lif(
    currents: Currents,
    beta,
    threshold=1.0,
    *,
    reset: Reset = "subtract",
    surrogate: Surrogate | None = None,
    v0: Array | None = None,
) -> tuple[Spikes, Membrane]:
    """Run LIF neurons over the leading time axis of ``currents`` ``[T, ...]``.

    Args:
      currents: input currents ``[T, B, ...]`` (float).
      beta: decay per step, a scalar or per-neuron array (trailing shape); clipped to [0, 1].
      threshold: firing threshold theta, scalar or per-neuron array.
      reset: "subtract" (default, as snnTorch), "zero" or "none".
      surrogate: spike function with surrogate gradient; ``atan(alpha=2)`` by default.
      v0: initial membrane ``[B, ...]``; zeros by default.

    Returns:
      ``(spikes, v)``, both ``[T, B, ...]``; ``v`` is the membrane before each step's reset.
    """
    check_reset(reset)
    if currents.ndim < 1:
        raise ValueError(f"currents: need a leading time axis; got shape {currents.shape}.")
    surrogate = atan() if surrogate is None else surrogate
    state_shape = currents.shape[1:]
    dtype = currents.dtype
    beta, threshold = neuron_parameters(beta, threshold, state_shape, dtype)
    if v0 is None:
        v0 = jnp.zeros(state_shape, dtype)
    elif v0.shape != state_shape:
        raise ValueError(f"v0: shape {v0.shape}; allowed: the state shape {state_shape}.")

    def step(v_prev, current):
        s, v = lif_step(v_prev, current, beta, threshold, reset, surrogate)
        return v, (s, v)

    _, (spikes, membrane) = jax.lax.scan(step, v0, currents)
    return spikes, membrane


def integrate_and_fire(
    currents: Currents,
    threshold=1.0,
    *,
    reset: Reset = "subtract",
    surrogate: Surrogate | None = None,
    v0: Array | None = None,
) -> tuple[Spikes, Membrane]:
    """Integrate-and-fire neurons: :func:`lif` with ``beta = 1`` (no leak)."""
    return lif(currents, 1.0, threshold, reset=reset, surrogate=surrogate, v0=v0)
