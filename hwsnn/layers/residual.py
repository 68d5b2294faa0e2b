"""Residual blocks: a body of layers and a skip connection, merged by one addition.

Two connections, each one class (the SNN container runs either; the block decides where the sum goes):

* :class:`SpikingResidual`, add before the neuron (spiking ResNet; Hu et al., "Spiking deep residual
  networks", IEEE TNNLS 2021; the tdBN ResNet-19 of Zheng et al., AAAI 2021)::

      y = N_last( I_last(h) + S(x) ),   h = body[:-1](x),   S(x) = x  or  BN(W_s * x)

  the shortcut's spikes (identity) or a projection's currents join the last body layer's synaptic
  currents, and that layer's neurons fire on the sum.

* :class:`SEWResidual`, add spikes after the neuron (SEW ResNet, ADD function; Fang et al.,
  "Deep residual learning in spiking neural networks", NeurIPS 2021)::

      y = body(x) + S(x),   S(x) = x  or  N_s(BN(W_s * x))

  the block outputs a spike count in {0, 1, 2}; the next layer counts each nonzero entry as one
  event carrying that count.

``shortcut`` is ``None`` (identity: the block's input and output shapes must match) or a
:class:`~hwsnn.layers.SynapticLayer` projection (typically a 1x1 conv with the body's stride and batch
norm). A spiking-ResNet projection contributes currents only: its neurons never run, and its workload
entry has no neurons. The block records its synaptic layers in the order shortcut, then body
(:attr:`Residual.synaptic_layers`), and its addition as one :class:`~hwsnn.structure.AddWorkload` and one
entry of :attr:`~hwsnn.structure.Activity.adds` (the nonzero shortcut operands per step), which every
cost model charges.

Blocks run layer by layer (the SNN's "layer" execution) at one T for every layer inside them.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from flax import nnx

from hwsnn.layers.modules import Context, Layer, SynapticLayer
from hwsnn.structure import AddWorkload, LayerWorkload, NeuronCounts
from hwsnn.typing import Array


class Residual(Layer):
    """A residual block (module doc); subclasses set :attr:`into` and implement :meth:`run`.

    ``run(x, context, recorder)`` runs the block on ``x [T, B, ...]``: every synaptic layer through
    ``recorder.synaptic(layer, x, context, added=None)`` (which runs it and records its activity;
    ``added`` joins its currents before its neurons) and the addition's operand through
    ``recorder.add(operand)``.
    """

    into: str  # "currents" or "spikes": where the shortcut lands (AddWorkload.into)

    def __init__(self, body: Sequence[Layer], shortcut: SynapticLayer | None = None):
        body = list(body)
        if not body or not isinstance(body[-1], SynapticLayer) or not body[-1].spiking_output:
            last = type(body[-1]).__name__ if body else "nothing"
            raise ValueError(f"body: ends with {last}; allowed: layers ending with a spiking SynapticLayer.")
        for index, layer in enumerate(body):
            if not isinstance(layer, Layer) or isinstance(layer, Residual):
                raise ValueError(
                    f"body[{index}]: got {type(layer).__name__}; allowed: a hwsnn.layers.Layer that is not a block."
                )
        if shortcut is not None and not isinstance(shortcut, SynapticLayer):
            raise ValueError(
                f"shortcut: got {type(shortcut).__name__}; allowed: None (identity) or a SynapticLayer projection."
            )
        self.body = nnx.List(body)
        self.shortcut = shortcut

    @property
    def synaptic_layers(self) -> list[SynapticLayer]:
        """The block's synaptic layers in the order it runs and records them: shortcut, then body."""
        return ([] if self.shortcut is None else [self.shortcut]) + [layer for layer in self.body if layer.synaptic]

    @property
    def operand(self) -> str:
        """What the shortcut carries: "spikes", or "currents" for a spiking-ResNet projection."""
        return "currents" if self.shortcut is not None and self.into == "currents" else "spikes"

    def fold_norm(self) -> "Residual":
        """A copy with every synaptic layer's batch norm folded (:meth:`SynapticLayer.fold_norm`)."""
        folded = nnx.clone(self)
        folded.body = nnx.List([layer.fold_norm() for layer in folded.body])
        folded.shortcut = None if folded.shortcut is None else folded.shortcut.fold_norm()
        return folded

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The body's output shape (checked against the shortcut's)."""
        return self.structure("check", tuple(in_shape), 1, True)[2]

    def structure(
        self, name: str, in_shape: tuple[int, ...], timesteps: int, spiking_input: bool, first: int = 0
    ) -> tuple[list[LayerWorkload], AddWorkload, tuple[int, ...]]:
        """The workloads of the block's synaptic layers (in :attr:`synaptic_layers` order, named
        ``layer{first}``, ``layer{first + 1}``, ...), its :class:`~hwsnn.structure.AddWorkload` (``name``; its
        ``layer`` counted from ``first``) and its output shape, for a per-sample ``in_shape``."""
        entries, shape, spiking = [], in_shape, spiking_input
        if self.shortcut is not None:
            projection = dataclasses.replace(
                self.shortcut.workload(f"layer{first}", in_shape, timesteps, timesteps, spiking_input), shortcut=True
            )
            if self.into == "currents":  # its currents join the last body layer's neurons: it has none of its own
                projection = dataclasses.replace(
                    projection,
                    neurons=0,
                    spiking_output=False,
                    neuron=NeuronCounts(states=0, ops=0),
                    recurrent_fan_out=0,
                )
            entries.append(projection)
            skip_shape = projection.out_shape
        else:
            skip_shape = in_shape
        for layer in self.body:
            if layer.synaptic:
                entries.append(layer.workload(f"layer{first + len(entries)}", shape, timesteps, timesteps, spiking))
                spiking = layer.spiking_output
            shape = layer.output_shape(shape)
        if tuple(skip_shape) != tuple(shape):
            what = "the input" if self.shortcut is None else "the shortcut's output"
            raise ValueError(
                f"shortcut: {what} has shape {tuple(skip_shape)} and the body's output {tuple(shape)}; "
                "allowed: equal shapes (give a projection shortcut with the body's stride and channels)."
            )
        add = AddWorkload(name, tuple(shape), timesteps, first + len(entries) - 1, self.operand, self.into)
        return entries, add, tuple(shape)

    def run(self, x: Array, context: Context, recorder) -> Array:
        """The block on ``x [T, B, ...]``, its synaptic layers and addition recorded by ``recorder`` (class doc)."""
        raise NotImplementedError

    def _body(self, x: Array, context: Context, recorder, stop: int) -> Array:
        """``x`` through ``body[:stop]``, each layer with its own context (``context.for_layer(1 + index)``)."""
        for index, layer in enumerate(self.body[:stop]):
            layer_context = context.for_layer(1 + index)
            x = recorder.synaptic(layer, x, layer_context) if layer.synaptic else layer(x, layer_context)
        return x

    def __call__(self, x: Array, context: Context = Context()) -> Array:
        raise ValueError("x: a residual block runs inside an SNN (SNN([... block ...])(x)), which records its layers.")

    def step(self, state, x_t: Array, context: Context = Context()):
        raise ValueError("execution: residual blocks run layer by layer; allowed: 'layer' or 'auto'.")


class SpikingResidual(Residual):
    """Add before the neuron (module doc): ``y = N_last(I_last(body[:-1](x)) + S(x))``."""

    into = "currents"

    def run(self, x: Array, context: Context, recorder) -> Array:
        """The block on ``x [T, B, ...]``: shortcut first (the projection's currents), then the body."""
        skip = x if self.shortcut is None else recorder.currents(self.shortcut, x, context.for_layer(0))
        hidden = self._body(x, context, recorder, len(self.body) - 1)
        recorder.add(skip)
        return recorder.synaptic(self.body[-1], hidden, context.for_layer(len(self.body)), added=skip)


class SEWResidual(Residual):
    """Add spikes after the neuron (module doc, SEW's ADD): ``y = body(x) + S(x)``."""

    into = "spikes"

    def run(self, x: Array, context: Context, recorder) -> Array:
        """The block on ``x [T, B, ...]``: shortcut first (the projection's spikes), then the body."""
        skip = x if self.shortcut is None else recorder.synaptic(self.shortcut, x, context.for_layer(0))
        out = self._body(x, context, recorder, len(self.body))
        recorder.add(skip)
        return out + skip
