"""Flax NNX layers behind one interface (:class:`Layer`), neuron populations, the SNN container and model factories."""

from hwsnn.layers.container import SNN
from hwsnn.layers.models import conv_net, mlp, resnet
from hwsnn.layers.modules import (
    Context,
    Dropout,
    Flatten,
    Layer,
    Pool,
    Readout,
    SpikingConv,
    SpikingDense,
    SynapticLayer,
)
from hwsnn.layers.neurons import NeuronConstant, Neurons
from hwsnn.layers.norm import BNTT, NORMS, Norm, TdBN
from hwsnn.layers.residual import Residual, SEWResidual, SpikingResidual
from hwsnn.layers.zoo import ZOO, conv5_fc2, date2024, mnist_conv, resnet19, vgg9, vgg16
from hwsnn.structure import Activity, LayerActivity

__all__ = [
    "Activity",
    "BNTT",
    "Context",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerActivity",
    "NORMS",
    "NeuronConstant",
    "Neurons",
    "Norm",
    "Pool",
    "Readout",
    "Residual",
    "SEWResidual",
    "SNN",
    "SpikingResidual",
    "SpikingConv",
    "SpikingDense",
    "SynapticLayer",
    "TdBN",
    "ZOO",
    "conv5_fc2",
    "conv_net",
    "date2024",
    "mlp",
    "mnist_conv",
    "resnet",
    "resnet19",
    "vgg9",
    "vgg16",
]
