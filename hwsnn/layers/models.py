"""Model factories: the architectures hwsnn's experiments and CLI train.

``timesteps`` is one T or one ``T_l`` per synaptic layer; ``learn_timesteps`` makes the counts
parameters (see :class:`~hwsnn.layers.SNN`). ``neuron`` is the model of every hidden layer
(:class:`~hwsnn.neurons.LIF` by default); ``readout`` the output layer's: ``None`` for the hidden
neuron (the loss reads spike counts) or, for a membrane readout, an
:class:`~hwsnn.neurons.Integrator`.

``hardware=CrossbarSpec`` puts every layer whose input is spikes on crossbars. An analog first
layer (direct coding) stays digital: spike-driven crossbars apply binary inputs as read pulses,
and multi-bit inputs would need DACs the crossbar model does not describe.
"""

from __future__ import annotations

from typing import Sequence

from flax import nnx

from hwsnn.hardware.specs import CrossbarSpec
from hwsnn.layers.container import SNN
from hwsnn.layers.modules import Flatten, SpikingConv, SpikingDense
from hwsnn.neurons import LIF, Neuron


def _check_hardware(hardware) -> None:
    """Validate ``hardware`` before any layer is built."""
    if hardware is not None and not isinstance(hardware, CrossbarSpec):
        raise ValueError(f"hardware: got {type(hardware).__name__}; allowed: None or a CrossbarSpec (hwsnn.hardware.specs).")


def mlp(sizes: Sequence[int], timesteps: int | Sequence[int], *, rngs: nnx.Rngs, neuron: Neuron | None = None,
        readout: Neuron | None = None, hardware: CrossbarSpec | None = None, spiking_input: bool = False,
        execution: str = "auto", learn_timesteps: bool = False) -> SNN:
    """A spiking MLP ``sizes[0] -> ... -> sizes[-1]`` of ``neuron`` layers, the last of ``readout``."""
    if len(sizes) < 2:
        raise ValueError(f"sizes: got {list(sizes)}; allowed: at least [inputs, outputs].")
    _check_hardware(hardware)
    neuron = LIF() if neuron is None else neuron
    widths = list(zip(sizes[:-1], sizes[1:]))
    layers = []
    for index, (a, b) in enumerate(widths):
        last = index == len(widths) - 1
        layers.append(SpikingDense(a, b, rngs=rngs, neuron=readout if last and readout is not None else neuron,
                                   hardware=hardware if index > 0 or spiking_input else None))
    return SNN(layers, (sizes[0],), timesteps, spiking_input=spiking_input, execution=execution,
               learn_timesteps=learn_timesteps)


def conv_net(input_shape: Sequence[int], channels: Sequence[int], hidden: Sequence[int], outputs: int,
             timesteps: int | Sequence[int], *, rngs: nnx.Rngs, neuron: Neuron | None = None,
             readout: Neuron | None = None, hardware: CrossbarSpec | None = None, kernel_size: int = 3,
             padding="SAME", pool: str = "max", spiking_input: bool = False, execution: str = "auto",
             learn_timesteps: bool = False) -> SNN:
    """Conv blocks ``conv(k) -> pool(2) -> neuron`` per entry of ``channels``, then a spiking MLP head.

    This is the layer order of the DATE 2024 network (REFERENCES.md section 1) and of
    snnTorch's convolutional tutorial: pooling acts on currents before the neurons.
    """
    _check_hardware(hardware)
    neuron = LIF() if neuron is None else neuron
    layers, shape = [], tuple(input_shape)
    for index, out_channels in enumerate(channels):
        conv = SpikingConv(shape[-1], out_channels, kernel_size, rngs=rngs, neuron=neuron, padding=padding, pool=pool,
                           hardware=hardware if index > 0 or spiking_input else None)
        shape = conv.output_shape(shape)
        layers.append(conv)
    layers.append(Flatten())
    width = shape[0] * shape[1] * shape[2]
    spiking = bool(channels) or spiking_input  # whether the head's first layer sees spikes
    for size in hidden:
        layers.append(SpikingDense(width, size, rngs=rngs, neuron=neuron, hardware=hardware if spiking else None))
        width, spiking = size, True
    layers.append(SpikingDense(width, outputs, rngs=rngs, neuron=neuron if readout is None else readout,
                               hardware=hardware if spiking else None))
    return SNN(layers, input_shape, timesteps, spiking_input=spiking_input, execution=execution,
               learn_timesteps=learn_timesteps)
