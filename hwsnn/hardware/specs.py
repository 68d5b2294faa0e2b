"""Hardware specs: pytrees whose structure is static and whose physical constants are arrays.

Every spec is a registered dataclass. Fields marked static (sizes, bit widths, choices) are
part of the tree structure; every other field is a float array leaf, so a spec can be traced
under ``jit``, differentiated, and stacked along a leading axis for ``vmap`` design sweeps
(:func:`stack_specs`). Construct specs through the validated functions below (or a preset);
the dataclasses themselves do not validate, since their ``__post_init__`` would rerun on every
unflatten under ``jit`` (DESIGN.md section 2).

Sources (REFERENCES.md): Horowitz, ISSCC 2014 (naive); SATA, Yin et al. TCAD 2022, code
RuokaiYin/SATA_Sim ``inference-energy-cal/hw_kernels.py``, ``archs/*.yaml``,
``memory-energy-components.yaml`` (systolic); SpikeSim, Moitra et al. TCAD 2023, code
``SNN_train_infer_quantization_ela/ela_spikesim.py`` (IMC); NeuroSim V1.4 (ADC/SA timing and
energy); githubofaliyev/SNN-DSE ``Software/src/event_control.cpp`` (event-driven cycles).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.hardware.crossbar import IR_DROP_METHODS, STAGE_OFF_VALUES, active_stages, check_relaxation
from hwsnn.typing import Array


def _static(default=dataclasses.MISSING):
    return dataclasses.field(default=default, metadata=dict(static=True))


# --------------------------------------------------------------------------- validation helpers


def _number(spec: str, name: str, value) -> Array:
    """A float32 scalar array; concrete values must be finite."""
    arr = jnp.asarray(value, dtype=jnp.float32)
    if not isinstance(arr, jax.core.Tracer):
        host = np.asarray(arr)
        if host.ndim != 0:
            raise ValueError(f"{spec}: {name} must be a scalar; got shape {host.shape}.")
        if not np.isfinite(host):
            raise ValueError(f"{spec}: {name} must be finite; got {float(host)!r}.")
    return arr


def _nonnegative(spec: str, name: str, value) -> Array:
    arr = _number(spec, name, value)
    if not isinstance(arr, jax.core.Tracer) and float(arr) < 0:
        raise ValueError(f"{spec}: {name} must be >= 0; got {float(arr)!r}.")
    return arr


def _positive(spec: str, name: str, value) -> Array:
    arr = _number(spec, name, value)
    if not isinstance(arr, jax.core.Tracer) and float(arr) <= 0:
        raise ValueError(f"{spec}: {name} must be > 0; got {float(arr)!r}.")
    return arr


def _int_in(spec: str, name: str, value, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
        raise ValueError(f"{spec}: {name} must be {allowed}; got {value!r}.")
    return value


def _choice(spec: str, name: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{spec}: {name} must be one of {list(allowed)}; got {value!r}.")
    return value


def stack_specs(specs) -> Any:
    """Stack specs of identical static structure along a new leading axis (for ``vmap``).

    Raises:
      ValueError: the specs differ in type or static fields.
    """
    specs = list(specs)
    if not specs:
        raise ValueError("specs: got an empty sequence; allowed: at least one spec.")
    structure = jax.tree.structure(specs[0])
    for index, spec in enumerate(specs[1:], 1):
        if jax.tree.structure(spec) != structure:
            raise ValueError(f"specs: spec {index} differs in type or static fields from spec 0; allowed: identical structure.")
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *specs)


# --------------------------------------------------------------------------- naive


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NaiveSpec:
    """Energy per multiply-accumulate and per accumulate, as in SNN papers' estimates."""

    e_mac_pj: Array
    e_ac_pj: Array
    name: str = _static("naive")


def naive_spec(*, e_mac_pj, e_ac_pj, name: str = "naive") -> NaiveSpec:
    """A validated :class:`NaiveSpec` (energies >= 0)."""
    return NaiveSpec(_nonnegative("NaiveSpec", "e_mac_pj", e_mac_pj), _nonnegative("NaiveSpec", "e_ac_pj", e_ac_pj), name)


def naive_fp32_45nm() -> NaiveSpec:
    """Horowitz ISSCC 2014, 45 nm 0.9 V: FP32 mult 3.7 + add 0.9 = 4.6 pJ per MAC; 0.9 pJ per AC."""
    return naive_spec(e_mac_pj=3.7 + 0.9, e_ac_pj=0.9, name="horowitz-45nm-fp32")


def naive_int8_45nm() -> NaiveSpec:
    """Horowitz ISSCC 2014, 45 nm: INT8 mult 0.2 + add 0.03 = 0.23 pJ per MAC; 0.03 pJ per AC."""
    return naive_spec(e_mac_pj=0.2 + 0.03, e_ac_pj=0.03, name="horowitz-45nm-int8")


# --------------------------------------------------------------------------- systolic (SATA)


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
    return PEUnit(_nonnegative(spec, f"{name}.gated_mw", gated_mw), _nonnegative(spec, f"{name}.ungated_mw", ungated_mw),
                  _nonnegative(spec, f"{name}.leak_mw", leak_mw))


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class GlobalBuffer:
    """One on-chip SRAM buffer (CACTI): energy per access of one ``SystolicSpec.glb_word_bytes`` word
    read and written (pJ), leakage power (mW) and capacity (bytes)."""

    read_pj: Array
    write_pj: Array
    leak_mw: Array
    size_bytes: int = _static()


def global_buffer(spec: str, name: str, *, size_bytes: int, read_pj, write_pj, leak_mw) -> GlobalBuffer:
    """A validated :class:`GlobalBuffer` (energies and power >= 0, capacity an int >= 1)."""
    return GlobalBuffer(_nonnegative(spec, f"{name}.read_pj", read_pj), _nonnegative(spec, f"{name}.write_pj", write_pj),
                        _nonnegative(spec, f"{name}.leak_mw", leak_mw), _int_in(spec, f"{name}.size_bytes", size_bytes, 1))


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SystolicSpec:
    """A weight-stationary systolic array running the SNN (SATA) and its ANN baseline (Eyeriss-like).

    ``rows`` map the reduction (fan-in), ``cols`` the output channels. Units: ``accumulate``,
    ``lif`` and ``spad`` are the SNN PE's component classes; ``mac``, ``relu`` and ``ann_spad``
    the ANN PE's. Global buffers: ``glb_weight``, ``glb_ifmap`` (layer inputs) and ``glb_ofmap``
    (outputs, partial sums, membranes). ``tick_batched``: the PE runs an output's steps back to back,
    their partial sums in the ``psum_spad_bytes`` scratchpad and the membrane in the PE, and a spike
    is fetched with those steps as one word (SATA_Sim's T-sweep; :mod:`hwsnn.hardware.cost.systolic`).
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
    rows: int = _static(16)
    cols: int = _static(8)
    spike_bits: int = _static(1)
    weight_bits: int = _static(8)
    membrane_bits: int = _static(8)
    psum_bits: int = _static(16)
    ann_activation_bits: int = _static(8)
    glb_word_bytes: int = _static(32)
    psum_spad_bytes: int = _static(8)
    tick_batched: bool = _static(False)
    name: str = _static("systolic")


def systolic_spec(*, clock_mhz, accumulate: PEUnit, lif: PEUnit, spad: PEUnit, mac: PEUnit, relu: PEUnit,
                  ann_spad: PEUnit, glb_weight: GlobalBuffer, glb_ifmap: GlobalBuffer, glb_ofmap: GlobalBuffer,
                  dram_pj_per_byte, rows: int = 16, cols: int = 8, spike_bits: int = 1, weight_bits: int = 8,
                  membrane_bits: int = 8, psum_bits: int = 16, ann_activation_bits: int = 8, glb_word_bytes: int = 32,
                  psum_spad_bytes: int = 8, tick_batched: bool = False, name: str = "systolic") -> SystolicSpec:
    """A validated :class:`SystolicSpec`."""
    s = "SystolicSpec"
    for unit_name, unit in (("accumulate", accumulate), ("lif", lif), ("spad", spad), ("mac", mac), ("relu", relu), ("ann_spad", ann_spad)):
        if not isinstance(unit, PEUnit):
            raise ValueError(f"{s}: {unit_name} must be a PEUnit (see pe_unit); got {type(unit).__name__}.")
    for buffer_name, buffer in (("glb_weight", glb_weight), ("glb_ifmap", glb_ifmap), ("glb_ofmap", glb_ofmap)):
        if not isinstance(buffer, GlobalBuffer):
            raise ValueError(f"{s}: {buffer_name} must be a GlobalBuffer (see global_buffer); got {type(buffer).__name__}.")
    if not isinstance(tick_batched, bool):
        raise ValueError(f"{s}: tick_batched must be a bool; got {tick_batched!r}.")
    return SystolicSpec(
        _positive(s, "clock_mhz", clock_mhz), accumulate, lif, spad, mac, relu, ann_spad, glb_weight, glb_ifmap, glb_ofmap,
        _nonnegative(s, "dram_pj_per_byte", dram_pj_per_byte),
        rows=_int_in(s, "rows", rows, 1), cols=_int_in(s, "cols", cols, 1), spike_bits=_int_in(s, "spike_bits", spike_bits, 1, 32),
        weight_bits=_int_in(s, "weight_bits", weight_bits, 1, 32), membrane_bits=_int_in(s, "membrane_bits", membrane_bits, 1, 64),
        psum_bits=_int_in(s, "psum_bits", psum_bits, 1, 64), ann_activation_bits=_int_in(s, "ann_activation_bits", ann_activation_bits, 1, 32),
        glb_word_bytes=_int_in(s, "glb_word_bytes", glb_word_bytes, 1), psum_spad_bytes=_int_in(s, "psum_spad_bytes", psum_spad_bytes, 1),
        tick_batched=tick_batched, name=name,
    )


# SATA_Sim hw_kernels.py, 28 nm: dynamic power (internal + switching, mW) and leakage (uW) per kernel.
_KERNEL_DYNAMIC_MW = {
    "and8": 1.35e-3 + 1.00e-3, "adder8": 7.62e-3 + 9.27e-3, "reg16": 4.41e-3 + 2.07e-2,
    "comparator16": 1.46e-2 + 4.95e-3, "subtractor16": 1.68e-2 + 1.99e-2, "reg4": 1.17e-3 + 5.20e-3,
    "reg8": 2.19e-3 + 1.03e-2, "mul8": 4.82e-2 + 3.39e-2,
}
_KERNEL_LEAK_UW = {
    "and8": 4.81e-3, "adder8": 1.70e-2, "reg16": 4.02e-2, "comparator16": 1.82e-2, "subtractor16": 3.50e-2,
    "reg4": 1.02e-2, "reg8": 2.01e-2, "mul8": 6.13e-2,
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
    return global_buffer("SystolicSpec", name, size_bytes=size_bytes, read_pj=read_pj, write_pj=write_pj, leak_mw=leak_mw)


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
        glb_weight=_sata_buffer("glb_weight", 147456), glb_ifmap=_sata_buffer("glb_ifmap", ifmap_bytes),
        glb_ofmap=_sata_buffer("glb_ofmap", 32768), dram_pj_per_byte=468.762,
        psum_spad_bytes=psum_spad_bytes, tick_batched=tick_batched, name=name,
    )


def systolic_sata_28nm() -> SystolicSpec:
    """SATA (Yin et al., TCAD 2022) as the ICASSP 2024 study ran it (SATA_Sim ``archs/sata-config.yaml``):
    scratchpads spike 9 B and psum 8 B ungated, weight 9 B gated; ifmap and ofmap GLBs 32 KiB each
    (read 11.0295 / write 12.772 pJ, leakage 6.25862 mW), weight GLB 144 KiB (28.6315 / 28.2197 pJ,
    24.9086 mW); spikes fetched one step at a time. The rest as :func:`_sata_array`.
    """
    return _sata_array(spad=_sata_unit({"reg8": 9}, {"reg8": 9 + 8}, "spad"), ifmap_bytes=32768, psum_spad_bytes=8,
                       tick_batched=False, name="sata-28nm")


def systolic_sata_tsweep_28nm() -> SystolicSpec:
    """SATA as its own T-sweep ran it (SNN vs 8-bit ANN on VGG9; SATA_Sim ``archs/eyeriss-T*-config.yaml``,
    REFERENCES.md section 8): Eyeriss-sized scratchpads, weight 288 B gated, spike 9 B and psum 64 B
    ungated; an 8 KiB ifmap GLB (CACTI: read 6.65794 / write 7.03328 pJ, leakage 1.81265 mW); T-bit
    tick-batched activations (``act-prec: T``), the 64 B psum scratchpad holding 32 steps' 16-bit
    partial sums (longer layers run in chunks; :mod:`hwsnn.hardware.cost.systolic`). The rest as
    :func:`_sata_array`.
    """
    return _sata_array(spad=_sata_unit({"reg8": 288}, {"reg8": 9 + 64}, "spad"), ifmap_bytes=8192, psum_spad_bytes=64,
                       tick_batched=True, name="sata-tsweep-28nm")


# --------------------------------------------------------------------------- IMC (SpikeSim)

READOUTS = ("adc", "sa")
ADC_SCALINGS = ("walden", "schreier", "flash")
"""How an ADC's energy per conversion and its conversion time grow with its resolution ``b`` from the
reference ``b_ref`` (REFERENCES.md section 5): "walden" and "schreier" are a SAR converter whose energy
follows that figure of merit (x2 per bit; x4 per bit at high resolution) and which takes ``b + 1``
steps of ``adc_step_ns``; "flash" is ``2^b - 1`` comparators, energy in proportion to their count
(``(2^b - 1) / (2^b_ref - 1)``), one step per conversion."""


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class IMCSpec:
    """A SpikeSim-like crossbar architecture: X x X crossbars, ``crossbars_per_pe`` per PE (one
    per kernel position), ``pes_per_tile`` PEs per tile, and a readout per crossbar that is a
    b-bit ADC shared by ``columns_per_adc`` columns (serialised, behind a mux) or a 1-bit sense
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
    crossbar_size: int = _static(64)
    crossbars_per_pe: int = _static(9)
    pes_per_tile: int = _static(8)
    columns_per_adc: int = _static(8)
    readout: str = _static("adc")
    adc_bits: int = _static(4)
    adc_reference_bits: int = _static(4)
    adc_scaling: str = _static("walden")
    storage_bits: int = _static(22)
    ann_activation_bits: int = _static(8)
    name: str = _static("imc")

    def adc_energy_pj(self) -> Array:
        """Energy per conversion at ``adc_bits`` (:data:`ADC_SCALINGS`): Walden (x2 per bit), Schreier
        (x4 per bit), or flash (in proportion to its ``2^b - 1`` comparators)."""
        if self.adc_scaling == "flash":
            return self.e_adc_pj * (2 ** self.adc_bits - 1) / (2 ** self.adc_reference_bits - 1)
        factor = 2.0 if self.adc_scaling == "walden" else 4.0
        return self.e_adc_pj * factor ** (self.adc_bits - self.adc_reference_bits)

    def adc_conversion_ns(self) -> Array:
        """Time of one conversion: ``(b + 1) x adc_step_ns`` for a SAR converter, one step for flash."""
        return self.adc_step_ns * (1 if self.adc_scaling == "flash" else self.adc_bits + 1)


def imc_spec(*, readout: str = "adc", adc_bits: int = 4, adc_reference_bits: int = 4, adc_scaling: str = "walden",
             crossbar_size: int = 64, crossbars_per_pe: int = 9, pes_per_tile: int = 8, columns_per_adc: int = 8,
             storage_bits: int = 22, ann_activation_bits: int = 8, name: str = "imc", **constants) -> IMCSpec:
    """A validated :class:`IMCSpec`; ``constants`` are the array fields (all required, >= 0; clock > 0)."""
    s = "IMCSpec"
    _choice(s, "readout", readout, READOUTS)
    _choice(s, "adc_scaling", adc_scaling, ADC_SCALINGS)
    _int_in(s, "crossbar_size", crossbar_size, 2)
    _int_in(s, "columns_per_adc", columns_per_adc, 1)
    if crossbar_size % columns_per_adc:
        raise ValueError(f"{s}: columns_per_adc must divide crossbar_size {crossbar_size}; got {columns_per_adc}.")
    _int_in(s, "adc_bits", adc_bits, 1, 16)
    _int_in(s, "adc_reference_bits", adc_reference_bits, 1, 16)
    if readout == "sa" and adc_bits != 1:
        raise ValueError(f"{s}: readout 'sa' is a 1-bit decision, so adc_bits must be 1; got {adc_bits}.")
    fields = [f.name for f in dataclasses.fields(IMCSpec) if not f.metadata.get("static")]
    missing, unknown = sorted(set(fields) - set(constants)), sorted(set(constants) - set(fields))
    if missing or unknown:
        raise ValueError(f"{s}: missing constants {missing}, unknown constants {unknown}; allowed: {fields}.")
    values = {k: (_positive if k == "clock_mhz" else _nonnegative)(s, k, constants[k]) for k in fields}
    return IMCSpec(**values, crossbar_size=crossbar_size, crossbars_per_pe=_int_in(s, "crossbars_per_pe", crossbars_per_pe, 1),
                   pes_per_tile=_int_in(s, "pes_per_tile", pes_per_tile, 1), columns_per_adc=columns_per_adc,
                   readout=readout, adc_bits=adc_bits, adc_reference_bits=adc_reference_bits, adc_scaling=adc_scaling,
                   storage_bits=_int_in(s, "storage_bits", storage_bits, 1),
                   ann_activation_bits=_int_in(s, "ann_activation_bits", ann_activation_bits, 1, 32), name=name)


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
        clock_mhz=250.0, e_adc_pj=2.03084, e_mux_pj=0.094245, e_sa_pj=0.001, e_xbar_pj=1.76423,
        e_htree_pj=19.64 * 8, e_memfetch_pj=4.64, e_neuron_pj=1.274 * 4, e_tilebuf_pj=397.0, e_temp_pj=0.2,
        e_sub_pj=1.15e-6, a_adc_um2=693.633, a_mux_um2=45.9, a_sa_um2=693.633 / 15, a_xbar_um2=26.2144,
        a_htree_um2=433660.0, a_tilebuf_um2=0.7391 * 64 * 128, a_temp_um2=484.64, a_sub_um2=13411.4,
        a_bit_um2=0.7391, pe_fixed_ns=104.0 - 8 * (4 + 1), adc_step_ns=1.0, sa_ns=1.0,
    )


def imc_spikesim_65nm_adc(adc_bits: int = 4, adc_scaling: str = "walden") -> IMCSpec:
    """SpikeSim 65 nm RRAM, 64 x 64 crossbars, 9 per PE, 8 PEs per tile, a ``adc_bits``-bit ADC per 8
    columns, its energy and conversion time scaled from SpikeSim's 4-bit SAR by ``adc_scaling``
    (:data:`ADC_SCALINGS`)."""
    suffix = "" if adc_scaling == "walden" else f"-{adc_scaling}"
    return imc_spec(readout="adc", adc_bits=adc_bits, adc_scaling=adc_scaling, name=f"spikesim-65nm-adc{adc_bits}{suffix}",
                    **_spikesim_constants())


def imc_spikesim_65nm_adc4() -> IMCSpec:
    """SpikeSim 65 nm RRAM, 64 x 64 crossbars, 9 per PE, 8 PEs per tile, 4-bit ADC per 8 columns."""
    return imc_spikesim_65nm_adc(4)


def imc_spikesim_65nm_sa() -> IMCSpec:
    """The same architecture with a 1-bit sense amplifier per column (no mux, no serialisation)."""
    return imc_spec(readout="sa", adc_bits=1, name="spikesim-65nm-sa", **_spikesim_constants())


# --------------------------------------------------------------------------- event-driven (FPGA)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EventSpec:
    """An event-driven accelerator: each layer iterates over the addresses of its input spikes.

    Per layer and timestep: ``cycles = events x (address_cycles + accumulate_cycles x
    neurons_per_unit) + step_cycles``; the layer's neuron units update all neurons in parallel.
    With ``pipelined`` layers are double-buffered (layer l works on step t while l+1 works on
    t-1). Power is a constant board power.
    """

    clock_mhz: Array
    address_cycles: Array
    accumulate_cycles: Array
    step_cycles: Array
    power_w: Array
    neurons_per_unit: int = _static(1)
    pipelined: bool = _static(True)
    name: str = _static("event")


def event_spec(*, clock_mhz, address_cycles, accumulate_cycles, step_cycles, power_w, neurons_per_unit: int = 1,
               pipelined: bool = True, name: str = "event") -> EventSpec:
    """A validated :class:`EventSpec`."""
    s = "EventSpec"
    if not isinstance(pipelined, bool):
        raise ValueError(f"{s}: pipelined must be a bool; got {pipelined!r}.")
    return EventSpec(_positive(s, "clock_mhz", clock_mhz), _nonnegative(s, "address_cycles", address_cycles),
                     _nonnegative(s, "accumulate_cycles", accumulate_cycles), _nonnegative(s, "step_cycles", step_cycles),
                     _positive(s, "power_w", power_w), _int_in(s, "neurons_per_unit", neurons_per_unit, 1), pipelined, name)


def event_fpga() -> EventSpec:
    """FPGA-style accelerator after the DATE 2024 authors' design (githubofaliyev/SNN-DSE).

    Cycles from their SystemC model ``Software/src/event_control.cpp``: 1 cycle of address
    generation and 4 cycles of accumulation per input spike with one neuron per memory unit,
    and 4 cycles per layer and timestep (spike-count, wait, activation and hand-off states);
    layers are double-buffered. Clock and power: an FPGA SNN accelerator on a Xilinx ZC706 at
    200 MHz drawing 0.477 W (Han et al. 2020, as tabulated in the FPGA-SNN survey in Neural
    Computation); the DATE 2024 paper's own board power is not public.
    """
    return event_spec(clock_mhz=200.0, address_cycles=1.0, accumulate_cycles=4.0, step_cycles=4.0, power_w=0.477,
                      name="fpga-event")


# --------------------------------------------------------------------------- analog crossbar (in the loop)

ENCODINGS = ("differential", "offset")
CROSSBAR_READOUTS = ("ideal", "adc", "sa")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class CrossbarSpec:
    """An analog crossbar that computes a layer's matmul in the forward pass (DESIGN.md section 7).

    Conductances span ``[g_off, g_on]`` (S); inputs are applied as ``x * v_read`` volts.
    Programming noise (drawn once per programming key) has standard deviation
    ``prog_sigma_0 + prog_sigma_1 u + prog_sigma_2 u^2`` siemens with ``u = G / g_on`` (aihwkit's
    PCM polynomial form); read noise is relative, ``read_sigma`` per cell and MVM; cells are
    stuck at ``g_on`` / ``g_off`` with probabilities ``p_stuck_on`` / ``p_stuck_off``. The ADC
    clips at ``adc_range`` x the largest current a column can carry (all rows on at ``g_on``);
    the sense amplifier compares with ``sa_reference`` x that current plus a per-column offset
    of standard deviation ``sa_offset_sigma`` (same unit). IR drop: "resummed" (closed-form
    effective conductance, the default for training), "relaxation" (iterative, O(X^4) per array
    and iteration: for evaluation) or ``None`` (see :mod:`hwsnn.hardware.crossbar`).
    ``stages`` (static) names the non-ideality stages the values switch on
    (:func:`~hwsnn.hardware.crossbar.active_stages`); build specs with :func:`crossbar_spec` or
    :meth:`replace`, which keep it right.
    """

    g_on_siemens: Array
    g_off_siemens: Array
    v_read_volt: Array
    r_wire_ohm: Array
    prog_sigma_0: Array
    prog_sigma_1: Array
    prog_sigma_2: Array
    read_sigma: Array
    p_stuck_on: Array
    p_stuck_off: Array
    adc_range: Array
    sa_reference: Array
    sa_offset_sigma: Array
    ir_damping: Array
    size: int = _static(64)
    weight_bits: int | None = _static(4)
    weight_clip: float | None = _static(None)
    bits_per_cell: int | None = _static(None)
    encoding: str = _static("differential")
    readout: str = _static("adc")
    adc_bits: int = _static(4)
    ir_drop: str | None = _static("resummed")
    ir_iterations: int = _static(10)
    name: str = _static("crossbar")
    stages: tuple[str, ...] | None = _static(None)

    def replace(self, **changes) -> "CrossbarSpec":
        """A validated copy with ``changes`` applied (its stages recomputed), e.g. ``spec.replace(read_sigma=0.04)``."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "stages"}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise ValueError(f"CrossbarSpec: unknown fields {unknown}; allowed: {sorted(fields)}.")
        return crossbar_spec(**{**fields, **changes})

    def without(self, *stages: str) -> "CrossbarSpec":
        """A copy with the named non-ideality stages (:data:`~hwsnn.hardware.crossbar.STAGES`) switched
        off: their sigmas, probabilities or wire resistance at 0, or an exact readout for "readout"
        (which also takes the sense amplifiers' offsets with it). Weight quantisation, the cells'
        conductance range and the tiling stay, so ``spec.without(stage)`` isolates what one stage does
        to a network's accuracy or costs in training time (``benchmarks/bench_hardware_step.py --stages``).

        Raises:
          ValueError: a name is not a stage.
        """
        unknown = [stage for stage in stages if stage not in STAGE_OFF_VALUES]
        if unknown:
            raise ValueError(f"stages: unknown {unknown}; allowed: {list(STAGE_OFF_VALUES)}.")
        return self.replace(**{name: value for stage in stages for name, value in STAGE_OFF_VALUES[stage].items()})


def crossbar_spec(*, g_on_siemens, g_off_siemens, v_read_volt, r_wire_ohm=0.0, prog_sigma_0=0.0, prog_sigma_1=0.0,
                  prog_sigma_2=0.0, read_sigma=0.0, p_stuck_on=0.0, p_stuck_off=0.0, adc_range=1.0, sa_reference=0.0,
                  sa_offset_sigma=0.0, ir_damping=0.6, size: int = 64, weight_bits: int | None = 4,
                  weight_clip: float | None = None, bits_per_cell: int | None = None, encoding: str = "differential",
                  readout: str = "adc", adc_bits: int = 4, ir_drop: str | None = "resummed", ir_iterations: int = 10,
                  name: str = "crossbar") -> CrossbarSpec:
    """A validated :class:`CrossbarSpec`; an IR-drop configuration that would not converge is rejected.

    ``weight_bits=None`` programs continuous conductances (no weight quantisation).
    ``weight_clip``: the weight programmed at the largest level, in units of the layer's RMS weight
    (``None``: its largest ``|w|``; :func:`~hwsnn.hardware.crossbar.quantize_weights`).
    ``bits_per_cell=None`` stores each weight's level in one cell (per array of a pair); ``b`` spreads it
    over ``ceil((weight_bits - 1) / b)`` cells of ``2^b`` levels (differential) or ``ceil(weight_bits / b)``
    (offset), read separately and shift-added digitally (bit slicing, as in NeuroSim and SpikeSim).
    """
    s = "CrossbarSpec"
    _choice(s, "encoding", encoding, ENCODINGS)
    _choice(s, "readout", readout, CROSSBAR_READOUTS)
    if ir_drop == "exact":
        raise ValueError(f"{s}: ir_drop 'exact' is the host-side nodal solve that validates the others (not "
                         "differentiable, not jittable); allowed in the loop: 'resummed', 'relaxation' or None.")
    if ir_drop is not None:
        _choice(s, "ir_drop", ir_drop, IR_DROP_METHODS[:2])
    _int_in(s, "size", size, 2, 4096)
    if weight_bits is not None:
        _int_in(s, "weight_bits", weight_bits, 2, 16)
    if weight_clip is not None and (isinstance(weight_clip, bool) or not isinstance(weight_clip, (int, float))
                                    or not np.isfinite(weight_clip) or weight_clip < 1.0):
        raise ValueError(f"{s}: weight_clip must be None or a finite number >= 1 (in units of the layer's RMS weight; "
                         f"below 1 most weights would sit at the top level); got {weight_clip!r}.")
    if bits_per_cell is not None:
        if weight_bits is None:
            raise ValueError(f"{s}: bits_per_cell={bits_per_cell!r} needs quantised weights; got weight_bits=None "
                             "(allowed: bits_per_cell=None with continuous weights, or an int weight_bits).")
        stored_bits = weight_bits - 1 if encoding == "differential" else weight_bits
        _int_in(s, "bits_per_cell", bits_per_cell, 1, stored_bits)
    if readout == "sa" and encoding != "differential":
        raise ValueError(f"{s}: readout 'sa' compares a differential pair's currents, so encoding must be "
                         f"'differential'; got {encoding!r}.")
    _int_in(s, "adc_bits", adc_bits, 1, 16)
    _int_in(s, "ir_iterations", ir_iterations, 1, 1000)
    g_on, g_off = _positive(s, "g_on_siemens", g_on_siemens), _nonnegative(s, "g_off_siemens", g_off_siemens)
    if not isinstance(g_on, jax.core.Tracer) and not isinstance(g_off, jax.core.Tracer) and float(g_off) >= float(g_on):
        raise ValueError(f"{s}: g_off_siemens must be < g_on_siemens = {float(g_on)!r}; got {float(g_off)!r}.")
    probabilities = {}
    for name_, value in (("p_stuck_on", p_stuck_on), ("p_stuck_off", p_stuck_off)):
        p = _nonnegative(s, name_, value)
        if not isinstance(p, jax.core.Tracer) and float(p) > 1.0:
            raise ValueError(f"{s}: {name_} must be a probability in [0, 1]; got {float(p)!r}.")
        probabilities[name_] = p
    if not isinstance(probabilities["p_stuck_on"], jax.core.Tracer) and float(probabilities["p_stuck_on"] + probabilities["p_stuck_off"]) > 1.0:
        raise ValueError(f"{s}: p_stuck_on + p_stuck_off must be <= 1; got {float(probabilities['p_stuck_on'] + probabilities['p_stuck_off'])!r}.")
    damping = _positive(s, "ir_damping", ir_damping)
    if not isinstance(damping, jax.core.Tracer) and float(damping) > 1.0:
        raise ValueError(f"{s}: ir_damping must be in (0, 1]; got {float(damping)!r}.")
    spec = CrossbarSpec(
        g_on, g_off, _positive(s, "v_read_volt", v_read_volt), _nonnegative(s, "r_wire_ohm", r_wire_ohm),
        _nonnegative(s, "prog_sigma_0", prog_sigma_0), _number(s, "prog_sigma_1", prog_sigma_1), _number(s, "prog_sigma_2", prog_sigma_2),
        _nonnegative(s, "read_sigma", read_sigma), probabilities["p_stuck_on"], probabilities["p_stuck_off"],
        _positive(s, "adc_range", adc_range), _number(s, "sa_reference", sa_reference),
        _nonnegative(s, "sa_offset_sigma", sa_offset_sigma), damping, size=size, weight_bits=weight_bits,
        weight_clip=None if weight_clip is None else float(weight_clip), bits_per_cell=bits_per_cell, encoding=encoding,
        readout=readout, adc_bits=adc_bits, ir_drop=ir_drop, ir_iterations=ir_iterations, name=name,
    )
    spec = dataclasses.replace(spec, stages=active_stages(spec))
    if ir_drop == "relaxation" and not isinstance(spec.r_wire_ohm, jax.core.Tracer) and float(spec.r_wire_ohm) > 0:
        check_relaxation(size, size, spec.g_on_siemens, spec.r_wire_ohm, iterations=ir_iterations, damping=spec.ir_damping)
    return spec


def crossbar_spikesim_rram(readout: str = "adc", adc_bits: int = 4) -> CrossbarSpec:
    """SpikeSim NICE-like RRAM (REFERENCES.md section 4): LSB cell 19.139 kOhm (g_on = 1/19.139k),
    OFF 200 kOhm, 0.1 V spike read, 4-bit weights, 64 x 64 crossbars, 4-bit ADC; 1 Ohm per wire
    segment (REFERENCES.md section 5: 8 % IR-drop error at 1 Ohm on 64 x 64). Programming noise:
    CrossSim's RRAM fit sigma_G = max(-0.009107 G + 4.782321 uS, 0), here in its linear form about
    u = G / g_on (4.782 - 0.009107 x 52.25 uS u) uS (the fit covers 50-225 uS; extrapolated below).
    ADC range: 1/8 of the worst-case column current (all 64 rows on at g_on). At full range a
    4-bit ADC rounds nearly every partial sum of 30 %-active spike inputs to zero (correlation
    with x @ w undefined); at 1/8 the correlation is 0.94, at 1/16 0.97 (measured on random
    N(0, 0.1) weights, 150 x 70, in ``tests/hardware/test_analog.py``'s setting)."""
    g_on = 1.0 / 19.139e3
    return crossbar_spec(g_on_siemens=g_on, g_off_siemens=1.0 / 200e3, v_read_volt=0.1, r_wire_ohm=1.0,
                         prog_sigma_0=4.782321e-6, prog_sigma_1=-0.009107 * g_on, read_sigma=0.0, adc_range=0.125,
                         readout=readout, adc_bits=adc_bits if readout == "adc" else 1, name=f"spikesim-rram-{readout}")


def crossbar_aihwkit_pcm() -> CrossbarSpec:
    """aihwkit-like PCM (REFERENCES.md section 5): g_max 25 uS, programming noise
    (0.26348 + 1.9650 u - 1.1731 u^2) uS with u = G / g_max, 4 % relative read noise, 8-bit ADC."""
    return crossbar_spec(g_on_siemens=25e-6, g_off_siemens=0.0, v_read_volt=0.2, r_wire_ohm=0.0,
                         prog_sigma_0=0.26348e-6, prog_sigma_1=1.9650e-6, prog_sigma_2=-1.1731e-6, read_sigma=0.04,
                         weight_bits=8, adc_bits=8, ir_drop=None, name="aihwkit-pcm")


def crossbar_rram_sa() -> CrossbarSpec:
    """The SpikeSim-like RRAM crossbar read by a 1-bit sense amplifier per column (ADC-less IMC,
    Apolinario et al. TETC 2023): the partial sum of each crossbar is binarised against zero
    (differential pair), with a frozen per-column offset of 1 % of full scale."""
    g_on = 1.0 / 19.139e3
    return crossbar_spec(g_on_siemens=g_on, g_off_siemens=1.0 / 200e3, v_read_volt=0.1, r_wire_ohm=1.0,
                         prog_sigma_0=4.782321e-6, prog_sigma_1=-0.009107 * g_on, readout="sa", adc_bits=1,
                         sa_offset_sigma=0.01, name="spikesim-rram-sa")


def crossbar_rram_sa_offset_free() -> CrossbarSpec:
    """:func:`crossbar_rram_sa` with offset-free sense amplifiers (offset-cancelled, or trimmed after
    fabrication); programming noise and IR drop kept."""
    return crossbar_rram_sa().replace(sa_offset_sigma=0.0, name="spikesim-rram-sa-offset-free")


def crossbar_rram_sa_ideal_devices() -> CrossbarSpec:
    """:func:`crossbar_rram_sa` with ideal devices: no programming noise, no sense-amplifier offsets; the
    4-bit weights, IR drop and the 1-bit readout kept (what the readout alone costs)."""
    return crossbar_rram_sa().replace(sa_offset_sigma=0.0, prog_sigma_0=0.0, prog_sigma_1=0.0,
                                      name="spikesim-rram-sa-ideal-devices")


CROSSBAR_PRESETS = {
    "rram-adc": crossbar_spikesim_rram,
    "rram-sa": crossbar_rram_sa,
    "rram-sa-offset-free": crossbar_rram_sa_offset_free,
    "rram-sa-ideal-devices": crossbar_rram_sa_ideal_devices,
    "pcm": crossbar_aihwkit_pcm,
}


def crossbar_preset(name: str) -> CrossbarSpec:
    """A crossbar preset by name (one of :data:`CROSSBAR_PRESETS`)."""
    if name not in CROSSBAR_PRESETS:
        raise ValueError(f"hardware: got {name!r}; allowed: {sorted(CROSSBAR_PRESETS)}.")
    return CROSSBAR_PRESETS[name]()
