"""SATA-like weight-stationary systolic array (REFERENCES.md section 3).

Computation, per component class ``c`` (SATA_Sim ``energy-cal.py``)::

    E_c = P_gated,c x N_ops,c x t_clk + (P_ungated,c + P_leak,c) x cycles x t_clk x N_PE

Only the gated term sees sparsity. SNN: ``accumulate`` and ``spad`` gate once per synaptic
update (each input event times its real fan-out, plus a recurrent layer's ``sum_t s[t-1] x N``), ``lif`` once
per neuron update (``N_l x T_l``); an analog first layer runs its MACs once on the MAC datapath.

Neurons are charged by their own counts (:class:`~hwsnn.structure.NeuronCounts`), relative to the
LIF unit SATA sized (1 state, 4 operations): a neuron update gates ``ops / 4`` LIF units' worth of
energy; the ungated and leakage power of the PE's neuron unit scale with the largest ``ops / 4`` in
the network (the unit must fit the most complex neuron); every state variable is read and written
once per update (``states x membrane_bits``). LIF networks cost exactly as SATA's accounting. ANN baseline: ``mac`` and ``ann_spad``
gate once per MAC, ``relu`` never gates; one pass.

Cycles, from tiling each layer (``K = fan_in`` reduction on the rows, ``N`` output channels on
the columns, ``M`` output pixels streamed; SCALE-Sim's weight-stationary schedule)::

    folds = ceil(K / rows) x ceil(N / cols)
    stream cycles per timestep = folds x (M + rows + cols - 1)      (fill + stream + drain)
    weight-load cycles (once)  = folds x rows
    cycles = sum_l (T_l x stream_l + load_l)

Memory (not sparsity-aware, as in SATA_Sim), in GLB words of ``glb_word_bytes``:
weights are read from DRAM and written to / read from the weight GLB once; per timestep each
column fold re-reads the layer's im2col input (``folds_c x M x K`` spikes), writes the output
spikes, reads and writes every membrane (``membrane_bits``), and spills partial sums between
row folds (``(folds_r - 1) x M x N x psum_bits``, written and read). A layer input that exceeds
the feature-map GLB comes from DRAM every timestep. DRAM: 0.4688 nJ per byte moved. GLB leakage
is paid for the whole run (one weight and two feature-map buffers).

SATA_Sim counts cycles and accesses with SCALE-Sim; hwsnn's closed-form tiling replaces that
simulator, so its cycle counts are an analytic approximation of the same schedule.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from hwsnn.hardware.cost.base import (
    Cost, Energy, check_inputs, input_size, layer_steps, neuron_op_ratio, output_pixels, recurrent_operations,
    synaptic_operations,
)
from hwsnn.hardware.specs import PEUnit, SystolicSpec
from hwsnn.structure import LayerWorkload, Workload


def layer_cycles(spec: SystolicSpec, layer: LayerWorkload) -> tuple[int, int]:
    """``(stream cycles per timestep, weight-load cycles)`` of one layer on the array."""
    folds = math.ceil(layer.fan_in / spec.rows) * math.ceil(layer.out_channels / spec.cols)
    return folds * (output_pixels(layer) + spec.rows + spec.cols - 1), folds * spec.rows


def _unit_energy(unit: PEUnit, ops, cycles: float, t_ns, n_pe: int) -> dict[str, object]:
    return {"gated": unit.gated_mw * ops * t_ns, "ungated": unit.ungated_mw * cycles * t_ns * n_pe,
            "leakage": unit.leak_mw * cycles * t_ns * n_pe}


def _memory(spec: SystolicSpec, workload: Workload, timesteps: list, activation_bits: list[int],
            with_membranes: bool, cycles: float, t_ns) -> dict[str, object]:
    """GLB and DRAM energy (see module doc); ``timesteps[l]`` passes through layer ``l``."""
    word = spec.glb_word_bytes * 8
    weight_bits = sum(layer.weights for layer in workload) * spec.weight_bits
    fmap_reads = fmap_writes = dram_bytes = 0.0
    dram_bytes += weight_bits / 8
    for layer, steps, bits in zip(workload, timesteps, activation_bits):
        folds_r = math.ceil(layer.fan_in / spec.rows)
        folds_c = math.ceil(layer.out_channels / spec.cols)
        pixels, channels = output_pixels(layer), layer.out_channels
        reads = folds_c * pixels * layer.fan_in * bits + (folds_r - 1) * pixels * channels * spec.psum_bits
        writes = layer.neurons * (spec.spike_bits if with_membranes else spec.ann_activation_bits)
        writes += (folds_r - 1) * pixels * channels * spec.psum_bits
        if with_membranes:
            reads += layer.neurons * layer.neuron.states * spec.membrane_bits
            writes += layer.neurons * layer.neuron.states * spec.membrane_bits
        fmap_reads += steps * reads / word
        fmap_writes += steps * writes / word
        overflow_bits = max(0, input_size(layer) * bits - spec.glb_fmap_bytes * 8)
        dram_bytes += steps * overflow_bits / 8
    first = workload.layers[0]
    dram_bytes += timesteps[0] * input_size(first) * activation_bits[0] / 8  # the network input
    return {
        "glb_weight_dynamic": (spec.glb_weight_read_pj + spec.glb_weight_write_pj) * weight_bits / word,
        "glb_weight_leakage": spec.glb_weight_leak_mw * cycles * t_ns,
        "glb_fmap_dynamic": spec.glb_fmap_read_pj * fmap_reads + spec.glb_fmap_write_pj * fmap_writes,
        "glb_fmap_leakage": 2 * spec.glb_fmap_leak_mw * cycles * t_ns,
        "dram": spec.dram_pj_per_byte * dram_bytes,
    }


def _flatten(prefix: str, parts: dict) -> dict:
    return {f"{prefix}_{k}": v for k, v in parts.items()}


def systolic(spec: SystolicSpec, workload: Workload, activity) -> Cost:
    """SATA energy and latency of the SNN, and of its ANN baseline on the Eyeriss-like PE (``cost.ann``).

    Components: ``{accumulate,lif,spad,mac}_{gated,ungated,leakage}`` (compute) and
    ``glb_weight_*``, ``glb_fmap_*``, ``dram`` (memory).
    """
    check_inputs(workload, activity)
    t_ns = 1000.0 / spec.clock_mhz
    n_pe = spec.rows * spec.cols
    steps = [layer_steps(layer, act) for layer, act in zip(workload, activity.layers)]
    cycles = sum(t * stream + load for layer, t in zip(workload, steps) for stream, load in [layer_cycles(spec, layer)])
    acs = sum((synaptic_operations(layer, act) if layer.spiking_input else 0.0)
              + recurrent_operations(layer, act) for layer, act in zip(workload, activity.layers))
    acs = jnp.asarray(acs, t_ns.dtype)
    first_macs = sum(layer.macs for layer in workload if not layer.spiking_input)
    neuron_ops = sum(layer.neurons * t * neuron_op_ratio(layer) for layer, t in zip(workload, steps))
    neuron_unit = max(neuron_op_ratio(layer) for layer in workload)  # the PE's unit fits the largest neuron
    energy = {}
    energy.update(_flatten("accumulate", _unit_energy(spec.accumulate, acs, cycles, t_ns, n_pe)))
    lif = _unit_energy(spec.lif, neuron_ops, cycles, t_ns, n_pe)
    energy.update(_flatten("lif", {**lif, "ungated": neuron_unit * lif["ungated"], "leakage": neuron_unit * lif["leakage"]}))
    energy.update(_flatten("spad", _unit_energy(spec.spad, acs + first_macs, cycles, t_ns, n_pe)))
    energy["mac_gated"] = spec.mac.gated_mw * first_macs * t_ns
    spiking_bits = [spec.spike_bits if layer.spiking_input else spec.ann_activation_bits for layer in workload]
    moved = [t if layer.spiking_input else 1 for layer, t in zip(workload, steps)]
    energy.update(_memory(spec, workload, moved, spiking_bits, True, cycles, t_ns))
    return Cost(Energy(energy), latency_ns=cycles * t_ns, ann=_ann(spec, workload, t_ns, n_pe))


def _ann(spec: SystolicSpec, workload: Workload, t_ns, n_pe: int) -> Cost:
    cycles = sum(sum(layer_cycles(spec, layer)) for layer in workload)
    macs = workload.macs
    outputs = sum(layer.neurons for layer in workload)
    energy = {}
    energy.update(_flatten("mac", _unit_energy(spec.mac, macs, cycles, t_ns, n_pe)))
    energy.update(_flatten("relu", _unit_energy(spec.relu, outputs, cycles, t_ns, n_pe)))
    energy.update(_flatten("spad", _unit_energy(spec.ann_spad, macs, cycles, t_ns, n_pe)))
    bits = [spec.ann_activation_bits] * len(workload.layers)
    energy.update(_memory(spec, workload, [1] * len(workload.layers), bits, False, cycles, t_ns))
    return Cost(Energy(energy), latency_ns=cycles * t_ns)
