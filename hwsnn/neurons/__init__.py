"""Pure neuron math: surrogate spike functions and LIF/IF dynamics over time."""

from hwsnn.neurons.lif import RESETS, integrate_and_fire, lif, lif_step
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
    "sigmoid",
    "straight_through",
    "surrogate_from_name",
    "triangle",
]
