"""Recurrent LIF neurons with all-to-all recurrent weights, matching snnTorch ``RLeaky(all_to_all=True)``.

Each neuron also receives the previous step's spikes of its own layer through a dense recurrent
matrix ``V [N, N]`` and bias ``b [N]`` (snnTorch's ``nn.Linear`` ``recurrent``: ``V = weight.T``)::

    r[t] = H(v[t-1] - theta)                                   detached
    u[t] = beta * v[t-1] + I[t] + s[t-1] @ V + b
    v[t] = u[t] - r[t] * theta    (subtract) | u[t] - r[t] * u[t]  (zero) | u[t]  (none)
    s[t] = H(v[t] - theta),        s[-1] = 0

Gradients flow through the recurrent spikes (surrogate), not through the reset. Source: snnTorch
1.0 ``snntorch/_neurons/rleaky.py`` (``_base_state_function``, ``_base_sub``, ``_base_zero``).
The recurrent weights start like ``nn.Linear``'s (uniform in ``+-1/sqrt(N)``).

Cost counts: one state (``v``; the spikes are the layer's output) and 5 operations per update
(multiply, 2 adds, subtract, compare); the recurrent products are synaptic updates, ``N`` per
output spike (:attr:`~hwsnn.structure.LayerWorkload.recurrent_fan_out`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from hwsnn.neurons.base import Neuron, Reset, apply_reset, default_surrogate, detached_reset
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.structure import NeuronCounts
from hwsnn.typing import Array


@dataclasses.dataclass(frozen=True)
class RLIF(Neuron):
    """Recurrent LIF, all-to-all (module doc); state ``(s, v)``; weights ``recurrent_kernel [N, N]``
    and, with ``recurrent_bias``, ``recurrent_bias [N]``. Dense layers only. Other fields as
    :class:`~hwsnn.neurons.LIF`."""

    beta: float | Array | None = 0.95
    threshold: float | Array | None = 1.0
    reset: Reset = "subtract"
    surrogate: Surrogate | str | None = dataclasses.field(default_factory=default_surrogate)
    learn: tuple[str, ...] = ()
    per_neuron: bool = False
    recurrent_bias: bool = True

    parameters: ClassVar[tuple[str, ...]] = ("beta", "threshold")
    ranges: ClassVar[dict[str, str]] = {"beta": "unit", "threshold": "positive"}
    counts: ClassVar[NeuronCounts] = NeuronCounts(states=1, ops=5)
    layer_kinds: ClassVar[tuple[str, ...]] = ("dense",)

    def weights(self, features, rngs):
        bound = 1.0 / math.sqrt(features)
        k_w, k_b = jax.random.split(rngs.params())
        out = {"recurrent_kernel": jax.random.uniform(k_w, (features, features), jnp.float32, -bound, bound)}
        if self.recurrent_bias:
            out["recurrent_bias"] = jax.random.uniform(k_b, (features,), jnp.float32, -bound, bound)
        return out

    def recurrent_fan_out(self, features: int) -> int:
        return features

    def init_state(self, shape, dtype):
        return jnp.zeros(shape, dtype), jnp.zeros(shape, dtype)

    def step(self, params, state, current):
        s_prev, v_prev = state
        theta = params["threshold"]
        r = detached_reset(v_prev, theta)
        feedback = s_prev @ params["recurrent_kernel"].astype(s_prev.dtype)
        if "recurrent_bias" in params:
            bias = params["recurrent_bias"].astype(s_prev.dtype)
            feedback = feedback + bias.reshape((1,) * (feedback.ndim - 1) + bias.shape)
        v = apply_reset(params["beta"] * v_prev + current + feedback, r, theta, self.reset)
        spike = params["surrogate"](v - theta)
        return (spike, v), spike
