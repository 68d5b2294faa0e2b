"""The :class:`Cost` record shared by every cost model, and the operation counts they share.

Costs are per inference of one sample: :class:`~hwsnn.layers.Activity` holds batch means.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.structure import LIF_COUNTS, Activity, LayerWorkload, Workload, layer_steps
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Energy:
    """Energy per component in pJ; ``total`` is their sum."""

    components: dict[str, Array]

    @property
    def total(self) -> Array:
        """Sum of all components (pJ)."""
        return sum(self.components.values())

    def __getitem__(self, name: str) -> Array:
        return self.components[name]


def summed(energies) -> Energy:
    """The component-wise sum of several :class:`Energy` records (components in first-seen order)."""
    components: dict[str, Array] = {}
    for energy in energies:
        for name, value in energy.components.items():
            components[name] = value if name not in components else components[name] + value
    return Energy(components)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LayerCost:
    """One synaptic layer's share of a :class:`Cost`.

    Attributes:
      name: the workload layer's name.
      energy_pj: its energy per component (pJ); the layers' energies add up to the cost's.
      cycles: clock cycles it keeps the hardware busy (systolic array, event engine) or PE cycles it
        runs (IMC, summed over its PEs), ``None`` for the naive model.
      units: processing elements it occupies (IMC: crossbar PEs, recurrent ones included), ``None``
        where every layer uses the whole machine in turn.
      latency_ns: its stage latency; layers that overlap in a pipeline (IMC, the event engine) add up
        to more than the cost's latency.
    """

    name: str = dataclasses.field(metadata=dict(static=True))
    energy_pj: Energy
    cycles: Array | None = None
    units: int | None = dataclasses.field(default=None, metadata=dict(static=True))
    latency_ns: Array | None = None


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Cost:
    """What one inference costs: energy per component (pJ), latency (ns), area (mm2), and the same
    per synaptic layer (``layers``, :class:`LayerCost`: where the energy and time go).

    ``latency_ns`` or ``area_mm2`` is ``None`` where the model has none. ``ann`` is the cost of
    the same architecture run as an ANN (MACs, one pass, 8-bit activations) on the same
    hardware class, so ``cost.energy_ratio_to_ann`` compares SNN and ANN in one call.
    """

    energy_pj: Energy
    latency_ns: Array | None = None
    area_mm2: Array | None = None
    ann: "Cost | None" = None
    layers: tuple[LayerCost, ...] = ()

    @classmethod
    def of_layers(cls, layers, *, latency_ns=None, area_mm2=None, ann: "Cost | None" = None) -> "Cost":
        """A cost whose energy is the sum of its ``layers``' (:class:`LayerCost`) energies."""
        layers = tuple(layers)
        return cls(summed(layer.energy_pj for layer in layers), latency_ns, area_mm2, ann, layers)

    @property
    def edp_pj_ns(self) -> Array:
        """Energy-delay product, pJ x ns."""
        if self.latency_ns is None:
            raise ValueError("edp_pj_ns: this cost model has no latency.")
        return self.energy_pj.total * self.latency_ns

    @property
    def energy_ratio_to_ann(self) -> Array:
        """SNN energy / ANN energy on the same hardware class (< 1 means the SNN saves energy)."""
        if self.ann is None:
            raise ValueError("energy_ratio_to_ann: this cost has no ANN baseline.")
        return self.energy_pj.total / self.ann.energy_pj.total


def check_spec(spec, kind: type, model: str) -> None:
    """Raise ``ValueError`` unless ``spec`` is a ``kind`` (the spec type cost model ``model`` reads)."""
    if not isinstance(spec, kind):
        raise ValueError(
            f"spec: got {type(spec).__name__}; allowed: a {kind.__name__} (the {model} cost model's spec, "
            "from hwsnn.hardware.platforms or a preset's .spec())."
        )


def check_inputs(workload: Workload, activity) -> None:
    """Raise ``ValueError`` unless ``activity`` has one entry per workload layer with T_l steps."""
    if not isinstance(workload, Workload):
        raise ValueError(f"workload: got {type(workload).__name__}; allowed: a hwsnn Workload (model.workload).")
    if not isinstance(activity, Activity):
        raise ValueError(
            f"activity: got {type(activity).__name__}; allowed: a hwsnn Activity (the second output of model(x))."
        )
    if len(activity.layers) != len(workload.layers):
        raise ValueError(
            f"activity: {len(activity.layers)} layers; allowed: one per workload layer ({len(workload.layers)})."
        )
    for layer, act in zip(workload.layers, activity.layers):
        if act.input_events.shape != (layer.input_timesteps,) or act.output_spikes.shape != (layer.timesteps,):
            raise ValueError(
                f"activity: {layer.name} has input_events {act.input_events.shape} and output_spikes "
                f"{act.output_spikes.shape}; allowed: ({layer.input_timesteps},) and ({layer.timesteps},)."
            )
        if act.step_mask is not None and act.step_mask.shape != (layer.timesteps,):
            raise ValueError(
                f"activity: {layer.name} has step_mask {act.step_mask.shape}; allowed: ({layer.timesteps},)."
            )
        channels = (layer.input_timesteps, layer.in_shape[-1])
        if act.channel_events is not None and act.channel_events.shape != channels:
            raise ValueError(
                f"activity: {layer.name} has channel_events {act.channel_events.shape}; allowed: {channels} "
                "(steps, input channels): the activity of the network this workload describes."
            )
        for name, values, most, what in (
            ("input_events", act.input_events, input_size(layer), "inputs"),
            ("output_spikes", act.output_spikes, layer.neurons, "neurons"),
        ):
            if isinstance(values, jax.core.Tracer):
                continue  # traced (under jit or grad): its values are known only at run time
            found = np.asarray(values)
            if not np.all(np.isfinite(found)) or found.min() < 0 or found.max() > most * (1 + 1e-6):
                raise ValueError(
                    f"activity: {layer.name} has {name} per step in [{found.min().item()!r}, {found.max().item()!r}]; "
                    f"allowed: finite counts from 0 to its {most} {what} per sample (the activity of "
                    "the network this workload describes)."
                )
    if len(activity.adds) != len(workload.adds):
        raise ValueError(
            f"activity: {len(activity.adds)} residual additions; allowed: one per workload add ({len(workload.adds)})."
        )
    for add, events in zip(workload.adds, activity.adds):
        if events.shape != (add.timesteps,):
            raise ValueError(f"activity: {add.name} has {events.shape} add events; allowed: ({add.timesteps},).")


def synaptic_operations(layer: LayerWorkload, act) -> Array:
    """Synaptic updates of a layer's synapses over all timesteps: each input event times its real
    fan-out (:meth:`~hwsnn.structure.LayerActivity.updates`; uniformly placed events: ``sum_t events[t]
    x fan_out_per_event``, the ``T r FLOPs`` of the naive estimate)."""
    return jnp.sum(act.updates(layer))


def recurrent_events(layer: LayerWorkload, act) -> Array:
    """``[T_l]`` spikes fed back into a recurrent layer at each step: the previous step's output
    spikes (none at step 0), zeros for a feed-forward layer."""
    if not layer.recurrent_fan_out:
        return jnp.zeros_like(act.output_spikes)
    return jnp.concatenate([jnp.zeros_like(act.output_spikes[:1]), act.output_spikes[:-1]])


def recurrent_operations(layer: LayerWorkload, act) -> Array:
    """Synaptic updates of a layer's recurrent weights: ``sum_t recurrent_events[t] x recurrent_fan_out``."""
    return jnp.sum(recurrent_events(layer, act)) * layer.recurrent_fan_out


def neuron_op_ratio(layer: LayerWorkload) -> float:
    """The layer's neuron operations per update relative to LIF's (the reference of every preset)."""
    return layer.neuron.ops / LIF_COUNTS.ops


def input_size(layer: LayerWorkload) -> int:
    """Input features per sample."""
    size = 1
    for d in layer.in_shape:
        size *= d
    return size


def output_pixels(layer: LayerWorkload) -> int:
    """Output positions of the synaptic operation per channel (``H_out W_out``; 1 for dense)."""
    size = 1
    for d in layer.synapse_shape[:-1]:
        size *= d
    return size


def pipeline_latency(stage_times) -> Array:
    """Completion time of layers in a pipeline where layer i+1 starts after 75 % of layer i:
    ``latency = t_L + sum_{i<L} 0.75 t_i`` (SpikeSim's inter-layer overlap)."""
    *early, last = stage_times
    return last + 0.75 * sum(early) if early else last


def synaptic_updates(workload: Workload, activity) -> Array:
    """LD-SNN's first count: ``sum_l sum_t`` (each input event of layer ``l`` at step ``t`` times its
    real fan-out) per sample (every layer, the analog first layer of a direct-coded model included:
    each nonzero input is an update), plus the recurrent updates of recurrent layers
    (:func:`recurrent_operations`)."""
    return sum(
        synaptic_operations(layer, act) + recurrent_operations(layer, act)
        for layer, act in zip(workload, activity.layers)
    )


def neurons_evaluated(workload: Workload, activity) -> Array:
    """LD-SNN's second count: ``sum_l N_l x T_l`` (neuron updates per sample)."""
    return sum(layer.neurons * layer_steps(layer, act) for layer, act in zip(workload, activity.layers))
