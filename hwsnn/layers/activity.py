"""Per-layer activity of a forward pass: what the hardware cost models read besides the workload."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from hwsnn.typing import PerTimestep


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LayerActivity:
    """Activity of one synaptic layer, batch-mean, per timestep.

    Attributes:
      input_events: ``[T_in]`` nonzero inputs per timestep (events the synapses process).
      output_spikes: ``[T_l]`` output spikes per timestep (zeros for a membrane readout).
      channel_events: ``[T_in, C_in]`` nonzero inputs per timestep and input channel (summed
        over positions), or ``None``. A crossbar row holds one input channel at one kernel
        position, so this is the per-crossbar-row activity the IMC cost model's event mode reads.
      step_mask: ``[T_l]`` which of the layer's steps run (1) or are skipped (0), or ``None`` (all
        run). Set by learned timesteps (:func:`hwsnn.neurons.step_mask`, straight-through gradient);
        every cost model reads the layer's step count from it.

    All are sums of surrogate-carrying spikes, so they are differentiable with respect to the
    weights of this and every earlier layer.
    """

    input_events: PerTimestep
    output_spikes: PerTimestep
    channel_events: jax.Array | None = None
    step_mask: PerTimestep | None = None


def layer_steps(layer, act: LayerActivity):
    """The number of steps layer ``layer`` (a :class:`~hwsnn.hardware.LayerWorkload`) runs: ``sum(step_mask)``
    for learned timesteps (differentiable), else the workload's ``T_l``."""
    return layer.timesteps if act.step_mask is None else jnp.sum(act.step_mask)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Activity:
    """The activity of every synaptic layer of a model, in order (a plain pytree)."""

    layers: tuple[LayerActivity, ...]

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> LayerActivity:
        return self.layers[index]

    def total_input_events(self) -> jax.Array:
        """Total input events of all layers over all timesteps (per sample)."""
        return sum(jnp.sum(layer.input_events) for layer in self.layers)

    def total_output_spikes(self) -> jax.Array:
        """Total output spikes of all layers over all timesteps (per sample)."""
        return sum(jnp.sum(layer.output_spikes) for layer in self.layers)

    def firing_rates(self, workload) -> jax.Array:
        """Per-layer output firing rate: spikes per neuron per timestep, ``[L]``."""
        return jnp.stack(
            [
                jnp.sum(act.output_spikes) / (layer.neurons * layer_steps(layer, act))
                for act, layer in zip(self.layers, workload.layers, strict=True)
            ]
        )
