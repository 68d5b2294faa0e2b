"""Spec presets carry their sources' numbers; invalid specs are rejected with named errors."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

from hwsnn.hardware.platforms import imc as imc_platform
from hwsnn.hardware.platforms import naive as naive_platform
from hwsnn.hardware.platforms import stack_specs
from hwsnn.hardware.platforms import systolic as systolic_platform
from hwsnn.hardware.platforms.event import event_spec
from hwsnn.hardware.platforms.imc import imc_spec
from hwsnn.hardware.platforms.imc_readouts import Flash, Schreier, SensePerColumn, SharedADC, Walden
from hwsnn.hardware.platforms.naive import naive_spec
from hwsnn.hardware.platforms.systolic import global_buffer, pe_unit, systolic_sata_28nm, systolic_spec
from hwsnn.hardware.presets import cost_presets, preset


def test_presets_reproduce_reference_composites():
    sata = systolic_sata_28nm()
    t = 1000.0 / float(sata.clock_mhz)  # 2.5 ns
    # SATA (Yin et al., TCAD 2022): spike-AC 0.111 pJ, LIF update 0.188 pJ, Eyeriss-like MAC 0.436 pJ
    assert float(sata.accumulate.gated_mw + sata.accumulate.ungated_mw) * t == pytest.approx(0.111, abs=5e-4)
    assert float(sata.lif.gated_mw + sata.lif.ungated_mw) * t == pytest.approx(0.188, abs=5e-4)
    assert float(sata.mac.gated_mw + sata.mac.ungated_mw) * t == pytest.approx(0.436, abs=1e-3)
    assert float(naive_platform.naive_fp32_45nm().e_mac_pj) == pytest.approx(4.6)
    assert float(naive_platform.naive_int8_45nm().e_mac_pj) == pytest.approx(0.23)
    adc = imc_platform.imc_spikesim_65nm_adc4()
    assert float(adc.e_htree_pj) == pytest.approx(157.12) and float(adc.e_neuron_pj) == pytest.approx(5.096)


def test_tsweep_preset_equals_sata_sims_committed_t_sweep_components():
    """SATA_Sim ``inference-energy-cal/results/sata/T8/{comp-stat,mem-stat}.yaml`` (archs/eyeriss-T8-config.yaml):
    per-PE dynamic power gated (y) and ungated (n) and leakage, mW; GLB pJ per access and mW; the ICASSP
    preset's scratchpads as its runs' comp-stat.yaml."""
    sweep, sata = systolic_platform.systolic_sata_tsweep_28nm(), systolic_sata_28nm()
    for unit, (gated, ungated, leak) in (
        (sweep.spad, (3.59712, 0.91177, 0.007256)),
        (sweep.lif, (0.01886, 0.05625, 8.4e-5)),
        (sweep.accumulate, (0.02511, 0.01924, 6.2e-5)),
        (sata.spad, (0.11241, 0.21233, 0.000523)),
    ):  # results/tdbn/comp-stat.yaml
        assert (float(unit.gated_mw), float(unit.ungated_mw)) == pytest.approx((gated, ungated), rel=1e-5)
        assert float(unit.leak_mw) == pytest.approx(leak, rel=1e-2)  # SATA_Sim rounds leakage to 3 digits
    ifmap = sweep.glb_ifmap
    assert (ifmap.size_bytes, float(ifmap.read_pj), float(ifmap.write_pj), float(ifmap.leak_mw)) == pytest.approx(
        (8192, 6.65794, 7.03328, 1.81265)
    )
    assert (
        sweep.glb_ofmap == sata.glb_ofmap and sweep.glb_weight == sata.glb_weight and sata.glb_ifmap.size_bytes == 32768
    )
    assert sweep.tick_batched and not sata.tick_batched and sweep.psum_spad_bytes == 64


def test_every_preset_builds_and_is_a_pytree():
    for name in cost_presets():
        spec = preset(name)
        leaves = jax.tree.leaves(spec)
        assert leaves and all(leaf.dtype == jnp.float32 for leaf in leaves)


def test_adc_energy_scaling_laws():
    base = dict(imc_platform._spikesim_constants())
    spec = imc_spec(**base)
    walden, schreier, flash = (SharedADC(bits=6, scaling=scaling) for scaling in (Walden(), Schreier(), Flash()))
    assert float(walden.conversion_pj(spec)) == pytest.approx(2.03084 * 4)
    assert float(schreier.conversion_pj(spec)) == pytest.approx(2.03084 * 16)
    assert float(flash.conversion_pj(spec)) == pytest.approx(2.03084 * 63 / 15)  # 63 comparators against 15
    assert float(flash.conversion_ns(spec)) == 1.0 and float(walden.conversion_ns(spec)) == 7.0
    # a PE cycle's readout: 8 serial conversions of the ADC, one decision of the sense amplifiers
    assert float(walden.cycle_ns(spec)) == 8 * 7.0 and float(SensePerColumn().cycle_ns(spec)) == 1.0
    assert float(walden.area_um2(spec)) == pytest.approx(64 / 8 * (693.633 + 45.9))
    assert float(SensePerColumn().area_um2(spec)) == pytest.approx(64 * 693.633 / 15)


def _unit(**overrides):
    values = dict(gated_mw=0.1, ungated_mw=0.1, leak_mw=0.01)
    values.update(overrides)
    return pe_unit("SystolicSpec", "unit", **values)


def _buffer(**overrides):
    values = dict(size_bytes=1024, read_pj=1.0, write_pj=1.0, leak_mw=1.0)
    values.update(overrides)
    return global_buffer("SystolicSpec", "glb_ifmap", **values)


def _systolic(**overrides):
    unit = _unit()
    values = dict(
        clock_mhz=400.0,
        accumulate=unit,
        lif=unit,
        spad=unit,
        mac=unit,
        relu=unit,
        ann_spad=unit,
        glb_weight=_buffer(),
        glb_ifmap=_buffer(),
        glb_ofmap=_buffer(),
        dram_pj_per_byte=1.0,
    )
    values.update(overrides)
    return systolic_spec(**values)


def _imc(**overrides):
    values = dict(imc_platform._spikesim_constants())
    values.update(overrides)
    return imc_spec(**values)


def _event(**overrides):
    values = dict(clock_mhz=200.0, address_cycles=1.0, accumulate_cycles=4.0, step_cycles=4.0, power_w=0.5)
    values.update(overrides)
    return event_spec(**values)


INVALID = [
    ("naive negative MAC energy", lambda: naive_spec(e_mac_pj=-1.0, e_ac_pj=0.1), "e_mac_pj must be >= 0"),
    ("naive NaN AC energy", lambda: naive_spec(e_mac_pj=1.0, e_ac_pj=float("nan")), "e_ac_pj must be finite"),
    ("naive vector energy", lambda: naive_spec(e_mac_pj=[1.0, 2.0], e_ac_pj=0.1), "e_mac_pj must be a scalar"),
    ("PE unit negative gated power", lambda: _unit(gated_mw=-0.1), "gated_mw must be >= 0"),
    ("PE unit infinite leakage", lambda: _unit(leak_mw=float("inf")), "leak_mw must be finite"),
    ("systolic zero clock", lambda: _systolic(clock_mhz=0.0), "clock_mhz must be > 0"),
    ("systolic zero rows", lambda: _systolic(rows=0), "rows must be an int >= 1"),
    ("systolic fractional cols", lambda: _systolic(cols=2.5), "cols must be an int >= 1"),
    ("systolic 64-bit weights", lambda: _systolic(weight_bits=64), r"weight_bits must be an int in \[1, 32\]"),
    ("systolic empty ifmap GLB", lambda: _buffer(size_bytes=0), "glb_ifmap.size_bytes must be an int >= 1"),
    ("systolic negative GLB read", lambda: _buffer(read_pj=-1.0), "glb_ifmap.read_pj must be >= 0"),
    ("systolic GLB not a buffer", lambda: _systolic(glb_ofmap=1.0), "glb_ofmap must be a GlobalBuffer"),
    ("systolic tick batching not a bool", lambda: _systolic(tick_batched=1), "tick_batched must be a bool"),
    ("systolic zero word", lambda: _systolic(glb_word_bytes=0), "glb_word_bytes must be an int >= 1"),
    ("systolic negative DRAM energy", lambda: _systolic(dram_pj_per_byte=-5.0), "dram_pj_per_byte must be >= 0"),
    ("systolic unit not a PEUnit", lambda: _systolic(lif=0.3), "lif must be a PEUnit"),
    ("imc readout by name", lambda: _imc(readout="sa"), "readout must be a PEReadout .*; got str"),
    ("imc unknown ADC scaling", lambda: SharedADC(scaling="linear"), "scaling must be a ADCScaling .*; got str"),
    ("imc 0-bit ADC", lambda: SharedADC(bits=0), r"SharedADC: bits must be an int in \[1, 16\]"),
    ("imc 20-bit ADC", lambda: SharedADC(bits=20), r"SharedADC: bits must be an int in \[1, 16\]"),
    ("imc ADC for no columns", lambda: SharedADC(columns=0), r"SharedADC: columns must be an int >= 1"),
    ("imc ADC group does not divide crossbar", lambda: _imc(readout=SharedADC(columns=7)), "columns per ADC must"),
    ("imc 1-wide crossbar", lambda: _imc(crossbar_size=1), "crossbar_size must be an int >= 2"),
    ("imc no crossbars per PE", lambda: _imc(crossbars_per_pe=0), "crossbars_per_pe must be an int >= 1"),
    ("imc no PEs per tile", lambda: _imc(pes_per_tile=0), "pes_per_tile must be an int >= 1"),
    ("imc negative crossbar energy", lambda: _imc(e_xbar_pj=-1.0), "e_xbar_pj must be >= 0"),
    ("imc negative area", lambda: _imc(a_adc_um2=-3.0), "a_adc_um2 must be >= 0"),
    ("imc zero clock", lambda: _imc(clock_mhz=0.0), "clock_mhz must be > 0"),
    (
        "imc missing constant",
        lambda: imc_spec(**{k: v for k, v in imc_platform._spikesim_constants().items() if k != "e_sa_pj"}),
        r"missing constants \['e_sa_pj'\]",
    ),
    ("imc unknown constant", lambda: _imc(e_dac_pj=1.0), r"unknown constants \['e_dac_pj'\]"),
    ("imc zero storage bits", lambda: _imc(storage_bits=0), "storage_bits must be an int >= 1"),
    ("event zero power", lambda: _event(power_w=0.0), "power_w must be > 0"),
    ("event negative cycles", lambda: _event(step_cycles=-1.0), "step_cycles must be >= 0"),
    ("event zero neurons per unit", lambda: _event(neurons_per_unit=0), "neurons_per_unit must be an int >= 1"),
    ("event pipelined not bool", lambda: _event(pipelined="yes"), "pipelined must be a bool"),
    ("unknown preset", lambda: preset("tpu"), "preset: got 'tpu'"),
    (
        "stack of different specs",
        lambda: stack_specs([preset("rram-adc"), preset("rram-sa")]),
        "differs in type or static",
    ),
]


@pytest.mark.parametrize("build,message", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_spec_is_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_at_least_twenty_kinds_of_invalid_spec():
    assert len(INVALID) >= 20


def test_stack_specs_adds_a_leading_axis():
    stacked = stack_specs([preset("event-fpga"), dataclasses.replace(preset("event-fpga"), power_w=jnp.asarray(1.0))])
    assert stacked.power_w.shape == (2,) and float(stacked.power_w[1]) == 1.0
