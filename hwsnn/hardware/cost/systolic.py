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

Memory (not sparsity-aware, as in SATA_Sim), in GLB words of ``glb_word_bytes``: weights are read
from DRAM and written to / read from the weight GLB once. Per input pass each column fold reads the
layer's im2col input from the ifmap GLB (``folds_c x M x K`` activations: SCALE-Sim's SRAM IFMAP
reads, from the layer's real padding), and partial sums spill to the ofmap GLB between row folds
(``(folds_r - 1) x M x N x psum_bits``, written and read). Per neuron step the output spikes are
written to the ofmap GLB and every membrane is read and written there (``states x membrane_bits``).
A layer input larger than the ifmap GLB comes from DRAM at every fetch. DRAM: 0.4688 nJ per byte
moved. Each GLB leaks for the whole run.

Tick batching (``spec.tick_batched``, SATA_Sim's T-sweep): the PE runs an output's steps back to
back, their partial sums in the psum scratchpad, so the steps go in chunks of at most
``8 x psum_spad_bytes / psum_bits`` (32 in the preset), ``chunks = ceil(T / 32)`` of equal length.
A spike is fetched with all its chunk's steps as one word, so the ifmap GLB must hold ``T / chunks``
times the input's bits (else the overflow comes from DRAM once per chunk), and the membrane stays in
the PE within a chunk: it goes to the ofmap GLB and back only between chunks (``chunks - 1`` times).
The input, spike and spill bits moved are the same as without batching.

SATA_Sim's convention: its energy is the per-access energy times the bytes moved (``x bits / 8``),
one access per byte; ``glb_word_bytes=1`` charges the same. With its unpadded layer list and
``glb_word_bytes=1``, the T-sweep preset's ifmap GLB energy equals SATA_Sim's committed T = 8 run
(tests). SATA_Sim charges output writes at ``output-prec`` bits per output per step (8 in its T-sweep
files) and no membrane traffic; hwsnn charges the spikes' bits and, without tick batching, the
membranes.

Residual additions (ResNets; SATA_Sim's workloads list convolutions only, so this is hwsnn's
convention): the array's PEs add the shortcut operand in parallel, ``ceil(elements / N_PE)`` cycles per
step; each nonzero operand gates one accumulate (SNN) or MAC (ANN); the operand is read from the
ifmap GLB at every step (not sparsity-aware, as above: ``spike_bits`` per spike, ``psum_bits`` per
current of a spiking-ResNet projection, which is also written to the ofmap GLB once computed;
``ann_activation_bits`` per ANN activation). Each addition is its own entry of ``cost.layers``.

SATA_Sim counts cycles and accesses with SCALE-Sim; hwsnn's closed-form tiling replaces that
simulator, so its cycle counts are an analytic approximation of the same schedule.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from hwsnn.hardware.cost.base import (
    Cost, Energy, LayerCost, check_inputs, check_spec, input_size, layer_steps, neuron_op_ratio, output_pixels,
    recurrent_operations, synaptic_operations
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


def _layer_memory(spec: SystolicSpec, layer: LayerWorkload, passes, steps, bits: int, spiking: bool, cycles, t_ns,
                  network_input: bool) -> dict[str, object]:
    """One layer's GLB and DRAM energy (module doc): ``passes`` input passes (``bits`` per input
    activation), ``steps`` neuron steps (``spiking``: spikes and membranes, else one ANN activation
    write), its weights loaded once, each GLB leaking while the layer runs; ``network_input``: the
    layer also fetches the network's input from DRAM."""
    word = spec.glb_word_bytes * 8
    weight_bits = layer.weights * spec.weight_bits
    folds_r = math.ceil(layer.fan_in / spec.rows)
    folds_c = math.ceil(layer.out_channels / spec.cols)
    pixels, channels = output_pixels(layer), layer.out_channels
    spills = float((folds_r - 1) * pixels * channels * spec.psum_bits)  # floats: counts pass 2**31
    input_reads = float(folds_c * pixels * layer.fan_in * bits)
    outputs = float(layer.neurons * (spec.spike_bits if spiking else spec.ann_activation_bits))
    membranes = float(layer.neurons * layer.neuron.states * spec.membrane_bits) if spiking else 0.0
    if spiking and spec.tick_batched:  # module doc: chunks of steps, each input fetched once per chunk
        chunks = jnp.ceil(steps / (spec.psum_spad_bytes * 8 // spec.psum_bits))
        fetches = jnp.minimum(passes, chunks)
        passes_per_fetch, membrane_trips = passes / fetches, chunks - 1
    else:
        fetches, passes_per_fetch, membrane_trips = passes, 1, steps
    held_bits = input_size(layer) * bits * passes_per_fetch  # what the ifmap GLB must hold per fetch
    overflow_bits = fetches * jnp.maximum(0.0, held_bits - spec.glb_ifmap.size_bytes * 8)
    dram_bytes = weight_bits / 8 + overflow_bits / 8
    if network_input:
        dram_bytes += passes * input_size(layer) * bits / 8
    ofmap = spec.glb_ofmap.read_pj * (passes * spills + membrane_trips * membranes)
    ofmap += spec.glb_ofmap.write_pj * (passes * spills + steps * outputs + membrane_trips * membranes)
    return {
        "glb_weight_dynamic": (spec.glb_weight.read_pj + spec.glb_weight.write_pj) * weight_bits / word,
        "glb_weight_leakage": spec.glb_weight.leak_mw * cycles * t_ns,
        "glb_ifmap_dynamic": spec.glb_ifmap.read_pj * passes * input_reads / word,
        "glb_ifmap_leakage": spec.glb_ifmap.leak_mw * cycles * t_ns,
        "glb_ofmap_dynamic": ofmap / word,
        "glb_ofmap_leakage": spec.glb_ofmap.leak_mw * cycles * t_ns,
        "dram": spec.dram_pj_per_byte * dram_bytes,
    }


def _flatten(prefix: str, parts: dict) -> dict:
    return {f"{prefix}_{k}": v for k, v in parts.items()}


def systolic(spec: SystolicSpec, workload: Workload, activity) -> Cost:
    """SATA energy and latency of the SNN, and of its ANN baseline on the Eyeriss-like PE (``cost.ann``),
    per layer (``cost.layers``: energy, cycles and stage latency; layers run one after another, so
    their latencies add up to the cost's).

    Components: ``{accumulate,lif,spad,mac}_{gated,ungated,leakage}`` (compute) and
    ``glb_{weight,ifmap,ofmap}_{dynamic,leakage}``, ``dram`` (memory).
    """
    check_spec(spec, SystolicSpec, "systolic")
    check_inputs(workload, activity)
    t_ns = 1000.0 / spec.clock_mhz
    n_pe = spec.rows * spec.cols
    neuron_unit = max(neuron_op_ratio(layer) for layer in workload)  # the PE's unit fits the largest neuron
    layers = []
    for index, (layer, act) in enumerate(zip(workload, activity.layers)):
        steps = layer_steps(layer, act)
        stream, load = layer_cycles(spec, layer)
        cycles = steps * stream + load
        acs = jnp.asarray((synaptic_operations(layer, act) if layer.spiking_input else 0.0)
                          + recurrent_operations(layer, act), t_ns.dtype)
        macs = 0 if layer.spiking_input else layer.macs
        energy = _flatten("accumulate", _unit_energy(spec.accumulate, acs, cycles, t_ns, n_pe))
        lif = _unit_energy(spec.lif, layer.neurons * steps * neuron_op_ratio(layer), cycles, t_ns, n_pe)
        energy.update(_flatten("lif", {**lif, "ungated": neuron_unit * lif["ungated"], "leakage": neuron_unit * lif["leakage"]}))
        energy.update(_flatten("spad", _unit_energy(spec.spad, acs + macs, cycles, t_ns, n_pe)))
        energy["mac_gated"] = spec.mac.gated_mw * macs * t_ns
        bits, passes = (spec.spike_bits, steps) if layer.spiking_input else (spec.ann_activation_bits, 1)
        energy.update(_layer_memory(spec, layer, passes, steps, bits, True, cycles, t_ns, index == 0))
        layers.append(LayerCost(layer.name, Energy(energy), cycles=cycles, latency_ns=cycles * t_ns))
    for add, events in zip(workload.adds, activity.adds):
        layers.append(_add_cost(spec, add, jnp.sum(events).astype(t_ns.dtype), add.timesteps, t_ns, n_pe, ann=False))
    return Cost.of_layers(layers, latency_ns=sum(layer.latency_ns for layer in layers), ann=_ann(spec, workload, t_ns, n_pe))


def _add_cost(spec: SystolicSpec, add, operands, steps: int, t_ns, n_pe: int, *, ann: bool) -> LayerCost:
    """One residual addition (module doc): ``operands`` nonzero shortcut entries over ``steps`` steps."""
    cycles = steps * math.ceil(add.elements / n_pe)
    word = spec.glb_word_bytes * 8
    if ann:
        unit, bits = spec.mac, spec.psum_bits if add.operand == "currents" else spec.ann_activation_bits
    else:
        unit, bits = spec.accumulate, spec.psum_bits if add.operand == "currents" else spec.spike_bits
    moved = steps * add.elements * bits
    written = moved if add.operand == "currents" else 0
    energy = _flatten("mac" if ann else "accumulate", _unit_energy(unit, operands, cycles, t_ns, n_pe))
    energy["glb_ifmap_dynamic"] = spec.glb_ifmap.read_pj * moved / word
    energy["glb_ifmap_leakage"] = spec.glb_ifmap.leak_mw * cycles * t_ns
    energy["glb_ofmap_dynamic"] = spec.glb_ofmap.write_pj * written / word
    energy["glb_ofmap_leakage"] = spec.glb_ofmap.leak_mw * cycles * t_ns
    return LayerCost(add.name, Energy(energy), cycles=cycles, latency_ns=cycles * t_ns)


def _ann(spec: SystolicSpec, workload: Workload, t_ns, n_pe: int) -> Cost:
    layers = []
    for index, layer in enumerate(workload):
        cycles = sum(layer_cycles(spec, layer))
        energy = _flatten("mac", _unit_energy(spec.mac, layer.macs, cycles, t_ns, n_pe))
        energy.update(_flatten("relu", _unit_energy(spec.relu, layer.neurons, cycles, t_ns, n_pe)))
        energy.update(_flatten("spad", _unit_energy(spec.ann_spad, layer.macs, cycles, t_ns, n_pe)))
        energy.update(_layer_memory(spec, layer, 1, 1, spec.ann_activation_bits, False, cycles, t_ns, index == 0))
        layers.append(LayerCost(layer.name, Energy(energy), cycles=cycles, latency_ns=cycles * t_ns))
    layers += [_add_cost(spec, add, float(add.elements), 1, t_ns, n_pe, ann=True) for add in workload.adds]
    return Cost.of_layers(layers, latency_ns=sum(layer.latency_ns for layer in layers))
