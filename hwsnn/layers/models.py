"""Model factories: the architectures hwsnn's experiments and CLI train.

``timesteps`` is one T or one ``T_l`` per synaptic layer; ``learn_timesteps`` makes the counts
parameters (see :class:`~hwsnn.layers.SNN`).

A ``hardware=CrossbarSpec`` keyword puts every layer whose input is spikes on crossbars. An
analog first layer (direct coding) stays digital: spike-driven crossbars apply binary inputs
as read pulses, and multi-bit inputs would need DACs the crossbar model does not describe.
"""

from __future__ import annotations

from typing import Sequence

from flax import nnx

from hwsnn.hardware.specs import CrossbarSpec
from hwsnn.layers.container import SNN
from hwsnn.layers.modules import Flatten, Readout, SpikingConv, SpikingDense


def _hardware_of(neuron: dict) -> CrossbarSpec | None:
    """Take ``hardware`` out of the layer keywords, validated before any layer is built."""
    hardware = neuron.pop("hardware", None)
    if hardware is not None and not isinstance(hardware, CrossbarSpec):
        raise ValueError(f"hardware: got {type(hardware).__name__}; allowed: None or a CrossbarSpec (hwsnn.hardware.specs).")
    return hardware


def mlp(sizes: Sequence[int], timesteps: int | Sequence[int], *, rngs: nnx.Rngs, readout: str = "spikes",
        spiking_input: bool = False, execution: str = "auto", learn_timesteps: bool = False, **neuron) -> SNN:
    """A LIF MLP ``sizes[0] -> ... -> sizes[-1]``; the last layer spikes or is a membrane readout."""
    if len(sizes) < 2:
        raise ValueError(f"sizes: got {list(sizes)}; allowed: at least [inputs, outputs].")
    if readout not in ("spikes", "membrane"):
        raise ValueError(f"readout: got {readout!r}; allowed: ['membrane', 'spikes'].")
    hardware = _hardware_of(neuron)
    first_hardware = hardware if spiking_input else None
    widths = list(zip(sizes[:-1], sizes[1:]))
    layers = [SpikingDense(a, b, rngs=rngs, hardware=first_hardware if i == 0 else hardware, **neuron)
              for i, (a, b) in enumerate(widths[:-1])]
    last = Readout if readout == "membrane" else SpikingDense
    layers.append(last(sizes[-2], sizes[-1], rngs=rngs, hardware=first_hardware if len(widths) == 1 else hardware, **neuron))
    return SNN(layers, (sizes[0],), timesteps, spiking_input=spiking_input, execution=execution,
               learn_timesteps=learn_timesteps)


def conv_net(input_shape: Sequence[int], channels: Sequence[int], hidden: Sequence[int], outputs: int,
             timesteps: int | Sequence[int], *, rngs: nnx.Rngs, kernel_size: int = 3, padding="SAME", pool: str = "max",
             readout: str = "spikes", spiking_input: bool = False, execution: str = "auto", learn_timesteps: bool = False,
             **neuron) -> SNN:
    """Conv blocks ``conv(k) -> pool(2) -> LIF`` per entry of ``channels``, then a LIF MLP head.

    This is the layer order of the DATE 2024 network (REFERENCES.md section 1) and of
    snnTorch's convolutional tutorial: pooling acts on currents before the neurons.
    """
    if readout not in ("spikes", "membrane"):
        raise ValueError(f"readout: got {readout!r}; allowed: ['membrane', 'spikes'].")
    hardware = _hardware_of(neuron)
    layers, shape = [], tuple(input_shape)
    for index, out_channels in enumerate(channels):
        conv = SpikingConv(shape[-1], out_channels, kernel_size, rngs=rngs, padding=padding, pool=pool,
                           hardware=hardware if index > 0 or spiking_input else None, **neuron)
        shape = conv.output_shape(shape)
        layers.append(conv)
    layers.append(Flatten())
    width = shape[0] * shape[1] * shape[2]
    spiking = bool(channels) or spiking_input  # whether the head's first layer sees spikes
    for size in hidden:
        layers.append(SpikingDense(width, size, rngs=rngs, hardware=hardware if spiking else None, **neuron))
        width, spiking = size, True
    last = Readout if readout == "membrane" else SpikingDense
    layers.append(last(width, outputs, rngs=rngs, hardware=hardware if spiking else None, **neuron))
    return SNN(layers, input_shape, timesteps, spiking_input=spiking_input, execution=execution,
               learn_timesteps=learn_timesteps)
