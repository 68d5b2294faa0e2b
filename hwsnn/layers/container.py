"""The SNN container: runs layers multi-step and returns ``(output, Activity)``."""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
from flax import nnx

from hwsnn.hardware.workload import Workload
from hwsnn.layers.activity import Activity, LayerActivity
from hwsnn.layers.ops import events_per_step
from hwsnn.typing import Array


class SNN(nnx.Module):
    """A stack of layers run layer by layer over all timesteps.

    Args:
      layers: spiking layers (:class:`SpikingDense`, :class:`SpikingConv`, readouts) and
        structural ones (:class:`Pool`, :class:`Flatten`).
      input_shape: per-sample input shape, e.g. ``(28, 28, 1)`` or ``(784,)``.
      timesteps: number of timesteps T of the input.
      spiking_input: whether the input is spikes (rate/latency code) or analog (direct code);
        recorded in the workload, where it decides MAC vs accumulate for the first layer.

    Calling the model on ``x [T, B, *input_shape]`` returns ``(output, activity)``: the last
    layer's output ``[T, B, ...]`` and an :class:`Activity` with one entry per synaptic layer.
    """

    def __init__(self, layers: Sequence[nnx.Module], input_shape: Sequence[int], timesteps: int,
                 *, spiking_input: bool = False):
        if not layers:
            raise ValueError("layers: got an empty sequence; allowed: at least one synaptic layer.")
        if not isinstance(timesteps, int) or isinstance(timesteps, bool) or timesteps < 1:
            raise ValueError(f"timesteps: got {timesteps!r}; allowed: an int >= 1.")
        self.layers = nnx.List(list(layers))
        self.input_shape = tuple(int(d) for d in input_shape)
        self.timesteps = timesteps
        self.spiking_input = bool(spiking_input)
        self.workload  # derive once now: shape errors surface at construction

    @property
    def workload(self) -> Workload:
        """The static per-layer :class:`Workload`, derived from shapes."""
        shape, spiking, entries = self.input_shape, self.spiking_input, []
        for index, layer in enumerate(self.layers):
            if layer.synaptic:
                entries.append(layer.workload(
                    f"layer{len(entries)}", shape, self.timesteps, self.timesteps, spiking))
                spiking = layer.spiking_output
            shape = layer.output_shape(shape)
        if not entries:
            raise ValueError("layers: no synaptic layer; allowed: at least one dense or conv layer.")
        return Workload(tuple(entries))

    def check_input(self, x: Array) -> None:
        """Raise ``ValueError`` unless ``x`` is ``[T, B, *input_shape]`` with this model's T."""
        expected = (self.timesteps, "B") + self.input_shape
        if x.ndim != len(self.input_shape) + 2 or x.shape[0] != self.timesteps or tuple(x.shape[2:]) != self.input_shape:
            raise ValueError(f"x: shape {tuple(x.shape)}; allowed: {expected} (time-major).")

    def layer_outputs(self, x: Array) -> tuple[list[Array], Activity]:
        """Every layer's output (for rasters and probes) and the activity."""
        self.check_input(x)
        outputs, activities = [], []
        for layer in self.layers:
            y = layer(x)
            if layer.synaptic:
                spikes = events_per_step(y) if layer.spiking_output else jnp.zeros(y.shape[0], y.dtype)
                activities.append(LayerActivity(events_per_step(x), spikes))
            outputs.append(y)
            x = y
        return outputs, Activity(tuple(activities))

    def __call__(self, x: Array) -> tuple[Array, Activity]:
        outputs, activity = self.layer_outputs(x)
        return outputs[-1], activity
