"""SpikeSim-like in-memory-computing crossbar architecture (REFERENCES.md section 4).

A layer with ``C_in`` input and ``C_out`` output channels, ``k x k`` kernel and ``H_out^2``
output pixels occupies ``PEs_l = ceil(C_in / X) ceil(C_out / X) ceil(k^2 / crossbars_per_pe)``
processing elements, and every output pixel costs one PE cycle per timestep on each of them.
Energy of one PE cycle (SpikeSim's equation, with the readout generalised)::

    E_PE = E_htree + E_memfetch + E_neuron
           + c [k'^2 E_xbar + (X / c) (E_ADC(b) + E_mux)]     ADC shared by c columns, serialised c times
           +   [k'^2 E_xbar + X E_SA]                          or: 1-bit sense amplifier per column
           + (X/8) 16 E_sub + (X/8) E_temp + E_tilebuf

with ``k'^2 = min(k^2, crossbars_per_pe)`` active crossbars and ``E_ADC(b) = E_ADC(b_ref) x
2^(b - b_ref)`` (Walden; ``x 4^(b - b_ref)`` Schreier; ``x (2^b - 1) / (2^b_ref - 1)`` flash). SpikeSim writes the ADC term as
``(X/8)[k^2 E_xbar + (X/8)(E_ADC + E_mux)]``: identical for its 64 x 64 crossbar with one ADC
per 8 columns (``c = X/8 = 8``). hwsnn's form says what that count is: ``X`` conversions, ``X/c``
ADCs converting ``c`` columns each, the crossbar driven once per conversion round.

* ``mode="dense"`` reproduces SpikeSim's accounting: ``E_l = T_l x PEs_l x H_out^2 x E_PE``;
  it ignores activity, as SpikeSim does.
* ``mode="event"``: crossbar and word-line driver (memory-fetch) energy follow the active
  rows. At timestep ``t`` a fraction ``rho_l[t] = events_l[t] / inputs_l`` of the rows is driven,
  so those two terms scale by ``rho_l[t]``; the rest of the PE cycle is paid regardless. With
  per-channel activity (``LayerActivity.channel_events``) the fraction is taken per row tile
  (each block of ``X`` input channels drives its own crossbars), ``rho_{l,r}[t] = events in
  block r / (positions x channels in block r)``, and the PEs of each row tile are charged
  their own fraction. An
  analog (direct-coded) first layer drives the rows of its nonzero inputs; its multi-bit input
  precision is not modelled.

Latency improves on SpikeSim's (which charges a PE cycle per output neuron while its energy
charges one per output pixel per 64-channel block): all PEs of a layer work in parallel, so a
layer takes ``T_l x H_out^2`` PE cycles, and layer ``i + 1`` starts after 75 % of layer ``i``
(SpikeSim's overlap). A PE cycle takes ``pe_fixed_ns`` plus the readout: ``c`` serial conversions
(SAR: ``(b + 1) x adc_step_ns`` each; flash: one step), or one sense-amplifier decision ``sa_ns``.

Area (SpikeSim; every layer's membranes counted, where SpikeSim's script sums only its first
five layers)::

    A = tiles [(X/8) A_sub + A_temp + A_tilebuf + pes_per_tile A_PE + A_htree] + A_inputbuf + A_membrane
    A_PE = crossbars_per_pe A_xbar + (X/c)(A_ADC + A_mux)   |   crossbars_per_pe A_xbar + X A_SA
    tiles = ceil(sum_l PEs_l / pes_per_tile)
    A_inputbuf = sum_l inputs_l x storage_bits x A_bit,   A_membrane = sum_l neurons_l x storage_bits x A_bit

Neurons are charged by their own counts (:class:`~hwsnn.structure.NeuronCounts`): the LIF
module's energy per PE cycle scales by ``ops / 4`` (SpikeSim's module is a LIF: 1 state, 4
operations), and the membrane storage by the number of state variables. A recurrent layer's
``N x N`` feedback matrix occupies its own ``ceil(N / X)^2`` PEs and runs one PE cycle per
step, its rows driven by the previous step's spikes.

Residual additions (ResNets; SpikeSim has none, so this is hwsnn's convention): a shortcut operand
is one more partial sum added in the tile's digital periphery, charged one column's share of a PE
cycle's subtractor and partial-sum buffer energy, ``(16 E_sub + E_temp) (X/8) / X`` per operand;
``mode="dense"`` adds every element at every step (activity ignored, as SpikeSim's accounting), ``"event"``
the nonzero operands; the ANN adds every element once. Additions overlap the crossbar pipeline: they
add no latency. Each is its own entry of ``cost.layers``.

ANN baseline on the same crossbars: 8-bit activations applied bit-serially (8 PE cycles per
output pixel, one pass), no LIF module.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from hwsnn.hardware.cost.base import (
    Cost, Energy, LayerCost, check_inputs, check_spec, input_size, layer_steps, neuron_op_ratio, output_pixels,
    pipeline_latency, recurrent_events
)
from hwsnn.hardware.specs import IMCSpec
from hwsnn.structure import LayerWorkload, Workload

MODES = ("dense", "event")
_DIGITAL_GROUP = 8  # SpikeSim's X/8 for the subtractors and partial-sum buffers


def pes_of(spec: IMCSpec, layer: LayerWorkload) -> int:
    """PEs a layer occupies: ``ceil(C_in / X) ceil(C_out / X) ceil(k^2 / crossbars_per_pe)``."""
    x = spec.crossbar_size
    return (math.ceil(layer.in_shape[-1] / x) * math.ceil(layer.out_channels / x)
            * math.ceil(layer.kernel_size ** 2 / spec.crossbars_per_pe))


def pe_cycle_energy(spec: IMCSpec, layer: LayerWorkload, with_neuron: bool = True) -> dict[str, object]:
    """Energy per component of one PE cycle of ``layer`` (all rows active)."""
    x, c = spec.crossbar_size, spec.columns_per_adc
    crossbars = min(layer.kernel_size ** 2, spec.crossbars_per_pe)
    group = x / _DIGITAL_GROUP
    parts = {
        "htree": spec.e_htree_pj,
        "memfetch": spec.e_memfetch_pj,
        "neuron": spec.e_neuron_pj * (neuron_op_ratio(layer) if with_neuron else 0.0),
        "subtractor": group * 16 * spec.e_sub_pj,
        "psum_buffer": group * spec.e_temp_pj,
        "tile_buffer": spec.e_tilebuf_pj,
    }
    if spec.readout == "adc":
        parts["crossbar"] = c * crossbars * spec.e_xbar_pj
        parts["readout"] = c * (x / c) * spec.adc_energy_pj()
        parts["mux"] = c * (x / c) * spec.e_mux_pj
    else:
        parts["crossbar"] = crossbars * spec.e_xbar_pj
        parts["readout"] = x * spec.e_sa_pj
        parts["mux"] = jnp.zeros_like(spec.e_mux_pj)
    return parts


def pe_cycle_ns(spec: IMCSpec) -> object:
    """Duration of one PE cycle: fixed part plus the readout (serialised ADC or one SA decision)."""
    if spec.readout == "adc":
        return spec.pe_fixed_ns + spec.columns_per_adc * spec.adc_conversion_ns()
    return spec.pe_fixed_ns + spec.sa_ns


def area_mm2(spec: IMCSpec, workload: Workload) -> object:
    """Chip area in mm2 (module doc)."""
    x, c = spec.crossbar_size, spec.columns_per_adc
    if spec.readout == "adc":
        a_pe = spec.crossbars_per_pe * spec.a_xbar_um2 + (x / c) * (spec.a_adc_um2 + spec.a_mux_um2)
    else:
        a_pe = spec.crossbars_per_pe * spec.a_xbar_um2 + x * spec.a_sa_um2
    tiles = math.ceil(sum(pes_of(spec, layer) + recurrent_pes(spec, layer) for layer in workload) / spec.pes_per_tile)
    per_tile = ((x / _DIGITAL_GROUP) * spec.a_sub_um2 + spec.a_temp_um2 + spec.a_tilebuf_um2
                + spec.pes_per_tile * a_pe + spec.a_htree_um2)
    storage = sum(input_size(layer) + layer.neurons * layer.neuron.states for layer in workload) * spec.storage_bits * spec.a_bit_um2
    return (tiles * per_tile + storage) / 1e6


def recurrent_pes(spec: IMCSpec, layer: LayerWorkload) -> int:
    """PEs of a recurrent layer's ``N x N`` recurrent matrix (a dense ``N -> N`` map; 0 if feed-forward)."""
    if not layer.recurrent_fan_out:
        return 0
    return math.ceil(layer.neurons / spec.crossbar_size) * math.ceil(layer.recurrent_fan_out / spec.crossbar_size)


def _recurrent_energy(spec: IMCSpec, layer: LayerWorkload, act, mode: str) -> dict[str, object]:
    """Energy of a recurrent layer's feedback products: one PE cycle per step on each of its
    :func:`recurrent_pes` (no neuron term: the layer's neurons are charged once), crossbar and
    driver following the fraction of neurons that spiked at the previous step in event mode."""
    pes = recurrent_pes(spec, layer)
    if not pes:
        return {}
    dense = dataclasses.replace(layer, in_shape=(layer.neurons,), synapse_shape=(layer.recurrent_fan_out,), kernel_size=1)
    active = jnp.sum(recurrent_events(layer, act)) / layer.neurons
    return {name: per_cycle * pes * (active if mode == "event" and name in ("crossbar", "memfetch") else layer_steps(layer, act))
            for name, per_cycle in pe_cycle_energy(spec, dense, with_neuron=False).items()}


def active_steps(spec: IMCSpec, layer: LayerWorkload, act) -> object:
    """``sum_t`` of the fraction of crossbar rows driven, averaged over the layer's row tiles."""
    if act.channel_events is None:
        return jnp.sum(act.input_events) / input_size(layer)
    channels = layer.in_shape[-1]
    positions = input_size(layer) // channels
    blocks = [(start, min(start + spec.crossbar_size, channels)) for start in range(0, channels, spec.crossbar_size)]
    per_block = [jnp.sum(act.channel_events[:, a:b]) / (positions * (b - a)) for a, b in blocks]
    return sum(per_block) / len(blocks)


def imc(spec: IMCSpec, workload: Workload, activity, *, mode: str = "event") -> Cost:
    """IMC energy (components: htree, memfetch, neuron, crossbar, readout, mux, subtractor,
    psum_buffer, tile_buffer), latency and area of the SNN, and of its ANN baseline (``cost.ann``);
    per layer (``cost.layers``): energy, PE cycles, PEs and stage latency (stages overlap by 25 %)."""
    if mode not in MODES:
        raise ValueError(f"mode: got {mode!r}; allowed: {list(MODES)}.")
    check_spec(spec, IMCSpec, "imc")
    check_inputs(workload, activity)
    layers = []
    for layer, act in zip(workload, activity.layers):
        cycles_per_step = pes_of(spec, layer) * output_pixels(layer)
        steps = layer_steps(layer, act)
        if mode == "event":  # sum over t of the fraction of rows driven (nonzero inputs)
            steps_active = active_steps(spec, layer, act)
        energy = {}
        for name, per_cycle in pe_cycle_energy(spec, layer).items():
            driven = mode == "event" and name in ("crossbar", "memfetch")
            energy[name] = per_cycle * cycles_per_step * (steps_active if driven else steps)
        for name, value in _recurrent_energy(spec, layer, act, mode).items():
            energy[name] = energy[name] + value
        layers.append(LayerCost(layer.name, Energy(energy), cycles=cycles_per_step * steps + recurrent_pes(spec, layer) * steps,
                                units=pes_of(spec, layer) + recurrent_pes(spec, layer),
                                latency_ns=steps * output_pixels(layer) * pe_cycle_ns(spec)))
    stages = [layer.latency_ns for layer in layers]
    for add, events in zip(workload.adds, activity.adds):
        layers.append(_add_cost(spec, add, jnp.sum(events) if mode == "event" else add.elements * add.timesteps))
    return Cost.of_layers(layers, latency_ns=pipeline_latency(stages), area_mm2=area_mm2(spec, workload),
                          ann=_ann(spec, workload))


def add_energy_pj(spec: IMCSpec) -> dict[str, object]:
    """Energy per residual-addition operand (module doc): one column's share of a PE cycle's digital adds."""
    group = spec.crossbar_size / _DIGITAL_GROUP
    return {"subtractor": group * 16 * spec.e_sub_pj / spec.crossbar_size, "psum_buffer": group * spec.e_temp_pj / spec.crossbar_size}


def _add_cost(spec: IMCSpec, add, operands) -> LayerCost:
    return LayerCost(add.name, Energy({name: per_operand * operands for name, per_operand in add_energy_pj(spec).items()}))


def _ann(spec: IMCSpec, workload: Workload) -> Cost:
    bits = spec.ann_activation_bits
    layers = []
    for layer in workload:
        cycles = pes_of(spec, layer) * output_pixels(layer) * bits
        energy = {name: per_cycle * cycles for name, per_cycle in pe_cycle_energy(spec, layer, with_neuron=False).items()}
        layers.append(LayerCost(layer.name, Energy(energy), cycles=cycles, units=pes_of(spec, layer),
                                latency_ns=bits * output_pixels(layer) * pe_cycle_ns(spec)))
    stages = [layer.latency_ns for layer in layers]
    layers += [_add_cost(spec, add, float(add.elements)) for add in workload.adds]
    return Cost.of_layers(layers, latency_ns=pipeline_latency(stages), area_mm2=area_mm2(spec, workload))
