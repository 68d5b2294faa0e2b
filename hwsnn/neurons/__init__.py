"""Neuron models and their pure math: surrogate spike functions, the :class:`Neuron` interface and its
models (LIF, IF, Synaptic, RLIF, ALIF, Integrator), and per-layer timestep resampling."""

from hwsnn.neurons.adaptive import ALIF
from hwsnn.neurons.base import RESETS, Neuron, as_surrogate, check_reset
from hwsnn.neurons.integrator import Integrator
from hwsnn.neurons.lif import IF, LIF, integrate_and_fire, lif, lif_step
from hwsnn.neurons.recurrent import RLIF
from hwsnn.neurons.surrogate import (
    SURROGATES,
    Surrogate,
    atan,
    fast_sigmoid,
    sigmoid,
    straight_through,
    surrogate_from_name,
    triangle,
)
from hwsnn.neurons.synaptic import Synaptic
from hwsnn.neurons.timesteps import resample, resample_matrix, step_count, step_mask

NEURONS: dict[str, type[Neuron]] = {"lif": LIF, "if": IF, "synaptic": Synaptic, "rlif": RLIF, "alif": ALIF}
"""The spiking neuron models by the names configs use (``neuron.kind`` of a config)."""

__all__ = [
    "ALIF",
    "IF",
    "Integrator",
    "LIF",
    "NEURONS",
    "Neuron",
    "RESETS",
    "RLIF",
    "SURROGATES",
    "Surrogate",
    "Synaptic",
    "as_surrogate",
    "atan",
    "check_reset",
    "fast_sigmoid",
    "integrate_and_fire",
    "lif",
    "lif_step",
    "resample",
    "resample_matrix",
    "sigmoid",
    "step_count",
    "step_mask",
    "straight_through",
    "surrogate_from_name",
    "triangle",
]
