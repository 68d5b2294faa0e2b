"""Each cost model against numbers computed by hand from its reference equations."""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware import cost, preset
from hwsnn.hardware.platforms import (
    event as event_platform,
)
from hwsnn.hardware.platforms import (
    imc as imc_platform,
)
from hwsnn.hardware.platforms import (
    naive as naive_platform,
)
from hwsnn.hardware.platforms import (
    systolic as systolic_platform,
)
from hwsnn.hardware.platforms.imc_readouts import Flash, Schreier, SharedADC, Walden
from hwsnn.hardware.presets import PLATFORMS
from hwsnn.layers import SNN, Flatten, SpikingConv, SpikingDense
from hwsnn.structure import Activity, LayerActivity


def activity_of(*events, spikes=None):
    return Activity(tuple(LayerActivity(jnp.asarray(e, jnp.float32), jnp.zeros(len(e), jnp.float32)) for e in events))


def dense_workload(spiking_input=True):
    return SNN(
        [SpikingDense(4, 3, rngs=nnx.Rngs(0)), SpikingDense(3, 2, rngs=nnx.Rngs(0))],
        (4,),
        2,
        spiking_input=spiking_input,
    ).workload


def test_naive_by_hand():
    act = activity_of([2, 1], [1, 0])
    c = cost.naive(naive_platform.naive_fp32_45nm(), dense_workload(), act)
    assert float(c.energy_pj.total) == pytest.approx(0.9 * (3 * 3 + 1 * 2))  # SOPs = 3 events x 3 + 1 x 2
    assert float(c.ann.energy_pj.total) == pytest.approx(4.6 * (12 + 6))
    direct = cost.naive(naive_platform.naive_fp32_45nm(), dense_workload(spiking_input=False), act)
    assert float(direct.energy_pj.total) == pytest.approx(4.6 * 12 + 0.9 * 1 * 2)  # analog first layer: MACs once
    assert float(c.energy_ratio_to_ann) == pytest.approx(9.9 / 82.8)


def small_systolic(**overrides):
    unit = systolic_platform.pe_unit("SystolicSpec", "u", gated_mw=1.0, ungated_mw=2.0, leak_mw=0.5)
    lif = systolic_platform.pe_unit("SystolicSpec", "lif", gated_mw=3.0, ungated_mw=0.0, leak_mw=0.0)
    values = dict(
        clock_mhz=500.0,
        accumulate=unit,
        lif=lif,
        spad=unit,
        mac=unit,
        relu=unit,
        ann_spad=unit,
        glb_weight=systolic_platform.global_buffer(
            "SystolicSpec", "w", size_bytes=4096, read_pj=2.0, write_pj=3.0, leak_mw=0.25
        ),
        glb_ifmap=systolic_platform.global_buffer(
            "SystolicSpec", "i", size_bytes=1024, read_pj=5.0, write_pj=7.0, leak_mw=0.125
        ),
        glb_ofmap=systolic_platform.global_buffer(
            "SystolicSpec", "o", size_bytes=1024, read_pj=11.0, write_pj=13.0, leak_mw=0.0625
        ),
        dram_pj_per_byte=100.0,
        rows=4,
        cols=2,
        glb_word_bytes=4,
    )
    return systolic_platform.systolic_spec(**{**values, **overrides})


def test_systolic_small_conv_layer_by_hand():
    workload = SNN([SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), padding="SAME")], (4, 4, 2), 2, spiking_input=True).workload
    c = cost.systolic(small_systolic(), workload, activity_of([3, 5]))
    e = c.energy_pj
    t, n_pe = 2.0, 8  # 500 MHz; 4 x 2 PEs
    folds = math.ceil(18 / 4) * math.ceil(4 / 2)  # K = 3*3*2 = 18 on 4 rows, N = 4 on 2 cols -> 10
    cycles = 2 * folds * (16 + 4 + 2 - 1) + folds * 4  # T x stream + weight load = 460
    assert float(c.latency_ns) == pytest.approx(cycles * t)
    sops = 8 * (10 * 10 * 2 * 4) / 32  # events x fan-out; fan-out = connections / inputs = 25
    assert float(e["accumulate_gated"]) == pytest.approx(1.0 * sops * t)
    assert float(e["accumulate_ungated"]) == pytest.approx(2.0 * cycles * t * n_pe)
    assert float(e["accumulate_leakage"]) == pytest.approx(0.5 * cycles * t * n_pe)
    assert float(e["lif_gated"]) == pytest.approx(3.0 * (4 * 4 * 4) * 2 * t)
    assert float(e["spad_gated"]) == pytest.approx(1.0 * sops * t)
    word = 32
    weight_words = 72 * 8 / word
    assert float(e["glb_weight_dynamic"]) == pytest.approx((2.0 + 3.0) * weight_words)
    im2col = 2 * 16 * 18 * 1  # column folds x M x K spikes, bits per step
    spills, membranes, spikes = 4 * 16 * 4 * 16, 64 * 8, 64 * 1  # psum spills, membranes, output spikes
    assert float(e["glb_ifmap_dynamic"]) == pytest.approx(2 * 5.0 * im2col / word)
    assert float(e["glb_ofmap_dynamic"]) == pytest.approx(
        2 * (11.0 * (spills + membranes) + 13.0 * (spills + membranes + spikes)) / word
    )
    assert float(e["glb_weight_leakage"]) == pytest.approx(0.25 * cycles * t)
    assert float(e["glb_ifmap_leakage"]) == pytest.approx(0.125 * cycles * t)
    assert float(e["glb_ofmap_leakage"]) == pytest.approx(0.0625 * cycles * t)
    assert float(e["dram"]) == pytest.approx(100.0 * (72 + 2 * 32 / 8))  # weights once + input spikes
    # sparsity changes only the gated terms
    quiet = cost.systolic(small_systolic(), workload, activity_of([0, 0])).energy_pj
    for name in e.components:
        if name.endswith("gated") and name.startswith(("accumulate", "spad")) and not name.endswith("ungated"):
            assert float(quiet[name]) == 0.0
        else:
            assert float(quiet[name]) == pytest.approx(float(e[name]))


def test_tick_batching_by_hand():
    """Tick batching (cost.systolic module doc): membranes stay in the PE within a chunk of steps, and
    the input is fetched once per chunk in multi-step words, so a too-small ifmap GLB spills once."""

    def run(timesteps, events, **overrides):
        workload = SNN(
            [SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), padding="SAME")], (4, 4, 2), timesteps, spiking_input=True
        ).workload
        ifmap = systolic_platform.global_buffer(
            "SystolicSpec", "i", size_bytes=4, read_pj=5.0, write_pj=7.0, leak_mw=0.125
        )
        return cost.systolic(small_systolic(glb_ifmap=ifmap, **overrides), workload, activity_of(events)).energy_pj

    word, spills, membranes, spikes, weights = 32, 4 * 16 * 4 * 16, 64 * 8, 64 * 1, 72
    plain, batched = run(2, [3, 5]), run(2, [3, 5], tick_batched=True, psum_spad_bytes=4)  # 2 steps of 16-bit psums
    assert float(plain["glb_ofmap_dynamic"]) == pytest.approx(
        2 * (11.0 * (spills + membranes) + 13.0 * (spills + membranes + spikes)) / word
    )
    assert float(batched["glb_ofmap_dynamic"]) == pytest.approx(2 * (11.0 * spills + 13.0 * (spills + spikes)) / word)
    assert float(batched["glb_ifmap_dynamic"]) == pytest.approx(float(plain["glb_ifmap_dynamic"]))
    # the 32-bit input fits the 4-byte GLB one step at a time, not as 2-step words: 64 - 32 bits from DRAM once
    assert float(plain["dram"]) == pytest.approx(100.0 * (weights + 2 * 32 / 8))
    assert float(batched["dram"]) == pytest.approx(100.0 * (weights + 2 * 32 / 8 + (64 - 32) / 8))
    # 3 steps on a 2-step scratchpad: 2 chunks of 1.5 steps, the membranes saved and restored once
    chunked = run(3, [3, 5, 2], tick_batched=True, psum_spad_bytes=4)
    assert float(chunked["glb_ofmap_dynamic"]) == pytest.approx(
        (11.0 * (3 * spills + membranes) + 13.0 * (3 * spills + 3 * spikes + membranes)) / word
    )
    assert float(chunked["dram"]) == pytest.approx(100.0 * (weights + 3 * 32 / 8 + 2 * (1.5 * 32 - 32) / 8))


# SATA_Sim inference-energy-cal/results/sata/T8 (its T-sweep on VGG9, archs/eyeriss-T8-config.yaml): SCALE-Sim's
# SRAM IFMAP reads per layer (cycle-stat.yaml; its topology pads no convolution) and the ifmap GLB's
# dynamic energy in nJ (memory-energy.yaml: 6.65794 pJ x T/8 bytes per read).
SATA_T8_IFMAP_READS = [194400, 4147200, 1806336, 663552, 147456, 294912, 294912, 131072, 65536]
SATA_T8_IFMAP_DYNAMIC_NJ = 51568.24868544


def test_tsweep_preset_reproduces_sata_sims_ifmap_accounting():
    from experiments.icassp_table2 import VGG9
    from hwsnn.hardware.platforms.systolic import layer_cycles
    from hwsnn.structure import Workload, conv_workload
    from hwsnn.structure import dense_workload as fc

    common = dict(input_timesteps=8, timesteps=8, spiking_input=True, spiking_output=True)
    layers = [
        fc(f"fc{i}", *layer, bias=False, **common)
        if len(layer) == 2
        else conv_workload(
            f"conv{i}",
            (layer[0], layer[0], layer[1]),
            layer[3],
            3,
            1,
            "VALID",
            bias=False,
            pool=None,
            pool_window=1,
            **common,
        )
        for i, layer in enumerate(VGG9)
    ]
    workload = Workload(tuple(layers))
    spec = preset("systolic-sata-tsweep")
    per_byte = cost.systolic(dataclasses.replace(spec, glb_word_bytes=1), workload, Activity.from_rates(workload, 0.1))
    reads = [float(layer.energy_pj["glb_ifmap_dynamic"]) / 6.65794 for layer in per_byte.layers]
    np.testing.assert_allclose(reads, SATA_T8_IFMAP_READS, rtol=1e-6)
    assert float(per_byte.energy_pj["glb_ifmap_dynamic"]) / 1000 == pytest.approx(SATA_T8_IFMAP_DYNAMIC_NJ, rel=1e-6)
    # the padded network streams its real 32 x 32 outputs, not SATA_Sim's 30 x 30
    padded = conv_workload("conv0", (32, 32, 3), 64, 3, 1, "SAME", bias=False, pool=None, pool_window=1, **common)
    assert layer_cycles(spec, padded)[0] == 16 * (1024 + 16 + 8 - 1)
    assert layer_cycles(spec, layers[0])[0] == 16 * (900 + 16 + 8 - 1)


def three_layer_net():
    layers = [
        SpikingConv(3, 64, 3, rngs=nnx.Rngs(0)),
        SpikingConv(64, 128, 3, rngs=nnx.Rngs(1)),
        Flatten(),
        SpikingDense(8 * 8 * 128, 10, rngs=nnx.Rngs(2)),
    ]
    return SNN(layers, (8, 8, 3), 4, spiking_input=True).workload


def spikesim_pe_cycle(k2):
    """SpikeSim's equation with its constants (Moitra et al., IEEE TCAD 2023; code
    Intelligent-Computing-Lab-Yale/SpikeSim), X = 64."""
    x = 64
    return (
        19.64 * 8
        + 4.64
        + 1.274 * 4
        + (x / 8) * (k2 * 1.76423 + (x / 8) * (2.03084 + 0.094245))
        + (x / 8) * 16 * 1.15e-6
        + (x / 8) * 0.2
        + 397
    )


def test_imc_dense_mode_reproduces_spikesim_by_hand():
    workload = three_layer_net()
    act = activity_of([1.0] * 4, [1.0] * 4, [1.0] * 4)  # dense mode ignores activity
    c = cost.imc(imc_platform.imc_spikesim_65nm_adc4(), workload, act, mode="dense")
    t = 4
    e_conv1 = t * 1 * 1 * 64 * spikesim_pe_cycle(9)  # ceil(3/64) ceil(64/64) PEs, 8x8 pixels
    e_conv2 = t * 1 * 2 * 64 * spikesim_pe_cycle(9)  # ceil(64/64) ceil(128/64)
    e_fc = t * 128 * 1 * 1 * spikesim_pe_cycle(1)  # ceil(8192/64) ceil(10/64), one pixel, k = 1
    assert float(c.energy_pj.total) == pytest.approx(e_conv1 + e_conv2 + e_fc, rel=1e-6)
    # latency: T x pixels PE cycles of 104 ns per layer; later layers overlap 25 % of earlier ones
    assert float(c.latency_ns) == pytest.approx(t * 1 * 104 + 0.75 * (t * 64 * 104 + t * 64 * 104), rel=1e-6)
    a_pe = 9 * 26.2144 + 8 * (693.633 + 45.9)
    tiles = math.ceil((1 + 2 + 128) / 8)
    per_tile = 8 * 13411.4 + 484.64 + 0.7391 * 64 * 128 + 8 * a_pe + 433660
    storage = ((8 * 8 * 3 + 8 * 8 * 64 + 8192) + (8 * 8 * 64 + 8 * 8 * 128 + 10)) * 22 * 0.7391
    assert float(c.area_mm2) == pytest.approx((tiles * per_tile + storage) / 1e6, rel=1e-6)


def test_imc_event_mode_follows_active_rows():
    workload = three_layer_net()
    spec = imc_platform.imc_spikesim_65nm_adc4()
    sizes = [8 * 8 * 3, 8 * 8 * 64, 8192]
    full = activity_of(*[[float(s)] * 4 for s in sizes])
    dense = cost.imc(spec, workload, full, mode="dense").energy_pj
    event_full = cost.imc(spec, workload, full, mode="event").energy_pj
    assert float(event_full.total) == pytest.approx(float(dense.total), rel=1e-6)
    half = cost.imc(spec, workload, activity_of(*[[s / 2] * 4 for s in sizes]), mode="event").energy_pj
    for name in dense.components:
        expected = float(dense[name]) * (0.5 if name in ("crossbar", "memfetch") else 1.0)
        assert float(half[name]) == pytest.approx(expected, rel=1e-6)


def test_sense_amplifier_versus_adc():
    workload = three_layer_net()
    act = activity_of([1.0] * 4, [1.0] * 4, [1.0] * 4)
    adc = cost.imc(imc_platform.imc_spikesim_65nm_adc4(), workload, act, mode="dense")
    sa = cost.imc(imc_platform.imc_spikesim_65nm_sa(), workload, act, mode="dense")
    # per PE cycle: ADC readout 64 conversions x 2.03084 pJ (+ mux); SA 64 decisions x 0.001 pJ, no mux
    ratio = float(sa.energy_pj["readout"]) / float(adc.energy_pj["readout"])
    assert ratio == pytest.approx(0.001 / 2.03084, rel=1e-5)
    assert float(sa.energy_pj["mux"]) == 0.0
    # crossbar driven once instead of once per conversion round (8)
    assert float(sa.energy_pj["crossbar"]) == pytest.approx(float(adc.energy_pj["crossbar"]) / 8, rel=1e-6)
    assert float(sa.latency_ns) / float(adc.latency_ns) == pytest.approx((64 + 1) / 104, rel=1e-6)


def test_event_pipeline_by_hand():
    spec = event_platform.event_spec(
        clock_mhz=200.0, address_cycles=1.0, accumulate_cycles=4.0, step_cycles=4.0, power_w=0.5
    )
    act = activity_of([2, 0, 1], [1, 3, 0])
    workload = SNN(
        [SpikingDense(4, 3, rngs=nnx.Rngs(0)), SpikingDense(3, 2, rngs=nnx.Rngs(0))], (4,), 3, spiking_input=True
    ).workload
    # per event 1 + 4 = 5 cycles, + 4 per step: layer 0 [14, 4, 9], layer 1 [9, 19, 4]
    # F0 = 14, 18, 27; F1 = 14+9 = 23, max(23, 18)+19 = 42, max(42, 27)+4 = 46
    c = cost.event(spec, workload, act)
    assert float(c.latency_ns) == pytest.approx(46 * 5.0)
    assert float(c.energy_pj.total) == pytest.approx(0.5 * 46 * 5.0 * 1000)
    assert float(cost.fps_per_watt(spec, c)) == pytest.approx(1e9 / (46 * 5.0) / 0.5)
    serial = event_platform.event_spec(
        clock_mhz=200.0, address_cycles=1.0, accumulate_cycles=4.0, step_cycles=4.0, power_w=0.5, pipelined=False
    )
    assert float(cost.event(serial, workload, act).latency_ns) == pytest.approx((27 + 32) * 5.0)
    # ANN: every input is an event, one pass: layer 0: 4 x 5 + 4 = 24, layer 1: 3 x 5 + 4 = 19 -> 43
    assert float(c.ann.latency_ns) == pytest.approx(43 * 5.0)


def test_cost_rejects_mismatched_activity():
    workload = dense_workload()
    with pytest.raises(ValueError, match="activity: 1 layers"):
        cost.naive(naive_platform.naive_fp32_45nm(), workload, activity_of([1, 1]))
    with pytest.raises(ValueError, match="allowed: \\(2,\\)"):
        cost.naive(naive_platform.naive_fp32_45nm(), workload, activity_of([1, 1, 1], [1, 1, 1]))
    with pytest.raises(ValueError, match="mode"):
        cost.imc(preset("rram-adc"), workload, activity_of([1, 1], [1, 1]), mode="sparse")
    with pytest.raises(ValueError, match="workload"):
        cost.naive(naive_platform.naive_fp32_45nm(), [1, 2], activity_of([1, 1], [1, 1]))


@pytest.mark.parametrize(
    "scaling,energy_ratio,conversion_ns",
    [
        (Walden(), 2.0**4, (9, 5)),
        (Schreier(), 4.0**4, (9, 5)),
        (Flash(), 255 / 15, (1, 1)),
    ],
)
def test_adc_energy_and_latency_grow_with_resolution(scaling, energy_ratio, conversion_ns):
    workload = three_layer_net()
    act = activity_of([1.0] * 4, [1.0] * 4, [1.0] * 4)
    constants = imc_platform._spikesim_constants()
    low, high = (
        cost.imc(
            imc_platform.imc_spec(readout=SharedADC(bits=bits, scaling=scaling), **constants),
            workload,
            act,
            mode="dense",
        )
        for bits in (4, 8)
    )
    # 4 -> 8 bits: x2 per bit (Walden), x4 per bit (Schreier), 255 / 15 comparators (flash)
    assert float(high.energy_pj["readout"]) / float(low.energy_pj["readout"]) == pytest.approx(energy_ratio, rel=1e-6)
    # a PE cycle is 64 ns + 8 serial conversions: SAR (b + 1) ns, flash 1 ns at any resolution
    high_ns, low_ns = conversion_ns
    assert float(high.latency_ns) / float(low.latency_ns) == pytest.approx(
        (64 + 8 * high_ns) / (64 + 8 * low_ns), rel=1e-6
    )


def test_imc_event_mode_reads_per_crossbar_row_activity():
    # dense 100 -> 10 on 64-row crossbars: row tiles of 64 and 36 inputs
    workload = SNN([SpikingDense(100, 10, rngs=nnx.Rngs(0))], (100,), 2, spiking_input=True).workload
    spec = imc_platform.imc_spikesim_65nm_adc4()
    per_row = jnp.zeros((2, 100)).at[:, :64].set(0.5)  # only the first tile's rows fire, half the time
    act = Activity((LayerActivity(jnp.sum(per_row, axis=1), jnp.zeros(2), per_row),))
    layer_level = Activity((LayerActivity(jnp.sum(per_row, axis=1), jnp.zeros(2)),))
    dense = cost.imc(spec, workload, act, mode="dense").energy_pj["crossbar"]
    tiled = cost.imc(spec, workload, act, mode="event").energy_pj["crossbar"]
    pooled = cost.imc(spec, workload, layer_level, mode="event").energy_pj["crossbar"]
    # per tile: (0.5 + 0) / 2 tiles; layer level: 64 x 0.5 / 100 active
    assert float(tiled) == pytest.approx(float(dense) * (0.5 + 0.0) / 2, rel=1e-6)
    assert float(pooled) == pytest.approx(float(dense) * 32 / 100, rel=1e-6)


def test_forward_pass_records_channel_events():
    model = SNN([SpikingConv(2, 3, 3, rngs=nnx.Rngs(0))], (4, 4, 2), 2, spiking_input=True)
    x = jnp.zeros((2, 1, 4, 4, 2)).at[0, 0, :, :, 1].set(1.0).at[1, 0, 0, 0, 0].set(1.0)
    _, activity = model(x)
    np.testing.assert_allclose(np.asarray(activity[0].channel_events), [[0, 16], [1, 0]])
    np.testing.assert_allclose(np.asarray(activity[0].input_events), [16, 1])


def test_every_model_breaks_its_cost_down_by_layer():
    """Per-layer costs add up to the totals, and each layer's share is its own by hand."""
    from hwsnn.hardware.platforms.imc import pe_cycle_ns, pes_of
    from hwsnn.hardware.platforms.systolic import layer_cycles

    model = SNN(
        [SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), pool="max"), Flatten(), SpikingDense(64, 10, rngs=nnx.Rngs(1))],
        (8, 8, 2),
        3,
        spiking_input=True,
    )
    x = jnp.asarray((np.random.default_rng(0).random((3, 4, 8, 8, 2)) < 0.3).astype(np.float32))
    activity, workload = model(x)[1], model.workload
    for name, preset_name in (
        ("naive", "naive-fp32"),
        ("systolic", "systolic-sata"),
        ("imc", "rram-adc"),
        ("event", "event-fpga"),
    ):
        c = PLATFORMS[name]().cost(preset(preset_name), workload, activity)
        for result in (c, c.ann):
            assert [layer.name for layer in result.layers] == ["layer0", "layer1"], name
            for component, total in result.energy_pj.components.items():
                assert sum(float(layer.energy_pj[component]) for layer in result.layers) == pytest.approx(
                    float(total), rel=1e-6
                )
    naive = cost.naive(preset("naive-fp32"), workload, activity)
    for layer, act, share in zip(workload, activity.layers, naive.layers):
        assert float(share.energy_pj["ac"]) == pytest.approx(0.9 * float(jnp.sum(act.updates(layer))), rel=1e-6)
    systolic_spec = preset("systolic-sata")
    systolic = cost.systolic(systolic_spec, workload, activity)
    for layer, share in zip(workload, systolic.layers):  # layers run one after another on the whole array
        stream, load = layer_cycles(systolic_spec, layer)
        assert float(share.cycles) == 3 * stream + load
    assert sum(float(share.latency_ns) for share in systolic.layers) == pytest.approx(
        float(systolic.latency_ns), rel=1e-6
    )
    imc_spec = preset("rram-adc")
    imc = cost.imc(imc_spec, workload, activity)
    for layer, share in zip(workload, imc.layers):  # T x PEs x output pixels PE cycles, on PEs_l
        pixels = math.prod(layer.synapse_shape[:-1])
        assert share.units == pes_of(imc_spec, layer) and float(share.cycles) == 3 * share.units * pixels
        assert float(share.latency_ns) == pytest.approx(3 * pixels * float(pe_cycle_ns(imc_spec)), rel=1e-6)
    assert float(imc.latency_ns) == pytest.approx(
        float(imc.layers[1].latency_ns) + 0.75 * float(imc.layers[0].latency_ns), rel=1e-6
    )
    event_spec = preset("event-fpga")
    event = cost.event(event_spec, workload, activity)
    busy = [float(share.cycles) for share in event.layers]  # board energy shared by busy cycles
    for share, b in zip(event.layers, busy):
        assert float(share.energy_pj["board"]) == pytest.approx(float(event.energy_pj.total) * b / sum(busy), rel=1e-6)
        assert float(share.latency_ns) == pytest.approx(b * 1000 / float(event_spec.clock_mhz), rel=1e-6)


@pytest.mark.parametrize(
    "model, name",
    [(cost.naive, "naive-fp32"), (cost.systolic, "systolic-sata"), (cost.imc, "rram-adc"), (cost.event, "event-fpga")],
)
def test_inputs_a_cost_model_refuses(model, name):
    workload = dense_workload()  # 4 -> 3 -> 2 at T = 2
    spec = preset(name)
    act = lambda inputs, spikes: Activity(
        (
            LayerActivity(jnp.asarray(inputs), jnp.asarray(spikes)),
            LayerActivity(jnp.asarray([1.0, 2.0]), jnp.asarray([0.0, 1.0])),
        )
    )
    assert float(model(spec, workload, act([2.0, 1.0], [1.0, 2.0])).energy_pj.total) > 0
    wrong_spec = preset("event-fpga" if name != "event-fpga" else "naive-fp32")
    with pytest.raises(ValueError, match=rf"spec: got {type(wrong_spec).__name__}; allowed: a {type(spec).__name__}"):
        model(wrong_spec, workload, act([2.0, 1.0], [1.0, 2.0]))
    for inputs, spikes, message in (
        ([2.0, -1.0], [1.0, 2.0], r"layer0 has input_events per step in \[-1.0, 2.0\]"),
        ([5.0, 1.0], [1.0, 2.0], r"input_events .* from 0 to its 4 inputs per sample"),
        ([2.0, 1.0], [4.0, 0.0], r"output_spikes .* from 0 to its 3 neurons per sample"),
        ([2.0, float("nan")], [1.0, 2.0], r"input_events per step in \[.*nan"),
    ):
        with pytest.raises(ValueError, match=message):
            model(spec, workload, act(inputs, spikes))
    # per-channel events of another network (8 input channels where this layer has 4)
    other = Activity(
        (
            LayerActivity(jnp.asarray([2.0, 1.0]), jnp.asarray([1.0, 2.0]), jnp.ones((2, 8))),
            LayerActivity(jnp.asarray([1.0, 2.0]), jnp.asarray([0.0, 1.0])),
        )
    )
    with pytest.raises(ValueError, match=r"layer0 has channel_events \(2, 8\); allowed: \(2, 4\)"):
        model(spec, workload, other)
