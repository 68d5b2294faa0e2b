"""Model factories: the architectures hwsnn's experiments and CLI train."""

from __future__ import annotations

from typing import Sequence

from flax import nnx

from hwsnn.layers.container import SNN
from hwsnn.layers.modules import Flatten, Readout, SpikingConv, SpikingDense


def mlp(sizes: Sequence[int], timesteps: int, *, rngs: nnx.Rngs, readout: str = "spikes",
        spiking_input: bool = False, execution: str = "auto", **neuron) -> SNN:
    """A LIF MLP ``sizes[0] -> ... -> sizes[-1]``; the last layer spikes or is a membrane readout."""
    if len(sizes) < 2:
        raise ValueError(f"sizes: got {list(sizes)}; allowed: at least [inputs, outputs].")
    if readout not in ("spikes", "membrane"):
        raise ValueError(f"readout: got {readout!r}; allowed: ['membrane', 'spikes'].")
    layers = [SpikingDense(a, b, rngs=rngs, **neuron) for a, b in zip(sizes[:-2], sizes[1:-1])]
    last = Readout if readout == "membrane" else SpikingDense
    layers.append(last(sizes[-2], sizes[-1], rngs=rngs, **neuron))
    return SNN(layers, (sizes[0],), timesteps, spiking_input=spiking_input, execution=execution)


def conv_net(input_shape: Sequence[int], channels: Sequence[int], hidden: Sequence[int], outputs: int,
             timesteps: int, *, rngs: nnx.Rngs, kernel_size: int = 3, padding="SAME", pool: str = "max",
             readout: str = "spikes", spiking_input: bool = False, execution: str = "auto", **neuron) -> SNN:
    """Conv blocks ``conv(k) -> pool(2) -> LIF`` per entry of ``channels``, then a LIF MLP head.

    This is the layer order of the DATE 2024 network (REFERENCES.md section 1) and of
    snnTorch's convolutional tutorial: pooling acts on currents before the neurons.
    """
    if readout not in ("spikes", "membrane"):
        raise ValueError(f"readout: got {readout!r}; allowed: ['membrane', 'spikes'].")
    layers, shape = [], tuple(input_shape)
    for out_channels in channels:
        conv = SpikingConv(shape[-1], out_channels, kernel_size, rngs=rngs, padding=padding,
                           pool=pool, **neuron)
        shape = conv.output_shape(shape)
        layers.append(conv)
    layers.append(Flatten())
    width = shape[0] * shape[1] * shape[2]
    for size in hidden:
        layers.append(SpikingDense(width, size, rngs=rngs, **neuron))
        width = size
    last = Readout if readout == "membrane" else SpikingDense
    layers.append(last(width, outputs, rngs=rngs, **neuron))
    return SNN(layers, input_shape, timesteps, spiking_input=spiking_input, execution=execution)
