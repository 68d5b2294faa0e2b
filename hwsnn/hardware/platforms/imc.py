"""SpikeSim-like in-memory-computing crossbar architecture (Moitra et al., IEEE TCAD 2023; code
Intelligent-Computing-Lab-Yale/SpikeSim).

A layer with ``C_in`` input and ``C_out`` output channels, ``k x k`` kernel and ``H_out^2``
output pixels occupies ``PEs_l = ceil(C_in / X) ceil(C_out / X) ceil(k^2 / crossbars_per_pe)``
processing elements, and every output pixel costs one PE cycle per timestep on each of them.
Energy of one PE cycle (SpikeSim's equation, with the readout generalised)::

    E_PE = E_htree + E_memfetch + E_neuron
           + c [k'^2 E_xbar + (X / c) (E_ADC(b) + E_mux)]     ADC shared by c columns, serialised c times
           +   [k'^2 E_xbar + X E_SA]                          or: 1-bit sense amplifier per column
           + (X/8) 16 E_sub + (X/8) E_temp + E_tilebuf

with ``k'^2 = min(k^2, crossbars_per_pe)`` active crossbars and ``E_ADC(b) = E_ADC(b_ref) x
2^(b - b_ref)`` (Walden; ``x 4^(b - b_ref)`` Schreier; ``x (2^b - 1) / (2^b_ref - 1)`` flash). SpikeSim
writes the ADC term as
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

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.cost.base import (
    Cost,
    Energy,
    LayerCost,
    input_size,
    layer_steps,
    neuron_op_ratio,
    output_pixels,
    pipeline_latency,
    recurrent_events,
)
from hwsnn.hardware.platforms.base import Platform
from hwsnn.hardware.platforms.imc_readouts import ADCScaling, PEReadout, SensePerColumn, SharedADC, Walden
from hwsnn.pytree import static
from hwsnn.structure import LayerWorkload, Workload
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class IMCSpec:
    """A SpikeSim-like crossbar architecture: X x X crossbars, ``crossbars_per_pe`` per PE (one
    per kernel position), ``pes_per_tile`` PEs per tile, and a :class:`~hwsnn.hardware.platforms.imc_readouts.PEReadout`
    per crossbar: a b-bit ADC shared by several columns (serialised, behind a mux) or a 1-bit sense
    amplifier per column. Energies per event in pJ, areas in um2, times in ns.
    """

    clock_mhz: Array
    e_adc_pj: Array  # per conversion at adc_reference_bits
    e_mux_pj: Array
    e_sa_pj: Array
    e_xbar_pj: Array  # per crossbar activation
    e_htree_pj: Array  # per PE cycle
    e_memfetch_pj: Array
    e_neuron_pj: Array
    e_tilebuf_pj: Array
    e_temp_pj: Array  # per column group
    e_sub_pj: Array  # per subtractor bit per column group
    a_adc_um2: Array
    a_mux_um2: Array
    a_sa_um2: Array
    a_xbar_um2: Array
    a_htree_um2: Array
    a_tilebuf_um2: Array
    a_temp_um2: Array
    a_sub_um2: Array
    a_bit_um2: Array
    pe_fixed_ns: Array  # PE-cycle time outside the readout
    adc_step_ns: Array  # conversion time: (b + 1) steps (SAR) or one (flash)
    sa_ns: Array
    crossbar_size: int = static(64)
    crossbars_per_pe: int = static(9)
    pes_per_tile: int = static(8)
    readout: PEReadout = static(SharedADC())
    adc_reference_bits: int = static(4)
    storage_bits: int = static(22)
    ann_activation_bits: int = static(8)
    name: str = static("imc")


def imc_spec(
    *,
    readout: PEReadout = SharedADC(),
    adc_reference_bits: int = 4,
    crossbar_size: int = 64,
    crossbars_per_pe: int = 9,
    pes_per_tile: int = 8,
    storage_bits: int = 22,
    ann_activation_bits: int = 8,
    name: str = "imc",
    **constants,
) -> IMCSpec:
    """A validated :class:`IMCSpec`; ``constants`` are the array fields (all required, >= 0; clock > 0)."""
    s = "IMCSpec"
    checks.instance(s, "readout", readout, PEReadout, " (SharedADC(...) or SensePerColumn())")
    checks.int_in(s, "crossbar_size", crossbar_size, 2)
    readout.check(s, crossbar_size)
    checks.int_in(s, "adc_reference_bits", adc_reference_bits, 1, 16)
    fields = [f.name for f in dataclasses.fields(IMCSpec) if not f.metadata.get("static")]
    missing, unknown = sorted(set(fields) - set(constants)), sorted(set(constants) - set(fields))
    if missing or unknown:
        raise ValueError(f"{s}: missing constants {missing}, unknown constants {unknown}; allowed: {fields}.")
    values = {
        k: (checks.strictly_positive if k == "clock_mhz" else checks.nonnegative)(s, k, constants[k]) for k in fields
    }
    return IMCSpec(
        **values,
        crossbar_size=crossbar_size,
        crossbars_per_pe=checks.int_in(s, "crossbars_per_pe", crossbars_per_pe, 1),
        pes_per_tile=checks.int_in(s, "pes_per_tile", pes_per_tile, 1),
        readout=readout,
        adc_reference_bits=adc_reference_bits,
        storage_bits=checks.int_in(s, "storage_bits", storage_bits, 1),
        ann_activation_bits=checks.int_in(s, "ann_activation_bits", ann_activation_bits, 1, 32),
        name=name,
    )


def _spikesim_constants() -> dict[str, float]:
    """SpikeSim ``ela_spikesim.py`` (65 nm RRAM) constants; SA and timing from NeuroSim V1.4.

    H-tree 19.64 x 8 = 157.12 pJ per PE cycle; LIF module 1.274 x 4 = 5.096 pJ; tile buffer 397 pJ
    and 0.7391 um2/bit x 64 x 128 bits. PE cycle 26 clocks at 250 MHz = 104 ns, split here into
    the serialised readout of 8 conversions of a 4-bit SAR ADC, (4 + 1) ns each (NeuroSim), and
    a fixed 104 - 40 = 64 ns. Sense amplifier (NeuroSim latch SA): under 1 ns and 0.2-1 fJ per
    decision, taken as 1 ns and 1 fJ. SA area: a 4-bit flash ADC holds 2^4 - 1 = 15 comparators,
    so one comparator is about 693.633 / 15 = 46.24 um2.
    """
    return dict(
        clock_mhz=250.0,
        e_adc_pj=2.03084,
        e_mux_pj=0.094245,
        e_sa_pj=0.001,
        e_xbar_pj=1.76423,
        e_htree_pj=19.64 * 8,
        e_memfetch_pj=4.64,
        e_neuron_pj=1.274 * 4,
        e_tilebuf_pj=397.0,
        e_temp_pj=0.2,
        e_sub_pj=1.15e-6,
        a_adc_um2=693.633,
        a_mux_um2=45.9,
        a_sa_um2=693.633 / 15,
        a_xbar_um2=26.2144,
        a_htree_um2=433660.0,
        a_tilebuf_um2=0.7391 * 64 * 128,
        a_temp_um2=484.64,
        a_sub_um2=13411.4,
        a_bit_um2=0.7391,
        pe_fixed_ns=104.0 - 8 * (4 + 1),
        adc_step_ns=1.0,
        sa_ns=1.0,
    )


def imc_spikesim_65nm_adc(adc_bits: int = 4, adc_scaling: ADCScaling = Walden()) -> IMCSpec:
    """SpikeSim 65 nm RRAM, 64 x 64 crossbars, 9 per PE, 8 PEs per tile, a ``adc_bits``-bit ADC per 8
    columns, its energy and conversion time scaled from SpikeSim's 4-bit SAR by ``adc_scaling``
    (:data:`~hwsnn.hardware.platforms.imc_readouts.ADC_SCALINGS`)."""
    suffix = "" if adc_scaling == Walden() else f"-{adc_scaling.name}"
    return imc_spec(
        readout=SharedADC(bits=adc_bits, columns=8, scaling=adc_scaling),
        name=f"spikesim-65nm-adc{adc_bits}{suffix}",
        **_spikesim_constants(),
    )


def imc_spikesim_65nm_adc4() -> IMCSpec:
    """SpikeSim 65 nm RRAM, 64 x 64 crossbars, 9 per PE, 8 PEs per tile, 4-bit ADC per 8 columns."""
    return imc_spikesim_65nm_adc(4)


def imc_spikesim_65nm_sa() -> IMCSpec:
    """The same architecture with a 1-bit sense amplifier per column (no mux, no serialisation)."""
    return imc_spec(readout=SensePerColumn(), name="spikesim-65nm-sa", **_spikesim_constants())


MODES = ("dense", "event")
_DIGITAL_GROUP = 8  # SpikeSim's X/8 for the subtractors and partial-sum buffers


def pes_of(spec: IMCSpec, layer: LayerWorkload) -> int:
    """PEs a layer occupies: ``ceil(C_in / X) ceil(C_out / X) ceil(k^2 / crossbars_per_pe)``."""
    x = spec.crossbar_size
    return (
        math.ceil(layer.in_shape[-1] / x)
        * math.ceil(layer.out_channels / x)
        * math.ceil(layer.kernel_size**2 / spec.crossbars_per_pe)
    )


def pe_cycle_energy(spec: IMCSpec, layer: LayerWorkload, with_neuron: bool = True) -> dict[str, object]:
    """Energy per component of one PE cycle of ``layer`` (all rows active)."""
    crossbars = min(layer.kernel_size**2, spec.crossbars_per_pe)
    group = spec.crossbar_size / _DIGITAL_GROUP
    return {
        "htree": spec.e_htree_pj,
        "memfetch": spec.e_memfetch_pj,
        "neuron": spec.e_neuron_pj * (neuron_op_ratio(layer) if with_neuron else 0.0),
        "subtractor": group * 16 * spec.e_sub_pj,
        "psum_buffer": group * spec.e_temp_pj,
        "tile_buffer": spec.e_tilebuf_pj,
        **spec.readout.energy_pj(spec, crossbars),
    }


def pe_cycle_ns(spec: IMCSpec) -> object:
    """Duration of one PE cycle: fixed part plus the readout (serialised ADC or one SA decision)."""
    return spec.pe_fixed_ns + spec.readout.cycle_ns(spec)


def area_mm2(spec: IMCSpec, workload: Workload) -> object:
    """Chip area in mm2 (module doc)."""
    x = spec.crossbar_size
    a_pe = spec.crossbars_per_pe * spec.a_xbar_um2 + spec.readout.area_um2(spec)
    tiles = math.ceil(sum(pes_of(spec, layer) + recurrent_pes(spec, layer) for layer in workload) / spec.pes_per_tile)
    per_tile = (
        (x / _DIGITAL_GROUP) * spec.a_sub_um2
        + spec.a_temp_um2
        + spec.a_tilebuf_um2
        + spec.pes_per_tile * a_pe
        + spec.a_htree_um2
    )
    storage = (
        sum(input_size(layer) + layer.neurons * layer.neuron.states for layer in workload)
        * spec.storage_bits
        * spec.a_bit_um2
    )
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
    dense = dataclasses.replace(
        layer, in_shape=(layer.neurons,), synapse_shape=(layer.recurrent_fan_out,), kernel_size=1
    )
    active = jnp.sum(recurrent_events(layer, act)) / layer.neurons
    return {
        name: per_cycle
        * pes
        * (active if mode == "event" and name in ("crossbar", "memfetch") else layer_steps(layer, act))
        for name, per_cycle in pe_cycle_energy(spec, dense, with_neuron=False).items()
    }


def active_steps(spec: IMCSpec, layer: LayerWorkload, act) -> object:
    """``sum_t`` of the fraction of crossbar rows driven, averaged over the layer's row tiles."""
    if act.channel_events is None:
        return jnp.sum(act.input_events) / input_size(layer)
    channels = layer.in_shape[-1]
    positions = input_size(layer) // channels
    blocks = [(start, min(start + spec.crossbar_size, channels)) for start in range(0, channels, spec.crossbar_size)]
    per_block = [jnp.sum(act.channel_events[:, a:b]) / (positions * (b - a)) for a, b in blocks]
    return sum(per_block) / len(blocks)


@dataclasses.dataclass(frozen=True)
class IMC(Platform):
    """IMC energy (components: htree, memfetch, neuron, crossbar, readout, mux, subtractor,
    psum_buffer, tile_buffer), latency and area of the SNN, and of its ANN baseline (``cost.ann``);
    per layer (``cost.layers``): energy, PE cycles, PEs and stage latency (stages overlap by 25 %).

    Attributes:
      mode: "event" (crossbar and driver energy follow the active rows) or "dense" (SpikeSim's accounting).
    """

    name = "imc"
    spec_type = IMCSpec
    modes = MODES

    mode: str = "event"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode: got {self.mode!r}; allowed: {list(MODES)}.")

    def snn(self, spec: IMCSpec, workload: Workload, activity) -> Cost:
        mode = self.mode
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
            layers.append(
                LayerCost(
                    layer.name,
                    Energy(energy),
                    cycles=cycles_per_step * steps + recurrent_pes(spec, layer) * steps,
                    units=pes_of(spec, layer) + recurrent_pes(spec, layer),
                    latency_ns=steps * output_pixels(layer) * pe_cycle_ns(spec),
                )
            )
        stages = [layer.latency_ns for layer in layers]
        for add, events in zip(workload.adds, activity.adds):
            layers.append(_add_cost(spec, add, jnp.sum(events) if mode == "event" else add.elements * add.timesteps))
        return Cost.of_layers(layers, latency_ns=pipeline_latency(stages), area_mm2=area_mm2(spec, workload))

    def baseline(self, spec: IMCSpec, workload: Workload) -> Cost:
        return _ann(spec, workload)


def imc(spec: IMCSpec, workload: Workload, activity, *, mode: str = "event") -> Cost:
    """``IMC(mode).cost(spec, workload, activity)``: the SNN on the crossbars, its ANN as ``cost.ann``."""
    return IMC(mode=mode).cost(spec, workload, activity)


def add_energy_pj(spec: IMCSpec) -> dict[str, object]:
    """Energy per residual-addition operand (module doc): one column's share of a PE cycle's digital adds."""
    group = spec.crossbar_size / _DIGITAL_GROUP
    return {
        "subtractor": group * 16 * spec.e_sub_pj / spec.crossbar_size,
        "psum_buffer": group * spec.e_temp_pj / spec.crossbar_size,
    }


def _add_cost(spec: IMCSpec, add, operands) -> LayerCost:
    return LayerCost(
        add.name, Energy({name: per_operand * operands for name, per_operand in add_energy_pj(spec).items()})
    )


def _ann(spec: IMCSpec, workload: Workload) -> Cost:
    bits = spec.ann_activation_bits
    layers = []
    for layer in workload:
        cycles = pes_of(spec, layer) * output_pixels(layer) * bits
        energy = {
            name: per_cycle * cycles for name, per_cycle in pe_cycle_energy(spec, layer, with_neuron=False).items()
        }
        layers.append(
            LayerCost(
                layer.name,
                Energy(energy),
                cycles=cycles,
                units=pes_of(spec, layer),
                latency_ns=bits * output_pixels(layer) * pe_cycle_ns(spec),
            )
        )
    stages = [layer.latency_ns for layer in layers]
    layers += [_add_cost(spec, add, float(add.elements)) for add in workload.adds]
    return Cost.of_layers(layers, latency_ns=pipeline_latency(stages), area_mm2=area_mm2(spec, workload))
