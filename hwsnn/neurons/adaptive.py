"""Adaptive-threshold LIF neurons (ALIF), after Bellec et al., "Long short-term memory and
learning-to-learn in networks of spiking neurons", NeurIPS 2018 (snnTorch 1.0; Bellec et al., NeurIPS 2018 for ALIF).

Each spike raises the neuron's threshold, which then relaxes back with factor ``rho``::

    a[t] = rho * a[t-1] + (1 - rho) * s[t-1]           adaptation trace, a[-1] = 0, s[-1] = 0
    A[t] = theta + gamma * a[t]                         adaptive threshold
    v[t] = beta * v[t-1] + I[t] - r[t] * A[t]           reset="subtract", r[t] = s[t-1] detached
    v[t] = beta * (1 - r[t]) * v[t-1] + I[t]            reset="zero";  beta v[t-1] + I[t]  reset="none"
    s[t] = H(v[t] - A[t])

As in the LSNN code, the reset subtracts the threshold in force at the step (``A[t]``), and the
trace carries the surrogate gradient of the spikes (the reset does not). Bellec's ``(1 - alpha)``
input scaling is left out, as in snnTorch's neurons. With no further input after one spike at step
``t0``, ``a[t0 + k] = (1 - rho) rho^(k-1)`` for ``k >= 1``. Defaults: ``gamma = 1.8`` (Bellec's
adaptation strength); ``rho = 0.95`` (a 20-step time constant, ``exp(-1/tau_a)``).

Cost counts: two states (``v``, ``a``) and 8 operations per update (3 multiplies, 3 adds or
subtracts for the trace, threshold and membrane, reset subtract, compare).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp

from hwsnn.neurons.base import Neuron, Reset, default_surrogate
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.structure import NeuronCounts
from hwsnn.typing import Array


@dataclasses.dataclass(frozen=True)
class ALIF(Neuron):
    """Adaptive LIF (module doc); state ``(s, v, a)``. ``rho`` in [0, 1] is the trace's decay per
    step, ``gamma >= 0`` the threshold's rise per unit of trace; other fields as :class:`~hwsnn.neurons.LIF`."""

    beta: float | Array | None = 0.95
    threshold: float | Array | None = 1.0
    rho: float | Array | None = 0.95
    gamma: float | Array | None = 1.8
    reset: Reset = "subtract"
    surrogate: Surrogate | str | None = dataclasses.field(default_factory=default_surrogate)
    learn: tuple[str, ...] = ()
    per_neuron: bool = False

    parameters: ClassVar[tuple[str, ...]] = ("beta", "threshold", "rho", "gamma")
    ranges: ClassVar[dict[str, str]] = {"beta": "unit", "threshold": "positive", "rho": "unit", "gamma": "nonnegative"}
    counts: ClassVar[NeuronCounts] = NeuronCounts(states=2, ops=8)

    def init_state(self, shape, dtype):
        return jnp.zeros(shape, dtype), jnp.zeros(shape, dtype), jnp.zeros(shape, dtype)

    def step(self, params, state, current):
        s_prev, v_prev, a_prev = state
        rho = params["rho"]
        a = rho * a_prev + (1.0 - rho) * s_prev
        adaptive = params["threshold"] + params["gamma"] * a
        r = jax.lax.stop_gradient(s_prev)
        if self.reset == "subtract":
            v = params["beta"] * v_prev + current - r * adaptive
        elif self.reset == "zero":
            v = params["beta"] * (1.0 - r) * v_prev + current
        else:
            v = params["beta"] * v_prev + current
        spike = params["surrogate"](v - adaptive)
        return (spike, v, a), spike
