"""Flax NNX spiking layers, the SNN container, activity records and model factories."""

from hwsnn.structure import Activity, LayerActivity
from hwsnn.layers.container import SNN
from hwsnn.layers.models import conv_net, mlp
from hwsnn.layers.modules import Flatten, LIFNeurons, NeuronConstant, Pool, Readout, SpikingConv, SpikingDense

__all__ = [
    "Activity", "Flatten", "LIFNeurons", "LayerActivity", "NeuronConstant", "Pool", "Readout", "SNN",
    "SpikingConv", "SpikingDense", "conv_net", "mlp",
]
