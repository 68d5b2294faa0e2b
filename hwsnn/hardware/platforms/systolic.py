"""SATA-like weight-stationary systolic array (Yin et al., IEEE TCAD 2022; code RuokaiYin/SATA_Sim).

Computation, per component class ``c`` (SATA_Sim ``energy-cal.py``)::

    E_c = P_gated,c x N_ops,c x t_clk + (P_ungated,c + P_leak,c) x cycles x t_clk x N_PE

Only the gated term sees sparsity. SNN: ``accumulate`` and ``spad`` gate once per synaptic
update (each input event times its real fan-out, plus a recurrent layer's ``sum_t s[t-1] x N``), ``lif`` once
per neuron update (``N_l x T_l``); an analog first layer runs its MACs once on the MAC datapath.

Neurons are charged by their own counts (:class:`~hwsnn.structure.NeuronCounts`), relative to the
LIF unit SATA sized (1 state, 4 operations): a neuron update gates ``ops / 4`` LIF units' worth of
energy; the ungated and leakage power of the PE's neuron unit scale with the largest ``ops / 4`` in
the network (the unit must fit the most complex neuron); every state variable is read and written
once per update (``states x membrane_bits``). LIF networks cost exactly as SATA's accounting. ANN
baseline: ``mac`` and ``ann_spad`` gate once per MAC, ``relu`` never gates; one pass.

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
    recurrent_operations,
    synaptic_operations,
)
from hwsnn.hardware.platforms.base import Platform
from hwsnn.pytree import static
from hwsnn.structure import LayerWorkload, Workload
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PEUnit:
    """One class of PE components (SATA_Sim "act-tag"): dynamic power when gated on, dynamic
    power paid every cycle (ungated), and leakage, all in mW per PE."""

    gated_mw: Array
    ungated_mw: Array
    leak_mw: Array


def pe_unit(spec: str, name: str, *, gated_mw, ungated_mw, leak_mw) -> PEUnit:
    """A validated :class:`PEUnit` (powers >= 0)."""
    return PEUnit(
        checks.nonnegative(spec, f"{name}.gated_mw", gated_mw),
        checks.nonnegative(spec, f"{name}.ungated_mw", ungated_mw),
        checks.nonnegative(spec, f"{name}.leak_mw", leak_mw),
    )


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class GlobalBuffer:
    """One on-chip SRAM buffer (CACTI): energy per access of one ``SystolicSpec.glb_word_bytes`` word
    read and written (pJ), leakage power (mW) and capacity (bytes)."""

    read_pj: Array
    write_pj: Array
    leak_mw: Array
    size_bytes: int = static()


def global_buffer(spec: str, name: str, *, size_bytes: int, read_pj, write_pj, leak_mw) -> GlobalBuffer:
    """A validated :class:`GlobalBuffer` (energies and power >= 0, capacity an int >= 1)."""
    return GlobalBuffer(
        checks.nonnegative(spec, f"{name}.read_pj", read_pj),
        checks.nonnegative(spec, f"{name}.write_pj", write_pj),
        checks.nonnegative(spec, f"{name}.leak_mw", leak_mw),
        checks.int_in(spec, f"{name}.size_bytes", size_bytes, 1),
    )


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SystolicSpec:
    """A weight-stationary systolic array running the SNN (SATA) and its ANN baseline (Eyeriss-like).

    ``rows`` map the reduction (fan-in), ``cols`` the output channels. Units: ``accumulate``,
    ``lif`` and ``spad`` are the SNN PE's component classes; ``mac``, ``relu`` and ``ann_spad``
    the ANN PE's. Global buffers: ``glb_weight``, ``glb_ifmap`` (layer inputs) and ``glb_ofmap``
    (outputs, partial sums, membranes). ``tick_batched``: the PE runs an output's steps back to back,
    their partial sums in the ``psum_spad_bytes`` scratchpad and the membrane in the PE, and a spike
    is fetched with those steps as one word (SATA_Sim's T-sweep; :mod:`hwsnn.hardware.platforms.systolic`).
    """

    clock_mhz: Array
    accumulate: PEUnit
    lif: PEUnit
    spad: PEUnit
    mac: PEUnit
    relu: PEUnit
    ann_spad: PEUnit
    glb_weight: GlobalBuffer
    glb_ifmap: GlobalBuffer
    glb_ofmap: GlobalBuffer
    dram_pj_per_byte: Array
    rows: int = static(16)
    cols: int = static(8)
    spike_bits: int = static(1)
    weight_bits: int = static(8)
    membrane_bits: int = static(8)
    psum_bits: int = static(16)
    ann_activation_bits: int = static(8)
    glb_word_bytes: int = static(32)
    psum_spad_bytes: int = static(8)
    tick_batched: bool = static(False)
    name: str = static("systolic")


def systolic_spec(
    *,
    clock_mhz,
    accumulate: PEUnit,
    lif: PEUnit,
    spad: PEUnit,
    mac: PEUnit,
    relu: PEUnit,
    ann_spad: PEUnit,
    glb_weight: GlobalBuffer,
    glb_ifmap: GlobalBuffer,
    glb_ofmap: GlobalBuffer,
    dram_pj_per_byte,
    rows: int = 16,
    cols: int = 8,
    spike_bits: int = 1,
    weight_bits: int = 8,
    membrane_bits: int = 8,
    psum_bits: int = 16,
    ann_activation_bits: int = 8,
    glb_word_bytes: int = 32,
    psum_spad_bytes: int = 8,
    tick_batched: bool = False,
    name: str = "systolic",
) -> SystolicSpec:
    """A validated :class:`SystolicSpec`."""
    s = "SystolicSpec"
    for unit_name, unit in (
        ("accumulate", accumulate),
        ("lif", lif),
        ("spad", spad),
        ("mac", mac),
        ("relu", relu),
        ("ann_spad", ann_spad),
    ):
        if not isinstance(unit, PEUnit):
            raise ValueError(f"{s}: {unit_name} must be a PEUnit (see pe_unit); got {type(unit).__name__}.")
    for buffer_name, buffer in (("glb_weight", glb_weight), ("glb_ifmap", glb_ifmap), ("glb_ofmap", glb_ofmap)):
        if not isinstance(buffer, GlobalBuffer):
            raise ValueError(
                f"{s}: {buffer_name} must be a GlobalBuffer (see global_buffer); got {type(buffer).__name__}."
            )
    if not isinstance(tick_batched, bool):
        raise ValueError(f"{s}: tick_batched must be a bool; got {tick_batched!r}.")
    return SystolicSpec(
        checks.strictly_positive(s, "clock_mhz", clock_mhz),
        accumulate,
        lif,
        spad,
        mac,
        relu,
        ann_spad,
        glb_weight,
        glb_ifmap,
        glb_ofmap,
        checks.nonnegative(s, "dram_pj_per_byte", dram_pj_per_byte),
        rows=checks.int_in(s, "rows", rows, 1),
        cols=checks.int_in(s, "cols", cols, 1),
        spike_bits=checks.int_in(s, "spike_bits", spike_bits, 1, 32),
        weight_bits=checks.int_in(s, "weight_bits", weight_bits, 1, 32),
        membrane_bits=checks.int_in(s, "membrane_bits", membrane_bits, 1, 64),
        psum_bits=checks.int_in(s, "psum_bits", psum_bits, 1, 64),
        ann_activation_bits=checks.int_in(s, "ann_activation_bits", ann_activation_bits, 1, 32),
        glb_word_bytes=checks.int_in(s, "glb_word_bytes", glb_word_bytes, 1),
        psum_spad_bytes=checks.int_in(s, "psum_spad_bytes", psum_spad_bytes, 1),
        tick_batched=tick_batched,
        name=name,
    )


# SATA_Sim hw_kernels.py, 28 nm: dynamic power (internal + switching, mW) and leakage (uW) per kernel.
_KERNEL_DYNAMIC_MW = {
    "and8": 1.35e-3 + 1.00e-3,
    "adder8": 7.62e-3 + 9.27e-3,
    "reg16": 4.41e-3 + 2.07e-2,
    "comparator16": 1.46e-2 + 4.95e-3,
    "subtractor16": 1.68e-2 + 1.99e-2,
    "reg4": 1.17e-3 + 5.20e-3,
    "reg8": 2.19e-3 + 1.03e-2,
    "mul8": 4.82e-2 + 3.39e-2,
}
_KERNEL_LEAK_UW = {
    "and8": 4.81e-3,
    "adder8": 1.70e-2,
    "reg16": 4.02e-2,
    "comparator16": 1.82e-2,
    "subtractor16": 3.50e-2,
    "reg4": 1.02e-2,
    "reg8": 2.01e-2,
    "mul8": 6.13e-2,
}


def _sata_unit(gated: dict[str, float], ungated: dict[str, float], name: str) -> PEUnit:
    """Sum SATA_Sim kernels (name -> count) into a PEUnit; a register file of n bytes is n x reg8."""
    dyn = lambda parts: sum(_KERNEL_DYNAMIC_MW[k] * n for k, n in parts.items())
    leak = sum(_KERNEL_LEAK_UW[k] * n for parts in (gated, ungated) for k, n in parts.items()) / 1000.0
    return pe_unit("SystolicSpec", name, gated_mw=dyn(gated), ungated_mw=dyn(ungated), leak_mw=leak)


# SATA_Sim's CACTI runs (28 nm, 32-byte words, 2 banks; results/*/mem-stat.yaml): read / write pJ per
# access, leakage mW, by capacity in bytes.
_SATA_GLB = {147456: (28.6315, 28.2197, 24.9086), 32768: (11.0295, 12.772, 6.25862), 8192: (6.65794, 7.03328, 1.81265)}


def _sata_buffer(name: str, size_bytes: int) -> GlobalBuffer:
    read_pj, write_pj, leak_mw = _SATA_GLB[size_bytes]
    return global_buffer(
        "SystolicSpec", name, size_bytes=size_bytes, read_pj=read_pj, write_pj=write_pj, leak_mw=leak_mw
    )


def _sata_array(*, spad: PEUnit, ifmap_bytes: int, psum_spad_bytes: int, tick_batched: bool, name: str) -> SystolicSpec:
    """SATA's 16 x 8 PEs at 400 MHz, 28 nm (SATA_Sim ``inference-energy-cal/archs/``): the SNN PE's
    accumulate = AND8 + adder8 ungated, reg16 gated; LIF = comparator16 + subtractor16 ungated, reg4 +
    reg8 gated. ANN PE (``eyeriss-config.yaml``): mul8 + reg16 gated; 2 x reg8 + reg16 + adder8
    ungated; ReLU comparator16 ungated; scratchpads 72 B act + 64 B psum ungated, 288 B weight gated.
    GLBs: weight 144 KiB, ofmap 32 KiB, ifmap ``ifmap_bytes`` (energies: ``_SATA_GLB``). DRAM
    0.468762 nJ per 8-bit access. A register file of n bytes draws n x reg8 power (SATA_Sim's convention).
    """
    return systolic_spec(
        clock_mhz=400.0,
        accumulate=_sata_unit({"reg16": 1}, {"and8": 1, "adder8": 1}, "accumulate"),
        lif=_sata_unit({"reg4": 1, "reg8": 1}, {"comparator16": 1, "subtractor16": 1}, "lif"),
        spad=spad,
        mac=_sata_unit({"mul8": 1, "reg16": 1}, {"reg8": 2, "reg16": 1, "adder8": 1}, "mac"),
        relu=_sata_unit({}, {"comparator16": 1}, "relu"),
        ann_spad=_sata_unit({"reg8": 288}, {"reg8": 72 + 64}, "ann_spad"),
        glb_weight=_sata_buffer("glb_weight", 147456),
        glb_ifmap=_sata_buffer("glb_ifmap", ifmap_bytes),
        glb_ofmap=_sata_buffer("glb_ofmap", 32768),
        dram_pj_per_byte=468.762,
        psum_spad_bytes=psum_spad_bytes,
        tick_batched=tick_batched,
        name=name,
    )


def systolic_sata_28nm() -> SystolicSpec:
    """SATA (Yin et al., TCAD 2022) as the ICASSP 2024 study ran it (SATA_Sim ``archs/sata-config.yaml``):
    scratchpads spike 9 B and psum 8 B ungated, weight 9 B gated; ifmap and ofmap GLBs 32 KiB each
    (read 11.0295 / write 12.772 pJ, leakage 6.25862 mW), weight GLB 144 KiB (28.6315 / 28.2197 pJ,
    24.9086 mW); spikes fetched one step at a time. The rest as :func:`_sata_array`.
    """
    return _sata_array(
        spad=_sata_unit({"reg8": 9}, {"reg8": 9 + 8}, "spad"),
        ifmap_bytes=32768,
        psum_spad_bytes=8,
        tick_batched=False,
        name="sata-28nm",
    )


def systolic_sata_tsweep_28nm() -> SystolicSpec:
    """SATA as its own T-sweep ran it (SNN vs 8-bit ANN on VGG9; SATA_Sim ``archs/eyeriss-T*-config.yaml``):
    Eyeriss-sized scratchpads, weight 288 B gated, spike 9 B and psum 64 B
    ungated; an 8 KiB ifmap GLB (CACTI: read 6.65794 / write 7.03328 pJ, leakage 1.81265 mW); T-bit
    tick-batched activations (``act-prec: T``), the 64 B psum scratchpad holding 32 steps' 16-bit
    partial sums (longer layers run in chunks; :mod:`hwsnn.hardware.platforms.systolic`). The rest as
    :func:`_sata_array`.
    """
    return _sata_array(
        spad=_sata_unit({"reg8": 288}, {"reg8": 9 + 64}, "spad"),
        ifmap_bytes=8192,
        psum_spad_bytes=64,
        tick_batched=True,
        name="sata-tsweep-28nm",
    )


MODES = ("timestep", "inference")


def layer_cycles(spec: SystolicSpec, layer: LayerWorkload) -> tuple[int, int]:
    """``(stream cycles per timestep, weight-load cycles)`` of one layer on the array."""
    folds = math.ceil(layer.fan_in / spec.rows) * math.ceil(layer.out_channels / spec.cols)
    return folds * (output_pixels(layer) + spec.rows + spec.cols - 1), folds * spec.rows


def _unit_energy(unit: PEUnit, ops, cycles: float, t_ns, n_pe: int) -> dict[str, object]:
    return {
        "gated": unit.gated_mw * ops * t_ns,
        "ungated": unit.ungated_mw * cycles * t_ns * n_pe,
        "leakage": unit.leak_mw * cycles * t_ns * n_pe,
    }


def _layer_memory(
    spec: SystolicSpec, layer: LayerWorkload, passes, steps, bits: int, spiking: bool, cycles, t_ns, network_input: bool
) -> dict[str, object]:
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


@dataclasses.dataclass(frozen=True)
class Systolic(Platform):
    """SATA energy and latency of the SNN, and of its ANN baseline on the Eyeriss-like PE (``cost.ann``),
    per layer (``cost.layers``: energy, cycles and stage latency; layers run one after another, so
    their latencies add up to the cost's).

    Components: ``{accumulate,lif,spad,mac}_{gated,ungated,leakage}`` (compute) and
    ``glb_{weight,ifmap,ofmap}_{dynamic,leakage}``, ``dram`` (memory).

    Attributes:
      mode: "timestep" (default): every timestep moves its own inputs, spikes and membranes through the
        GLBs (module doc). "inference": the GLBs' dynamic energy and DRAM are charged for one timestep's
        traffic per inference, and each layer's weight loading takes one input pass's cycles, as SATA_Sim's
        ICASSP 2024 runs did: its ``energy-cal.py`` at commit b9458de sums one pass's SCALE-Sim SRAM and
        DRAM accesses per layer, and its cycles (and so leakage) are ``T`` passes plus SCALE-Sim's "SRAM
        Filter Cycles" once per layer, which in those runs are about one pass (ResNet-19's second layer:
        1,079,653 filter cycles against 1,069,536 output cycles per pass). It understates an SNN's memory
        energy by up to ``T`` x, which is why it is not the default; it is there to reproduce that study.
    """

    name = "systolic"
    spec_type = SystolicSpec
    modes = MODES

    mode: str = "timestep"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode: got {self.mode!r}; allowed: {list(MODES)}.")

    def snn(self, spec: SystolicSpec, workload: Workload, activity) -> Cost:
        t_ns = 1000.0 / spec.clock_mhz
        n_pe = spec.rows * spec.cols
        neuron_unit = max(neuron_op_ratio(layer) for layer in workload)  # the PE's unit fits the largest neuron
        layers = []
        for index, (layer, act) in enumerate(zip(workload, activity.layers)):
            steps = layer_steps(layer, act)
            stream, load = layer_cycles(spec, layer)
            cycles = steps * stream + (stream if self.mode == "inference" else load)
            acs = jnp.asarray(
                (synaptic_operations(layer, act) if layer.spiking_input else 0.0) + recurrent_operations(layer, act),
                t_ns.dtype,
            )
            macs = 0 if layer.spiking_input else layer.macs
            energy = _flatten("accumulate", _unit_energy(spec.accumulate, acs, cycles, t_ns, n_pe))
            lif = _unit_energy(spec.lif, layer.neurons * steps * neuron_op_ratio(layer), cycles, t_ns, n_pe)
            energy.update(
                _flatten(
                    "lif", {**lif, "ungated": neuron_unit * lif["ungated"], "leakage": neuron_unit * lif["leakage"]}
                )
            )
            energy.update(_flatten("spad", _unit_energy(spec.spad, acs + macs, cycles, t_ns, n_pe)))
            energy["mac_gated"] = spec.mac.gated_mw * macs * t_ns
            bits, passes = (spec.spike_bits, steps) if layer.spiking_input else (spec.ann_activation_bits, 1)
            if self.mode == "inference":
                passes, steps = 1, 1
            energy.update(_layer_memory(spec, layer, passes, steps, bits, True, cycles, t_ns, index == 0))
            layers.append(LayerCost(layer.name, Energy(energy), cycles=cycles, latency_ns=cycles * t_ns))
        for add, events in zip(workload.adds, activity.adds):
            layers.append(
                _add_cost(spec, add, jnp.sum(events).astype(t_ns.dtype), add.timesteps, t_ns, n_pe, ann=False)
            )
        return Cost.of_layers(layers, latency_ns=sum(layer.latency_ns for layer in layers))

    def baseline(self, spec: SystolicSpec, workload: Workload) -> Cost:
        return _ann(spec, workload, 1000.0 / spec.clock_mhz, spec.rows * spec.cols)


def systolic(spec: SystolicSpec, workload: Workload, activity, *, mode: str = "timestep") -> Cost:
    """``Systolic(mode).cost(spec, workload, activity)``: the SNN on the array, its ANN as ``cost.ann``."""
    return Systolic(mode=mode).cost(spec, workload, activity)


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
