"""Leaky integrators: the non-firing membrane readout of an SNN classifier.

    v[t] = beta * v[t-1] + I[t],     output: v[t]   (no threshold, no spikes, no reset)

This is snnTorch's ``Leaky(reset_mechanism="none")`` read at its membrane, the readout of
snnTorch's tutorials. A layer with an integrator outputs membranes, which the count losses sum
over time (``hwsnn.train.losses``). Cost counts: one state, 2 operations (multiply, add).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp

from hwsnn.neurons.base import Neuron
from hwsnn.structure import NeuronCounts
from hwsnn.typing import Array


@dataclasses.dataclass(frozen=True)
class Integrator(Neuron):
    """Non-firing leaky integrators (module doc); ``beta`` scalar or per-neuron, clipped to [0, 1]."""

    beta: float | Array | None = 0.95
    learn: tuple[str, ...] = ()
    per_neuron: bool = False

    parameters: ClassVar[tuple[str, ...]] = ("beta",)
    ranges: ClassVar[dict[str, str]] = {"beta": "unit"}
    counts: ClassVar[NeuronCounts] = NeuronCounts(states=1, ops=2)
    spiking: ClassVar[bool] = False

    def init_state(self, shape, dtype):
        return jnp.zeros(shape, dtype)

    def step(self, params, v_prev, current):
        v = params["beta"] * v_prev + current
        return v, v
