"""Pure neuron math: surrogate spike functions, LIF/IF dynamics over time, per-layer timestep resampling."""

from hwsnn.neurons.lif import RESETS, integrate_and_fire, lif, lif_step
from hwsnn.neurons.timesteps import resample, resample_matrix, step_count, step_mask
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

__all__ = [
    "RESETS",
    "SURROGATES",
    "Surrogate",
    "atan",
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
