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

from hwsnn.hardware.crossbar import CrossbarSpec
from hwsnn.layers.container import SNN
from hwsnn.layers.modules import Flatten, Pool, SpikingConv, SpikingDense
from hwsnn.layers.norm import Norm, TdBN
from hwsnn.layers.residual import Residual, SpikingResidual
from hwsnn.neurons import LIF, Neuron


def check_hardware(hardware) -> None:
    """Validate ``hardware`` before any layer is built."""
    if hardware is not None and not isinstance(hardware, CrossbarSpec):
        raise ValueError(
            f"hardware: got {type(hardware).__name__}; allowed: None or a CrossbarSpec (hwsnn.hardware.crossbar)."
        )


def norm_factory(norm, neuron: Neuron, timesteps, count: int):
    """``norm_for(features, before_add=False)``: the next layer's :class:`~hwsnn.layers.norm.Norm`
    (``Norm.for_layer`` with its T_l and the neuron's threshold), or ``None`` without ``norm``; layers
    take them in order (``count`` of them)."""
    if norm is not None and not (isinstance(norm, type) and issubclass(norm, Norm)):
        raise ValueError(f"norm: got {norm!r}; allowed: None or a Norm class (TdBN, BNTT).")
    steps = iter((timesteps,) * count if isinstance(timesteps, int) else tuple(timesteps))
    threshold = neuron.firing_threshold
    return lambda features, before_add=False: (
        None if norm is None else norm.for_layer(features, next(steps), threshold, before_add)
    )


def mlp(
    sizes: Sequence[int],
    timesteps: int | Sequence[int],
    *,
    rngs: nnx.Rngs,
    neuron: Neuron | None = None,
    readout: Neuron | None = None,
    hardware: CrossbarSpec | None = None,
    spiking_input: bool = False,
    execution: str = "auto",
    learn_timesteps: bool = False,
    norm: type[Norm] | None = None,
) -> SNN:
    """A spiking MLP ``sizes[0] -> ... -> sizes[-1]`` of ``neuron`` layers, the last of ``readout``;
    ``norm`` (a :class:`~hwsnn.layers.norm.Norm` class) normalises every hidden layer's currents."""
    if len(sizes) < 2:
        raise ValueError(f"sizes: got {list(sizes)}; allowed: at least [inputs, outputs].")
    check_hardware(hardware)
    neuron = LIF() if neuron is None else neuron
    widths = list(zip(sizes[:-1], sizes[1:]))
    normed = norm_factory(norm, neuron, timesteps, len(widths))
    layers = []
    for index, (a, b) in enumerate(widths):
        last = index == len(widths) - 1
        layers.append(
            SpikingDense(
                a,
                b,
                rngs=rngs,
                neuron=readout if last and readout is not None else neuron,
                hardware=hardware if index > 0 or spiking_input else None,
                norm=None if last else normed(b),
            )
        )
    return SNN(
        layers,
        (sizes[0],),
        timesteps,
        spiking_input=spiking_input,
        execution=execution,
        learn_timesteps=learn_timesteps,
    )


def conv_net(
    input_shape: Sequence[int],
    channels: Sequence[int],
    hidden: Sequence[int],
    outputs: int | None,
    timesteps: int | Sequence[int],
    *,
    rngs: nnx.Rngs,
    neuron: Neuron | None = None,
    readout: Neuron | None = None,
    hardware: CrossbarSpec | None = None,
    kernel_size: int = 3,
    padding="SAME",
    pool: str | None | Sequence[str | None] = "max",
    spiking_input: bool = False,
    execution: str = "auto",
    learn_timesteps: bool = False,
    norm: type[Norm] | None = None,
) -> SNN:
    """Conv blocks ``conv(k) -> pool(2) -> neuron`` per entry of ``channels``, then a spiking MLP head
    of widths ``hidden`` and an output layer of ``outputs`` neurons (``readout``).

    ``pool`` is the pooling of every block ("max", "avg", "sum") or one entry per block, ``None``
    where a block does not pool. ``outputs=None`` ends the network at its last conv block or hidden
    layer (a feature extractor, or a published layer list costed as it stands). ``norm`` (a
    :class:`~hwsnn.layers.norm.Norm` class: :class:`~hwsnn.layers.TdBN`, :class:`~hwsnn.layers.BNTT`)
    normalises every conv and hidden layer's currents (``Norm.for_layer``), not the output layer's.

    This is the layer order of the DATE 2024 network and of
    snnTorch's convolutional tutorial: pooling acts on currents before the neurons.
    """
    check_hardware(hardware)
    pools = tuple(pool) if isinstance(pool, (list, tuple)) else (pool,) * len(channels)
    if len(pools) != len(channels):
        raise ValueError(
            f"pool: got {len(pools)} entries for {len(channels)} conv blocks; allowed: one kind, or one per block."
        )
    if outputs is None and not channels and not hidden:
        raise ValueError(
            "outputs: got None with no conv block and no hidden layer; allowed: an int >= 1, or layers to end on."
        )
    neuron = LIF() if neuron is None else neuron
    dense = list(hidden) + ([] if outputs is None else [outputs])
    normed = norm_factory(norm, neuron, timesteps, len(channels) + len(dense))
    layers, shape = [], tuple(input_shape)
    for index, (out_channels, block_pool) in enumerate(zip(channels, pools)):
        conv = SpikingConv(
            shape[-1],
            out_channels,
            kernel_size,
            rngs=rngs,
            neuron=neuron,
            padding=padding,
            pool=block_pool,
            hardware=hardware if index > 0 or spiking_input else None,
            norm=normed(out_channels),
        )
        shape = conv.output_shape(shape)
        layers.append(conv)
    if dense and len(shape) > 1:
        layers.append(Flatten())
    width = 1
    for d in shape:
        width *= d
    spiking = bool(channels) or spiking_input  # whether the head's first layer sees spikes
    for index, size in enumerate(dense):
        last = outputs is not None and index == len(dense) - 1
        layers.append(
            SpikingDense(
                width,
                size,
                rngs=rngs,
                neuron=readout if last and readout is not None else neuron,
                hardware=hardware if spiking else None,
                norm=None if last else normed(size),
            )
        )
        width, spiking = size, True
    return SNN(
        layers,
        input_shape,
        timesteps,
        spiking_input=spiking_input,
        execution=execution,
        learn_timesteps=learn_timesteps,
    )


def resnet(
    input_shape: Sequence[int],
    stem: int,
    stages: Sequence[tuple[int, int, int]],
    hidden: Sequence[int],
    outputs: int | None,
    timesteps: int,
    *,
    rngs: nnx.Rngs,
    neuron: Neuron | None = None,
    readout: Neuron | None = None,
    hardware: CrossbarSpec | None = None,
    spiking_input: bool = False,
    execution: str = "auto",
    learn_timesteps: bool = False,
    norm: type[Norm] | None = TdBN,
    block: type[Residual] = SpikingResidual,
    pool: str | None = "avg",
    pool_window: int = 2,
) -> SNN:
    """A spiking ResNet: a 3x3 conv of ``stem`` filters, then per stage ``(channels, blocks, stride)``
    that many residual blocks of two 3x3 convs (the first block of a stage with its stride), ``pool``
    pooling (``pool_window``; ``None``: none) of the last block's spikes, a spiking MLP head of widths
    ``hidden`` and a classifier of ``outputs`` (``readout``; ``None``: no classifier).

    A block whose stride or width changes takes a 1x1 projection shortcut with the same stride (conv +
    norm), the others identity shortcuts. ``block``: :class:`~hwsnn.layers.SpikingResidual` (add before
    the neuron, default) or :class:`~hwsnn.layers.SEWResidual` (add spikes after it; its projection has
    neurons). ``norm`` (default :class:`~hwsnn.layers.TdBN`, ``alpha = 1/sqrt(2)`` on both branches
    before a spiking-ResNet addition, Zheng et al. 2021; ``None``: no batch norm) normalises every conv
    and hidden layer. ``hardware`` puts every spike-driven layer on crossbars (the stem too when
    ``spiking_input``)."""
    if not (isinstance(block, type) and issubclass(block, Residual)):
        raise ValueError(f"block: got {block!r}; allowed: SpikingResidual or SEWResidual (a Residual class).")
    check_hardware(hardware)
    neuron = LIF() if neuron is None else neuron
    convs = 1 + sum(2 * blocks for _, blocks, _ in stages)
    projections = sum(
        1
        for index, (width, _, stride) in enumerate(stages)
        if stride > 1 or width != (stem if index == 0 else stages[index - 1][0])
    )
    normed = norm_factory(norm, neuron, timesteps, convs + projections + len(hidden))
    pre_neuron = block.into == "currents"  # the shortcut joins the currents: tdBN's alpha 1/sqrt(2) on both branches
    conv = lambda c_in, c_out, k, stride=1, before_add=False, on_hardware=True: SpikingConv(
        c_in,
        c_out,
        k,
        rngs=rngs,
        neuron=neuron,
        stride=stride,
        hardware=hardware if on_hardware else None,
        norm=normed(c_out, before_add),
    )
    layers, channels = [conv(input_shape[-1], stem, 3, on_hardware=spiking_input)], stem
    for width, blocks, first_stride in stages:
        for index in range(blocks):
            stride = first_stride if index == 0 else 1
            shortcut = conv(channels, width, 1, stride, pre_neuron) if stride > 1 or channels != width else None
            layers.append(
                block([conv(channels, width, 3, stride), conv(width, width, 3, before_add=pre_neuron)], shortcut)
            )
            channels = width
    if pool is not None:
        layers.append(Pool(pool, pool_window))
    layers.append(Flatten())
    shape = tuple(input_shape)
    for layer in layers:
        shape = layer.output_shape(shape)
    width = shape[0]
    for index, size in enumerate(list(hidden) + ([] if outputs is None else [outputs])):
        last = index == len(hidden)
        layers.append(
            SpikingDense(
                width,
                size,
                rngs=rngs,
                neuron=readout if last and readout is not None else neuron,
                hardware=hardware,
                norm=None if last else normed(size),
            )
        )
        width = size
    return SNN(
        layers,
        input_shape,
        timesteps,
        spiking_input=spiking_input,
        execution=execution,
        learn_timesteps=learn_timesteps,
    )
