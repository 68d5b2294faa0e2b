"""hwsnn: spiking neural networks in JAX, trained together with differentiable hardware models.

The flat API re-exports the pieces most scripts need; subpackages hold the rest:
:mod:`hwsnn.neurons` (neuron models over pure math), :mod:`hwsnn.structure` (Workload, Activity),
:mod:`hwsnn.encoding`, :mod:`hwsnn.layers` (Flax NNX modules), :mod:`hwsnn.hardware`, :mod:`hwsnn.train`,
:mod:`hwsnn.data`, :mod:`hwsnn.nir` (NIR import and export).
"""

from hwsnn import data, encoding, hardware, layers, neurons, nir, structure, train
from hwsnn.layers import (
    SNN,
    Context,
    Flatten,
    Layer,
    Pool,
    Readout,
    SpikingConv,
    SpikingDense,
    conv_net,
    mlp,
)
from hwsnn.neurons import (
    ALIF,
    IF,
    LIF,
    RLIF,
    Integrator,
    Neuron,
    Synaptic,
    atan,
    fast_sigmoid,
    integrate_and_fire,
    lif,
    resample,
    sigmoid,
    straight_through,
    triangle,
)
from hwsnn.structure import Activity, LayerActivity, LayerWorkload, NeuronCounts, Workload
from hwsnn.train import TrainConfig, train_and_evaluate

__version__ = "0.1.0"

__all__ = [
    "ALIF",
    "Activity",
    "Context",
    "Flatten",
    "IF",
    "Integrator",
    "LIF",
    "Layer",
    "LayerActivity",
    "LayerWorkload",
    "Neuron",
    "NeuronCounts",
    "Pool",
    "RLIF",
    "Readout",
    "SNN",
    "SpikingConv",
    "SpikingDense",
    "Synaptic",
    "TrainConfig",
    "Workload",
    "atan",
    "conv_net",
    "data",
    "encoding",
    "fast_sigmoid",
    "hardware",
    "integrate_and_fire",
    "layers",
    "lif",
    "mlp",
    "neurons",
    "nir",
    "resample",
    "sigmoid",
    "straight_through",
    "structure",
    "train",
    "train_and_evaluate",
    "triangle",
]
