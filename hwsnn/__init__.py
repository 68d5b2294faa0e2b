"""hwsnn: spiking neural networks in JAX, trained together with differentiable hardware models.

The flat API re-exports the pieces most scripts need; subpackages hold the rest:
:mod:`hwsnn.neurons` (pure neuron math), :mod:`hwsnn.encoding`, :mod:`hwsnn.layers`
(Flax NNX modules), :mod:`hwsnn.hardware`, :mod:`hwsnn.train`, :mod:`hwsnn.data`.
"""

from hwsnn import data, encoding, hardware, layers, neurons, train
from hwsnn.structure import LayerWorkload, Workload
from hwsnn.layers import (
    SNN, Activity, Flatten, LayerActivity, Pool, Readout, SpikingConv, SpikingDense, conv_net, mlp,
)
from hwsnn.neurons import atan, fast_sigmoid, integrate_and_fire, lif, resample, sigmoid, straight_through, triangle
from hwsnn.train import TrainConfig, train_and_evaluate

__version__ = "0.1.0"

__all__ = [
    "SNN", "Activity", "Flatten", "LayerActivity", "LayerWorkload", "Pool", "Readout", "SpikingConv",
    "SpikingDense", "TrainConfig", "Workload", "atan", "conv_net", "data", "encoding", "fast_sigmoid",
    "hardware", "integrate_and_fire", "layers", "lif", "mlp", "neurons", "resample", "sigmoid", "straight_through",
    "train", "train_and_evaluate", "triangle",
]
