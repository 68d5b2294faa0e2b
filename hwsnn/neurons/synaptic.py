"""Current-based (second-order) LIF neurons, matching snnTorch ``Synaptic``.

A synaptic current ``i`` low-pass filters the input before it reaches the membrane::

    r[t] = H(v[t-1] - theta)                          detached
    i[t] = alpha * i[t-1] + I[t]
    v[t] = beta * v[t-1] + i[t] - r[t] * theta         reset="subtract"
    v[t] = (1 - r[t]) * (beta * v[t-1] + i[t])         reset="zero" (the whole membrane is cleared;
                                                        snnTorch's Synaptic differs here from Leaky)
    v[t] = beta * v[t-1] + i[t]                        reset="none"
    v[t] = beta * (1 - r[t]) * v[t-1] + i[t]           reset="zero", reset_delay=False (the membrane is
                                                        cleared the step it fires, so the next step's
                                                        current is kept: snnTorch ``reset_delay=False``
                                                        and NIR's ``CubaLIF`` with ``v_reset = 0``)
    s[t] = H(v[t] - theta)

``alpha`` and ``beta`` are clipped to [0, 1]. Source: snnTorch 1.0 ``snntorch/_neurons/synaptic.py``
(``_base_state_function``, ``_base_sub``, ``_base_zero``). This is NIR's ``CubaLIF`` in discrete time.

Cost counts: two states (``i``, ``v``) and 6 operations per update (2 multiplies, 2 adds, subtract, compare).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp

from hwsnn.neurons.base import Neuron, Reset, apply_reset, default_surrogate, detached_reset
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.structure import NeuronCounts
from hwsnn.typing import Array


@dataclasses.dataclass(frozen=True)
class Synaptic(Neuron):
    """Current-based LIF (module doc); state ``(i, v)``. Fields as :class:`~hwsnn.neurons.LIF`, plus
    ``alpha``, the synaptic current's decay per step (scalar or per-neuron, learnable), and
    ``reset_delay``: with ``reset="zero"``, ``True`` (snnTorch's default) clears the whole updated
    membrane one step after it fires, ``False`` clears it at once (module doc). Only the zero reset
    has the undelayed form (snnTorch's undelayed subtraction can subtract twice)."""

    alpha: float | Array | None = 0.9
    beta: float | Array | None = 0.8
    threshold: float | Array | None = 1.0
    reset: Reset = "subtract"
    surrogate: Surrogate | str | None = dataclasses.field(default_factory=default_surrogate)
    learn: tuple[str, ...] = ()
    per_neuron: bool = False
    reset_delay: bool = True

    parameters: ClassVar[tuple[str, ...]] = ("alpha", "beta", "threshold")
    ranges: ClassVar[dict[str, str]] = {"alpha": "unit", "beta": "unit", "threshold": "positive"}
    counts: ClassVar[NeuronCounts] = NeuronCounts(states=2, ops=6)

    def __post_init__(self):
        if not self.reset_delay and self.reset != "zero":
            raise ValueError(
                f"reset_delay: got False with reset={self.reset!r}; allowed: False only with reset='zero'."
            )
        super().__post_init__()

    def init_state(self, shape, dtype):
        return jnp.zeros(shape, dtype), jnp.zeros(shape, dtype)

    def step(self, params, state, current):
        syn_prev, v_prev = state
        theta = params["threshold"]
        r = detached_reset(v_prev, theta)
        syn = params["alpha"] * syn_prev + current
        if self.reset_delay:
            v = apply_reset(params["beta"] * v_prev + syn, r, theta, self.reset)
        else:
            v = params["beta"] * (1.0 - r) * v_prev + syn
        return (syn, v), params["surrogate"](v - theta)
